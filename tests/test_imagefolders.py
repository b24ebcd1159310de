"""ImageNet-style folders -> ImageSplit: the ILSVRC-2012 layouts, wnid trees, and bad
folder names.

The trees are tiny fakes built in tmp_path (real wnids, real JPEG files); WordNet comes
from the mirror.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import mirror
from PIL import Image

from devise_lite.config import ImageConfig
from devise_lite.imagefolders import devkit_wnids, folder_split, is_folder_dataset
from devise_lite.images import ImageSplit, LabelledImage

TENCH, GOLDFISH, GREAT_WHITE = "n01440764", "n01443537", "n01484850"


@pytest.fixture(autouse=True)
def _wordnet_from_mirror():
    mirror()  # skips without the mirror: wnids are checked against WordNet 3.0


def make_images(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        Image.new("RGB", (8, 8), (i * 20 % 256, 0, 0)).save(folder / name, "JPEG")


def train_tree(root, counts: dict[str, int]):
    for wnid, n in counts.items():
        make_images(root / "train" / wnid, [f"{wnid}_{i}.JPEG" for i in range(n)])


ALL = ImageConfig(dataset="", train_per_class=None, test_per_class=None)


def cfg_for(root, **changes) -> ImageConfig:
    from dataclasses import replace

    return replace(ALL, dataset=str(root), **changes)


def test_val_subfolders_give_the_official_split(tmp_path):
    train_tree(tmp_path, {TENCH: 3, GOLDFISH: 2})
    make_images(tmp_path / "val" / TENCH, ["a.JPEG"])
    make_images(tmp_path / "val" / GOLDFISH, ["b.JPEG", "c.JPEG"])
    split = folder_split(cfg_for(tmp_path))
    assert isinstance(split, ImageSplit) and split.wnids == [TENCH, GOLDFISH]
    assert [im.path.name for im in split.train] == [
        f"{TENCH}_{i}.JPEG" for i in range(3)
    ] + [f"{GOLDFISH}_{i}.JPEG" for i in range(2)]
    assert split.train[0] == LabelledImage(
        tmp_path / "train" / TENCH / f"{TENCH}_0.JPEG", TENCH, TENCH
    )
    assert [(im.path.name, im.wnid) for im in split.test] == [
        ("a.JPEG", TENCH),
        ("b.JPEG", GOLDFISH),
        ("c.JPEG", GOLDFISH),
    ]


def devkit(
    root, id_order: list[str], truth_ids: list[int], where="ILSVRC2012_devkit_t12/data"
):
    """A devkit folder: meta.mat with leaf classes numbered in `id_order`, plus one
    inner node."""
    from scipy.io import savemat

    folder = root / where
    folder.mkdir(parents=True)
    fields = [
        ("ILSVRC2012_ID", "O"),
        ("WNID", "O"),
        ("words", "O"),
        ("num_children", "O"),
    ]
    rows = [(i + 1, w, w, 0) for i, w in enumerate(id_order)] + [
        (len(id_order) + 1, "n00015388", "animal", 2)
    ]
    synsets = np.zeros((len(rows), 1), dtype=fields)
    for i, row in enumerate(rows):
        synsets[i, 0] = row
    savemat(folder / "meta.mat", {"synsets": synsets})
    (folder / "ILSVRC2012_validation_ground_truth.txt").write_text(
        "".join(f"{i}\n" for i in truth_ids)
    )


def test_flat_val_is_labelled_by_the_devkit_in_its_own_class_order(tmp_path):
    train_tree(tmp_path, {TENCH: 2, GOLDFISH: 2, GREAT_WHITE: 2})
    make_images(
        tmp_path / "val", [f"ILSVRC2012_val_{i:08d}.JPEG" for i in (1, 2, 3, 4)]
    )
    # The devkit numbers the great white 1: its order is not the sorted order of the
    # wnids.
    devkit(tmp_path, [GREAT_WHITE, TENCH, GOLDFISH], [1, 3, 2, 1])
    split = folder_split(cfg_for(tmp_path))
    by_file = {im.path.name: im.wnid for im in split.test}
    assert by_file == {
        "ILSVRC2012_val_00000001.JPEG": GREAT_WHITE,
        "ILSVRC2012_val_00000002.JPEG": GOLDFISH,
        "ILSVRC2012_val_00000003.JPEG": TENCH,
        "ILSVRC2012_val_00000004.JPEG": GREAT_WHITE,
    }
    assert devkit_wnids(tmp_path / "ILSVRC2012_devkit_t12/data/meta.mat") == {
        1: GREAT_WHITE,
        2: TENCH,
        3: GOLDFISH,
    }


def test_flat_val_from_a_csv_or_kaggle_solution(tmp_path):
    train_tree(tmp_path, {TENCH: 2, GOLDFISH: 2})
    make_images(tmp_path / "val", ["x.JPEG", "y.JPEG"])
    (tmp_path / "val_labels.csv").write_text(
        f"file,wnid\nx.JPEG,{GOLDFISH}\ny.JPEG,{TENCH}\n"
    )
    assert {im.path.name: im.wnid for im in folder_split(cfg_for(tmp_path)).test} == {
        "x.JPEG": GOLDFISH,
        "y.JPEG": TENCH,
    }
    kaggle = tmp_path / "kaggle"
    train_tree(kaggle, {TENCH: 2})
    make_images(kaggle / "val", ["ILSVRC2012_val_00000007.JPEG"])
    (kaggle / "LOC_val_solution.csv").write_text(
        f"ImageId,PredictionString\nILSVRC2012_val_00000007,{TENCH} 1 2 30 40 {TENCH} "
        f"5 6 7 8\n"
    )
    assert [im.wnid for im in folder_split(cfg_for(kaggle)).test] == [TENCH]


def test_flat_val_without_labels_says_what_to_provide(tmp_path):
    train_tree(tmp_path, {TENCH: 2})
    make_images(tmp_path / "val", ["x.JPEG"])
    with pytest.raises(FileNotFoundError, match="val_labels.csv"):
        folder_split(cfg_for(tmp_path))
    (tmp_path / "val_labels.csv").write_text(f"file,wnid\nother.JPEG,{TENCH}\n")
    with pytest.raises(ValueError, match="1 of the 1 images .* have no label"):
        folder_split(cfg_for(tmp_path))


@pytest.mark.parametrize("bad", ["goldfish", "n99999999"])
def test_a_folder_not_named_by_a_wordnet_noun_id_is_a_clear_error(tmp_path, bad):
    train_tree(tmp_path, {TENCH: 2, bad: 2})
    make_images(tmp_path / "val" / TENCH, ["a.JPEG"])
    with pytest.raises(
        ValueError, match=rf"not WordNet 3.0 noun ids.*'{bad}'.*rename it"
    ):
        folder_split(cfg_for(tmp_path))


def test_per_label_caps_take_a_seeded_subset_of_the_official_split(tmp_path):
    train_tree(tmp_path, {TENCH: 6, GOLDFISH: 6})
    make_images(tmp_path / "val" / TENCH, ["a.JPEG", "b.JPEG", "c.JPEG"])
    capped = folder_split(cfg_for(tmp_path, train_per_class=2, test_per_class=1))
    assert [sum(im.wnid == w for im in capped.train) for w in (TENCH, GOLDFISH)] == [
        2,
        2,
    ]
    assert len(capped.test) == 1 and capped.wnids == [TENCH, GOLDFISH]
    assert capped == folder_split(
        cfg_for(tmp_path, train_per_class=2, test_per_class=1)
    )  # reproducible
    full = folder_split(cfg_for(tmp_path))
    assert set(capped.train) < set(full.train) and len(full.train) == 12
    other_seed = [
        folder_split(cfg_for(tmp_path, train_per_class=2, seed=s)).train
        for s in range(1, 6)
    ]
    assert any(
        t != capped.train for t in other_seed
    )  # the subset really depends on the seed


def test_a_wnid_tree_without_val_is_split_per_label_and_thin_labels_are_left_out(
    tmp_path,
):
    for wnid, n in {TENCH: 5, GOLDFISH: 4, GREAT_WHITE: 1}.items():  # a 21K-style tree
        make_images(tmp_path / wnid, [f"{i}.jpg" for i in range(n)])
    with pytest.warns(UserWarning, match=rf"1 of 3 labels .*{GREAT_WHITE}"):
        split = folder_split(cfg_for(tmp_path, train_per_class=2, test_per_class=None))
    assert split.wnids == [TENCH, GOLDFISH]
    assert [sum(im.wnid == w for im in split.train) for w in split.wnids] == [2, 2]
    assert [sum(im.wnid == w for im in split.test) for w in split.wnids] == [3, 2]
    assert not set(split.train) & set(split.test)
    with pytest.raises(ValueError, match="needs ImageConfig.train_per_class"):
        folder_split(cfg_for(tmp_path))


def test_is_folder_dataset(tmp_path):
    assert is_folder_dataset(str(tmp_path)) and is_folder_dataset("/data/imagenet")
    assert not is_folder_dataset("caltech101")
