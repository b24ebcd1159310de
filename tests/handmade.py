"""Hand-made inputs small enough to check by hand: the one is-a tree that the hierarchy
tests walk (`zoo`), and result tables in the pipeline's CSV shapes.

Each table builder returns a fresh DataFrame; a test changes one number to cross a
threshold.
"""

import math

import pandas as pd

from devise_lite.hierarchy import Hierarchy

FLAT_KS = (1, 2, 5, 10, 20)
HP_KS = (1, 2, 5, 10, 20)


def table1(
    devise_hit5: float = 0.78,
    softmax_hit5: float = 0.80,
    devise_hp: tuple = (0.50, 0.40, 0.35, 0.30),
    softmax_hp: tuple = (0.48, 0.36, 0.30, 0.25),
    random_hp: tuple = (0.52, 0.30, 0.25, 0.20),
    phase2: bool = False,
) -> pd.DataFrame:
    """Our Table 1: hp tuples are hp@2, hp@5, hp@10, hp@20."""

    def row(model, dim, hits, hp):
        return {
            "model": model,
            "dim": dim,
            **{f"hit@{k}": h for k, h in zip(FLAT_KS, hits, strict=True)},
            **{f"hp@{k}": h for k, h in zip((2, 5, 10, 20), hp, strict=True)},
        }

    rows = [
        row("softmax baseline", None, (0.5, 0.6, softmax_hit5, 0.9, 0.95), softmax_hp),
        row("DeViSE", 50, (0.4, 0.5, devise_hit5, 0.88, 0.94), devise_hp),
        row("DeViSE, random embeddings", 50, (0.4, 0.5, 0.7, 0.85, 0.9), random_hp),
        row("chance", None, (0.01, 0.02, 0.05, 0.1, 0.2), (0.1, 0.12, 0.15, 0.2)),
    ]
    if phase2:
        rows.insert(2, row("DeViSE + phase 2", 50, (0.45,) * 5, (0.6,) * 4))
    return pd.DataFrame(rows)


# Our candidate sets: (n_candidates, n_images); the +seen sets add 50 seen labels.
SETS = {
    "2-hop": (1000, 40),
    "2-hop+seen": (1050, 40),
    "3-hop": (4000, 60),
    "3-hop+seen": (4050, 60),
    "21k": (10000, 90),
    "21k+seen": (10050, 90),
}

# DeViSE's hit@5 and hit@20 per set (the other k are filled in between).
DEVISE = {
    "2-hop": (0.20, 0.40),
    "2-hop+seen": (0.10, 0.25),
    "3-hop": (0.08, 0.20),
    "3-hop+seen": (0.05, 0.15),
    "21k": (0.04, 0.10),
    "21k+seen": (0.03, 0.08),
}


def _hits(hit5: float, hit20: float) -> dict:
    return {
        "hit@1": hit5 / 4,
        "hit@2": hit5 / 2,
        "hit@5": hit5,
        "hit@10": (hit5 + hit20) / 2,
        "hit@20": hit20,
    }


def table2(
    devise: dict | None = None,
    label_hit5: float = 0.18,
    random: tuple = (0.01, 0.03),
    conse: dict | None = None,
    sets: dict | None = None,
    caltech: bool = True,
) -> pd.DataFrame:
    """Our Table 2. `devise` overrides DeViSE's (hit@5, hit@20) per set, `sets` the
    (n_candidates, n_images) per set; `conse` maps a ConSE model name to its hit@5 on
    every set (default: T=1 at 1.1x and T=10 at 1.25x DeViSE's)."""
    devise = {**DEVISE, **(devise or {})}
    sets = {**SETS, **(sets or {})}
    rows = []
    for name, (n, photos) in sets.items():
        hit5, hit20 = devise[name]
        base = {"candidate_set": name, "n_candidates": n, "n_images": photos}
        labels = {"n_labels": 4, "seen_labels": "imagenet1k"}
        per_label = {f"label_hit@{k}": math.nan for k in FLAT_KS}
        rows.append(
            {
                **base,
                "model": "DeViSE",
                **_hits(hit5, hit20),
                **labels,
                **per_label,
                "label_hit@5": label_hit5,
            }
        )
        rows.append(
            {**base, "model": "DeViSE, random embeddings", **_hits(*random), **labels}
        )
        models = (
            conse if conse is not None else {"ConSE (T=1)": 1.1, "ConSE (T=10)": 1.25}
        )
        for model, factor in models.items():
            rows.append(
                {**base, "model": model, **_hits(hit5 * factor, hit20), **labels}
            )
        chance = {f"hit@{k}": min(k, n) / n for k in FLAT_KS}
        rows.append({**base, "model": "chance", **chance, **labels})
        if caltech:
            # The other experiment: far better numbers that must never be picked up.
            rows.append(
                {
                    **base,
                    "model": "DeViSE",
                    **_hits(0.9, 0.99),
                    "label_hit@5": 0.9,
                    "n_labels": 4,
                    "seen_labels": "caltech",
                }
            )
    return pd.DataFrame(rows)


def table3(devise_hp5: float = 0.30, chance_hp5: float = 0.06) -> pd.DataFrame:
    """Our Table 3: hp@k = the hp@5 given, for every k, on every set."""
    rows = []
    for name, (n, photos) in SETS.items():
        for model, value in (
            ("DeViSE", devise_hp5),
            ("DeViSE, random embeddings", 0.05),
            ("ConSE (T=1)", 0.2),
            ("ConSE (T=10)", 0.25),
            ("softmax baseline", 0.15),
            ("chance", chance_hp5),
        ):
            rows.append(
                {
                    "candidate_set": name,
                    "model": model,
                    **{f"hp@{k}": value for k in HP_KS},
                    "n_candidates": n,
                    "n_images": photos,
                    "n_labels": 4,
                    "seen_labels": "imagenet1k",
                }
            )
    return pd.DataFrame(rows)


def similarity(ours: float = 0.65, glove: float = 0.50) -> pd.DataFrame:
    """The word-similarity table: our skip-gram model and GloVe on two datasets."""
    return pd.DataFrame(
        [
            ("skip-gram 100-d", "WordSim-353", ours, ours, 1.0),
            ("skip-gram 100-d", "SimLex-999", 0.3, 0.3, 2.0),
            ("GloVe 6B 50-d", "WordSim-353", glove, glove, 0.0),
            ("GloVe 6B 50-d", "SimLex-999", 0.26, 0.26, 0.0),
        ],
        columns=["model", "dataset", "spearman", "pearson", "oov_percent"],
    )


def shark_neighbours(sharks_per_species: tuple = (7, 6)) -> pd.DataFrame:
    """Each species' 9 nearest labels, the first n of them sharks, then three more
    non-shark neighbours at ranks 10-12 (beyond the 9 the test looks at)."""
    rows = []
    for i, n in enumerate(sharks_per_species):
        for rank in range(1, 13):
            shark = rank <= n
            rows.append(
                {
                    "query_wnid": f"n0{i}",
                    "query": f"shark {i}",
                    "rank": rank,
                    "neighbour_wnid": f"n1{rank:02d}",
                    "neighbour": "a shark" if shark else "not a shark",
                    "cosine": 1 - rank / 100,
                    "is_shark": shark,
                }
            )
    return pd.DataFrame(rows)


def sharks(
    great_white: float = 0.70,
    hammerhead: float = 0.95,
    chance: float = 0.01,
    notes: dict | None = None,
) -> pd.DataFrame:
    """The shark experiment: per held-out species, DeViSE's and chance's share of photos
    with a shark in the top 5 of the 21k candidates; `notes` marks a direction unrun."""
    notes = notes or {}
    rows = []
    for held_out, share in (
        ("great white shark", great_white),
        ("hammerhead", hammerhead),
    ):
        seen = "hammerhead" if held_out == "great white shark" else "great white shark"
        for model, candidates, value in (
            ("DeViSE", "21k", share),
            ("ConSE (T=10)", "21k", 0.5),
            ("softmax baseline", "seen", 1.0),
            ("chance", "21k", chance),
        ):
            rows.append(
                {
                    "held_out": held_out,
                    "model": model,
                    "candidates": candidates,
                    "n_images": 20,
                    "share_shark_in_top5": value,
                    "top1_most_common": "tiger shark",
                    "share_shark_top1": value / 2,
                    "share_true_in_top5": value / 3,
                    "n_candidates": 10000,
                    "seen_species": seen,
                    "note": notes.get(held_out, ""),
                    "seen_labels": "imagenet1k",
                }
            )
    return pd.DataFrame(rows)


# The hand-made is-a tree, the only one the tests use (hop counts in the tests are
# counted on it by hand):
# animal -> {fish -> {shark -> {great_white, hammerhead, tiger_shark}, ray},
#            mammal -> {whale, dolphin}}
ZOO_PARENTS = {
    "fish": ["animal"],
    "mammal": ["animal"],
    "shark": ["fish"],
    "ray": ["fish"],
    "great_white": ["shark"],
    "hammerhead": ["shark"],
    "tiger_shark": ["shark"],
    "whale": ["mammal"],
    "dolphin": ["mammal"],
}
ZOO_LEAVES = ["great_white", "hammerhead", "tiger_shark", "ray", "whale", "dolphin"]
# A label vocabulary on it: the leaves and one inner node; "animal", "fish" and "shark"
# are not labels.
ZOO_VOCABULARY = [*ZOO_LEAVES, "mammal"]


def zoo() -> Hierarchy:
    """The hand-made tree as a `Hierarchy` (a fresh one: its expansion cache is its
    own)."""
    return Hierarchy.from_parents(ZOO_PARENTS)
