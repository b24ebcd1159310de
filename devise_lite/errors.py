"""The faults a user can fix: each is one line saying what is wrong and what to do.

The command line (`__main__.py`) prints such an error as `error: <message>` and exits
with `exit_code` (2: bad input), without a traceback unless `--debug` or $DEVISE_DEBUG=1
asks for one. Every other exception is a bug and keeps its traceback. Ctrl-C exits 130.
"""

from __future__ import annotations

BAD_INPUT = 2
INTERRUPTED = 130


class UserError(RuntimeError):
    """A fault in the user's input, data or setup, with advice in its message."""

    exit_code = BAD_INPUT


class BadInputError(UserError, ValueError):
    """An argument, file or setting that cannot be used as given."""
