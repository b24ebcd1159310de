"""Zero-shot learning: the paper's Tables 2 and 3 at small scale, and the sharks.

THE PROTOCOL. A seeded share of the Caltech-101 experiment labels is held out ("unseen"), one member
of each WordNet family of labels first (`splits.py` states the rule and why). DeViSE,
its random-embedding control and the softmax baseline are trained on the training images of the
other ("seen") labels only; no unseen image or label touches training. The unseen labels' test
images are then labelled by ranking *candidate label sets* that the models never trained on:

* "2-hop" / "3-hop": labels of the label space within 2 (3) hops of a seen label in the WordNet noun
  graph, minus the seen labels (`hierarchy.hop_candidates`; the rule is stated there);
* "21k": the whole label space minus the seen labels;
* each also "+seen", with the seen labels added back, so a model can (wrongly) answer a seen label.

Each set is scored on the unseen test images whose true label lies in it. ConSE (`conse.py`) reuses
the seen-label softmax baseline, with no extra training. The softmax baseline itself can only name
seen labels, so it appears in the hierarchical-precision table only.

THE SHARKS. The paper's example is a network that saw some shark species and never the others.
Here, one of the two species of the shark photos joins the Caltech experiment labels as a seen
label (some of its photos for training), and the other species' photos are labelled zero-shot over
the whole label space; both directions are run.

Training is cached per configuration (stage "zeroshot"); tables are recomputed from the cached
models in seconds and written to `data/results/`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import pipeline
from .config import Config, stage_key
from .splits import label_families, split_seen_unseen
from .storage import results_dir, write_csv_atomic

CANDIDATE_SETS = ("2-hop", "2-hop+seen", "3-hop", "3-hop+seen", "21k", "21k+seen")
HP_KS = (1, 2, 5, 10, 20)
FLAT_KS = (1, 2, 5, 10, 20)
TABLE2_COLUMNS = ["candidate_set", "n_candidates", "n_images", "model"] + [
    f"hit@{k}" for k in FLAT_KS
]
TABLE3_COLUMNS = ["candidate_set", "model"] + [f"hp@{k}" for k in HP_KS]
SHARK_COLUMNS = [
    "held_out",
    "model",
    "candidates",
    "n_images",
    "share_shark_in_top5",
    "top1_most_common",
    "share_shark_top1",
    "share_true_in_top5",
    "n_candidates",
    "seen_species",
    "note",
]
TOP5_COLUMNS = [
    "held_out",
    "image",
    "model",
    "candidates",
    "rank",
    "wnid",
    "name",
    "synset",
    "score",
    "is_shark",
]
SHARK_NAMES = {"great_white_shark": "great white shark", "hammerhead": "hammerhead"}


# ---------------------------------------------------------------- seen, unseen and the candidate sets


def candidate_set(name: str, seen, vocabulary: list[str], hierarchy=None) -> list[str]:
    """One named candidate set (see the module docstring), in vocabulary order.

    `hierarchy` (a `hierarchy.Hierarchy`) is needed for the hop sets only."""
    from .hierarchy import hop_candidates

    base, _, plus = name.partition("+")
    if name not in CANDIDATE_SETS:
        raise ValueError(
            f"unknown candidate set {name!r}; choose one of {', '.join(CANDIDATE_SETS)}"
        )
    seen = set(seen)
    if base == "21k":
        chosen = set(vocabulary) - seen
    else:
        if hierarchy is None:
            raise ValueError(
                f"candidate set {name!r} needs a hierarchy (Hierarchy.wordnet())"
            )
        chosen = hop_candidates(hierarchy, seen, int(base[0]), vocabulary)
    if plus:
        chosen |= seen & set(vocabulary)
    return [w for w in vocabulary if w in chosen]


def candidate_sets(seen, vocabulary: list[str], hierarchy) -> dict[str, list[str]]:
    """All six candidate sets of Tables 2 and 3, by name."""
    return {
        name: candidate_set(name, seen, vocabulary, hierarchy)
        for name in CANDIDATE_SETS
    }


def restrict_to_labels(
    features: np.ndarray, targets: np.ndarray, labels: list[str], keep: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows whose label (`labels[target]`) is in `keep`: (features, targets as indices into
    `keep`, the boolean row mask)."""
    position = {w: i for i, w in enumerate(keep)}
    wnids = np.asarray(labels, dtype=object)[targets]
    mask = np.array([w in position for w in wnids], dtype=bool)
    return (
        features[mask],
        np.array([position[w] for w in wnids[mask]], dtype=np.int64),
        mask,
    )


def families(cfg: Config, labels: list[str]) -> list[list[str]]:
    """The label families of the split protocol (`splits.py`); none for a uniform split."""
    from .hierarchy import Hierarchy

    if cfg.zeroshot.family_hops is None:
        return []
    return label_families(labels, Hierarchy.wordnet(), cfg.zeroshot.family_hops)


@dataclass
class ZeroShotData:
    """The images of Tables 2 and 3: training rows of seen labels, test rows of unseen labels."""

    seen: list[str]
    unseen: list[str]
    train_paths: list[Path]
    train_features: np.ndarray
    train_targets: np.ndarray  # indices into `seen`
    test_paths: list[Path]
    test_features: np.ndarray
    test_wnids: list[str]  # true (unseen) labels


def zero_shot_data(cfg: Config) -> ZeroShotData:
    """Split the experiment labels and select the images: the only data the zero-shot models see."""
    labels = pipeline.experiment_labels(cfg)[0]
    seen, unseen = split_seen_unseen(
        labels, cfg.zeroshot.unseen_share, cfg.zeroshot.seed, families(cfg, labels)
    )
    split, keep = pipeline.image_split(cfg), set(labels)
    selected = {}
    for part, wanted in (("train", seen), ("test", unseen)):
        features, targets = pipeline.image_features(cfg, part)
        paths = [
            i.path for i in getattr(split, part) if i.wnid in keep
        ]  # the features' row order
        x, y, mask = restrict_to_labels(features, targets, labels, wanted)
        selected[part] = ([p for p, m in zip(paths, mask) if m], x, y)
    (train_paths, x_train, y_train), (test_paths, x_test, y_test) = (
        selected["train"],
        selected["test"],
    )
    return ZeroShotData(
        seen,
        unseen,
        train_paths,
        x_train,
        y_train,
        test_paths,
        x_test,
        [unseen[t] for t in y_test],
    )


# ---------------------------------------------------------------- the sharks


@dataclass
class SharkDirection:
    """One direction of the shark experiment: `held_in` is a seen label, `held_out` is not."""

    held_in: str  # shark folder names, e.g. "great_white_shark"
    held_out: str
    labels: list[str]  # seen labels: the experiment labels + the held-in species
    train_features: np.ndarray | None = None
    train_targets: np.ndarray | None = None
    test_paths: list[Path] | None = None
    test_features: np.ndarray | None = None
    note: str = ""  # why the direction cannot run (then no arrays)


def shark_direction(cfg: Config, held_out: str) -> SharkDirection:
    """Training data (Caltech + `train_per_class` photos of the other species) and test photos."""
    from .images import SHARK_FOLDERS, shark_photos, split_label
    from .visual import extract_features

    held_in = next(f for f in SHARK_FOLDERS if f != held_out)
    labels = pipeline.experiment_labels(cfg)[0] + [SHARK_FOLDERS[held_in]]
    if SHARK_FOLDERS[held_in] not in pipeline.label_space(cfg):
        return SharkDirection(
            held_in,
            held_out,
            labels,
            note=f"{SHARK_NAMES[held_in]} has no label vector in this preset",
        )
    photos = shark_photos()
    features = {
        f: extract_features([p.path for p in photos[f]], cfg.visual, f"sharks-{f}")
        for f in photos
    }
    # The held-in species' photos are split like a Caltech label: seeded by the label itself.
    train, _ = split_label(photos[held_in], replace(cfg.images, test_per_class=None))
    row = {p.path: i for i, p in enumerate(photos[held_in])}
    shark_rows = features[held_in][[row[p.path] for p in train]]
    x, y = pipeline.image_features(cfg, "train")
    return SharkDirection(
        held_in,
        held_out,
        labels,
        np.concatenate([x, shark_rows]),
        np.concatenate([y, np.full(len(train), len(labels) - 1, dtype=np.int64)]),
        [p.path for p in photos[held_out]],
        features[held_out],
    )


def shark_wnid_set(vocabulary) -> set[str]:
    """The labels that count as "a shark": shark.n.01 and every synset below it."""
    from .wordnet import wnid_of, wordnet

    shark = wordnet().synset("shark.n.01")
    below = {
        wnid_of(s)
        for s in shark.closure(lambda s: s.hyponyms() + s.instance_hyponyms())
    }
    return (below | {wnid_of(shark)}) & set(vocabulary)


def share_with_member_in_top(
    ranked_wnids: np.ndarray, members: set[str], k: int
) -> float:
    """Share of rows whose first k labels include a member of `members`."""
    if len(ranked_wnids) == 0:
        return float("nan")
    return float(np.mean([any(w in members for w in row[:k]) for row in ranked_wnids]))


def chance_share_in_top(n_candidates: int, n_members: int, k: int) -> float:
    """P(a uniformly random k-subset of n candidates holds at least one of the m members)."""
    k = min(k, n_candidates)
    none = 1.0
    for i in range(k):
        none *= max(n_candidates - n_members - i, 0) / (n_candidates - i)
    return 1.0 - none


# ---------------------------------------------------------------- training (cached)


def zero_shot_key(cfg: Config) -> str:
    return stage_key(pipeline.train_key(cfg), cfg.zeroshot)


def zero_shot_models(cfg: Config) -> dict:
    """The seen-label models: {"DeViSE", "DeViSE, random embeddings", "softmax baseline"} and
    "sharks": {held_out folder: {"DeViSE", "softmax baseline"}}, trained once per configuration."""
    import torch

    from .devise import Projection
    from .labels import random_label_space

    space = pipeline.label_space(cfg)

    def build(tmp: Path) -> dict:
        from .devise import (
            train_projection,
            train_softmax,
        )  # looked up at call time (tests patch them)

        data = zero_shot_data(cfg)
        random_vectors = (
            random_label_space(space, cfg.zeroshot.seed).subset(data.seen).vectors
        )
        for slug, vectors in (
            ("devise", space.subset(data.seen).vectors),
            ("random", random_vectors),
        ):
            model, _ = train_projection(
                data.train_features, data.train_targets, vectors, cfg.devise
            )
            torch.save(model.state_dict(), tmp / f"{slug}.pt")
        model, _ = train_softmax(
            data.train_features, data.train_targets, len(data.seen), cfg.devise
        )
        torch.save(model.state_dict(), tmp / "softmax.pt")
        sharks = {}
        for held_out in SHARK_NAMES:
            d = shark_direction(cfg, held_out)
            sharks[held_out] = {"note": d.note, "labels": d.labels}
            if d.note:
                continue
            model, _ = train_projection(
                d.train_features,
                d.train_targets,
                space.subset(d.labels).vectors,
                cfg.devise,
            )
            torch.save(model.state_dict(), tmp / f"sharks-{held_out}-devise.pt")
            model, _ = train_softmax(
                d.train_features, d.train_targets, len(d.labels), cfg.devise
            )
            torch.save(model.state_dict(), tmp / f"sharks-{held_out}-softmax.pt")
            sharks[held_out]["train_images"] = len(d.train_targets)
        return {
            "seen": data.seen,
            "unseen": data.unseen,
            "train_images": len(data.train_targets),
            "sharks": sharks,
        }

    folder = pipeline._cached_dir("zeroshot", zero_shot_key(cfg), build)
    info = pipeline.stage_info(folder)
    dim, feature_dim = (
        space.vectors.shape[1],
        torch.load(folder / "softmax.pt")["weight"].shape[1],
    )

    def load(module, name):
        module.load_state_dict(torch.load(folder / name))
        return module.eval()

    models = {
        "seen": info["seen"],
        "unseen": info["unseen"],
        "info": info,
        "DeViSE": load(Projection(feature_dim, dim), "devise.pt"),
        "DeViSE, random embeddings": load(Projection(feature_dim, dim), "random.pt"),
        "softmax baseline": load(
            torch.nn.Linear(feature_dim, len(info["seen"])), "softmax.pt"
        ),
        "sharks": {},
    }
    for held_out, entry in info["sharks"].items():
        if not entry["note"]:
            models["sharks"][held_out] = {
                "DeViSE": load(
                    Projection(feature_dim, dim), f"sharks-{held_out}-devise.pt"
                ),
                "softmax baseline": load(
                    torch.nn.Linear(feature_dim, len(entry["labels"])),
                    f"sharks-{held_out}-softmax.pt",
                ),
            }
    return models


# ---------------------------------------------------------------- evaluation


@dataclass
class ZeroShotResults:
    table2: pd.DataFrame  # flat hit@k per candidate set and model
    table3: pd.DataFrame  # hierarchical precision@k, the softmax baseline included
    sharks: pd.DataFrame  # one row per (held-out species, model, candidate set)
    shark_top5: (
        pd.DataFrame
    )  # the top-5 lists behind it: one row per (photo, model, set, rank)
    labels: pd.DataFrame  # the experiment labels: seen or unseen, test images, hop sets


def seen_only_row(
    seen_logits: np.ndarray, true_wnids, seen: list[str], valid, hierarchy, hp_ks=HP_KS
) -> dict:
    """Hierarchical precision@k of a classifier that can only rank the seen labels.

    Its answers are scored against correct sets drawn from `valid` (the candidate set plus the
    seen labels): with the seen labels left out, none of its answers could ever count."""
    from .metrics import hierarchical_precision_at_k, top_k

    k_max = min(max(hp_ks), len(seen))
    ranked = np.asarray(seen, dtype=object)[top_k(seen_logits, k_max)]
    hp = hierarchical_precision_at_k(
        ranked,
        list(true_wnids),
        hierarchy,
        set(valid),
        [k for k in hp_ks if k <= k_max],
    )
    return {f"hp@{k}": v for k, v in hp.items()}


def zero_shot_results(cfg: Config, progress: bool = True) -> ZeroShotResults:
    """Tables 2 and 3 and the shark experiment from the cached models; writes
    `table2_zero_shot.csv`, `table3_zero_shot_hp.csv` and `sharks_zero_shot.csv` (+ the top-5 lists)."""
    from tqdm.auto import tqdm

    from .conse import conse_scores
    from .devise import embed, logits
    from .evaluation import chance_row, cosine_scores, ranking_row
    from .hierarchy import Hierarchy
    from .labels import random_label_space

    models, data, space = (
        zero_shot_models(cfg),
        zero_shot_data(cfg),
        pipeline.label_space(cfg),
    )
    random_space = random_label_space(space, cfg.zeroshot.seed)
    h = Hierarchy.wordnet()
    sets = candidate_sets(data.seen, space.wnids, h)
    seen_vectors = space.subset(data.seen).vectors
    embedded = embed(models["DeViSE"], data.test_features)
    embedded_random = embed(models["DeViSE, random embeddings"], data.test_features)
    seen_logits = logits(models["softmax baseline"], data.test_features)
    true = np.asarray(data.test_wnids, dtype=object)
    rows2, rows3 = [], []
    for name, cands in tqdm(
        sets.items(), desc="zero-shot tables", disable=not progress
    ):
        mask = np.isin(true, np.asarray(cands, dtype=object))
        head = {
            "candidate_set": name,
            "n_candidates": len(cands),
            "n_images": int(mask.sum()),
        }
        rows: dict[str, dict] = {
            m: {}
            for m in (
                "DeViSE",
                "DeViSE, random embeddings",
                "ConSE",
                "softmax baseline",
                "chance",
            )
        }
        if mask.any():
            t, vectors = list(true[mask]), space.subset(cands).vectors
            scores = {
                "DeViSE": cosine_scores(embedded[mask], vectors),
                "DeViSE, random embeddings": cosine_scores(
                    embedded_random[mask], random_space.subset(cands).vectors
                ),
                "ConSE": conse_scores(
                    seen_logits[mask], seen_vectors, vectors, cfg.zeroshot.conse_top_t
                ),
            }
            rows.update(
                {
                    m: ranking_row(s, t, cands, h, flat_ks=FLAT_KS, hp_ks=HP_KS)
                    for m, s in scores.items()
                }
            )
            rows["chance"] = chance_row(t, cands, h, flat_ks=FLAT_KS, hp_ks=HP_KS)
            rows["softmax baseline"] = seen_only_row(
                seen_logits[mask], t, data.seen, set(cands) | set(data.seen), h
            )
        rows2 += [
            {**head, "model": m, **r}
            for m, r in rows.items()
            if m != "softmax baseline"
        ]
        rows3 += [{**head, "model": m, **r} for m, r in rows.items()]
    table2 = _columns(pd.DataFrame(rows2), TABLE2_COLUMNS)
    table3 = _columns(
        pd.DataFrame(rows3), TABLE3_COLUMNS, extra=("n_candidates", "n_images")
    )
    sharks, top5 = _shark_results(cfg, models, space)
    labels = _label_table(data, space, sets)
    out = results_dir()
    write_csv_atomic(table2, out / "table2_zero_shot.csv")
    write_csv_atomic(table3, out / "table3_zero_shot_hp.csv")
    write_csv_atomic(sharks, out / "sharks_zero_shot.csv")
    write_csv_atomic(top5, out / "sharks_zero_shot_top5.csv")
    return ZeroShotResults(table2, table3, sharks, top5, labels)


def _columns(
    table: pd.DataFrame, columns: list[str], extra: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The contract's columns (a k larger than a tiny candidate set leaves NaN), then `extra`."""
    return table.reindex(columns=columns + [c for c in extra if c not in columns])


def _label_table(data: ZeroShotData, space, sets: dict[str, list[str]]) -> pd.DataFrame:
    names = dict(zip(space.wnids, space.names))
    counts = pd.Series(data.test_wnids, dtype=object).value_counts()
    rows = [
        {
            "wnid": w,
            "name": names[w],
            "role": "unseen" if w in data.unseen else "seen",
            "test_images": int(counts.get(w, 0)) if w in data.unseen else 0,
            "in 2-hop": w in set(sets["2-hop"]),
            "in 3-hop": w in set(sets["3-hop"]),
        }
        for w in data.seen + data.unseen
    ]
    return pd.DataFrame(rows)


def _shark_results(
    cfg: Config, models: dict, space
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from .conse import conse_scores
    from .devise import embed, logits
    from .evaluation import cosine_scores
    from .images import SHARK_FOLDERS, shark_photos
    from .metrics import top_k
    from .wordnet import synset_of

    sharks_in_space = shark_wnid_set(space.wnids)
    names = dict(zip(space.wnids, space.names))
    synsets: dict[str, str] = {}

    def synset_name(
        wnid: str,
    ) -> str:  # "hammerhead.n.02": unambiguous where display names are not
        if wnid not in synsets:
            synsets[wnid] = synset_of(wnid).name()
        return synsets[wnid]

    summary, lists = [], []
    for held_out, entry in models["info"]["sharks"].items():
        held_in = next(f for f in SHARK_FOLDERS if f != held_out)
        seen, true = entry["labels"], SHARK_FOLDERS[held_out]
        base = {
            "held_out": SHARK_NAMES[held_out],
            "seen_species": SHARK_NAMES[held_in],
            "note": entry["note"],
        }
        combos = [
            ("DeViSE", "21k"),
            ("DeViSE", "21k+seen"),
            ("ConSE", "21k"),
            ("ConSE", "21k+seen"),
            ("softmax baseline", "seen"),
            ("chance", "21k"),
            ("chance", "21k+seen"),
        ]
        if entry["note"]:
            n = len(shark_photos()[held_out])
            summary += [
                {**base, "model": m, "candidates": c, "n_images": n} for m, c in combos
            ]
            continue
        d, trained = shark_direction(cfg, held_out), models["sharks"][held_out]
        embedded, class_logits = (
            embed(trained["DeViSE"], d.test_features),
            logits(trained["softmax baseline"], d.test_features),
        )
        seen_vectors = space.subset(seen).vectors
        for model, cands_name in combos:
            cands = (
                seen
                if cands_name == "seen"
                else candidate_set(cands_name, seen, space.wnids)
            )
            members = sharks_in_space & set(cands)
            row = {
                **base,
                "model": model,
                "candidates": cands_name,
                "n_images": len(d.test_paths),
                "n_candidates": len(cands),
            }
            if model == "chance":
                row.update(
                    share_shark_in_top5=chance_share_in_top(
                        len(cands), len(members), 5
                    ),
                    share_shark_top1=len(members) / len(cands),
                    share_true_in_top5=min(5, len(cands)) / len(cands)
                    if true in cands
                    else np.nan,
                )
                summary.append(row)
                continue
            if model == "softmax baseline":
                scores = class_logits
            else:
                vectors = space.subset(cands).vectors
                scores = (
                    cosine_scores(embedded, vectors)
                    if model == "DeViSE"
                    else conse_scores(
                        class_logits, seen_vectors, vectors, cfg.zeroshot.conse_top_t
                    )
                )
            ranked_idx = top_k(scores, min(5, len(cands)))
            ranked = np.asarray(cands, dtype=object)[ranked_idx]
            # Synset names, not display names: "hammerhead" is both a shark and a hammer's head.
            top1 = pd.Series([synset_name(w) for w in ranked[:, 0]]).value_counts()
            row.update(
                share_shark_in_top5=share_with_member_in_top(ranked, members, 5),
                share_shark_top1=share_with_member_in_top(ranked, members, 1),
                share_true_in_top5=share_with_member_in_top(ranked, {true}, 5)
                if true in cands
                else np.nan,
                top1_most_common=f"{top1.index[0]}: {top1.iloc[0]}/{len(ranked)}",
            )
            summary.append(row)
            for i, (path, wnids) in enumerate(zip(d.test_paths, ranked)):
                lists += [
                    {
                        "held_out": SHARK_NAMES[held_out],
                        "image": str(path),
                        "model": model,
                        "candidates": cands_name,
                        "rank": r + 1,
                        "wnid": w,
                        "name": names[w],
                        "synset": synset_name(w),
                        "score": float(scores[i, ranked_idx[i, r]]),
                        "is_shark": w in sharks_in_space,
                    }
                    for r, w in enumerate(wnids)
                ]
    return _columns(pd.DataFrame(summary), SHARK_COLUMNS), pd.DataFrame(
        lists, columns=TOP5_COLUMNS
    )


STAGE = {
    "zeroshot": (
        "Tables 2 and 3 on unseen labels, and the sharks -> data/results/table2_zero_shot.csv, "
        "table3_zero_shot_hp.csv, sharks_zero_shot.csv",
        zero_shot_results,
    )
}
