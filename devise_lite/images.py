"""Labelled photos: Caltech-101 mapped to WordNet, and its fixed train/test split.

A label is a WordNet noun synset (its wnid), never a folder name: folders of one thing
(`cougar_body`, `cougar_face`) pool into one label, folders no synset honestly names are
left out. Each label's split is seeded by the label: other labels never change it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ImageConfig
from .datasets import locate, photos_in
from .errors import BadInputError
from .wordnet import synset_of

# Faces_easy/image_0007.jpg is Faces/image_0007.jpg cut tight around the face: such
# crops count as their photo, lest a photo land in train and its crop in test.
SAME_PHOTOS = {"Faces_easy": "Faces"}

_MAPPING_FILE = "caltech101_wordnet.csv"


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    wnid: str  # the label: an ImageNet-style WordNet noun id
    source: str  # the folder it came from (several folders may share a wnid)


def mapping_rows() -> list[dict[str, str]]:
    """The shipped mapping as rows (class, wnid, synset, note); without pandas."""
    text = resources.files("devise_lite").joinpath("resources", _MAPPING_FILE)
    return list(csv.DictReader(io.StringIO(text.read_text())))


def caltech_mapping():
    """`mapping_rows` as a DataFrame; excluded folders have an empty wnid and synset."""
    return pd.DataFrame(mapping_rows(), columns=["class", "wnid", "synset", "note"])


def excluded_caltech_classes():
    """The folders left out of every split, with the reason (class, note)."""
    mapping = caltech_mapping()
    return mapping.loc[mapping["wnid"] == "", ["class", "note"]].reset_index(drop=True)


def caltech_images(dataset: str = "caltech101") -> dict[str, list[LabelledImage]]:
    """Every mapped Caltech image by label (wnid); lists sorted by (folder, file)."""
    root = locate(dataset)
    wnid_of_folder = {row["class"]: row["wnid"] for row in mapping_rows()}
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    unknown = [name for name in folders if name not in wnid_of_folder]
    if unknown:
        raise BadInputError(
            f"{root} has class folders the Caltech-101 mapping does not know: "
            f"{', '.join(unknown)}; move them out of the dataset, or add a row for "
            f"each to devise_lite/resources/{_MAPPING_FILE} (an empty wnid excludes "
            "one)"
        )
    by_label: dict[str, list[LabelledImage]] = {}
    for name in folders:
        wnid = wnid_of_folder[name]
        if wnid:
            by_label.setdefault(wnid, []).extend(
                LabelledImage(path, wnid, name) for path in photos_in(root / name)
            )
    return by_label


@dataclass
class ImageSplit:
    """The train and test photos of the chosen labels."""

    train: list[LabelledImage]
    test: list[LabelledImage]
    wnids: list[str]  # sorted labels that occur; class index i means wnids[i]


def label_seed(seed: int, wnid: str) -> int:
    """The config seed plus the label's WordNet offset, which no other label shares."""
    return seed + int(wnid[1:])


def photo_key(image: LabelledImage) -> tuple[str, str]:
    """Which photo an image shows: (folder, file name), where the folders of one set of
    photos (`SAME_PHOTOS`: Faces_easy's crops of Faces) count as one folder."""
    return SAME_PHOTOS.get(image.source, image.source), image.path.name


def split_label(
    images: list[LabelledImage], cfg: ImageConfig
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """Split one label's images: group crops of one photo, shuffle the photos with the
    label's own generator, pick one crop of each, and take the first `train_per_class`
    for training and the next `test_per_class` (all the rest if None) for testing."""
    photos: dict[tuple[str, str], list[LabelledImage]] = {}
    for image in sorted(images, key=lambda im: (im.source, im.path.name)):
        photos.setdefault(photo_key(image), []).append(image)
    if not photos:
        raise ValueError("split_label needs at least one image")
    wnid = images[0].wnid
    if len(photos) < cfg.train_per_class + 1:
        raise ValueError(
            f"label {wnid} ({', '.join(sorted({im.source for im in images}))}) has "
            f"{len(photos)} photos, too few for {cfg.train_per_class} training photos "
            "and at least one test photo; lower ImageConfig.train_per_class or drop "
            "the label."
        )
    rng = np.random.default_rng(label_seed(cfg.seed, wnid))
    groups = list(photos.values())
    # Single-crop photos draw nothing, so ordinary labels follow the plain shuffle.
    chosen = [
        groups[i][rng.integers(len(groups[i]))] if len(groups[i]) > 1 else groups[i][0]
        for i in rng.permutation(len(groups))
    ]
    n_train, n_test = cfg.train_per_class, cfg.test_per_class
    end = None if n_test is None else n_train + n_test
    return chosen[:n_train], chosen[n_train:end]


def choose_labels(wnids: list[str], max_classes: int | None, seed: int) -> list[str]:
    """A seeded `max_classes` of the labels, spread over the list (the first N would be
    mostly animals, with low offsets); a larger subset contains every smaller one."""
    wnids = sorted(wnids)
    if max_classes is None:
        return wnids
    if not 1 <= max_classes <= len(wnids):
        raise ValueError(
            f"max_classes={max_classes} must be between 1 and the {len(wnids)} labels"
        )
    order = np.random.default_rng(seed).permutation(len(wnids))
    return sorted(wnids[i] for i in order[:max_classes])


def caltech_split(cfg: ImageConfig) -> ImageSplit:
    """The fixed, seeded, per-label train/test split of Caltech-101 (see the module)."""
    if cfg.train_per_class is None or cfg.train_per_class < 1:
        raise ValueError(
            f"train_per_class must be at least 1, got {cfg.train_per_class}"
        )
    if cfg.test_per_class is not None and cfg.test_per_class < 1:
        raise ValueError(
            "test_per_class must be at least 1 or None (all the rest), got "
            f"{cfg.test_per_class}"
        )
    by_label = caltech_images(cfg.dataset)
    if cfg.labels is not None:
        unknown = sorted(set(cfg.labels) - set(by_label))
        if unknown:
            raise BadInputError(
                f"ImageConfig.labels has labels Caltech-101 lacks: {unknown}"
            )
        wnids = sorted(cfg.labels)
    else:
        wnids = choose_labels(list(by_label), cfg.max_classes, cfg.seed)
    return split_each(by_label, wnids, cfg)


def split_each(
    by_label: dict[str, list[LabelledImage]], wnids: list[str], cfg: ImageConfig
) -> ImageSplit:
    """`split_label` of each of `wnids`, joined in that order."""
    parts = [split_label(by_label[wnid], cfg) for wnid in wnids]
    return ImageSplit(
        train=[im for train, _ in parts for im in train],
        test=[im for _, test in parts for im in test],
        wnids=wnids,
    )


def split_summary(split: ImageSplit):
    """One row per label: wnid, synset, folders, n_train, n_test (the book's tables)."""
    names = {row["wnid"]: row["synset"] for row in mapping_rows() if row["wnid"]}
    rows = []
    for wnid in split.wnids:
        train = [im for im in split.train if im.wnid == wnid]
        test = [im for im in split.test if im.wnid == wnid]
        rows.append(
            {
                "wnid": wnid,
                # only a label outside the shipped mapping loads WordNet
                "synset": names.get(wnid) or synset_of(wnid).name(),
                "folders": "+".join(sorted({im.source for im in train + test})),
                "n_train": len(train),
                "n_test": len(test),
            }
        )
    return pd.DataFrame(
        rows, columns=["wnid", "synset", "folders", "n_train", "n_test"]
    )
