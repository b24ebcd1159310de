"""Progress bars, one style for every long step, which $TQDM_DISABLE=1 turns off.

tqdm reads $TQDM_DISABLE once, at import, and only for calls that pass no `disable`;
`progress_bar` reads it on every call and always passes `disable`, so a notebook or a
test that sets or clears it later is obeyed too.
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

DISABLE_ENV = "TQDM_DISABLE"


def progress_bar(iterable=None, *, progress: bool = True, **kwargs) -> tqdm:
    """`tqdm(iterable, **kwargs)`, off when `progress` is False or $TQDM_DISABLE is
    set."""
    off = os.environ.get(DISABLE_ENV, "").lower() in ("1", "true", "yes")
    kwargs["disable"] = off or not progress  # always explicit (see above)
    kwargs.setdefault("mininterval", 1.0)  # one refresh a second: readable in logs
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
