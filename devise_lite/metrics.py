"""Evaluation metrics: flat hit@k, hierarchical precision@k (credit for near misses, as
"mako" for a great white, that flat hit@k counts wrong), and exactly what chance scores
(a uniformly random ranking of the candidates), for a table to say how far above it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np
import pandas as pd

from .hierarchy import Hierarchy, hierarchical_correct_sets
from .progress import progress_bar

FLAT_KS = (1, 2, 5, 10, 20)
HIERARCHICAL_KS = (2, 5, 10, 20)  # Table 1
ZERO_SHOT_HP_KS = (1, 2, 5, 10, 20)  # Table 3 adds hp@1, which equals flat hit@1


def flat_hit_at_k(
    ranked: np.ndarray, true: np.ndarray, ks: Iterable[int] = FLAT_KS
) -> dict[int, float]:
    """{k: share of rows whose true label is in the first k of `ranked` (N, >= k)}."""
    ranked, true = np.asarray(ranked), np.asarray(true)
    ks = _check_ks(ks, ranked, len(true), "ranked")
    hits = ranked[:, : max(ks)] == true[:, None]
    first_hit = np.where(hits.any(axis=1), hits.argmax(axis=1), np.iinfo(np.int64).max)
    return {k: float(np.mean(first_hit < k)) if len(true) else float("nan") for k in ks}


def hierarchical_precision_at_k(
    ranked_labels: Sequence[Sequence[str]],
    true_labels: Sequence[str],
    h: Hierarchy,
    valid: Collection[str],
    ks: Iterable[int] = HIERARCHICAL_KS,
    progress: bool = False,
) -> dict[int, float]:
    """{k: mean over examples of |top-k ∩ correct set(true, k)| / k}, `valid`: the
    candidates. One walk per distinct true label serves every k (labels repeat)."""
    ranked_labels = np.asarray(ranked_labels, dtype=object)
    true_labels = list(true_labels)
    ks = _check_ks(ks, ranked_labels, len(true_labels), "ranked_labels")
    correct = _correct_sets(true_labels, h, valid, ks, progress)
    totals = dict.fromkeys(ks, 0.0)
    for row, true in zip(ranked_labels, true_labels, strict=True):
        for k in ks:
            totals[k] += len(set(row[:k]) & correct[true][k]) / k
    n = len(true_labels)
    return {k: totals[k] / n if n else float("nan") for k in ks}


def chance_hit_at_k(n_candidates: int, ks: Iterable[int] = FLAT_KS) -> dict[int, float]:
    """{k: min(1, k / n)}: the flat hit@k of a uniformly random ranking of n labels."""
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates}")
    return {int(k): min(1.0, int(k) / n_candidates) for k in ks}


def chance_hierarchical_precision_at_k(
    true_labels: Sequence[str],
    h: Hierarchy,
    valid: Collection[str],
    ks: Iterable[int] = HIERARCHICAL_KS,
    progress: bool = False,
) -> dict[int, float]:
    """{k: expected hp@k of a uniformly random ranking of the n valid labels}, exact:
    its top k, a uniform k-subset, holds on average min(k, n) * |S| / n members of a
    correct set S; divided by k and averaged over the true labels."""
    valid, true_labels = set(valid), list(true_labels)
    if not valid:
        raise ValueError("valid is empty: there are no candidate labels to rank")
    ks = sorted(set(int(k) for k in ks))
    correct = _correct_sets(true_labels, h, valid, ks, progress)
    n, n_valid = len(true_labels), len(valid)
    members = {k: sum(len(correct[t][k]) for t in true_labels) for k in ks}
    return {
        k: members[k] * min(k, n_valid) / n_valid / k / n if n else float("nan")
        for k in ks
    }


def correct_set_sizes(
    true_labels: Iterable[str],
    h: Hierarchy,
    valid: Collection[str],
    ks: Iterable[int] = HIERARCHICAL_KS,
) -> pd.DataFrame:
    """Per k ("hp@k"): the mean size of the distinct true labels' correct sets, and its
    share of the valid labels (a set of most candidates gives little beyond chance)."""
    valid = set(valid)
    ks = sorted(set(int(k) for k in ks))
    correct = _correct_sets(true_labels, h, valid, ks, progress=False)
    if not correct:
        raise ValueError("no true labels: there are no correct sets to measure")
    sizes = {
        f"hp@{k}": np.mean([len(sets[k]) for sets in correct.values()]) for k in ks
    }
    table = pd.DataFrame({"mean size": sizes})
    table["share of candidates"] = table["mean size"] / len(valid)
    return table.rename_axis("metric")


def _correct_sets(
    true_labels: Iterable[str],
    h: Hierarchy,
    valid: Collection[str],
    ks: list[int],
    progress: bool,
) -> dict[str, dict[int, frozenset[str]]]:
    valid = valid if isinstance(valid, (set, frozenset)) else set(valid)
    distinct = sorted(set(true_labels))
    return {
        label: hierarchical_correct_sets(h, label, ks, valid)
        for label in progress_bar(distinct, desc="correct sets", progress=progress)
    }


def _check_ks(
    ks: Iterable[int], ranked: np.ndarray, n_true: int, name: str
) -> list[int]:
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    if ranked.ndim != 2 or len(ranked) != n_true:
        raise ValueError(
            f"{name} must be a 2-d array with one row per true label ({n_true}), "
            f"got shape {ranked.shape}"
        )
    if ranked.shape[1] < ks[-1]:
        raise ValueError(
            f"{name} has {ranked.shape[1]} columns but k={ks[-1]} was asked for; "
            f"rank at least max(ks) labels (top_k(scores, {ks[-1]}))"
        )
    return ks
