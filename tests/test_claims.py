"""Each claim's verdict on hand-made tables: yes, no across its threshold, n/a."""

import math

import handmade
import pandas as pd
import pytest

from devise_lite.book import claims, findings, formats, paper
from devise_lite.book.findings import Results


def verdict(name: str, **tables) -> pd.Series:
    """The verdicts row of one claim, on the tables given (the others missing)."""
    table = claims.verdicts(Results(**tables)).set_index("claim")
    return table.loc[name]


def holds(name: str, **tables) -> str:
    return verdict(name, **tables)["holds"]


# ---------------------------------------------------------------------- the table


def test_verdicts_has_one_row_per_claim_in_its_columns():
    table = claims.verdicts(Results())
    assert list(table.columns) == [
        "claim",
        "chapter",
        "paper says",
        "paper",
        "ours",
        "comparable",
        "test",
        "holds",
    ]
    assert len(table) == len(claims.CLAIMS) == 12
    assert table["claim"].is_unique
    assert set(table["chapter"]) == {1, 2, 5, 6}
    assert table["chapter"].map(type).eq(int).all()


def test_every_claim_is_na_without_tables():
    assert (claims.verdicts(Results())["holds"] == "n/a").all()


def test_the_paper_side_is_shown_without_our_tables():
    table = claims.verdicts(Results()).set_index("claim")
    assert table.loc["Table 1, flat", "paper"] == "76.7% vs 78.5%"
    assert table.loc["Table 1, flat", "comparable"] == (
        "DeViSE / softmax, hit@5: paper 0.977"
    )
    assert table.loc["Table 1, hierarchical", "paper"] == "0.341 vs 0.319"
    assert table.loc["zero-shot level", "paper"] == "18.1% (2-hop, 1,589 labels)"
    assert table.loc["zero-shot level", "comparable"] == "hit@5 / chance: paper 57.5x"


def test_the_papers_numbers_are_read_from_the_file(monkeypatch):
    edited = paper.published()
    at = (
        (edited["table"] == 1)
        & (edited["model"] == "DeViSE")
        & (edited["dim"].eq(500).fillna(False))
        & (edited["metric"] == "hit")
        & (edited["k"] == 5)
    )
    edited.loc[at, "value"] = 50.0
    monkeypatch.setattr(paper, "_published", lambda: edited)
    paper._numbers.cache_clear()  # the lookup built from the file
    try:
        assert verdict("Table 1, flat")["paper"] == "50.0% vs 78.5%"
    finally:
        monkeypatch.undo()
        paper._numbers.cache_clear()
    assert verdict("Table 1, flat")["paper"] == "76.7% vs 78.5%"


def test_a_claim_is_a_row_of_data():
    extra = findings.Claim(
        "always",
        9,
        "nothing",
        "none",
        "",
        findings.Side,
        lambda r: findings.Finding(True, findings.Side("1")),
    )
    table = claims.verdicts(Results(), claims.CLAIMS + (extra,))
    assert table.iloc[-1]["holds"] == "yes" and table.iloc[-1]["chapter"] == 9


def test_verdicts_print_through_format_comparison():
    html = formats.format_comparison(claims.verdicts(Results())).to_html()
    assert ">5<" in html and ">6<" in html
    assert "500.0%" not in html  # the chapter is a count, not a share


def test_a_change_in_points_prints_as_points_not_as_a_share():
    change = pd.DataFrame({"hit@5": [0.288], "change (points)": [-2.04]})
    html = formats.format_comparison(change).to_html()
    assert "28.8%" in html and ">-2.0<" in html and "-204" not in html


def test_all_hold_is_a_three_valued_and():
    assert findings.all_hold([True, True]) is True
    assert findings.all_hold([True, None]) is None
    assert findings.all_hold([None, False]) is False
    assert findings.all_hold([]) is True


# ------------------------------------------------------------- word similarity (1)


def test_word_similarity_crosses_its_threshold():
    assert holds("word similarity", similarity=handmade.similarity(0.65)) == "yes"
    assert holds("word similarity", similarity=handmade.similarity(0.55)) == "no"
    row = verdict("word similarity", similarity=handmade.similarity(0.65, 0.50))
    assert row["ours"] == "0.650 (GloVe 6B 50-d 0.500)"
    assert row["comparable"] == "ours / GloVe 6B 50-d: ours 1.300"
    assert row["paper"] == "–"


def test_word_similarity_refuses_two_models_besides_glove():
    two = handmade.similarity()
    two.loc[1, ["model", "dataset"]] = ["another model", "WordSim-353"]
    with pytest.raises(ValueError):
        claims.verdicts(Results(similarity=two))


# ------------------------------------------------------------ shark neighbours (2)


def test_shark_neighbours_cross_their_threshold():
    # (7 + 6) / 18 = 0.72 >= 0.7; (6 + 6) / 18 = 0.67 < 0.7.
    assert (
        holds("shark neighbours", shark_neighbours=handmade.shark_neighbours((7, 6)))
        == "yes"
    )
    assert (
        holds("shark neighbours", shark_neighbours=handmade.shark_neighbours((6, 6)))
        == "no"
    )
    row = verdict(
        "shark neighbours", shark_neighbours=handmade.shark_neighbours((9, 4))
    )
    assert row["ours"] == "0.72 over 2 species (1 with 9 of 9)"


def test_shark_neighbours_look_at_nine_neighbours_only():
    # 12 neighbours, all sharks: the share is over the first 9, i.e. 1.
    table = handmade.shark_neighbours((12, 12))
    table.loc[table["rank"] > 9, "is_shark"] = False
    assert verdict("shark neighbours", shark_neighbours=table)["ours"].startswith(
        "1.00"
    )


def test_shark_neighbours_na_when_empty():
    empty = handmade.shark_neighbours().iloc[:0]
    assert holds("shark neighbours", shark_neighbours=empty) == "n/a"


# --------------------------------------------------------------------- Table 1 (5)


def test_table1_flat_is_a_ratio_to_the_softmax_baseline():
    assert holds("Table 1, flat", table1=handmade.table1(0.78, 0.80)) == "yes"  # 0.975
    assert holds("Table 1, flat", table1=handmade.table1(0.74, 0.80)) == "no"  # 0.925
    # DeViSE ahead by more than 5% still matches the state of the art.
    assert holds("Table 1, flat", table1=handmade.table1(0.90, 0.80)) == "yes"
    row = verdict("Table 1, flat", table1=handmade.table1(0.78, 0.80))
    assert row["ours"] == "78.0% vs 80.0%"
    assert row["comparable"] == "DeViSE / softmax, hit@5: paper 0.977; ours 0.975"


def test_table1_hierarchical_compares_hp20():
    ahead = handmade.table1(
        devise_hp=(0.1, 0.1, 0.1, 0.30), softmax_hp=(0.5,) * 3 + (0.25,)
    )
    behind = handmade.table1(
        devise_hp=(0.9,) * 3 + (0.24,), softmax_hp=(0.1,) * 3 + (0.25,)
    )
    assert holds("Table 1, hierarchical", table1=ahead) == "yes"
    assert holds("Table 1, hierarchical", table1=behind) == "no"
    undefined = handmade.table1()
    undefined["hp@20"] = math.nan
    assert holds("Table 1, hierarchical", table1=undefined) == "n/a"


def test_random_control_on_every_hp_from_k_5():
    assert holds("random-embedding control", table1=handmade.table1()) == "yes"
    # hp@2 is below the control in the default table and does not count (k < 5).
    assert (
        handmade.table1().set_index("model").loc["DeViSE, random embeddings", "hp@2"]
        > 0.5
    )
    lost_at_10 = handmade.table1(random_hp=(0.1, 0.1, 0.36, 0.1))
    assert holds("random-embedding control", table1=lost_at_10) == "no"
    no_hp20 = handmade.table1(random_hp=(0.1, 0.1, 0.1, math.nan))
    row = verdict("random-embedding control", table1=no_hp20)
    assert row["holds"] == "yes" and "hp@20" not in row["ours"]
    none = handmade.table1(random_hp=(0.1,) + (math.nan,) * 3)
    assert holds("random-embedding control", table1=none) == "n/a"


# -------------------------------------------------------------------- zero-shot (6)


def test_zero_shot_level_per_photo_and_per_label():
    # 2-hop, 1,000 candidates: chance 0.5%; 20% = 40x, 18% per label = 36x.
    assert holds("zero-shot level", table2=handmade.table2()) == "yes"
    low = handmade.table2(devise={"2-hop": (0.10, 0.40)})  # 20x and below 12%
    assert holds("zero-shot level", table2=low) == "no"
    per_label = handmade.table2(label_hit5=0.10)  # per photo fine, per label not
    assert holds("zero-shot level", table2=per_label) == "no"
    # Same 20% on 100 candidates: chance 5%, only 4x chance.
    small = handmade.table2(sets={"2-hop": (100, 40)})
    assert holds("zero-shot level", table2=small) == "no"
    row = verdict("zero-shot level", table2=handmade.table2())
    assert (
        row["ours"]
        == "20.0% per photo, 18.0% per label (2-hop, 1,000 labels, 40 photos)"
    )
    assert row["comparable"] == (
        "hit@5 / chance: paper 57.5x; ours 40.0x per photo, 36.0x per label"
    )


def test_zero_shot_level_na_without_photos_or_per_label_numbers():
    assert holds(
        "zero-shot level", table2=handmade.table2(sets={"2-hop": (1000, 0)})
    ) == ("n/a")
    no_labels = handmade.table2().drop(
        columns=[f"label_hit@{k}" for k in (1, 2, 5, 10, 20)]
    )
    assert holds("zero-shot level", table2=no_labels) == "n/a"


def test_past_the_paper_needs_its_multiple_per_photo_and_per_label():
    # the paper: 18.1% of 1,589 labels = 57.5x; ours on 1,000 candidates (chance 0.5%)
    past = handmade.table2(devise={"2-hop": (0.30, 0.5)}, label_hit5=0.29)  # 60x, 58x
    assert holds("past the paper", table2=past) == "yes"
    assert verdict("past the paper", table2=past)["comparable"] == (
        "hit@5 / chance: paper 57.5x; ours 60.0x per photo, 58.0x per label"
    )
    assert holds("past the paper", table2=handmade.table2()) == "no"  # 40x, 36x
    per_label = handmade.table2(devise={"2-hop": (0.30, 0.5)}, label_hit5=0.25)
    assert holds("past the paper", table2=per_label) == "no"  # 50x per label
    none = handmade.table2(sets={"2-hop": (1000, 0)})
    assert holds("past the paper", table2=none) == "n/a"


def test_zero_shot_works_above_chance_and_the_control():
    assert holds("zero-shot works at all", table2=handmade.table2()) == "yes"
    # 21k: 10% at hit@20; a control at 12% beats it.
    assert holds(
        "zero-shot works at all", table2=handmade.table2(random=(0.01, 0.12))
    ) == ("no")
    # 21k below chance (20 / 10,000 = 0.2%).
    at_chance = handmade.table2(devise={"21k": (0.001, 0.001)}, random=(0.0, 0.0))
    assert holds("zero-shot works at all", table2=at_chance) == "no"
    # A plain set without photos is left out, not failed.
    no_21k = handmade.table2(sets={"21k": (10000, 0)})
    assert holds("zero-shot works at all", table2=no_21k) == "yes"
    none = handmade.table2(sets={s: (10, 0) for s in handmade.SETS})
    assert holds("zero-shot works at all", table2=none) == "n/a"


def test_harder_sets_fall_from_2_hop_to_21k():
    assert holds("harder sets", table2=handmade.table2()) == "yes"  # 40% > 20% > 10%
    rising = handmade.table2(devise={"3-hop": (0.08, 0.45)})
    assert holds("harder sets", table2=rising) == "no"
    # The +seen sets do not enter: a high 2-hop+seen changes nothing.
    seen = handmade.table2(devise={"2-hop+seen": (0.5, 0.99)})
    assert holds("harder sets", table2=seen) == "yes"
    one_set = handmade.table2(sets={"3-hop": (4000, 0), "21k": (10000, 0)})
    assert holds("harder sets", table2=one_set) == "n/a"
    assert verdict("harder sets")["paper"] == "2-hop 36.4% > 3-hop 12.5% > 21K 6.0%"


def test_conse_against_devise_with_the_best_temperature():
    assert holds("ConSE vs DeViSE", table2=handmade.table2()) == "yes"
    # Only T=1000 is behind DeViSE; the best temperature (T=1) is ahead.
    mixed = handmade.table2(conse={"ConSE (T=1)": 1.1, "ConSE (T=1000)": 0.5})
    assert holds("ConSE vs DeViSE", table2=mixed) == "yes"
    behind = handmade.table2(conse={"ConSE (T=1)": 0.9, "ConSE (T=10)": 0.8})
    assert holds("ConSE vs DeViSE", table2=behind) == "no"
    assert holds("ConSE vs DeViSE", table2=handmade.table2(conse={})) == "n/a"
    assert (
        "ConSE (T=10)" in verdict("ConSE vs DeViSE", table2=handmade.table2())["ours"]
    )


def test_zero_shot_claims_ignore_the_caltech_experiment():
    # Every imagenet1k set without photos: only the caltech rows have numbers.
    caltech_only = handmade.table2(sets={s: (10, 0) for s in handmade.SETS})
    caltech_only.loc[caltech_only["seen_labels"] == "caltech", "n_images"] = 40
    table = claims.verdicts(Results(table2=caltech_only)).set_index("claim")
    zero_shot = ["zero-shot level", "zero-shot works at all", "harder sets"]
    assert (table.loc[zero_shot, "holds"] == "n/a").all()


# ----------------------------------------------------------------------- sharks (6)


def test_sharks_both_directions_above_share_and_chance():
    assert holds("sharks, zero-shot", sharks=handmade.sharks()) == "yes"
    assert holds("sharks, zero-shot", sharks=handmade.sharks(great_white=0.5)) == "no"
    # 70% but chance at 8%: under 10x chance.
    assert holds("sharks, zero-shot", sharks=handmade.sharks(chance=0.08)) == "no"
    row = verdict("sharks, zero-shot", sharks=handmade.sharks())
    assert "great white shark: 70.0% (chance 1.0%; goal not met)" in row["ours"]
    assert "hammerhead: 95.0% (chance 1.0%; goal met)" in row["ours"]
    assert (
        row["comparable"]
        == "share / chance: ours great white shark 70.0x, hammerhead 95.0x"
    )


def test_sharks_na_when_a_direction_could_not_run():
    unrun = {"hammerhead": "great white shark has no label vector in this preset"}
    assert holds("sharks, zero-shot", sharks=handmade.sharks(notes=unrun)) == "n/a"
    # ... unless the direction that ran fails.
    failed = handmade.sharks(great_white=0.3, notes=unrun)
    assert holds("sharks, zero-shot", sharks=failed) == "no"
    # An empty note read back from a CSV is NaN: the direction ran.
    ran = handmade.sharks()
    ran["note"] = math.nan
    assert holds("sharks, zero-shot", sharks=ran) == "yes"


def test_sharks_prefer_the_papers_experiment():
    other = handmade.sharks(great_white=0.1).assign(seen_labels="caltech")
    both = pd.concat([handmade.sharks(), other], ignore_index=True)
    assert holds("sharks, zero-shot", sharks=both) == "yes"
    assert holds("sharks, zero-shot", sharks=other) == "no"  # the only experiment run


def test_styled_views_show_their_columns_without_an_index():
    table = claims.verdicts(Results(table1=handmade.table1()))
    html = claims.styled(table, claims.NUMBER_COLUMNS).to_html()
    assert "row_heading" not in html and "paper says" not in html
    assert "0.977" in html  # the paper's DeViSE / softmax on hit@5
    words = claims.styled(table, claims.WORD_COLUMNS).to_html()
    assert "paper says" in words and "comparable" not in words


def test_table3_hierarchical_devise_above_softmax_on_hp20():
    tables = {"table2": handmade.table2(), "table3": handmade.table3()}
    row = verdict("Table 3, hierarchical", **tables)
    assert row["holds"] == "yes"  # 0.30 vs 0.15 on every set
    assert (
        row["ours"] == "2-hop 0.300 vs 0.150, 3-hop 0.300 vs 0.150, 21k 0.300 vs 0.150"
    )
    assert (
        row["paper"] == "2-hop 0.233 vs 0.179, 3-hop 0.236 vs 0.130, 21K 0.096 vs 0.065"
    )
    assert row["comparable"] == (
        "DeViSE / softmax, hp@20: paper 2-hop 1.302, 3-hop 1.815, 21K 1.477; "
        "ours 2-hop 2.000, 3-hop 2.000, 21k 2.000"
    )
    below = {"table2": handmade.table2(), "table3": handmade.table3(devise_hp5=0.1)}
    assert holds("Table 3, hierarchical", **below) == "no"
    assert holds("Table 3, hierarchical", table2=handmade.table2()) == "n/a"
    no_photos = handmade.table2(sets={s: (10, 0) for s in handmade.SETS})
    assert (
        holds("Table 3, hierarchical", table2=no_photos, table3=handmade.table3())
        == "n/a"
    )
