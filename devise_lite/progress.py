"""Progress bars that a caller can turn off, and that $TQDM_DISABLE=1 turns off everywhere.

tqdm reads $TQDM_DISABLE only for calls that do not pass `disable` themselves, so functions with a
`progress` flag go through `progress_bar` instead of passing `disable=not progress`.
"""

from __future__ import annotations

from tqdm.auto import tqdm


def progress_bar(iterable=None, *, progress: bool = True, **kwargs) -> tqdm:
    """`tqdm(iterable, **kwargs)`, disabled outright when `progress` is False."""
    if not progress:
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)
