"""The paper's published tables (resources/) and ours beside them, by hand."""

import math
from importlib import resources
from pathlib import Path

import handmade
import pandas as pd
import pytest

from devise_lite.book import beside_paper, formats, paper

MIRROR_FILE = (
    Path(__file__).resolve().parents[2] / "shared/paper/devise_2013_tables.csv"
)


def shipped_bytes() -> bytes:
    return (
        resources.files("devise_lite")
        .joinpath("resources", "devise_2013_tables.csv")
        .read_bytes()
    )


# ------------------------------------------------------------------ the shipped copy


def test_shipped_copy_is_the_mirror_file_byte_for_byte():
    if not MIRROR_FILE.exists():
        pytest.skip(f"the paper mirror {MIRROR_FILE} is not here")
    assert shipped_bytes() == MIRROR_FILE.read_bytes()


def test_shipped_copy_has_its_description_beside_it():
    text = (
        resources.files("devise_lite")
        .joinpath("resources", "devise_2013_tables.md")
        .read_text()
    )
    assert "Frome" in text and "NIPS 2013" in text
    assert "not" in text and "result of this project" in text


def test_published_is_the_long_table_with_every_number():
    table = paper.published()
    assert list(table.columns) == [
        "table",
        "test_set",
        "model",
        "dim",
        "n_candidates",
        "metric",
        "k",
        "value",
    ]
    # Table 1: 6 rows x 8 metrics; Table 2: 6 sets x 5 k; Table 3: 9 rows x 5 k.
    assert table["table"].value_counts().to_dict() == {1: 48, 2: 30, 3: 45}
    assert len(table) == len(shipped_bytes().decode().splitlines()) - 1
    # Hit rates are in percent as published, hierarchical precision a fraction.
    assert table.loc[table["metric"] == "hit", "value"].max() > 1
    assert table.loc[table["metric"] == "hp", "value"].max() < 1
    assert table["dim"].dtype == "Int64" and table["n_candidates"].dtype == "Int64"


def test_published_hands_out_copies():
    first = paper.published()
    first["value"] = -1.0
    assert (paper.published()["value"] >= 0).all()


def test_paper_value_converts_percent_to_share():
    assert paper.paper_value(1, paper.TABLE1_SET, "DeViSE", "hit@5", 500) == 0.767
    assert paper.paper_value(1, paper.TABLE1_SET, "DeViSE", "hit@5", 1000) == 0.784
    assert paper.paper_value(1, paper.TABLE1_SET, "DeViSE", "hp@20", 500) == 0.341
    assert paper.paper_value(2, "2-hop", "DeViSE-0", "hit@5") == pytest.approx(0.181)


def test_paper_value_refuses_ambiguous_or_absent_rows():
    with pytest.raises(KeyError):  # 500-d and 1000-d both match
        paper.paper_value(1, paper.TABLE1_SET, "DeViSE", "hit@5")
    with pytest.raises(KeyError):  # the paper's Table 1 has no hit@20
        paper.paper_value(1, paper.TABLE1_SET, "DeViSE", "hit@20", 500)


def test_paper_candidates_and_chance():
    assert paper.paper_candidates("2-hop") == 1589
    assert paper.paper_candidates("3-hop+1K") == 8860
    assert paper.chance_hit(5, 1589) == 5 / 1589
    assert paper.chance_hit(20, 12) == 1.0  # k past the set: every label is a hit
    assert paper.paper_chance_hit("21k+seen", 20) == 20 / 21841


# -------------------------------------------------------------------------- Table 1


def test_table1_beside_paper_by_hand():
    table = beside_paper.table1_beside_paper(handmade.table1())
    assert isinstance(table.index, pd.RangeIndex)
    assert table["metric"].tolist() == [
        "hit@1",
        "hit@2",
        "hit@5",
        "hit@10",
        "hp@2",
        "hp@5",
        "hp@10",
        "hp@20",
    ]
    row = table.set_index("metric").loc["hit@5"]
    assert row["paper softmax"] == 0.785 and row["paper DeViSE"] == 0.767
    assert row["paper random emb."] == 0.748 and row["paper chance"] == 0.005
    assert row["ours softmax"] == 0.80 and row["ours DeViSE"] == 0.78
    assert row["paper DeViSE / softmax"] == pytest.approx(76.7 / 78.5)
    assert row["ours DeViSE / softmax"] == pytest.approx(0.78 / 0.80)
    hp20 = table.set_index("metric").loc["hp@20"]
    assert hp20["paper DeViSE / softmax"] == pytest.approx(0.341 / 0.319)
    assert hp20["ours DeViSE / softmax"] == pytest.approx(0.30 / 0.25)
    assert "ours DeViSE + phase 2" not in table.columns


def test_table1_beside_paper_shows_phase_2_when_run():
    table = beside_paper.table1_beside_paper(handmade.table1(phase2=True))
    assert table.loc[0, "ours DeViSE + phase 2"] == 0.45
    columns = list(table.columns)
    assert columns.index("ours DeViSE + phase 2") == columns.index("ours DeViSE") + 1


def test_table1_beside_paper_undefined_metric_and_missing_model():
    ours = handmade.table1()
    ours["hp@20"] = math.nan  # too few labels for k = 20
    row = beside_paper.table1_beside_paper(ours).set_index("metric").loc["hp@20"]
    assert math.isnan(row["ours DeViSE / softmax"])
    assert row["paper DeViSE / softmax"] == pytest.approx(0.341 / 0.319)
    with pytest.raises(ValueError, match="softmax baseline"):
        beside_paper.table1_beside_paper(ours[ours["model"] != "softmax baseline"])


# ------------------------------------------------------------------------ zero-shot


def flat(table: pd.DataFrame, candidate_set: str, metric: str) -> pd.Series:
    rows = table[
        (table["candidate set"] == candidate_set) & (table["metric"] == metric)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def test_zero_shot_beside_paper_chance_and_x_chance_by_hand():
    table = beside_paper.zero_shot_beside_paper(handmade.table2())
    assert len(table) == 6 * 5 and isinstance(table.index, pd.RangeIndex)
    row = flat(table, "2-hop", "hit@5")
    assert row["paper set"] == "2-hop" and row["paper n"] == 1589
    assert row["paper DeViSE"] == pytest.approx(0.181)
    assert row["paper chance"] == pytest.approx(5 / 1589)
    assert row["paper x chance"] == pytest.approx(18.1 / (5 / 1589 * 100))  # 57.5x
    # Ours: 1,000 candidates, so chance at hit@5 is 0.005 (the chance row's number).
    assert row["ours n"] == 1000 and row["ours photos"] == 40
    assert row["ours DeViSE"] == 0.20  # not the caltech experiment's 0.9
    assert row["ours chance"] == pytest.approx(0.005)
    assert row["ours x chance"] == pytest.approx(40)
    assert row["ours DeViSE per label"] == 0.18
    assert row["per label x chance"] == pytest.approx(36)
    assert row["ours random emb."] == 0.01
    assert row["best ConSE"] == "ConSE (T=10)"
    assert row["ours ConSE"] == pytest.approx(0.25)
    assert row["ConSE x chance"] == pytest.approx(50)


def test_zero_shot_beside_paper_maps_seen_sets_to_the_papers_1k_sets():
    table = beside_paper.zero_shot_beside_paper(handmade.table2())
    row = flat(table, "2-hop+seen", "hit@20")
    assert row["paper set"] == "2-hop+1K" and row["paper n"] == 2589
    assert row["paper DeViSE"] == pytest.approx(0.227)  # DeViSE+1K
    assert row["paper x chance"] == pytest.approx(0.227 / (20 / 2589))
    assert row["ours x chance"] == pytest.approx(0.25 / (20 / 1050))
    assert flat(table, "21k", "hit@1")["paper set"] == "21K"


def test_zero_shot_beside_paper_leaves_ours_empty_without_photos():
    ours = handmade.table2(sets={"3-hop": (4000, 0)})
    row = flat(beside_paper.zero_shot_beside_paper(ours), "3-hop", "hit@5")
    assert math.isnan(row["ours DeViSE"]) and math.isnan(row["ours x chance"])
    assert row["paper DeViSE"] == pytest.approx(0.053)  # the paper's side stays


def test_zero_shot_beside_paper_adds_table_3():
    table = beside_paper.zero_shot_beside_paper(handmade.table2(), handmade.table3())
    assert len(table) == 6 * (5 + 5)
    plain = flat(table, "2-hop", "hp@5")
    assert plain["paper DeViSE"] == 0.192  # DeViSE-0 on the 2-hop photos
    assert plain["paper softmax"] == 0.181
    assert plain["ours DeViSE"] == 0.30 and plain["ours softmax"] == 0.15
    assert plain["ours x chance"] == pytest.approx(5)
    assert math.isnan(plain["paper chance"])  # not printed, not k / n for hp
    assert plain["paper DeViSE / softmax"] == pytest.approx(0.192 / 0.181)
    assert plain["ours DeViSE / softmax"] == pytest.approx(0.30 / 0.15)
    assert math.isnan(flat(table, "2-hop", "hit@5")["ours DeViSE / softmax"])
    seen = flat(table, "2-hop+seen", "hp@5")
    assert seen["paper DeViSE"] == 0.196  # DeViSE+1K, same test photos
    assert seen["paper softmax"] == 0.181
    assert flat(table, "2-hop", "hit@5")["ours DeViSE"] == 0.20


def test_best_conse_is_the_highest_hit5_per_set():
    ours = handmade.table2(conse={"ConSE (T=1)": 1.5, "ConSE (T=1000)": 0.5})
    assert beside_paper.best_conse(ours, "2-hop") == "ConSE (T=1)"
    assert beside_paper.best_conse(handmade.table2(conse={}), "2-hop") is None


# -------------------------------------------------------------------------- display


def test_formatters():
    assert formats.format_share(0.181) == "18.1%"
    assert formats.format_share(0.06) == "6.0%"
    assert formats.format_share(20 / 20841) == "0.096%"
    assert formats.format_share(0.0) == "0.0%"
    assert formats.format_share(math.nan) == "–"
    assert formats.format_fraction(0.3414) == "0.341"
    assert formats.format_ratio(76.7 / 78.5) == "0.977"
    assert formats.format_times(18.1 / (5 / 1589 * 100)) == "57.5x"
    assert formats.format_times(4.0) == "4.00x"
    assert formats.format_times(1234.4) == "1,234x"
    assert formats.format_count(20841.0) == "20,841"


def test_format_comparison_formats_by_row_and_hides_the_index():
    html = formats.format_comparison(
        beside_paper.table1_beside_paper(handmade.table1())
    ).to_html()
    assert "row_heading" not in html  # no index printed
    assert "76.7%" in html  # a hit row as a percentage
    assert "0.341" in html and "34.1%" not in html  # an hp row as a fraction
    assert "0.977" in html  # DeViSE / softmax


def test_format_comparison_zero_shot():
    table = beside_paper.zero_shot_beside_paper(
        handmade.table2(sets={"3-hop": (4000, 0)})
    )
    html = formats.format_comparison(table).to_html()
    assert "57.5x" in html and "1,589" in html and "–" in html


def test_two_sides_by_one_and_by_two_columns():
    table = beside_paper.zero_shot_beside_paper(handmade.table2())
    flat = table[table["metric"] == "hit@5"]
    sides = beside_paper.two_sides(
        flat, "paper x chance", "ours x chance", "candidate set"
    )
    assert list(sides.columns) == ["paper", "ours"]
    assert sides.index.name == "candidate set" and sides.index[0] == "2-hop"
    assert sides.loc["2-hop", "ours"] == pytest.approx(40)
    both = beside_paper.two_sides(
        table, "paper DeViSE", "ours DeViSE", ["candidate set", "metric"]
    )
    assert both.index.name == "candidate set / metric"
    assert both.loc["2-hop hit@5", "paper"] == pytest.approx(0.181)
    assert len(both) == len(table)


def test_format_comparison_counts_the_stage_tables_n_columns():
    sharks = pd.DataFrame(
        {"model": ["DeViSE"], "n_images": [40.0], "share_shark_in_top5": [0.75]}
    )
    html = formats.format_comparison(sharks).to_html()
    assert ">40<" in html and "75.0%" in html and "4000" not in html


def test_table1_halves_split_the_comparison_in_two():
    versus, others = beside_paper.table1_halves(
        beside_paper.table1_beside_paper(handmade.table1(phase2=True))
    )
    assert list(versus.columns) == [
        "metric",
        "paper softmax",
        "paper DeViSE",
        "paper DeViSE / softmax",
        "ours softmax",
        "ours DeViSE",
        "ours DeViSE / softmax",
    ]
    assert list(others.columns) == [
        "metric",
        "paper random emb.",
        "paper chance",
        "ours DeViSE + phase 2",
        "ours random emb.",
        "ours chance",
    ]
    assert len(versus) == len(others) == 8
