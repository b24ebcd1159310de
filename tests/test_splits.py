"""The zero-shot split: families on the hand-made hierarchy, one held out per family,
seeded."""

import pytest
from handmade import ZOO_VOCABULARY as LABELS

from devise_lite.splits import label_families, split_seen_unseen

# The seven labels of the zoo, with their hops: the sharks (great_white, hammerhead,
# tiger_shark) 2 apart; mammal 1 from whale and dolphin, which are 2 apart; ray 3 from
# each shark and from mammal, 4 from whale and dolphin; a shark 4 from mammal.


def test_families_join_labels_within_the_hop_limit_transitively(zoo):
    mammals = ["dolphin", "mammal", "whale"]
    sharks = ["great_white", "hammerhead", "tiger_shark"]
    assert label_families(LABELS, zoo, hops=1) == [mammals]  # sharks 2 apart
    assert label_families(LABELS, zoo, hops=2) == [mammals, sharks]  # ray alone
    # At 3 hops ray joins the sharks and mammal, and so the two families meet: one
    # family, though great_white and whale are 5 hops apart.
    assert label_families(LABELS, zoo, hops=3) == [sorted(LABELS)]
    assert label_families(LABELS, zoo, hops=0) == []


def test_one_member_per_family_is_held_out_and_a_relative_stays_seen(zoo):
    # 1 hop: one family and four singletons; 2 hops: two families and ray alone.
    for hops, families_held in ((1, 1), (2, 2)):
        families = label_families(LABELS, zoo, hops)
        singletons = set(LABELS) - {w for family in families for w in family}
        assert len(families) == families_held
        for seed in range(10):
            seen, unseen = split_seen_unseen(LABELS, 0.45, seed, families)
            assert len(unseen) == 3  # round(0.45 * 7)
            assert sorted(seen + unseen) == sorted(LABELS)
            for family in families:
                held = [w for w in family if w in unseen]
                assert len(held) == 1, (seed, family, unseen)  # one per family
                assert any(w in seen for w in family)  # its relative is seen
            # The rest of the share: singletons.
            assert len(set(unseen) & singletons) == 3 - families_held


def test_split_is_seeded_and_order_free_and_uniform_without_families(zoo):
    families = label_families(LABELS, zoo, hops=2)
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


def test_more_families_than_the_share_allows_takes_a_seeded_subset(zoo):
    families = label_families(LABELS, zoo, hops=2)
    seen, unseen = split_seen_unseen(LABELS, 0.1, 3, families)  # one label only
    assert len(unseen) == 1 and unseen[0] in {w for f in families for w in f}


def test_bad_shares_are_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_seen_unseen(LABELS, 0.0, 0)
    with pytest.raises(ValueError, match="at least 2 labels"):
        split_seen_unseen(["a"], 0.5, 0)
