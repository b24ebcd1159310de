"""The Caltech-101 -> WordNet mapping, the fixed split, and the shark photos (real data,
mirror)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from devise_lite import images
from devise_lite.config import ImageConfig
from devise_lite.datasets import photos_in
from devise_lite.images import (
    LabelledImage,
    caltech_mapping,
    caltech_split,
    choose_labels,
    excluded_caltech_classes,
    split_label,
    split_summary,
)

# The read-only data mirror: ../shared/data beside the repository, unless $DEVISE_MIRROR
# says otherwise.
MIRROR = Path(
    os.environ.get("DEVISE_MIRROR")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
CALTECH = MIRROR / "caltech101" / "101_ObjectCategories"
FACE, COUGAR, CROCODILE, FLAMINGO = "n05600637", "n02125311", "n01697178", "n02007558"
BOOK_LIKE = ImageConfig(train_per_class=30, test_per_class=50)

pytestmark = pytest.mark.skipif(not CALTECH.exists(), reason="needs the data mirror")


@pytest.fixture(autouse=True)
def _mirror(monkeypatch, tmp_path):
    monkeypatch.setenv("DEVISE_MIRROR", str(MIRROR))
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))


@pytest.fixture(scope="module")
def wn():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEVISE_MIRROR", str(MIRROR))
        from devise_lite.wordnet import wordnet

        return wordnet()


# ---------------------------------------------------------------- the mapping


def test_every_caltech_folder_appears_exactly_once():
    mapping = caltech_mapping()
    folders = sorted(p.name for p in CALTECH.iterdir() if p.is_dir())
    assert len(folders) == 102
    assert sorted(mapping["class"]) == folders
    assert list(mapping.columns) == ["class", "wnid", "synset", "note"]


def test_every_wnid_resolves_to_its_synset_name(wn):
    from devise_lite.wordnet import synset_of

    kept = caltech_mapping().query("wnid != ''")
    assert len(kept) == 98
    for row in kept.itertuples():
        assert synset_of(row.wnid).name() == row.synset, row


def test_excluded_rows_have_notes_and_empty_labels():
    mapping = caltech_mapping()
    excluded = excluded_caltech_classes()
    assert {"BACKGROUND_Google", "garfield", "snoopy"} <= set(excluded["class"])
    assert (excluded["note"].str.len() > 20).all()
    rows = mapping[mapping["class"].isin(excluded["class"])]
    assert (rows["synset"] == "").all()
    # A mapped row never has an empty synset: wnid and synset are both set or both
    # empty.
    assert ((mapping["wnid"] == "") == (mapping["synset"] == "")).all()


def test_folders_showing_the_same_thing_share_one_synset():
    wnid = dict(
        zip(caltech_mapping()["class"], caltech_mapping()["wnid"], strict=False)
    )
    for a, b, expected in [
        ("Faces", "Faces_easy", FACE),
        ("cougar_body", "cougar_face", COUGAR),
        ("crocodile", "crocodile_head", CROCODILE),
        ("flamingo", "flamingo_head", FLAMINGO),
    ]:
        assert wnid[a] == wnid[b] == expected
    assert len({w for w in wnid.values() if w}) == 94


def test_mapped_synsets_descend_from_what_the_folder_says(wn):
    # Spot checks of senses that are easy to get wrong: the animal, not the food or the
    # sign.
    from devise_lite.wordnet import descends_from, synset_of

    wnid = dict(
        zip(caltech_mapping()["class"], caltech_mapping()["wnid"], strict=False)
    )
    animal, artifact = wn.synset("animal.n.01"), wn.synset("artifact.n.01")
    for folder in [
        "bass",
        "crayfish",
        "lobster",
        "octopus",
        "scorpion",
        "tick",
        "dolphin",
        "Leopards",
        "hawksbill",
        "nautilus",
        "beaver",
        "emu",
        "sea_horse",
    ]:
        assert descends_from(synset_of(wnid[folder]), animal), folder
    for folder in ["barrel", "cannon", "lamp", "schooner", "ceiling_fan", "anchor"]:
        assert descends_from(synset_of(wnid[folder]), artifact), folder
    # WordNet files street signs under communication, not artifacts.
    assert descends_from(synset_of(wnid["stop_sign"]), wn.synset("sign.n.02"))
    for cat in ["leopard.n.02", "cheetah.n.01", "jaguar.n.01"]:
        assert descends_from(wn.synset(cat), synset_of(wnid["Leopards"])), cat


# ---------------------------------------------------------------- the split


def _by_label(images_: list[LabelledImage]) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for image in images_:
        out.setdefault(image.wnid, []).append(image.path)
    return out


def test_split_is_deterministic_disjoint_and_counts_per_class():
    first, second = caltech_split(BOOK_LIKE), caltech_split(BOOK_LIKE)
    assert first == second
    assert len(first.wnids) == 94 and first.wnids == sorted(first.wnids)
    assert not {im.path for im in first.train} & {im.path for im in first.test}
    train, test = _by_label(first.train), _by_label(first.test)
    assert all(len(train[w]) == 30 for w in first.wnids)
    sizes = {p.name: len(photos_in(p)) for p in CALTECH.iterdir()}
    for w in first.wnids:
        folders = {im.source for im in first.train + first.test if im.wnid == w}
        photos = sum(sizes[f] for f in folders if f != "Faces_easy")
        assert len(test[w]) == min(50, photos - 30), w
    assert len(first.train) == 94 * 30


def test_a_different_seed_gives_a_different_split():
    a = caltech_split(BOOK_LIKE)
    b = caltech_split(replace(BOOK_LIKE, seed=1))
    assert a.wnids == b.wnids and a.train != b.train


def test_a_label_keeps_its_photos_when_other_labels_change():
    small = caltech_split(replace(BOOK_LIKE, max_classes=12))
    full = caltech_split(BOOK_LIKE)
    assert len(small.wnids) == 12 and set(small.wnids) < set(full.wnids)
    for side in ("train", "test"):
        small_side, full_side = (
            _by_label(getattr(small, side)),
            _by_label(getattr(full, side)),
        )
        for w in small.wnids:
            assert small_side[w] == full_side[w], (side, w)


def test_label_subset_is_seeded_nested_and_not_alphabetical():
    wnids = sorted(caltech_mapping().query("wnid != ''")["wnid"].unique())
    twelve = choose_labels(wnids, 12, seed=0)
    assert twelve == choose_labels(wnids, 12, seed=0)
    assert twelve != wnids[:12]
    assert set(twelve) < set(choose_labels(wnids, 30, seed=0))
    assert twelve != choose_labels(wnids, 12, seed=1)
    with pytest.raises(ValueError, match="max_classes"):
        choose_labels(wnids, 95, seed=0)


def test_split_label_follows_the_stated_recipe():
    # Ordinary label: sort by path, shuffle with default_rng(seed + offset), slice.
    wnid = "n01234567"
    photos = [
        LabelledImage(Path(f"/x/folder/img_{i:02d}.jpg"), wnid, "folder")
        for i in range(10)
    ]
    cfg = ImageConfig(train_per_class=3, test_per_class=4, seed=5)
    train, test = split_label(list(reversed(photos)), cfg)
    order = np.random.default_rng(5 + 1234567).permutation(10)
    assert [im.path for im in train] == [photos[i].path for i in order[:3]]
    assert [im.path for im in test] == [photos[i].path for i in order[3:7]]
    rest = split_label(photos, replace(cfg, test_per_class=None))[1]
    assert len(rest) == 7


def test_merged_folders_pool_and_crops_of_one_photo_stay_together():
    everything = caltech_split(ImageConfig(train_per_class=30, test_per_class=None))
    pooled = [im for im in everything.train + everything.test if im.wnid == COUGAR]
    assert {im.source for im in pooled} == {"cougar_body", "cougar_face"}
    assert len(pooled) == 47 + 69
    faces = [im for im in everything.train + everything.test if im.wnid == FACE]
    assert {im.source for im in faces} == {"Faces", "Faces_easy"}
    # Faces_easy holds crops of the Faces photos: 435 photos, each once, in one version.
    assert len(faces) == 435 and len({im.path.name for im in faces}) == 435


def test_photo_key_is_one_for_the_crops_of_one_photo():
    face = LabelledImage(Path("/x/Faces/image_0007.jpg"), FACE, "Faces")
    crop = LabelledImage(Path("/x/Faces_easy/image_0007.jpg"), FACE, "Faces_easy")
    other = LabelledImage(Path("/x/Faces/image_0008.jpg"), FACE, "Faces")
    same_name = LabelledImage(
        Path("/y/cougar_body/image_0007.jpg"), COUGAR, "cougar_body"
    )
    assert (
        images.photo_key(face) == images.photo_key(crop) == ("Faces", "image_0007.jpg")
    )
    assert images.photo_key(other) != images.photo_key(face)
    # Another folder's photo of the same file name is another photo.
    assert images.photo_key(same_name) == ("cougar_body", "image_0007.jpg")


def test_too_few_photos_is_a_clear_error():
    with pytest.raises(ValueError, match="too few"):
        caltech_split(ImageConfig(train_per_class=31))  # inline_skate has 31 photos


def test_summary():
    split = caltech_split(
        ImageConfig(train_per_class=5, test_per_class=5, max_classes=4)
    )
    summary = split_summary(split)
    assert list(summary.columns) == ["wnid", "synset", "folders", "n_train", "n_test"]
    assert list(summary["wnid"]) == split.wnids
    assert (summary["n_train"] == 5).all() and (summary["n_test"] == 5).all()
    names = dict(
        zip(caltech_mapping()["wnid"], caltech_mapping()["synset"], strict=False)
    )
    assert list(summary["synset"]) == [names[w] for w in split.wnids]


def test_unknown_folder_in_the_dataset_is_reported(tmp_path, monkeypatch):
    (tmp_path / "airplanes").mkdir()
    (tmp_path / "my_new_class").mkdir()
    monkeypatch.setattr(images, "locate", lambda name: tmp_path)
    with pytest.raises(ValueError, match="my_new_class"):
        caltech_split(BOOK_LIKE)


# ---------------------------------------------------------------- sharks


def test_shark_photos_load_with_their_wnids(wn):
    from devise_lite.sharks import GREAT_WHITE_WNID, HAMMERHEAD_WNID, shark_photos
    from devise_lite.wordnet import descends_from, synset_of

    sharks = shark_photos()
    assert {k: len(v) for k, v in sharks.items()} == {
        GREAT_WHITE_WNID: 218,
        HAMMERHEAD_WNID: 184,
    }
    assert {im.wnid for im in sharks[GREAT_WHITE_WNID]} == {GREAT_WHITE_WNID}
    assert {im.source for im in sharks[HAMMERHEAD_WNID]} == {"hammerhead"}
    assert all(im.path.is_file() for ims in sharks.values() for im in ims)
    assert synset_of(GREAT_WHITE_WNID).name() == "great_white_shark.n.01"
    assert synset_of(HAMMERHEAD_WNID).name() == "hammerhead.n.03"
    shark = wn.synset("shark.n.01")
    assert descends_from(synset_of(HAMMERHEAD_WNID), shark)
    assert descends_from(synset_of(GREAT_WHITE_WNID), shark)
