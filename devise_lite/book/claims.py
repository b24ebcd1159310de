"""Every claim the book checks and its verdict, in one table: each claim sits beside its
test (`claims_seen.py`: chapters 1, 2, 5; `claims_zero_shot.py`: 6). A chapter prints
its own rows of `verdicts(results)`, chapter 8 all: no claim is tested two ways."""

from __future__ import annotations

import pandas as pd

from .claims_seen import SEEN_CLAIMS
from .claims_zero_shot import ZERO_SHOT_CLAIMS
from .findings import NONE, Claim, Finding, NotTestable, Results, Side

CLAIMS = SEEN_CLAIMS + ZERO_SHOT_CLAIMS  # every claim, in the chapters' order

COLUMNS = "claim, chapter, paper says, paper, ours, comparable, test, holds".split(", ")


def _comparable(name: str, paper_side: Side, ours: Side) -> str:
    """The comparable numbers of both sides under the name of what they are."""
    parts = [
        f"{who} {side.comparable}"
        for who, side in (("paper", paper_side), ("ours", ours))
        if side.comparable != NONE
    ]
    if not parts:
        return NONE
    return f"{name}: {'; '.join(parts)}" if name else "; ".join(parts)


# The verdicts table in two views narrow enough for a page: the numbers, the words.
NUMBER_COLUMNS = ["claim", "paper", "ours", "comparable", "holds"]
WORD_COLUMNS = ["claim", "paper says", "test"]


def styled(table: pd.DataFrame, columns: list[str]):
    """Some columns of a verdicts table for printing, a rule between (long) rows."""
    return (
        table[columns]
        .style.hide(axis="index")
        .set_properties(**{"text-align": "left", "vertical-align": "top"})
        .set_table_styles(
            [
                {"selector": "td", "props": "border-bottom: 1px solid #ddd;"},
                {"selector": "th", "props": "text-align: left;"},
            ]
        )
    )


def verdicts(results: Results, claims: tuple[Claim, ...] = CLAIMS) -> pd.DataFrame:
    """One row per claim (COLUMNS): whether it holds here, and the numbers behind it."""
    rows = []
    for claim in claims:
        paper_side = claim.paper()
        try:
            finding = claim.check(results)
        except NotTestable as why:
            finding = Finding(None, Side(str(why)))
        holds = finding.holds
        rows.append(
            {
                "claim": claim.claim,
                "chapter": claim.chapter,
                "paper says": claim.paper_says,
                "paper": paper_side.number,
                "ours": finding.ours.number,
                "comparable": _comparable(claim.comparable, paper_side, finding.ours),
                "test": claim.test,
                "holds": "n/a" if holds is None else ("yes" if holds else "no"),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
