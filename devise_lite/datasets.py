"""The registry of external datasets, and `locate()`: mirror first, then download, else
a clear error.

Each dataset names its real download location (for users with a network), its checksum
where the publisher fixes one, and a check of the extracted folder. A mirror
($DEVISE_MIRROR) may hold a dataset already extracted, possibly re-encoded, so there
only the folder check can apply.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .progress import progress_bar
from .storage import MIRROR_ENV, atomic_path, data_root, mirror_root

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}


class DatasetUnavailableError(UserError):
    """A dataset is in neither the data root nor a mirror, and cannot be downloaded."""


class DatasetIntegrityError(UserError):
    """A dataset file or folder is not what the registry says it should be."""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    url: str  # where a user with a network gets it
    archive: str  # file name the download is saved under
    checksum: (
        str | None
    )  # "md5:<hex>" or "sha256:<hex>"; None where the host fixes none
    folder: str  # the extracted dataset, relative to a mirror or the data root
    verify: Callable[[Path], None]
    unpack: Callable[[Path, Path], None]  # (archive, target folder) -> fills target
    credit: str


# ---------------------------------------------------------------- folder checks


def count_images(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _verify_wikipedia(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("wiki_*") if p.is_file())
    if not files:
        raise DatasetIntegrityError(
            f"{folder} holds no WikiExtractor files (wiki_00, wiki_00.bz2, ...)"
        )
    # local import: text.py imports this module (for a bad file's advice)
    from .text import check_bz2_header, read_head

    for path in files:  # 3 bytes each: an empty or non-bzip2 file names itself here
        check_bz2_header(path)
    head = read_head(files[0])
    if "<doc " not in head:
        raise DatasetIntegrityError(
            f"{files[0]} does not start with a WikiExtractor <doc ...> header"
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
    counts = {p.name: count_images(p) for p in classes}
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
        found = count_images(sub) if sub.is_dir() else 0
        if found < species.min_photos:
            raise DatasetIntegrityError(
                f"{sub} holds {found} photos, expected at least {species.min_photos}"
            )


SAMPLE_CLASSES = 1000  # one photo of each ILSVRC-2012 class


def _verify_imagenet_sample(folder: Path) -> None:
    from .wordnet import imagenet1k_wnids

    wnids = [
        p.name.split("_")[0]
        for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES
    ]
    missing = sorted(set(imagenet1k_wnids()) - set(wnids))
    if len(wnids) != SAMPLE_CLASSES or missing:
        raise DatasetIntegrityError(
            f"{folder} holds {len(wnids)} photos named <wnid>_<name>.JPEG, expected "
            f"{SAMPLE_CLASSES}, one per ILSVRC-2012 class"
            + (
                f"; no photo of {len(missing)} classes (e.g. {missing[0]})"
                if missing
                else ""
            )
        )


ZSL_LISTS = {"1k.txt": 1000, "2-hops.txt": 1549, "3-hops.txt": 7860, "all.txt": 20846}


def _verify_zsl_lists(folder: Path) -> None:
    for name, expected in ZSL_LISTS.items():
        path = folder / name
        lines = path.read_text().split() if path.is_file() else []
        if len(lines) != expected or not all(_is_wnid(w) for w in lines):
            raise DatasetIntegrityError(
                f"{path} should list {expected} wnids, one a line; it has "
                f"{len(lines)} lines"
                if path.is_file()
                else f"{path} is missing"
            )


def _is_wnid(text: str) -> bool:
    return len(text) == 9 and text[0] == "n" and text[1:].isdigit()


def _verify_wordnet(folder: Path) -> None:
    archive = folder / "corpora" / "wordnet.zip"
    unpacked = folder / "corpora" / "wordnet" / "data.noun"
    if unpacked.exists():
        return
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


# ---------------------------------------------------------------- unpacking


def _extract_any(archive: Path, target: Path) -> None:
    """Unpack a zip or tar archive into `target`; archives inside it (.tar.gz) too."""
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            z.extractall(target)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            t.extractall(target, filter="data")
    else:
        raise DatasetIntegrityError(
            f"{archive} is neither a zip nor a tar archive; delete it and run again"
        )
    for inner in list(target.rglob("*.tar.gz")) + list(target.rglob("*.tgz")):
        with tarfile.open(inner) as t:
            t.extractall(inner.parent, filter="data")
        inner.unlink()


def _find_dir(root: Path, name: str) -> Path:
    hits = [p for p in root.rglob(name) if p.is_dir()]
    if not hits:
        raise DatasetIntegrityError(f"the archive has no folder named {name!r}")
    return min(hits, key=lambda p: len(p.parts))


def _unpack_folder(name: str) -> Callable[[Path, Path], None]:
    """Unpack an archive; keep only its (shallowest) folder called `name`, as target."""

    def unpack(archive: Path, target: Path) -> None:
        scratch = target.parent / (target.name + ".unpack")
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            _extract_any(archive, scratch)
            shutil.move(str(_find_dir(scratch, name)), target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return unpack


def _unpack_sharks(archive: Path, target: Path) -> None:
    """The shark repository keeps `images/gw_*.jpg` and `images/hh_*.jpg` together."""
    scratch = target.parent / (target.name + ".unpack")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        _extract_any(archive, scratch)
        images = _find_dir(scratch, "images")
        for prefix, folder in (("gw_", "great_white_shark"), ("hh_", "hammerhead")):
            (target / folder).mkdir(parents=True, exist_ok=True)
            for photo in images.glob(prefix + "*"):
                shutil.move(str(photo), target / folder / photo.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _unpack_sample(archive: Path, target: Path) -> None:
    """The sample repository keeps its 1,000 JPEGs at its top, beside a README."""
    scratch = target.parent / (target.name + ".unpack")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        _extract_any(archive, scratch)
        target.mkdir(parents=True, exist_ok=True)
        for photo in scratch.rglob("n*_*.JPEG"):
            shutil.move(str(photo), target / photo.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _unpack_wordnet(archive: Path, target: Path) -> None:
    (target / "corpora").mkdir(parents=True, exist_ok=True)
    shutil.copy(archive, target / "corpora" / "wordnet.zip")


# ---------------------------------------------------------------- the registry

REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="wikipedia",
            title="English Wikipedia text (2015 dump, WikiExtractor output)",
            url="https://github.com/jason-feng/wikiVisual/archive/"
            "1c0fac92f29f17c1603bfffbe864e0dfdff66897.zip",
            archive="wikiVisual-1c0fac92.zip",
            # GitHub builds archives on demand and does not promise stable bytes
            checksum=None,
            folder="wikipedia/enwiki-2015-extracted",
            verify=_verify_wikipedia,
            unpack=_unpack_folder("text"),
            credit="Wikipedia contributors, CC BY-SA; "
            "extracted by jason-feng/wikiVisual",
        ),
        Dataset(
            name="caltech101",
            title="Caltech-101 object categories",
            url="https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip",
            archive="caltech-101.zip",
            # the value torchvision checks too
            checksum="md5:3138e1922a9193bfa496528edbbc45d0",
            folder="caltech101/101_ObjectCategories",
            verify=_verify_caltech,
            unpack=_unpack_folder("101_ObjectCategories"),
            credit="Fei-Fei, Fergus, Perona (2004), Caltech",
        ),
        Dataset(
            name="sharks",
            title="Underwater photos of great white and hammerhead sharks",
            url="https://github.com/BrennoR/shark-classifier/archive/"
            "eca0c4957fd2c7cce776417105dc258cf01324b7.zip",
            archive="shark-classifier-eca0c495.zip",
            checksum=None,  # GitHub archive, see above
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
            # nltk.download() checks NLTK's own index; the zip here is only tested
            checksum=None,
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
            unpack=_unpack_folder("list"),
            credit="JudyYe/zero-shot-gcn (MIT), after Changpinyo et al. 2016",
        ),
    ]
}


# ---------------------------------------------------------------- locating and fetching


def file_checksum(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str | None) -> None:
    """Raise DatasetIntegrityError if `path` does not match `expected` ("md5:<hex>",
    "sha256:<hex>")."""
    if expected is None:
        return
    algorithm, _, want = expected.partition(":")
    got = file_checksum(path, algorithm)
    if got != want:
        corrupt = path.with_name(path.name + ".corrupt")
        path.replace(corrupt)
        raise DatasetIntegrityError(
            f"{path.name}: {algorithm} checksum is {got}, expected {want}. The file is "
            f"corrupt or incomplete; it was moved to {corrupt} and the next run "
            "downloads it again."
        )


def download(url: str, target: Path, timeout: float = 30.0) -> Path:
    """Download `url` to `target` atomically with a progress bar."""
    with atomic_path(target) as tmp:
        request = urllib.request.Request(url, headers={"User-Agent": "devise-lite"})
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,
            open(tmp, "wb") as out,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            with progress_bar(
                total=total, unit="B", unit_scale=True, desc=f"download {target.name}"
            ) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
    return target


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
    try:
        dataset = REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown dataset {name!r}; known: {sorted(REGISTRY)}"
        ) from None
    local = data_root() / "datasets" / dataset.folder
    if local.exists():
        dataset.verify(local)
        return local
    mirror = mirror_root()
    if mirror is not None and (mirror / dataset.folder).exists():
        dataset.verify(mirror / dataset.folder)
        return mirror / dataset.folder
    archive = data_root() / "downloads" / dataset.archive
    if not archive.exists():
        if not allow_download:
            raise _unavailable(dataset, "downloads are disabled")
        try:
            download(dataset.url, archive)
        except (
            OSError
        ) as err:  # URLError, timeouts and refused connections are all OSErrors
            raise _unavailable(dataset, str(getattr(err, "reason", err))) from err
    verify_checksum(archive, dataset.checksum)
    with atomic_path(local) as tmp:
        dataset.unpack(archive, tmp)
        dataset.verify(tmp)
    return local
