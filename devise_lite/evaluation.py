"""Turning model outputs into the paper's table rows: rank candidates, then score the
rankings.

Every model is reduced to a score matrix (test images x candidate labels): cosine
similarity for the embedding models, logits for the softmax baseline. One function then
produces a row of flat hit@k and hierarchical precision@k, so all models are measured
by the same code. The top-1 mistakes behind a row, and how far in WordNet they fall
from the truth, are measured here too.
"""

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
    """The wnids of each test image's k best candidates (N, min(k, C)), best first:
    `scores[i, j]` scores candidate `candidates[j]` for image i."""
    return np.asarray(candidates, dtype=object)[top_k(scores, min(k, len(candidates)))]


def ranking_row(
    scores: np.ndarray,
    true_wnids: Sequence[str],
    candidates: Sequence[str],
    hierarchy: Hierarchy | None,
    flat_ks=FLAT_KS,
    hp_ks=HIERARCHICAL_KS,
) -> dict:
    """flat hit@k and (with a hierarchy) hierarchical precision@k of one model over
    `candidates`, from its scores (images x candidates).

    Image i's label is `true_wnids[i]`, which need not be a candidate: then it can
    never be hit, as in the paper's zero-shot sets.
    """
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
    """`ranking_row` of rankings already made (`ranked_candidates`, at least as many
    columns as the largest k or all the candidates)."""
    row = {f"hit@{k}": v for k, v in _flat(ranked_wnids, true_wnids, flat_ks).items()}
    if hierarchy is not None:
        hp = hierarchical_precision_at_k(
            ranked_wnids,
            true_wnids,
            hierarchy,
            set(candidates),
            [k for k in hp_ks if k <= ranked_wnids.shape[1]],
        )
        row.update({f"hp@{k}": v for k, v in hp.items()})
    return row


def _flat(ranked_wnids: np.ndarray, true_wnids: Sequence[str], ks) -> dict[int, float]:
    """flat hit@k on wnids; k beyond the number of candidates counts as the whole
    list."""
    k_max = ranked_wnids.shape[1]
    hits = flat_hit_at_k(
        ranked_wnids, np.asarray(true_wnids, dtype=object), [min(k, k_max) for k in ks]
    )
    return {k: hits[min(k, k_max)] for k in ks}


def chance_row(
    true_wnids: Sequence[str],
    candidates: Sequence[str],
    hierarchy: Hierarchy | None,
    flat_ks=FLAT_KS,
    hp_ks=HIERARCHICAL_KS,
) -> dict:
    """The expected row of a uniformly random ranking of the candidates (exact, not
    sampled)."""
    candidate_set = set(candidates)  # once: a set per photo cost 0.6 s a row at 21K
    in_set = (
        np.mean([w in candidate_set for w in true_wnids]) if len(true_wnids) else 0.0
    )
    row = {
        f"hit@{k}": v * in_set
        for k, v in chance_hit_at_k(len(candidates), flat_ks).items()
    }
    if hierarchy is not None:
        hp = chance_hierarchical_precision_at_k(
            true_wnids,
            hierarchy,
            candidate_set,
            [k for k in hp_ks if k <= len(candidates)],
        )
        row.update({f"hp@{k}": v for k, v in hp.items()})
    return row


def results_table(rows: dict[str, dict], **columns) -> pd.DataFrame:
    """A DataFrame with one row per model: `columns` (e.g. dim=...) map model -> value
    first."""
    records = [
        {
            "model": model,
            **{c: values.get(model) for c, values in columns.items()},
            **row,
        }
        for model, row in rows.items()
    ]
    return pd.DataFrame(records)


def table1_scores(
    labels, space, models, features, tuned=None, seed: int = 0
) -> dict[str, np.ndarray]:
    """Every Table 1 model's scores of the test images `features` against the same
    training `labels`: logits for the softmax baseline, cosines to the label vectors
    for DeViSE and to random ones for its control; `tuned` are phase 2's test
    embeddings (its row is left out without them)."""
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
    """The paper's Table 1: every model ranks the same training `labels` for the test
    images `test` = (features, class indices); `tuned` are phase 2's test embeddings."""
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


# ------------------------------------------------------------ the mistakes behind a row


def top1_mistakes(
    scores: np.ndarray, true_wnids: Sequence[str], candidates: Sequence[str]
) -> list[tuple[str, str]]:
    """(true label, top-1 label) of every test image whose top-1 label is wrong, in
    the images' order."""
    if len(scores) != len(true_wnids):
        raise ValueError(
            f"{len(scores)} rows of scores for {len(true_wnids)} true labels"
        )
    best = np.asarray(candidates, dtype=object)[top_k(scores, 1)[:, 0]]
    return [
        (truth, guess)
        for truth, guess in zip(true_wnids, best, strict=True)
        if guess != truth
    ]


def mistake_hops(
    scores: dict[str, np.ndarray],
    true_wnids: Sequence[str],
    candidates: Sequence[str],
    hierarchy: Hierarchy,
) -> dict[str, list[int]]:
    """{model: the hop distance from the true label to the top-1 label of each of its
    top-1 mistakes} (2 hops: a sibling; see the hop rule in `hierarchy`)."""
    return {
        model: pair_hops(hierarchy, top1_mistakes(s, true_wnids, candidates))
        for model, s in scores.items()
    }


def mistake_summary(hops: dict[str, list[int]], near: int = 4) -> pd.DataFrame:
    """Per model (the index): how many top-1 mistakes, their mean and median hop
    distance, and the share within `near` hops; NaN for a model without mistakes."""
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
    """DeViSE against its random-embedding control over seeds: for each metric, both
    models' mean and standard deviation over the seeds of `rows` (seed, model, metric
    columns), the mean difference, its standard deviation, and in how many seeds
    DeViSE is ahead."""
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
