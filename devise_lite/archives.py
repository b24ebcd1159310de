"""What a dataset is (`Dataset`: where it downloads from, how it unpacks, how its
folder is checked) and fetching it: download, checksum, unpack."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import shutil
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .progress import progress_bar
from .storage import atomic_path


class DatasetIntegrityError(UserError):
    """A dataset file or folder is not what the registry says it should be."""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    url: str  # where a user with a network gets it
    archive: str  # file name the download is saved under
    checksum: str | None  # "md5:<hex>" or "sha256:<hex>"; None: the host fixes none
    folder: str  # the extracted dataset, relative to a mirror or the data root
    verify: Callable[[Path], None]
    unpack: Callable[[Path, Path], None]  # (archive, target folder) -> fills target
    credit: str


def verified(dataset: Dataset, folder: Path) -> Path:
    """`folder`, checked by `dataset.verify` once a process while its mtime stays."""
    mtime_ns = settled_mtime_ns(folder)
    check = _verify_once if mtime_ns is not None else _verify_once.__wrapped__
    check(dataset, folder, mtime_ns)
    return folder


@functools.lru_cache(maxsize=64)
def _verify_once(dataset: Dataset, folder: Path, mtime_ns: int | None) -> None:
    dataset.verify(folder)


def settled_mtime_ns(folder: Path) -> int | None:
    """The folder's mtime; None while recent (a change within a clock tick keeps it)."""
    mtime_ns = folder.stat().st_mtime_ns
    return None if time.time_ns() - mtime_ns < 2_000_000_000 else mtime_ns


def verify_checksum(path: Path, expected: str | None) -> None:
    """Raise DatasetIntegrityError if `path` does not match `expected` ("md5:<hex>")."""
    if expected is None:
        return
    algorithm, _, want = expected.partition(":")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if (got := digest.hexdigest()) != want:
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


def extract_any(archive: Path, target: Path) -> None:
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


def find_dir(root: Path, name: str) -> Path:
    hits = [p for p in root.rglob(name) if p.is_dir()]
    if not hits:
        raise DatasetIntegrityError(f"the archive has no folder named {name!r}")
    return min(hits, key=lambda p: len(p.parts))


@contextlib.contextmanager
def unpacked(archive: Path, target: Path) -> Iterator[Path]:
    """`archive` extracted into a scratch folder beside `target`, removed afterwards."""
    scratch = target.parent / (target.name + ".unpack")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        extract_any(archive, scratch)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def unpack_folder(name: str) -> Callable[[Path, Path], None]:
    """Unpack an archive; keep only its (shallowest) folder called `name`, as target."""

    def unpack(archive: Path, target: Path) -> None:
        with unpacked(archive, target) as scratch:
            shutil.move(str(find_dir(scratch, name)), target)

    return unpack
