"""The seen/unseen split of the zero-shot chapter: a seeded share of the labels, one per
family first.

THE SPLIT PROTOCOL (fixed before any zero-shot model is trained; chapter 6 states it).
The paper's unseen labels are ImageNet-21K classes: many of them are siblings or cousins
of its 1,000 training classes, and its "2-hop" test set consists, by construction, of
classes with a training label within 2 hops. The Caltech-101 labels are far sparser in
WordNet: only a fifth of them have another Caltech label within 2 hops, so a uniformly
random held-out share leaves almost no unseen label in the 2-hop set (with seed 0: 2 of
18 labels, 50 photos). So the split mirrors the leave-one-shark-out experiment:

1. FAMILIES: labels linked by chains of "within `family_hops` hops" (the hop rule of
   `hierarchy.py`), e.g. {crab, lobster, crayfish} or {ketch, schooner}. Labels with no
   such neighbour are singletons.
2. One member of each family, drawn at random, is held out (a seeded random subset of
   families if there are more families than the share allows). Every family keeps at
   least one seen member, so each of these unseen labels has a seen relative within
   `family_hops` hops.
3. The rest of the unseen share is drawn at random from the singletons.

`family_hops=None` gives the plain uniform split (a seeded share of all labels), kept
for comparison.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .hierarchy import distances_from


def label_families(labels: Iterable[str], hierarchy, hops: int) -> list[list[str]]:
    """Groups (size >= 2, sorted, in sorted order) of labels joined by chains of <=
    `hops` hops."""
    labels = sorted(set(labels))
    members = set(labels)
    near = {
        w: {x for x in distances_from(hierarchy, [w], hops) if x in members and x != w}
        for w in labels
    }
    placed: set[str] = set()
    families = []
    for start in labels:
        if start in placed:
            continue
        group, stack = [], [start]
        placed.add(start)
        while stack:
            node = stack.pop()
            group.append(node)
            for other in sorted(near[node] - placed):
                placed.add(other)
                stack.append(other)
        if len(group) > 1:
            families.append(sorted(group))
    return families


def split_seen_unseen(
    labels: Sequence[str],
    unseen_share: float,
    seed: int,
    families: Sequence[Sequence[str]] = (),
) -> tuple[list[str], list[str]]:
    """(seen, unseen), both sorted: a seeded `unseen_share` of the labels (at least one)
    is held out, one member of each family first (see the module docstring), the rest
    among the other labels."""
    if not 0 < unseen_share < 1:
        raise ValueError(
            f"unseen_share must be between 0 and 1 (exclusive), got {unseen_share}"
        )
    labels = sorted(set(labels))
    if len(labels) < 2:
        raise ValueError(
            f"a seen/unseen split needs at least 2 labels, got {len(labels)}"
        )
    known = set(labels)
    families = [sorted(set(f) & known) for f in families]
    families = sorted(f for f in families if len(f) > 1)
    n_unseen = min(len(labels) - 1, max(1, round(unseen_share * len(labels))))
    rng = np.random.default_rng(seed)
    chosen_families = [
        families[i] for i in sorted(rng.permutation(len(families))[:n_unseen])
    ]
    unseen = [family[rng.integers(len(family))] for family in chosen_families]
    in_family = {w for family in families for w in family}
    others = [w for w in labels if w not in in_family]
    unseen += [
        others[i] for i in rng.permutation(len(others))[: n_unseen - len(unseen)]
    ]
    if len(unseen) < n_unseen:  # more share than singletons: spare family members
        taken = set(unseen)
        spare = [w for w in labels if w not in taken]
        unseen += [
            spare[i] for i in rng.permutation(len(spare))[: n_unseen - len(unseen)]
        ]
    unseen = sorted(unseen)
    taken = set(unseen)
    return [w for w in labels if w not in taken], unseen
