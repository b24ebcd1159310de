"""The faults a user can fix: each is one line saying what is wrong and what to do,
which the command line prints as `error: <message>` before exiting with `exit_code`.
Every other exception is a bug and keeps its traceback."""

from __future__ import annotations

BAD_INPUT = 2
INTERRUPTED = 130


class UserError(RuntimeError):
    """A fault in the user's input, data or setup, with advice in its message."""

    exit_code = BAD_INPUT


class BadInputError(UserError, ValueError):
    """An argument, file or setting that cannot be used as given."""


class DamagedCacheError(UserError):
    """A finished artifact differs from its record and cannot be rebuilt here."""


class OutOfSpaceError(UserError):
    """A write failed for lack of space: where, and how much the work needs (`needed`):
    all of it when known, else what was written when the disk filled (`at_least`)."""

    def __init__(
        self, root: str, free: int, needed: int, at_least: bool, what: str = "the work"
    ):
        self.root, self.free, self.needed = root, free, needed
        self.at_least, self.what = at_least, what
        amount = f"more than {_size(needed)}" if at_least else _size(needed)
        need = f"{what} needs {amount}; " if needed > 0 else ""
        super().__init__(
            f"no space left on the data root {root} ({need}{_size(free)} free): "
            "free some space, or set $DEVISE_DATA to a larger disk, and run the same "
            "command again (finished stages are kept)"
        )


def _size(count: int) -> str:
    """A byte count as people read one: 16 KB, 38.2 MB, 1.4 GB."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{-(-count // 1024):,} KB"
