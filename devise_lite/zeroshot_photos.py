"""More zero-shot test photos: labelled photo sets beside Caltech-101 whose classes are
ImageNet-21K labels outside ILSVRC's 1,000 (chapter 6). `resources/<set>_wordnet.csv`
maps each class by hand to the WordNet 3.0 synset that *is* it, in its photos' sense,
never a broader one; an empty wnid (the note says why) where none lies outside the
1,000. A photo's `LabelledImage.source` is its class."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from .datasets import locate, photos_in
from .errors import BadInputError
from .images import LabelledImage


@dataclass(frozen=True)
class PhotoSet:
    """A labelled photo set of the registry: where its classes' folders lie."""

    name: str  # its registry name (datasets.py)
    title: str
    class_folders: str  # glob of the class folders, relative to the located folder
    mapping_file: str  # resources/<...>.csv: class, name, wnid, synset, note


PHOTO_SETS = {
    s.name: s
    for s in [
        # <split>/<label>/ in the mirror (train, valid, test), jpg/<label>/ unpacked
        PhotoSet("flowers102", "Flowers-102", "*/*", "flowers102_wordnet.csv"),
        PhotoSet("pacs", "PACS (photos)", "*", "pacs_wordnet.csv"),
        PhotoSet("food101", "Food-101", "*", "food101_wordnet.csv"),
    ]
}
MAPPING_COLUMNS = ["class", "name", "wnid", "synset", "note"]


def photo_set(name: str) -> PhotoSet:
    if name not in PHOTO_SETS:
        raise BadInputError(
            f"unknown zero-shot photo set {name!r}; known: {', '.join(PHOTO_SETS)}"
        )
    return PHOTO_SETS[name]


def mapping_rows(name: str) -> list[dict[str, str]]:
    """A set's shipped mapping, a row per class (empty wnid: excluded); no pandas."""
    file = resources.files("devise_lite") / "resources" / photo_set(name).mapping_file
    return list(csv.DictReader(io.StringIO(file.read_text())))


def mapping_table(names):
    """The shipped mappings of the sets `names`, one row per class and its dataset."""
    rows = [{"dataset": name} | row for name in names for row in mapping_rows(name)]
    return pd.DataFrame(rows, columns=["dataset", *MAPPING_COLUMNS])


def mapping_summary(names):
    """Per set (by title): its classes, how many map to a label, and to how many."""
    rows = []
    for name in names:
        classes = mapping_rows(name)
        mapped = [row["wnid"] for row in classes if row["wnid"]]
        rows.append(
            {
                "photo set": photo_set(name).title,
                "classes": len(classes),
                "mapped classes": len(mapped),
                "labels": len(set(mapped)),
            }
        )
    return pd.DataFrame(rows).set_index("photo set")


def class_photos(name: str, root: Path | None = None) -> dict[str, list[Path]]:
    """Every photo of a set by class (the mapping's order), each sorted by its path."""
    spec, rows = photo_set(name), mapping_rows(name)
    root = locate(name) if root is None else root
    known = {row["class"] for row in rows}
    found: dict[str, list[Path]] = {}
    for folder in sorted(p for p in root.glob(spec.class_folders) if p.is_dir()):
        photos = photos_in(folder)
        if photos:  # the mirror's split folders hold only some classes
            found.setdefault(folder.name, []).extend(photos)
    unknown = sorted(set(found) - known)
    if unknown:
        raise BadInputError(
            f"{root} has class folders the {spec.title} mapping does not know: "
            f"{', '.join(unknown)}; move them out of the dataset, or add a row for "
            f"each to devise_lite/resources/{spec.mapping_file} (an empty wnid "
            "excludes one)"
        )
    return {
        row["class"]: sorted(found[row["class"]], key=lambda p: p.relative_to(root))
        for row in rows
        if row["class"] in found
    }


def labelled_photos(
    name: str, per_class: int | None = None, root: Path | None = None
) -> list[LabelledImage]:
    """The labelled photos of a set's mapped classes: the first `per_class` of each."""
    if per_class is not None and per_class < 1:
        raise ValueError(f"per_class must be at least 1 or None, got {per_class}")
    wnid_of = {row["class"]: row["wnid"] for row in mapping_rows(name)}
    return [
        LabelledImage(path, wnid_of[cls], cls)
        for cls, paths in class_photos(name, root).items()
        if wnid_of[cls]
        for path in paths[:per_class]
    ]


def set_photos(names, per_class: int | None = None) -> dict[str, list[LabelledImage]]:
    """{set: its mapped photos} for each set of `names`, in that order."""
    return {name: labelled_photos(name, per_class) for name in names}
