"""Progress bars, one style for every long step, which $TQDM_DISABLE=1 turns off. tqdm
reads it once, at import, for calls passing no `disable`; `progress_bar` reads it every
call and always passes `disable`, so a later change (a notebook, a test) is obeyed too.
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

DISABLE_ENV = "TQDM_DISABLE"


def progress_bar(iterable=None, *, progress: bool = True, **kwargs) -> tqdm:
    """`tqdm(iterable, **kwargs)`, off if not `progress` or if $TQDM_DISABLE is set."""
    off = os.environ.get(DISABLE_ENV, "").lower() in ("1", "true", "yes")
    kwargs["disable"] = off or not progress  # always explicit (see above)
    kwargs.setdefault("mininterval", 1.0)  # one refresh a second: readable in logs
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
