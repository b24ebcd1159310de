"""ImageNet-style image folders (the README's 'Paper scale'), read into the same
`ImageSplit` as Caltech-101. `train/<wnid>/` with `val/` keep the dataset's own split,
capped per label by `train_per_class` / `test_per_class` (None: all, as in the paper);
any other tree of `<wnid>/` folders is split per label like Caltech."""

from __future__ import annotations

import csv
import functools
import os
import re
import warnings
from pathlib import Path

import numpy as np

from .config import ImageConfig
from .datasets import IMAGE_SUFFIXES
from .images import ImageSplit, LabelledImage, choose_labels, label_seed, split_each
from .wordnet import synset_of

GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt"
DEVKIT_DIRS = (".", "ILSVRC2012_devkit_t12/data", "devkit/data")
_WNID = re.compile(r"n\d{8}")
_VAL_NUMBER = re.compile(r"_(\d{8})\.[A-Za-z]+$")  # ILSVRC2012_val_00000001.JPEG -> 1


def is_folder_dataset(dataset: str) -> bool:
    """True when `ImageConfig.dataset` is a path to a folder, not a registry name."""
    return "/" in dataset or "\\" in dataset or Path(dataset).expanduser().is_dir()


def folder_split(cfg: ImageConfig) -> ImageSplit:
    """The split of the image folder at `cfg.dataset` (layouts: module docstring)."""
    root = Path(cfg.dataset).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"image folder {root} does not exist; set ImageConfig.dataset to an "
            "ImageNet-style folder (train/<wnid>/..., val/) or a tree of <wnid>/ "
            "folders"
        )
    train_dir, val_dir = root / "train", root / "val"
    if train_dir.is_dir() and val_dir.is_dir():
        train = class_folders(train_dir)
        flat = not _listing(str(val_dir))  # no class subfolders
        test = flat_validation(root, val_dir) if flat else class_folders(val_dir)
        labels = sorted(train.keys() | test.keys())
        wnids = choose_labels(labels, cfg.max_classes, cfg.seed)
        return ImageSplit(
            train=_capped(train, wnids, cfg.train_per_class, cfg.seed),
            test=_capped(test, wnids, cfg.test_per_class, cfg.seed + 1),
            wnids=wnids,
        )
    return _per_label_split(
        class_folders(train_dir if train_dir.is_dir() else root), cfg
    )


def class_folders(folder: Path) -> dict[str, list[LabelledImage]]:
    """Images of every `<wnid>/` subfolder of `folder`, keyed by wnid, sorted."""
    listing = _listing(str(folder))
    check_wnids([name for name, _ in listing], folder)
    return {
        name: [LabelledImage(folder / name / f, name, name) for f in files]
        for name, files in listing
    }


@functools.lru_cache(maxsize=8)
def _listing(folder: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(subfolder, sorted image names) pairs, once a process (ImageNet: minutes)."""
    subs = sorted(
        p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    return tuple(
        (sub.name, tuple(sorted(e.name for e in _image_entries(sub)))) for sub in subs
    )


def _image_entries(folder: Path):
    with os.scandir(folder) as entries:
        return [
            e
            for e in entries
            if e.is_file() and Path(e.name).suffix.lower() in IMAGE_SUFFIXES
        ]


def check_wnids(names: list[str], where: Path | str) -> None:
    """Raise ValueError naming every entry that is not a WordNet 3.0 noun wnid."""
    bad = [n for n in names if not _WNID.fullmatch(n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NLTK warns about some unknown ids
        for name in (n for n in names if _WNID.fullmatch(n)):
            try:
                synset_of(name)
            except ValueError:
                bad.append(name)
    if bad:
        shown = ", ".join(repr(b) for b in bad[:10]) + (
            f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        )
        raise ValueError(
            f"{where}: {len(bad)} class name(s) are not WordNet 3.0 noun ids "
            f"(like 'n01440764'): {shown}. Each class folder must be named by the "
            "wnid of its synset: rename it (find the wnid with "
            "devise_lite.wordnet.wnid_of(synset)) or move it out of the folder."
        )


def flat_validation(root: Path, val_dir: Path) -> dict[str, list[LabelledImage]]:
    """Flat `val/` files grouped by wnid, labelled by the first labels file found."""
    labels = validation_labels(root)
    files = sorted(e.name for e in _image_entries(val_dir))
    unlabelled = [f for f in files if f not in labels]
    if unlabelled:
        raise ValueError(
            f"{len(unlabelled)} of the {len(files)} images in {val_dir} have no label "
            f"(e.g. {unlabelled[0]}); the labels file must list every validation image"
        )
    check_wnids(sorted({labels[f] for f in files}), "validation labels")
    by_label: dict[str, list[LabelledImage]] = {}
    for name in files:
        by_label.setdefault(labels[name], []).append(
            LabelledImage(val_dir / name, labels[name], "val")
        )
    return by_label


def validation_labels(root: Path) -> dict[str, str]:
    """{validation file name: wnid} from the first labels file found."""
    if (root / "val_labels.csv").is_file():
        with open(root / "val_labels.csv", newline="") as handle:
            return {row["file"]: row["wnid"] for row in csv.DictReader(handle)}
    if (root / "LOC_val_solution.csv").is_file():
        with open(root / "LOC_val_solution.csv", newline="") as handle:
            return {
                f"{row['ImageId']}.JPEG": row["PredictionString"].split()[0]
                for row in csv.DictReader(handle)
            }
    for sub in DEVKIT_DIRS:
        truth = root / sub / GROUND_TRUTH
        if truth.is_file():
            ids = [int(line) for line in truth.read_text().split()]
            wnid_of_id = devkit_wnids(truth.parent / "meta.mat")
            return {
                name: wnid_of_id[ids[number - 1]]
                for name, number in _numbered_files(root / "val", len(ids))
            }
    raise FileNotFoundError(
        f"{root / 'val'} holds flat image files but no labels were found. Provide "
        f"one of: val/<wnid>/ subfolders; {root / 'val_labels.csv'} with columns "
        "file,wnid; Kaggle's LOC_val_solution.csv; "
        f"or the ILSVRC-2012 devkit's {GROUND_TRUTH} with its meta.mat (in {root} or "
        f"{root / DEVKIT_DIRS[1]})."
    )


def _numbered_files(val_dir: Path, n_labels: int):
    for entry in _image_entries(val_dir):
        match = _VAL_NUMBER.search(entry.name)
        if match and 1 <= int(match.group(1)) <= n_labels:
            yield entry.name, int(match.group(1))


def devkit_wnids(meta: Path) -> dict[int, str]:
    """{ILSVRC2012_ID: wnid} of the 1,000 leaf classes in the devkit's `meta.mat` (the
    ground truth numbers classes in the devkit's order, not the wnids' sorted order)."""
    if not meta.is_file():
        raise FileNotFoundError(
            f"{meta} is missing: the validation ground truth numbers classes by the "
            "devkit's ILSVRC2012_ID, and only meta.mat (same devkit folder) maps them "
            "to wnids"
        )
    from scipy.io import loadmat

    synsets = loadmat(str(meta), squeeze_me=True)["synsets"]
    leaves = synsets[np.asarray(synsets["num_children"], dtype=int) == 0]
    return {
        int(i): str(w)
        for i, w in zip(leaves["ILSVRC2012_ID"], leaves["WNID"], strict=True)
    }


def _capped(
    by_label: dict[str, list[LabelledImage]],
    wnids: list[str],
    per_label: int | None,
    seed: int,
) -> list[LabelledImage]:
    """All images of the chosen labels, or a seeded `per_label` of each (in order)."""
    if per_label is not None and per_label < 1:
        raise ValueError(
            f"images per label must be at least 1 or None (all), got {per_label}"
        )
    chosen: list[LabelledImage] = []
    for wnid in wnids:
        images = by_label.get(wnid, [])
        if per_label is not None and len(images) > per_label:
            rng = np.random.default_rng(label_seed(seed, wnid))
            keep = rng.permutation(len(images))[:per_label]
            images = [images[i] for i in sorted(keep)]
        chosen += images
    return chosen


def _per_label_split(
    by_label: dict[str, list[LabelledImage]], cfg: ImageConfig
) -> ImageSplit:
    """A tree without its own val/, split per label like Caltech-101; labels too small
    for that are left out with a warning (the 21K release has synsets of few images)."""
    if cfg.train_per_class is None:
        raise ValueError(
            "a folder without its own val/ split needs ImageConfig.train_per_class "
            "(an int): the images of each label are split into that many training "
            "images and the rest"
        )
    enough = {w: ims for w, ims in by_label.items() if len(ims) > cfg.train_per_class}
    too_few = sorted(by_label.keys() - enough.keys())
    if too_few:
        warnings.warn(
            f"{len(too_few)} of {len(by_label)} labels have {cfg.train_per_class} "
            f"images or fewer and are left out (e.g. {too_few[:5]}); lower "
            "ImageConfig.train_per_class to keep them",
            stacklevel=2,
        )
    if not enough:
        raise ValueError(
            f"no label has more than {cfg.train_per_class} images; lower "
            "ImageConfig.train_per_class"
        )
    wnids = choose_labels(sorted(enough), cfg.max_classes, cfg.seed)
    return split_each(enough, wnids, cfg)
