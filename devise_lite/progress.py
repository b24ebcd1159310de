"""Progress bars, one style for every long step, which $TQDM_DISABLE=1 turns off.

tqdm reads $TQDM_DISABLE once, when it is imported, and only for calls that pass no
`disable` of their own; `progress_bar` reads it on every call and always passes
`disable`, so a notebook or a test that sets or clears it later is obeyed too, and a
function's own `progress=False` still wins.
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

DISABLE_ENV = "TQDM_DISABLE"


def progress_bar(iterable=None, *, progress: bool = True, **kwargs) -> tqdm:
    """`tqdm(iterable, **kwargs)`, off when `progress` is False or $TQDM_DISABLE is
    set."""
    off = os.environ.get(DISABLE_ENV, "").lower() in ("1", "true", "yes")
    # Always explicit: with no `disable` of ours, tqdm would keep the value it read at
    # import, and a bar asked for after the variable is cleared would stay off.
    kwargs["disable"] = off or not progress or kwargs.get("disable", False)
    kwargs.setdefault("mininterval", 1.0)  # one refresh a second: readable in logs
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
