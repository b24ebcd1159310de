"""The zero-shot split: families on a hand-made hierarchy, one held out per family,
seeded."""

import pytest

from devise_lite.hierarchy import Hierarchy
from devise_lite.splits import label_families, split_seen_unseen

# animal -> {fish -> {shark -> {great_white, hammerhead}, ray}, mammal -> {whale ->
# {orca}},
#            bird -> {ibis}, reptile -> {snake -> {cobra}}}
PARENTS = {
    "fish": ["animal"],
    "mammal": ["animal"],
    "bird": ["animal"],
    "reptile": ["animal"],
    "shark": ["fish"],
    "ray": ["fish"],
    "great_white": ["shark"],
    "hammerhead": ["shark"],
    "whale": ["mammal"],
    "orca": ["whale"],
    "ibis": ["bird"],
    "snake": ["reptile"],
    "cobra": ["snake"],
}
ZOO = Hierarchy.from_parents(PARENTS)
LABELS = ["great_white", "hammerhead", "ray", "orca", "whale", "ibis", "cobra"]


def test_families_join_labels_within_the_hop_limit_transitively():
    # great_white - hammerhead: 2 hops; hammerhead - ray: 3 hops; orca - whale: 1 hop.
    assert label_families(LABELS, ZOO, hops=2) == [
        ["great_white", "hammerhead"],
        ["orca", "whale"],
    ]
    # At 3 hops ray joins the sharks (through great_white or hammerhead).
    assert label_families(LABELS, ZOO, hops=3)[0] == [
        "great_white",
        "hammerhead",
        "ray",
    ]
    assert label_families(LABELS, ZOO, hops=0) == []


def test_one_member_per_family_is_held_out_and_a_relative_stays_seen():
    families = label_families(LABELS, ZOO, hops=2)
    for seed in range(10):
        seen, unseen = split_seen_unseen(
            LABELS, 0.45, seed, families
        )  # round(0.45 * 7) = 3
        assert len(unseen) == 3 and sorted(seen + unseen) == sorted(LABELS)
        for family in families:
            held = [w for w in family if w in unseen]
            assert len(held) == 1, (seed, family, unseen)  # exactly one per family
            assert any(w in seen for w in family)  # its relative is seen
        assert (
            len([w for w in unseen if w in {"ray", "ibis", "cobra"}]) == 1
        )  # the rest: a singleton


def test_split_is_seeded_and_order_free_and_uniform_without_families():
    families = label_families(LABELS, ZOO, hops=2)
    first = split_seen_unseen(LABELS, 0.45, 0, families)
    assert (
        split_seen_unseen(list(reversed(LABELS)), 0.45, 0, list(reversed(families)))
        == first
    )
    assert {
        tuple(split_seen_unseen(LABELS, 0.45, s, families)[1]) for s in range(10)
    } != {tuple(first[1])}
    seen, unseen = split_seen_unseen(LABELS, 0.3, 0)  # no families: a plain share
    assert len(unseen) == 2 and not set(seen) & set(unseen)


def test_more_families_than_the_share_allows_takes_a_seeded_subset():
    families = label_families(LABELS, ZOO, hops=2)
    seen, unseen = split_seen_unseen(LABELS, 0.1, 3, families)  # one label only
    assert len(unseen) == 1 and unseen[0] in {w for f in families for w in f}


def test_bad_shares_are_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_seen_unseen(LABELS, 0.0, 0)
    with pytest.raises(ValueError, match="at least 2 labels"):
        split_seen_unseen(["a"], 0.5, 0)
