"""Model outputs as the paper's table rows, and the top-1 mistakes behind them. Every
model is reduced to a score matrix (test images x candidate labels): cosines for the
embedding models, logits for the softmax baseline, so one function scores them all."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .hierarchy import Hierarchy, pair_hops
from .labels import random_label_space
from .metrics import (
    FLAT_KS,
    HIERARCHICAL_KS,
    chance_hierarchical_precision_at_k,
    chance_hit_at_k,
    flat_hit_at_k,
    hierarchical_precision_at_k,
)
from .vectors import cosine_scores, top_k

# The models' names, in every table, file and figure.
DEVISE = "DeViSE"
RANDOM = "DeViSE, random embeddings"
SOFTMAX = "softmax baseline"
PHASE2 = "DeViSE + phase 2"
CONSE = "ConSE"
CHANCE = "chance"
DEVISE_1K = "DeViSE-1K"  # the paper's setting: trained toward the 1,000 ILSVRC labels
RANDOM_1K = "DeViSE-1K, random embeddings"
CONSE_1K = "ConSE-1K"  # ConSE over the backbone's own 1,000-way classifier
DEVISE_CALTECH = "DeViSE-Caltech"  # `predict`'s name for chapter 5's DeViSE

TABLE1_COLUMNS = (
    ["model", "dim"]
    + [f"hit@{k}" for k in FLAT_KS]
    + [f"hp@{k}" for k in HIERARCHICAL_KS]
)


def conse_name(top_t: int) -> str:
    """ConSE's model name for a number T of top labels combined: "ConSE (T=10)"."""
    return f"{CONSE} (T={top_t})"


def paper_setting_name(model: str) -> str:
    """A model's name as the paper's setting (the 1,000 ILSVRC labels seen) shows it:
    "DeViSE" -> "DeViSE-1K", "ConSE (T=10)" -> "ConSE-1K (T=10)"; others unchanged."""
    for name, shown in ((DEVISE, DEVISE_1K), (CONSE, CONSE_1K)):
        if model.startswith(name) and not model.startswith(shown):
            return shown + model.removeprefix(name)
    return model


def model_file(name: str) -> str:
    """The file a trained model's weights are saved in: "DeViSE" -> "devise.pt"."""
    slug = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return f"{slug}.pt"


def ranked_candidates(
    scores: np.ndarray, candidates: Sequence[str], k: int
) -> np.ndarray:
    """The wnids of each image's k best candidates (N, min(k, C)), best first."""
    return np.asarray(candidates, dtype=object)[top_k(scores, min(k, len(candidates)))]


def ranking_row(
    scores: np.ndarray,
    true_wnids: Sequence[str],
    candidates: Sequence[str],
    hierarchy: Hierarchy | None,
    flat_ks=FLAT_KS,
    hp_ks=HIERARCHICAL_KS,
) -> dict:
    """flat hit@k and (with a hierarchy) hierarchical precision@k of one model's scores
    (images x candidates). Image i's label `true_wnids[i]` need not be a candidate: then
    it is never hit, as in the paper's zero-shot sets."""
    ranked = ranked_candidates(scores, candidates, max((*flat_ks, *hp_ks)))
    return ranked_row(ranked, true_wnids, candidates, hierarchy, flat_ks, hp_ks)


def ranked_row(
    ranked_wnids: np.ndarray,
    true_wnids: Sequence[str],
    candidates: Sequence[str],
    hierarchy: Hierarchy | None,
    flat_ks=FLAT_KS,
    hp_ks=HIERARCHICAL_KS,
) -> dict:
    """`ranking_row` of rankings already made by `ranked_candidates`."""
    k_max = ranked_wnids.shape[1]  # a k beyond the candidates counts the whole list
    true = np.asarray(true_wnids, dtype=object)
    hits = flat_hit_at_k(ranked_wnids, true, [min(k, k_max) for k in flat_ks])
    row = {f"hit@{k}": hits[min(k, k_max)] for k in flat_ks}
    if hierarchy is not None:
        valid, ks = set(candidates), [k for k in hp_ks if k <= k_max]
        hp = hierarchical_precision_at_k(ranked_wnids, true_wnids, hierarchy, valid, ks)
        row.update({f"hp@{k}": v for k, v in hp.items()})
    return row


def chance_row(
    true_wnids: Sequence[str],
    candidates: Sequence[str],
    hierarchy: Hierarchy | None,
    flat_ks=FLAT_KS,
    hp_ks=HIERARCHICAL_KS,
) -> dict:
    """The expected row of a uniformly random ranking of the candidates (exact)."""
    members = set(candidates)  # once: a set per photo cost 0.6 s a row at 21K
    in_set = np.mean([w in members for w in true_wnids]) if len(true_wnids) else 0.0
    hits = chance_hit_at_k(len(candidates), flat_ks)
    row = {f"hit@{k}": v * in_set for k, v in hits.items()}
    if hierarchy is not None:
        ks = [k for k in hp_ks if k <= len(candidates)]
        hp = chance_hierarchical_precision_at_k(true_wnids, hierarchy, members, ks)
        row.update({f"hp@{k}": v for k, v in hp.items()})
    return row


def results_table(rows: dict[str, dict], **columns) -> pd.DataFrame:
    """One row per model, first the `columns` (e.g. dim=...) that map model -> value."""
    return pd.DataFrame(
        {"model": model, **{c: v.get(model) for c, v in columns.items()}, **row}
        for model, row in rows.items()
    )


def table1_scores(
    labels, space, models, features, tuned=None, seed: int = 0
) -> dict[str, np.ndarray]:
    """Every Table 1 model's scores of the test `features` against the training `labels`
    (random vectors for the control); `tuned`: phase 2's test embeddings, if any."""
    from .devise import embed, logits  # torch: the Caltech models are torch modules

    vectors = space.subset(labels).vectors
    random_vectors = random_label_space(space.subset(labels), seed).vectors
    scores = {
        SOFTMAX: logits(models[SOFTMAX], features),
        DEVISE: cosine_scores(embed(models[DEVISE], features), vectors),
        RANDOM: cosine_scores(embed(models[RANDOM], features), random_vectors),
    }
    if tuned is not None:
        scores[PHASE2] = cosine_scores(tuned, vectors)
    return scores


def table1_rows(labels, space, models, test, tuned=None, seed: int = 0) -> pd.DataFrame:
    """Table 1: every model ranking the training `labels` for the `test` photos."""
    features, targets = test
    true = [labels[t] for t in targets]
    h = Hierarchy.wordnet()
    scores = table1_scores(labels, space, models, features, tuned, seed)
    rows = {name: ranking_row(s, true, labels, h) for name, s in scores.items()}
    rows[CHANCE] = chance_row(true, labels, h)
    dim = space.vectors.shape[1]
    table = results_table(rows, dim={name: dim for name in rows if DEVISE in name})
    # hp@k beyond the number of candidates (tiny preset) is undefined: the column stays.
    extra = [c for c in table.columns if c not in TABLE1_COLUMNS]
    return table.reindex(columns=TABLE1_COLUMNS + extra)


def top1_mistakes(
    scores: np.ndarray, true_wnids: Sequence[str], candidates: Sequence[str]
) -> list[tuple[str, str]]:
    """(true label, top-1 label) of each test image whose top-1 label is wrong."""
    if len(scores) != len(true_wnids):
        raise ValueError(
            f"{len(scores)} rows of scores for {len(true_wnids)} true labels"
        )
    best = np.asarray(candidates, dtype=object)[top_k(scores, 1)[:, 0]]
    pairs = zip(true_wnids, best, strict=True)
    return [(truth, guess) for truth, guess in pairs if guess != truth]


def mistake_hops(
    scores: dict[str, np.ndarray],
    true_wnids: Sequence[str],
    candidates: Sequence[str],
    hierarchy: Hierarchy,
) -> dict[str, list[int]]:
    """{model: true-to-top-1 hops of each of its top-1 mistakes} (2: a sibling)."""
    return {
        model: pair_hops(hierarchy, top1_mistakes(s, true_wnids, candidates))
        for model, s in scores.items()
    }


def mistake_summary(hops: dict[str, list[int]], near: int = 4) -> pd.DataFrame:
    """Per model (the index): mistakes, mean and median hops, share within `near`."""
    rows = {}
    for model, distances in hops.items():
        d = np.asarray(distances, dtype=float)
        rows[model] = [len(d)] + (
            [d.mean(), np.median(d), np.mean(d <= near)] if len(d) else [np.nan] * 3
        )
    within = f"share within {near} hops"
    columns = ["top-1 mistakes", "mean hops", "median hops", within]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    return table.astype({"top-1 mistakes": int}).rename_axis("model")


def seed_margins(rows: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """DeViSE against its random-embedding control over the seeds of `rows`: per metric,
    the mean and sd of each and of their gap, and in how many seeds DeViSE is ahead."""
    wide = rows.pivot(index="seed", columns="model", values=list(metrics))
    table = []
    for metric in metrics:
        devise, control = wide[(metric, DEVISE)], wide[(metric, RANDOM)]
        gap = devise - control
        table.append(
            {
                "metric": metric,
                f"{DEVISE} mean": devise.mean(),
                f"{DEVISE} sd": devise.std(ddof=1),
                f"{RANDOM} mean": control.mean(),
                f"{RANDOM} sd": control.std(ddof=1),
                "difference mean": gap.mean(),
                "difference sd": gap.std(ddof=1),
                "seeds DeViSE ahead": f"{int((gap > 0).sum())} of {len(gap)}",
            }
        )
    return pd.DataFrame(table)
