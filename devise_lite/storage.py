"""Where things live on disk, and how they get there safely.

The data root (default `data/` at the repository top, or $DEVISE_DATA) holds downloads,
stage caches and results. Every artifact is written to a temporary name in the same
folder and renamed into place, so an interrupted stage never leaves a half-written file
that a later run would trust. A stage's cache is a folder (`cached_dir`) that counts as
finished only once its `done.json` is there; two processes building the same folder take
turns on a lock file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import UserError

DATA_ENV = "DEVISE_DATA"
MIRROR_ENV = "DEVISE_MIRROR"
DONE = "done.json"

_REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The data root: $DEVISE_DATA, else `data/` beside the package's repository."""
    root = Path(os.environ.get(DATA_ENV) or _REPO_ROOT / "data").expanduser()
    if root.exists() and not root.is_dir():
        raise UserError(
            f"the data root {root} is a file, not a folder: set ${DATA_ENV} to a "
            f"folder (it is created if missing), or unset it to use "
            f"{_REPO_ROOT / 'data'}"
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(
            f"cannot create the data root {root} ({err.strerror}): set ${DATA_ENV} to "
            "a folder you can write to"
        ) from None
    return root


def mirror_root() -> Path | None:
    """The configured read-only mirror ($DEVISE_MIRROR), or None."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser() if value else None


def in_mirror(path: Path | str) -> bool:
    """True when `path` lies in the read-only mirror (a fix there is not "delete
    it")."""
    mirror = mirror_root()
    if mirror is None:
        return False
    try:
        Path(path).resolve().relative_to(mirror.resolve())
    except ValueError:
        return False
    return True


def results_dir() -> Path:
    path = data_root() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage_dir(stage: str, key: str) -> Path:
    """The cache folder of one stage run, e.g. `data/cache/word2vec-1a2b3c4d5e6f`."""
    return data_root() / "cache" / f"{stage}-{key}"


def checkpoint_dir(stage: str, key: str) -> Path:
    """Where a stage keeps what survives its interruption (chunks, per-epoch states)."""
    return data_root() / "cache" / "checkpoints" / f"{stage}-{key}"


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only if the
    block succeeds. Works for files and folders alike: whatever the block creates at
    the yielded path moves."""
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


# ---------------------------------------------------------------- cached folders


def is_done(folder: Path) -> bool:
    return (folder / DONE).exists()


def read_info(folder: Path) -> dict:
    """The record a finished folder keeps of how it was made (`done.json`)."""
    return json.loads((folder / DONE).read_text())


def cached_dir(folder: Path, build: Callable[[Path], dict | None]) -> Path:
    """`folder`, built by `build(tmp_folder)` if it is not finished yet.

    `build` fills a temporary folder and returns a dict of facts about the run, saved
    with the time it took as `done.json`; the folder is renamed into place only then.
    Two processes asking for the same folder (a CLI run and a notebook, say) take turns
    on a lock file: the second waits, then finds the first one's result."""
    if is_done(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with stage_lock(folder.parent / f".{folder.name}.lock"):
        if not is_done(folder):
            # A run killed outright (no exception to clean up after) leaves its
            # temporary folder behind; holding the lock, no live run can be using one.
            for stale in folder.parent.glob(f".{folder.name}.*.part"):
                shutil.rmtree(stale, ignore_errors=True)
            with atomic_path(folder) as tmp:
                tmp.mkdir(parents=True)
                start = time.perf_counter()
                info = build(tmp) or {}
                info["seconds"] = round(time.perf_counter() - start, 2)
                (tmp / DONE).write_text(json.dumps(info, indent=2))
    return folder


@contextlib.contextmanager
def stage_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (POSIX `flock`); where there is none (Windows),
    none."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                f"[devise-lite] another process is building {path.name[1:-5]}; "
                "waiting for it",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
