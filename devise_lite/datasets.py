"""The registry of external datasets, and `locate()`: mirror first, then download, else
a clear error. A mirror ($DEVISE_MIRROR) may hold a dataset extracted and re-encoded, so
there only the folder check applies, not the archive's checksum. Wikipedia's entry lives
beside the text reader (`text.WIKIPEDIA`)."""

from __future__ import annotations

import functools
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .archives import (
    Dataset,
    DatasetIntegrityError,
    download,
    find_dir,
    settled_mtime_ns,
    unpack_folder,
    unpacked,
    verified,
    verify_checksum,
)
from .errors import UserError
from .storage import MIRROR_ENV, atomic_path, data_root, mirror_root
from .text import WIKIPEDIA
from .wnids import imagenet1k_wnids, is_wnid

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}


class DatasetUnavailableError(UserError):
    """A dataset is in neither the data root nor a mirror, and cannot be downloaded."""


def photos_in(folder: Path) -> list[Path]:
    """The image files directly in `folder`, sorted; cached while its mtime stays."""
    mtime_ns = settled_mtime_ns(folder)
    listing = _listing if mtime_ns is not None else _listing.__wrapped__
    return list(listing(folder, mtime_ns))


@functools.lru_cache(maxsize=4096)
def _listing(folder: Path, mtime_ns: int | None) -> tuple[Path, ...]:
    return tuple(
        sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    )


CALTECH_CLASSES = 102  # 101 object classes + BACKGROUND_Google
CALTECH_MIN_PER_CLASS = 31
CALTECH_MIN_IMAGES = 9_000


def _verify_caltech(folder: Path) -> None:
    classes = [p for p in folder.iterdir() if p.is_dir()]
    if len(classes) != CALTECH_CLASSES:
        raise DatasetIntegrityError(
            f"{folder} has {len(classes)} class folders, expected {CALTECH_CLASSES}"
        )
    counts = {p.name: len(photos_in(p)) for p in classes}
    thin = {k: v for k, v in counts.items() if v < CALTECH_MIN_PER_CLASS}
    if thin or sum(counts.values()) < CALTECH_MIN_IMAGES:
        raise DatasetIntegrityError(
            f"{folder} looks incomplete: {sum(counts.values())} images (expected >= "
            f"{CALTECH_MIN_IMAGES}), classes under {CALTECH_MIN_PER_CLASS} images: "
            f"{sorted(thin)}"
        )


@dataclass(frozen=True)
class SharkFolder:
    """One species' folder of the shark photos: its label and how many photos it has."""

    folder: str
    wnid: str
    min_photos: int


SHARK_FOLDERS = (
    SharkFolder("great_white_shark", "n01484850", 200),  # great_white_shark.n.01
    SharkFolder("hammerhead", "n01494475", 170),  # hammerhead.n.03: the shark
)


def _verify_sharks(folder: Path) -> None:
    for species in SHARK_FOLDERS:
        sub = folder / species.folder
        found = len(photos_in(sub)) if sub.is_dir() else 0
        if found < species.min_photos:
            raise DatasetIntegrityError(
                f"{sub} holds {found} photos, expected at least {species.min_photos}"
            )


SAMPLE_CLASSES = 1000  # one photo of each ILSVRC-2012 class


def _verify_imagenet_sample(folder: Path) -> None:
    wnids = [p.name.split("_")[0] for p in photos_in(folder)]
    missing = sorted(set(imagenet1k_wnids()) - set(wnids))
    if len(wnids) != SAMPLE_CLASSES or missing:
        example = f" (e.g. {missing[0]})" if missing else ""
        raise DatasetIntegrityError(
            f"{folder} holds {len(wnids)} photos named <wnid>_<name>.JPEG, expected "
            f"{SAMPLE_CLASSES}, one per ILSVRC-2012 class; no photo of "
            f"{len(missing)} classes{example}"
        )


ZSL_LISTS = {"1k.txt": 1000, "2-hops.txt": 1549, "3-hops.txt": 7860, "all.txt": 20846}


def _verify_zsl_lists(folder: Path) -> None:
    for name, expected in ZSL_LISTS.items():
        path = folder / name
        lines = path.read_text().split() if path.is_file() else []
        if len(lines) != expected or not all(is_wnid(w) for w in lines):
            raise DatasetIntegrityError(
                f"{path} should list {expected} wnids, one a line; it has "
                f"{len(lines)} lines"
                if path.is_file()
                else f"{path} is missing"
            )


def _verify_wordnet(folder: Path) -> None:
    if (folder / "corpora" / "wordnet" / "data.noun").exists():
        return
    archive = folder / "corpora" / "wordnet.zip"
    if not archive.exists():
        raise DatasetIntegrityError(
            f"{folder} has neither corpora/wordnet.zip nor corpora/wordnet/"
        )
    try:
        with zipfile.ZipFile(archive) as z:
            names = set(z.namelist())
            bad = z.testzip()
    except zipfile.BadZipFile as err:
        raise DatasetIntegrityError(
            f"{archive} is not a valid zip archive ({err}); delete it and run again"
        ) from err
    if bad is not None or "wordnet/data.noun" not in names:
        raise DatasetIntegrityError(
            f"{archive} is corrupt or not WordNet ({bad or 'no wordnet/data.noun'})"
        )


# The photo sets of chapter 6's broader zero-shot test: a folder per class. The mirror
# holds samples (this many classes at least); a download holds every class.
FLOWERS_MIN_CLASSES, PACS_MIN_CLASSES, FOOD_MIN_CLASSES = 72, 5, 14
FLOWERS_LABELS = (  # the label (1-102) of each photo of 102flowers.tgz, in file order
    "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/imagelabels.mat",
    "md5:e0620be6f572b9609742df49c70aed4d",
)


def verify_class_folders(pattern: str, min_classes: int):
    """A check that folders `pattern` hold photos of at least `min_classes` classes."""

    def verify(folder: Path) -> None:
        found = {p.name for p in folder.glob(pattern) if p.is_dir() and photos_in(p)}
        if len(found) < min_classes:
            raise DatasetIntegrityError(
                f"{folder} has photos of {len(found)} classes (folders {pattern}), "
                f"expected at least {min_classes}"
            )

    return verify


def _unpack_sharks(archive: Path, target: Path) -> None:
    """The shark repository keeps `images/gw_*.jpg` and `images/hh_*.jpg` together."""
    with unpacked(archive, target) as scratch:
        images = find_dir(scratch, "images")
        for prefix, folder in (("gw_", "great_white_shark"), ("hh_", "hammerhead")):
            (target / folder).mkdir(parents=True, exist_ok=True)
            for photo in images.glob(prefix + "*"):
                shutil.move(str(photo), target / folder / photo.name)


def _unpack_sample(archive: Path, target: Path) -> None:
    """The sample repository keeps its 1,000 JPEGs at its top, beside a README."""
    with unpacked(archive, target) as scratch:
        target.mkdir(parents=True, exist_ok=True)
        for photo in scratch.rglob("n*_*.JPEG"):
            shutil.move(str(photo), target / photo.name)


def _unpack_wordnet(archive: Path, target: Path) -> None:
    (target / "corpora").mkdir(parents=True, exist_ok=True)
    shutil.copy(archive, target / "corpora" / "wordnet.zip")


def _unpack_flowers(archive: Path, target: Path) -> None:
    """Sorts 102flowers.tgz's `jpg/*.jpg` into `jpg/<class>/` by imagelabels.mat."""
    from scipy.io import loadmat  # only when unpacking a download

    url, checksum = FLOWERS_LABELS
    labels_file = archive.with_name("flowers102-imagelabels.mat")
    if not labels_file.exists():
        download(url, labels_file)
    verify_checksum(labels_file, checksum)
    labels = loadmat(labels_file)["labels"].ravel()
    with unpacked(archive, target) as scratch:
        photos = find_dir(scratch, "jpg")
        for number, label in enumerate(labels, start=1):
            folder = target / "jpg" / str(int(label))
            folder.mkdir(parents=True, exist_ok=True)
            name = f"image_{number:05d}.jpg"
            shutil.move(str(photos / name), folder / name)


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        WIKIPEDIA,
        Dataset(
            name="caltech101",
            title="Caltech-101 object categories",
            url="https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip",
            archive="caltech-101.zip",
            checksum="md5:3138e1922a9193bfa496528edbbc45d0",  # torchvision's too
            folder="caltech101/101_ObjectCategories",
            verify=_verify_caltech,
            unpack=unpack_folder("101_ObjectCategories"),
            credit="Fei-Fei, Fergus, Perona (2004), Caltech",
        ),
        Dataset(
            name="sharks",
            title="Underwater photos of great white and hammerhead sharks",
            url="https://github.com/BrennoR/shark-classifier/archive/"
            "eca0c4957fd2c7cce776417105dc258cf01324b7.zip",
            archive="shark-classifier-eca0c495.zip",
            checksum=None,  # GitHub builds archives on demand, with no stable bytes
            folder="sharks",
            verify=_verify_sharks,
            unpack=_unpack_sharks,
            credit="Flickr photos collected by BrennoR/shark-classifier; "
            "evaluation use only",
        ),
        Dataset(
            name="wordnet",
            title="Princeton WordNet 3.0 (NLTK corpus layout)",
            url="https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/"
            "corpora/wordnet.zip",
            archive="wordnet.zip",
            checksum=None,  # only tested here (nltk.download() checks NLTK's index)
            folder="nltk_data",
            verify=_verify_wordnet,
            unpack=_unpack_wordnet,
            credit="Princeton University, WordNet 3.0 licence",
        ),
        Dataset(
            name="imagenet_sample",
            title="One ILSVRC-2012 photo of each of the 1,000 classes",
            url="https://github.com/EliSchwartz/imagenet-sample-images/archive/"
            "bc69043e2862758a1906c6a24a792bb28c6bb2ff.zip",
            archive="imagenet-sample-images-bc69043e.zip",
            checksum=None,  # GitHub archive, see above
            folder="imagenet_sample",
            verify=_verify_imagenet_sample,
            unpack=_unpack_sample,
            credit="EliSchwartz/imagenet-sample-images; ImageNet's terms: "
            "non-commercial research and education",
        ),
        Dataset(
            name="imagenet_zsl_lists",
            title="The standard ImageNet zero-shot label lists (2-hops, 3-hops, all)",
            url="https://github.com/JudyYe/zero-shot-gcn/archive/"
            "0902b15350116cb1292c8e9ec47a0b1db6277f5c.zip",
            archive="zero-shot-gcn-0902b153.zip",
            checksum=None,  # GitHub archive, see above
            folder="imagenet_zsl_lists",
            verify=_verify_zsl_lists,
            unpack=unpack_folder("list"),
            credit="JudyYe/zero-shot-gcn (MIT), after Changpinyo et al. 2016",
        ),
        Dataset(
            name="flowers102",
            title="Oxford 102 Flowers",
            url="https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz",
            archive="102flowers.tgz",
            checksum="md5:52808999861908f626f3c1f4e79d11fa",  # torchvision's too
            folder="flowers102",
            verify=verify_class_folders("*/*", FLOWERS_MIN_CLASSES),
            unpack=_unpack_flowers,
            credit="Nilsback & Zisserman (2008), Visual Geometry Group, Oxford",
        ),
        Dataset(
            name="pacs",
            title="PACS, its photo domain",
            # PACS's Google Drive has no stable URL; this repo holds the same folders
            url="https://github.com/MachineLearning2020/Homework3-PACS/archive/"
            "d586a6cf3db84896fb6cc465c7bf51bdaf6d65d8.zip",
            archive="Homework3-PACS-d586a6cf.zip",
            checksum=None,  # GitHub archive, see above
            folder="pacs/photo",
            verify=verify_class_folders("*", PACS_MIN_CLASSES),
            unpack=unpack_folder("photo"),
            credit="Li, Yang, Song, Hospedales (2017); evaluation use",
        ),
        Dataset(
            name="food101",
            title="Food-101",
            url="https://data.vision.ee.ethz.ch/cvl/food-101.tar.gz",
            archive="food-101.tar.gz",
            checksum="md5:85eeb15f3717b99a5da872d97d918f87",  # torchvision's too
            folder="food101/images",
            verify=verify_class_folders("*", FOOD_MIN_CLASSES),
            unpack=unpack_folder("images"),
            credit="Bossard, Guillaumin, Van Gool (2014), ETH Zurich; research use",
        ),
    ]
}


def _unavailable(dataset: Dataset, reason: str) -> DatasetUnavailableError:
    mirror = mirror_root()
    where = (
        f"the mirror ${MIRROR_ENV}={mirror} has no {dataset.folder}/"
        if mirror
        else f"no mirror is configured (${MIRROR_ENV} is unset)"
    )
    return DatasetUnavailableError(
        f"dataset {dataset.name!r} ({dataset.title}) is not available: it is not in "
        f"{data_root() / 'datasets' / dataset.folder}, {where}, and downloading "
        f"{dataset.url} failed ({reason}). Connect to the network, or set {MIRROR_ENV} "
        f"to a folder that holds {dataset.folder}/, or save the archive yourself as "
        f"{data_root() / 'downloads' / dataset.archive}."
    )


def locate(name: str, *, allow_download: bool = True) -> Path:
    """The folder of dataset `name`: from the data root, the mirror, or a download."""
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(REGISTRY)}")
    dataset = REGISTRY[name]
    local = data_root() / "datasets" / dataset.folder
    if local.exists():
        return verified(dataset, local)
    mirror = mirror_root()
    if mirror is not None and (mirror / dataset.folder).exists():
        return verified(dataset, mirror / dataset.folder)
    archive = data_root() / "downloads" / dataset.archive
    if not archive.exists():
        if not allow_download:
            raise _unavailable(dataset, "downloads are disabled")
        try:
            download(dataset.url, archive)
        except OSError as err:  # URLError, timeouts, refused connections
            raise _unavailable(dataset, str(getattr(err, "reason", err))) from err
    verify_checksum(archive, dataset.checksum)
    with atomic_path(local) as tmp:
        dataset.unpack(archive, tmp)
        dataset.verify(tmp)
    return local
