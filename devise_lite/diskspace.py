"""A full disk, recognised whichever library's write it stopped, and measured. Python
and numpy raise `OSError(ENOSPC)`, which gensim and pandas may wrap; torch's zip writer
raises a `RuntimeError` ("unexpected pos ...") without errno, and C++ writers may say
only that they failed: those are recognised by a nearly full disk when they fail."""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import shutil
import traceback
from collections.abc import Iterator
from pathlib import Path

from .errors import OutOfSpaceError

SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SPACE_WORDS = ("No space left on device", "Disk quota exceeded")
_TORCH_WRITE_FAILED = ("unexpected pos", "file write failed", "PytorchStreamWriter")


def out_of_space(err: BaseException, where: Path) -> bool:
    """Whether `err`, or one behind it, failed for lack of space on `where`'s disk."""
    for seen in _chain(err):
        if isinstance(seen, OutOfSpaceError):
            return True
        if isinstance(seen, OSError) and seen.errno in SPACE_ERRNOS:
            return True
        text = str(seen)
        if any(words in text for words in _SPACE_WORDS):
            return True
        if any(sign in text for sign in _TORCH_WRITE_FAILED) and _nearly_full(where):
            return True
    # A C++ writer (ONNX's, protobuf's) may say only that it failed: a full disk is why.
    return isinstance(err, (OSError, RuntimeError)) and _nearly_full(where)


def space_error(
    err: BaseException, root: Path, written: int, at_least: bool = True
) -> OutOfSpaceError:
    """`err` as an `OutOfSpaceError` about `root`, adding `written` (bytes this level
    wrote) to an inner level's count; free space is measured now (after cleanup)."""
    inner = next((e for e in _chain(err) if isinstance(e, OutOfSpaceError)), None)
    what = "the work"
    if inner is not None:
        written += inner.needed
        at_least = inner.at_least or written > inner.needed
        what = inner.what
    return OutOfSpaceError(str(root), free_space(err, root), written, at_least, what)


def free_space(err: BaseException, root: Path) -> int:
    """The bytes free on `root`'s file system once the failed write's files are closed:
    a deleted file still open (in the traceback's frames) keeps its space until then."""
    for seen in _chain(err):
        traceback.clear_frames(seen.__traceback__)  # their locals: the open writers
    gc.collect()
    try:
        return shutil.disk_usage(root).free
    except OSError:
        return 0


def tree_bytes(path: Path) -> int:
    """The blocks a file, or every file under a folder, takes (0 if none): a sparse
    file counts what was written to it."""
    paths = [path] if path.is_file() else []
    for root, _dirs, files in os.walk(path):
        paths += [Path(root) / name for name in files]
    total = 0
    for file in paths:
        with contextlib.suppress(OSError):
            stat = file.lstat()
            total += getattr(stat, "st_blocks", stat.st_size // 512) * 512
    return total


def _nearly_full(where: Path) -> bool:
    try:
        usage = shutil.disk_usage(where)
    except OSError:
        return False
    return usage.free < max(2**20, usage.total // 200)


def _chain(err: BaseException) -> Iterator[BaseException]:
    """`err`, then the error it was raised from or during, and so on."""
    met: set[int] = set()
    seen: BaseException | None = err
    while seen is not None and id(seen) not in met:  # a chain can loop
        met.add(id(seen))
        yield seen
        seen = seen.__cause__ or seen.__context__
