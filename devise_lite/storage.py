"""Where things live on disk, and how they get there safely: every artifact is written
under a temporary name and renamed into place, so an interrupted stage never leaves a
half-written file. A stage folder is finished once its `done.json` is there; it is
checked when reused (`integrity.py`), and rebuilt if damaged or its upstream rebuilt."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

try:
    import fcntl  # POSIX: the stage locks (`stage_lock`)
except ImportError:  # Windows: no lock
    fcntl = None

from .diskspace import SPACE_ERRNOS, free_space, out_of_space, space_error, tree_bytes
from .errors import OutOfSpaceError, UserError
from .integrity import (
    Damage,
    damage_beside,
    first_damage,
    folder_records,
    record_beside,
    sidecar,
)

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
    """Whether `path` is in the read-only mirror (where "delete it" is no fix)."""
    mirror = mirror_root()
    return mirror is not None and Path(path).resolve().is_relative_to(mirror.resolve())


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


def stage_of(folder: Path) -> str:
    """The stage of a cache or checkpoint folder (`features-1a2b...` -> `features`)."""
    return folder.name.rsplit("-", 1)[0]


def warn(message: str) -> None:
    """One line on stderr, `warning: ...`."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """A temporary path beside `target` (a file or folder), renamed onto it if the block
    succeeds; a write failing for lack of space (any library's) is `OutOfSpaceError`."""
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
    except Exception as err:
        if not out_of_space(err, tmp):
            raise
        written = tree_bytes(tmp)  # measured before the cleanup frees it
        shutil.rmtree(tmp, ignore_errors=True)
        raise space_error(err, data_root(), written) from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def checked_path(target: Path | str) -> Iterator[Path]:
    """`atomic_path`, then the file's record beside it (for `intact`)."""
    with atomic_path(target) as tmp:
        yield tmp
    record_beside(Path(target))


def intact(path: Path, what: str, then: str) -> bool:
    """True if `path` exists and matches the record beside it. A damaged file is
    removed with a warning (`what` damaged (file): `then`); the caller remakes it."""
    if not path.exists():
        return False
    if damage_beside(path) is None:
        return True
    root = data_root().resolve()
    shown = path.resolve()  # as a user finds it: relative to the data root if there
    shown = shown.relative_to(root).as_posix() if shown.is_relative_to(root) else path
    warn(f"{what} damaged ({shown}): {then}")
    path.unlink(missing_ok=True)
    sidecar(path).unlink(missing_ok=True)
    return False


def copy_atomic(source: Path, target: Path) -> Path:
    """Copy a file, atomically (a full disk leaves the old copy, not half a new one)."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def writable_array(path: Path, dtype, shape: tuple[int, ...]) -> np.memmap:
    """A new .npy file memory-mapped for writing, its space reserved first: writing
    through a map to a full disk is a silent SIGBUS, a failed reservation says so."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    size = Path(path).stat().st_size
    try:
        with open(path, "r+b") as handle:
            os.posix_fallocate(handle.fileno(), 0, size)
    except AttributeError:  # no posix_fallocate (macOS): nothing to reserve with
        pass
    except OSError as err:
        if err.errno not in SPACE_ERRNOS:
            return array  # a file system that cannot reserve: written as it comes
        del array
        raise space_error(err, data_root(), size, at_least=False) from err
    return array


def is_done(folder: Path) -> bool:
    """Whether the folder was finished (not whether it is intact: `reusable`)."""
    return (folder / DONE).exists()


def read_info(folder: Path) -> dict:
    """The record a finished folder keeps of how it was made (`done.json`)."""
    return json.loads((folder / DONE).read_text())


def damaged_file(folder: Path, hash: bool | None = None) -> Damage | None:
    """The first file unlike its `done.json` record; None if all match or no records."""
    try:
        info = read_info(folder)
    except (OSError, ValueError):
        return Damage(DONE, "unreadable")
    return first_damage(folder, info.get("files") or {}, hash)


def outdated_input(folder: Path) -> str | None:
    """The upstream stage rebuilt since this folder was built from it (its build is not
    the one `done.json` names), if any; one deleted to save space outdates nothing."""
    try:
        inputs = read_info(folder).get("inputs") or {}
    except (OSError, ValueError):
        return None
    for name, build in inputs.items():
        upstream = folder.parent / name
        try:
            current = read_info(upstream).get("build")
        except (OSError, ValueError):
            continue
        if build and current and current != build:
            return stage_of(upstream)
    return None


def reusable(folder: Path) -> bool:
    """Finished, intact, and built from the upstream builds there now."""
    if not is_done(folder):
        return False
    return damaged_file(folder) is None and outdated_input(folder) is None


def cached_dir(
    folder: Path, build: Callable[[Path], dict | None], inputs: Iterable[Path] = ()
) -> Path:
    """`folder`, built by `build(tmp_folder)` unless `reusable`, its facts saved in
    `done.json` (time, file records, build ids); processes take turns on a lock."""
    if reusable(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with stage_lock(folder.parent / f".{folder.name}.lock"):
        if is_done(folder):
            if (damage := damaged_file(folder)) is not None:
                warn(f"cache of {stage_of(folder)} damaged ({damage.file}): rebuilding")
            elif (upstream := outdated_input(folder)) is not None:
                print(
                    f"[devise-lite] {stage_of(folder)}: rebuilding, {upstream} was "
                    "rebuilt since",
                    flush=True,
                )
            else:
                return folder
            shutil.rmtree(folder)  # its space is needed for the new one
        # A killed run leaves its temporary folder; under the lock, none is in use.
        for stale in folder.parent.glob(f".{folder.name}.*.part"):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            with atomic_path(folder) as tmp:
                tmp.mkdir(parents=True)
                start = time.perf_counter()
                info = build(tmp) or {}
                info["seconds"] = round(time.perf_counter() - start, 2)
                info["build"] = uuid.uuid4().hex
                info["inputs"] = {
                    upstream.name: read_info(upstream).get("build")
                    for upstream in inputs
                    if is_done(upstream)
                }
                info["files"] = folder_records(tmp, leave_out=(DONE,))
                (tmp / DONE).write_text(json.dumps(info, indent=2))
        except OutOfSpaceError as err:
            raise _stage_space_error(err, folder) from err
    return folder


def _stage_space_error(err: OutOfSpaceError, folder: Path) -> OutOfSpaceError:
    """The full-disk fault, naming the stage and its need (written, or last build)."""
    stage = stage_of(folder)
    checkpoints = folder.parent / "checkpoints" / folder.name
    needed, at_least = err.needed + tree_bytes(checkpoints), err.at_least
    for other in folder.parent.glob(f"{stage}-*/{DONE}"):
        with contextlib.suppress(OSError, ValueError):
            files = read_info(other.parent).get("files") or {}
            size = sum(record["bytes"] for record in files.values())
            if size >= needed and stage_of(other.parent) == stage:
                needed, at_least = size, False
    free = free_space(err, folder.parent)  # now that the folder is gone
    return OutOfSpaceError(err.root, free, needed, at_least, f"the {stage} stage")


@contextlib.contextmanager
def stage_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (POSIX `flock`); on Windows, none."""
    if fcntl is None:
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
