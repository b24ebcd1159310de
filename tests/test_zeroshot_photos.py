"""The broader zero-shot test set: the hand-made WordNet mappings of Flowers-102, PACS
and Food-101, and the reader of their photos."""

import json

import pytest
from conftest import mirror

from devise_lite.errors import BadInputError
from devise_lite.wnids import imagenet1k_wnids, imagenet21k_wnids
from devise_lite.zeroshot_photos import (
    MAPPING_COLUMNS,
    PHOTO_SETS,
    labelled_photos,
    mapping_rows,
    mapping_summary,
    mapping_table,
)

SETS = list(PHOTO_SETS)
# Each dataset's own classes: Flowers-102's labels 1-102, PACS's seven, Food-101's 101.
CLASS_COUNTS = {"flowers102": 102, "pacs": 7, "food101": 101}


@pytest.mark.parametrize("name", SETS)
def test_every_class_is_mapped_once_with_a_reason_where_it_is_left_out(name):
    rows = mapping_rows(name)
    assert list(rows[0]) == MAPPING_COLUMNS
    classes = [row["class"] for row in rows]
    assert len(classes) == len(set(classes)) == CLASS_COUNTS[name]
    for row in rows:
        assert bool(row["wnid"]) == bool(row["synset"]), row
        if not row["wnid"]:
            assert row["note"].startswith("Excluded: "), row


def test_flowers_classes_are_the_dataset_labels_1_to_102():
    assert [row["class"] for row in mapping_rows("flowers102")] == [
        str(label) for label in range(1, 103)
    ]


@pytest.mark.parametrize("name", SETS)
def test_every_label_is_a_wordnet_noun_of_imagenet21k_outside_the_1000(name):
    from devise_lite.wordnet import synset_of

    in_21k, in_1k = set(imagenet21k_wnids()), set(imagenet1k_wnids())
    for row in mapping_rows(name):
        if row["wnid"]:
            assert synset_of(row["wnid"]).name() == row["synset"], row
            assert row["wnid"] in in_21k, row
            assert row["wnid"] not in in_1k, row


def test_the_mapping_summary_counts_classes_and_labels():
    summary = mapping_summary(SETS)
    assert summary.loc["PACS (photos)"].tolist() == [7, 7, 7]
    flowers = summary.loc["Flowers-102"]
    # three dahlias (orange, pink-yellow, Bishop of Llandaff) pool into dahlia.n.01
    assert flowers["labels"] == flowers["mapped classes"] - 2
    table = mapping_table(SETS)
    assert len(table) == sum(CLASS_COUNTS.values())
    assert table.loc[table["synset"] == "dahlia.n.01", "class"].tolist() == [
        "56",
        "59",
        "60",
    ]


@pytest.mark.parametrize("name", SETS)
def test_the_reader_labels_each_mirror_photo_by_its_class(name):
    mirror()
    wnid_of = {row["class"]: row["wnid"] for row in mapping_rows(name)}
    photos = labelled_photos(name)
    assert photos
    assert all(p.wnid and p.wnid == wnid_of[p.source] for p in photos)
    assert all(p.path.parent.name == p.source for p in photos)
    assert len({p.path for p in photos}) == len(photos)
    first = labelled_photos(name, per_class=2)
    by_class = {}
    for p in first:
        by_class.setdefault(p.source, []).append(p)
    assert set(by_class) == {p.source for p in photos}
    assert all(len(v) <= 2 for v in by_class.values())


def test_flowers_photos_of_one_class_come_from_every_split_folder():
    root = mirror() / "flowers102"
    names = json.loads((root / "cat_to_name.json").read_text())
    photos = [p for p in labelled_photos("flowers102") if p.source == "12"]
    assert names["12"] == "colt's foot"
    assert {p.path.parent.parent.name for p in photos} == {"train", "valid", "test"}
    assert {p.wnid for p in photos} == {"n12029635"}  # coltsfoot.n.02


def test_unknown_class_folders_and_excluded_classes(tmp_path):
    for cls in ["dog", "horse", "unicorn"]:
        (tmp_path / cls).mkdir()
        (tmp_path / cls / "a.jpg").write_bytes(b"")
    with pytest.raises(BadInputError, match="unicorn"):
        labelled_photos("pacs", root=tmp_path)
    (tmp_path / "unicorn" / "a.jpg").unlink()  # an empty folder is no class
    photos = labelled_photos("pacs", root=tmp_path)
    assert [(p.source, p.wnid) for p in photos] == [
        ("dog", "n02084071"),
        ("horse", "n02374451"),
    ]
    with pytest.raises(ValueError, match="per_class"):
        labelled_photos("pacs", per_class=0, root=tmp_path)


def test_test_set_table_counts_photos_and_labels_per_set_by_hand():
    from devise_lite.book.zero_shot_test_set import ALL, test_set_table

    wnids = ["a", "a", "b", "c", "c", "d"]
    datasets = ["caltech101", "caltech101", "caltech101", "pacs", "pacs", "food101"]
    sets = {"2-hop": ["a"], "21k": ["a", "b", "c"]}
    table = test_set_table(wnids, datasets, sets, names=["2-hop", "21k"])
    assert table.index.tolist() == ["caltech101", "pacs", "food101", ALL]
    assert table["photos"].tolist() == [3, 2, 1, 6]
    assert table["labels"].tolist() == [2, 1, 1, 4]
    assert table["labels in 2-hop"].tolist() == [1, 0, 0, 1]
    assert table["labels in 21k"].tolist() == [2, 1, 0, 3]


def test_per_label_spread_draws_a_panel_per_set():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from devise_lite.book.zero_shot_test_set import model_names, per_label_spread

    models = model_names(10)
    assert list(models.values()) == ["DeViSE-1K", "ConSE-1K (T=10)"]
    per_label = pd.DataFrame(
        {
            "candidate_set": ["2-hop"] * 4 + ["21k"] * 2,
            "model": list(models) * 3,
            "wnid": ["a", "a", "b", "b", "a", "a"],
            "dataset": ["pacs"] * 2 + ["food101"] * 2 + ["pacs"] * 2,
            "hit@5": [0.5, 1.0, 0.0, 0.25, 0.0, 0.5],
        }
    )
    chance = {"21k": 0.1}
    fig = per_label_spread(per_label, models, sets=("2-hop", "21k"), chance=chance)
    assert [ax.get_title() for ax in fig.axes] == [
        "2-hop: 2 test labels",
        "21k: 1 test labels",
    ]
    plt.close(fig)


def test_tiny_run_tests_photos_of_every_set_and_scores_them_label_by_label(tiny_run):
    import pandas as pd

    from devise_lite import pipeline
    from devise_lite.config import get_preset
    from devise_lite.evaluation import DEVISE

    tiny = get_preset("tiny")
    test = pipeline.zero_shot_photos(tiny)
    assert len(test.datasets) == len(test.wnids) == len(test.features)
    found = set(test.datasets)
    assert found <= {"caltech101", *SETS} and found & set(SETS)
    per_label = pd.read_csv(tiny_run / "zero_shot_per_label.csv")
    assert list(per_label.columns[:6]) == [
        "candidate_set",
        "model",
        "wnid",
        "label",
        "dataset",
        "n_photos",
    ]
    table2 = pd.read_csv(tiny_run / "table2_zero_shot.csv")
    table2 = table2[table2["seen_labels"] == "imagenet1k"]
    for name, rows in per_label[per_label["model"] == DEVISE].groupby("candidate_set"):
        row = table2[(table2.candidate_set == name) & (table2.model == DEVISE)].iloc[0]
        # Table 2's per-label column is the mean of this file's rows; photos add up.
        assert rows["hit@5"].mean() == pytest.approx(row["label_hit@5"])
        assert rows["n_photos"].sum() == row["n_images"]
        assert len(rows) == row["n_labels"]


def test_the_new_sets_are_located_in_the_mirror_without_copying(tmp_path, monkeypatch):
    from devise_lite.datasets import REGISTRY, locate

    root = mirror()
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    for name in SETS:
        assert locate(name, allow_download=False) == root / REGISTRY[name].folder
    assert not (tmp_path / "datasets").exists()


def test_a_flowers_download_is_sorted_into_class_folders(tmp_path, monkeypatch):
    import tarfile

    import numpy as np
    from scipy.io import savemat

    from devise_lite import datasets

    jpg = tmp_path / "src" / "jpg"
    jpg.mkdir(parents=True)
    for number in (1, 2, 3):
        (jpg / f"image_{number:05d}.jpg").write_bytes(b"")
    archive = tmp_path / "downloads" / "102flowers.tgz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(jpg, arcname="jpg")
    labels = tmp_path / "labels.mat"
    savemat(labels, {"labels": np.array([[12, 5, 12]])})  # imagelabels.mat's shape

    def download(url, target, timeout=30.0):
        assert url == datasets.FLOWERS_LABELS[0]
        target.write_bytes(labels.read_bytes())

    monkeypatch.setattr(datasets, "download", download)
    monkeypatch.setattr(datasets, "FLOWERS_LABELS", (datasets.FLOWERS_LABELS[0], None))
    target = tmp_path / "flowers102"
    datasets.REGISTRY["flowers102"].unpack(archive, target)
    photos = labelled_photos("flowers102", root=target)
    assert [(p.source, p.path.name) for p in photos] == [
        ("5", "image_00002.jpg"),  # english marigold
        ("12", "image_00001.jpg"),  # colt's foot
        ("12", "image_00003.jpg"),
    ]
