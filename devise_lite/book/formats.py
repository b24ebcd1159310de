"""How the book prints numbers (shares as percentages, hp to three decimals, ratios,
multiples of chance, counts) and comparison tables (`format_comparison`); none: "–"."""

from __future__ import annotations

import math

import pandas as pd


def is_missing(x) -> bool:
    """True for None, NaN and pd.NA (a number that is not there)."""
    return x is None or (not isinstance(x, str) and bool(pd.isna(x)))


def ratio(value: float, reference: float) -> float:
    """value / reference; NaN when either is undefined or the reference is 0."""
    if is_missing(value) or is_missing(reference) or reference == 0:
        return math.nan
    return value / reference


def format_share(x: float) -> str:
    """A share as a percentage: one decimal from 1% up, two significant digits below
    (chance on 20,000 labels is 0.0048%, not 0.0%)."""
    if is_missing(x):
        return "–"
    if x == 0 or abs(x) >= 0.01:
        return f"{100 * x:.1f}%"
    return f"{100 * x:.2g}%"


def format_fraction(x: float) -> str:
    """A hierarchical precision, as the paper prints it: three decimals."""
    return "–" if is_missing(x) else f"{x:.3f}"


format_ratio = format_fraction  # a ratio near 1 (DeViSE / softmax): three decimals too


def format_times(x: float) -> str:
    """A multiple of chance: "57.5x"; whole numbers from 100x up."""
    if is_missing(x):
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}x"
    return f"{x:.1f}x" if abs(x) >= 10 else f"{x:.2f}x"


def format_count(x: float) -> str:
    """A count of labels or photos: "20,841"."""
    return "–" if is_missing(x) else f"{x:,.0f}"


def _column_format(column: str):
    """The formatter of a comparison column, or None where the row's metric decides."""
    if column.endswith("x chance"):
        return format_times
    if column.endswith("(points)"):  # a difference of shares, in percentage points
        return lambda x: "–" if is_missing(x) else f"{x:+.1f}"
    if " / " in column:
        return format_ratio
    counts = ("k", "dim")
    if column.endswith((" n", "photos")) or column.startswith("n_") or column in counts:
        return format_count
    if column.startswith("hp@"):
        return format_fraction
    if column.startswith(("hit@", "label_hit@")):
        return format_share
    return None


def format_comparison(df: pd.DataFrame):
    """A comparison table to print: no index, numbers as their column (or row) says."""
    df = df.reset_index(drop=True)
    styler = df.style.hide(axis="index")
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    metric = df.get("metric", pd.Series("", index=df.index))
    hp_rows = df.index[metric.astype(str).str.startswith("hp@")]
    for column in numeric:
        integer = pd.api.types.is_integer_dtype(df[column])
        fixed = format_count if integer else _column_format(column)
        if fixed is not None:
            styler = styler.format(fixed, subset=[column])
            continue
        styler = styler.format(format_share, subset=[column])
        styler = styler.format(format_fraction, subset=(hp_rows, [column]))
    return styler.format(na_rep="–", subset=[c for c in df.columns if c not in numeric])
