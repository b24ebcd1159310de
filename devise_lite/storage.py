"""Where things live on disk, and how they get there safely.

The data root (default `data/` at the repository top, or $DEVISE_DATA) holds downloads, stage
caches and results. Every artifact is written to a temporary name in the same folder and renamed
into place, so an interrupted stage never leaves a half-written file that a later run would trust.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

DATA_ENV = "DEVISE_DATA"
MIRROR_ENV = "DEVISE_MIRROR"

_REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The data root: $DEVISE_DATA, else `data/` beside the package's repository."""
    root = Path(os.environ.get(DATA_ENV) or _REPO_ROOT / "data")
    root.mkdir(parents=True, exist_ok=True)
    return root


def mirror_root() -> Path | None:
    """The configured read-only mirror ($DEVISE_MIRROR), or None."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value) if value else None


def results_dir() -> Path:
    path = data_root() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage_dir(stage: str, key: str) -> Path:
    """The cache folder of one stage run, e.g. `data/cache/word2vec-1a2b3c4d5e6f`."""
    return data_root() / "cache" / f"{stage}-{key}"


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only if the block succeeds.

    Works for files and folders alike: whatever the block creates at the yielded path moves.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    )
    work = tmp / target.name
    try:
        yield work
        if not work.exists():
            raise RuntimeError(f"the block wrote nothing at {work}")
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(target: Path | str, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    return Path(target)


def write_csv_atomic(frame, target: Path | str) -> Path:
    """Write a pandas DataFrame as CSV, atomically."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(target)


def cached_file(target: Path, build: Callable[[Path], None]) -> Path:
    """Return `target`, calling `build(tmp_path)` to make it first if it does not exist yet."""
    target = Path(target)
    if not target.exists():
        with atomic_path(target) as tmp:
            build(tmp)
    return target
