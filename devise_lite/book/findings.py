"""What a claim is (`Claim`), what its test works on and returns: one run's tables
(`Results`), each side of a comparison as text (`Side`), and the test's verdict with
our side (`Finding`).

A verdict is True, False or None: None when the run has no data for the test (a table
not produced, a candidate set without photos, a metric undefined at this size).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from .formats import format_fraction, format_ratio, format_share, ratio

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
    """One side of a claim, the paper's or ours: its number and its comparable number,
    as text."""

    number: str = NONE
    comparable: str = NONE


@dataclass(frozen=True)
class Finding:
    """What a test found on our tables: whether the claim holds (None: not testable
    here) and our side of the comparison."""

    holds: bool | None
    ours: Side


@dataclass(frozen=True)
class Claim:
    """A claim of the paper and its test: `paper` gives the paper's side, `check` our
    finding; `comparable` names the number that makes the two sides comparable."""

    claim: str
    chapter: int
    paper_says: str
    test: str
    comparable: str
    paper: Callable[[], Side]
    check: Callable[[Results], Finding]


def not_testable(why: str) -> Finding:
    """The finding of a test this run has no data for."""
    return Finding(None, Side(why))


def all_hold(parts: Iterable[bool | None]) -> bool | None:
    """Three-valued "and": False if any part fails, else None if any is untestable."""
    parts = list(parts)
    if any(p is False for p in parts):
        return False
    if any(p is None for p in parts):
        return None
    return True


def defined(*values: float) -> bool:
    """True when every value is a number (not None, NaN or pd.NA)."""
    return not any(pd.isna(v) for v in values)


def versus(a: float, b: float, fmt: Callable[[float], str]) -> str:
    return f"{fmt(a)} vs {fmt(b)}"


def format_of(metric: str) -> Callable[[float], str]:
    return format_fraction if metric.startswith("hp@") else format_share


def pairs_side(pairs: dict[str, tuple[float, float]]) -> Side:
    """Pairs (ours or the paper's, the other model's) under their names: the two
    values, and their ratio."""
    return Side(
        ", ".join(
            f"{name} {versus(a, b, format_fraction)}" for name, (a, b) in pairs.items()
        ),
        ", ".join(
            f"{name} {format_ratio(ratio(a, b))}" for name, (a, b) in pairs.items()
        ),
    )
