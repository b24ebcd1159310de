"""The seen/unseen split of the first zero-shot experiment: a seeded share of the
labels, one member of each WordNet family first (the README's "Design choices"). Only a
fifth of the Caltech-101 labels have another within 2 hops, so a uniform share leaves
almost no unseen label in the 2-hop set (seed 0: 2 of 18); one of each family gives
every such unseen label a seen relative. `family_hops=None`: the plain uniform split."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .hierarchy import distances_from


def label_families(labels: Iterable[str], hierarchy, hops: int) -> list[list[str]]:
    """The groups of 2+ labels joined by chains of <= `hops` hops, all sorted."""
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
    is held out, one of each of a seeded subset of the families first, then the rest."""
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
    chosen = sorted(rng.permutation(len(families))[:n_unseen])
    unseen = [families[i][rng.integers(len(families[i]))] for i in chosen]

    def draw(excluded: set[str]) -> list[str]:
        """The labels still missing, drawn at random from those not in `excluded`."""
        pool = [w for w in labels if w not in excluded]
        return [pool[i] for i in rng.permutation(len(pool))[: n_unseen - len(unseen)]]

    unseen += draw({w for family in families for w in family})
    if len(unseen) < n_unseen:  # more share than singletons: spare family members
        unseen += draw(set(unseen))
    taken = set(unseen)
    return [w for w in labels if w not in taken], sorted(unseen)
