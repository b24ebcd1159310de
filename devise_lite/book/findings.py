"""What a claim is (`Claim`), what its test works on (`Results`) and returns (`Side`,
`Finding`). A verdict is True, False or None: None when the run has no data for the
test (no table, no photos, an undefined metric): it raises `NotTestable` to say so."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from .formats import format_fraction, format_ratio, ratio

NONE = "–"  # a side of a comparison with no number


@dataclass(frozen=True)
class Results:
    """The tables one run produces; a missing one (None) makes its claims "n/a"."""

    table1: pd.DataFrame | None = None
    table2: pd.DataFrame | None = None
    table3: pd.DataFrame | None = None
    sharks: pd.DataFrame | None = None
    similarity: pd.DataFrame | None = None
    shark_neighbours: pd.DataFrame | None = None


@dataclass(frozen=True)
class Side:
    """One side of a claim, the paper's or ours: its number and comparable, as text."""

    number: str = NONE
    comparable: str = NONE


@dataclass(frozen=True)
class Finding:
    """What a test found: whether the claim holds (None: untestable here), our side."""

    holds: bool | None
    ours: Side


@dataclass(frozen=True)
class Claim:
    """A claim of the paper: `paper` gives the paper's side, `check` our finding."""

    claim: str
    chapter: int
    paper_says: str
    test: str
    comparable: str
    paper: Callable[[], Side]
    check: Callable[[Results], Finding]


class NotTestable(Exception):
    """A test's run has no data for it, and why: its verdict is None ("n/a")."""


def all_hold(parts: Iterable[bool | None]) -> bool | None:
    """Three-valued "and": False if any part fails, else None if any is untestable."""
    parts = list(parts)
    if any(p is False for p in parts):
        return False
    return None if any(p is None for p in parts) else True


def defined(*values: float) -> bool:
    """True when every value is a number (not None, NaN or pd.NA)."""
    return not any(pd.isna(v) for v in values)


def defined_pairs(table: pd.DataFrame, keys, first: str, second: str) -> dict:
    """{key: (first, second)} of `table`'s rows `keys` where both are defined."""
    pairs = {k: (table.loc[k, first], table.loc[k, second]) for k in keys}
    return {k: pair for k, pair in pairs.items() if defined(*pair)}


def versus(a: float, b: float, fmt: Callable[[float], str]) -> str:
    return f"{fmt(a)} vs {fmt(b)}"


def pairs_side(pairs: dict[str, tuple[float, float]]) -> Side:
    """Named pairs (DeViSE's, the other model's): the two values, and their ratio."""
    named = pairs.items()
    return Side(
        ", ".join(f"{name} {versus(a, b, format_fraction)}" for name, (a, b) in named),
        ", ".join(f"{name} {format_ratio(ratio(a, b))}" for name, (a, b) in named),
    )
