"""Chapter 6's broader zero-shot test set: its labels and photos by photo set, and the
spread of the models' hits over its labels (`zero_shot_per_label.csv`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..evaluation import CHANCE, DEVISE, conse_name, paper_setting_name
from .beside_paper import paper_experiment

ALL = "all sets"


def test_set_table(
    wnids: Sequence[str],
    datasets: Sequence[str],
    sets: Mapping[str, list[str]],
    names=("2-hop", "3-hop", "21k"),
) -> pd.DataFrame:
    """Per photo set, then all: photos, labels, and labels in each set of `names`."""
    photos = pd.DataFrame({"wnid": list(wnids), "dataset": list(datasets)})
    rows = []
    for name, group in [*photos.groupby("dataset", sort=False), (ALL, photos)]:
        labels = set(group["wnid"])
        rows.append(
            {"photo set": name, "photos": len(group), "labels": len(labels)}
            | {f"labels in {s}": len(labels & set(sets[s])) for s in names}
        )
    return pd.DataFrame(rows).set_index("photo set")


def model_names(conse_t: int) -> dict[str, str]:
    """DeViSE-1K's and ConSE-1K's (`conse_t`) names, and the paper setting's."""
    return {m: paper_setting_name(m) for m in (DEVISE, conse_name(conse_t))}


def chance_by_set(table2: pd.DataFrame, metric: str = "hit@5") -> dict[str, float]:
    """Chance's `metric` on each candidate set of the paper's setting (Table 2)."""
    rows = paper_experiment(table2)
    rows = rows[rows["model"] == CHANCE]
    return dict(zip(rows["candidate_set"], rows[metric].astype(float), strict=True))


def spread_summary(per_label: pd.DataFrame, models: Mapping[str, str]) -> pd.DataFrame:
    """Per set and model: the labels, mean and median hit@5, how many at 0 and at 1."""
    rows, metric = [], "hit@5"
    for name in ("2-hop", "3-hop", "21k"):
        for model, shown in models.items():
            mine = per_label[
                (per_label["candidate_set"] == name) & (per_label["model"] == model)
            ]
            values = mine[metric].astype(float)
            rows.append(
                {
                    "candidate set": name,
                    "model": shown,
                    "labels": len(values),
                    "mean": values.mean(),
                    "median": values.median(),
                    f"labels at {metric} = 0": int((values == 0).sum()),
                    f"labels at {metric} = 1": int((values == 1).sum()),
                }
            )
    return pd.DataFrame(rows).set_index(["candidate set", "model"])


def per_label_spread(
    per_label: pd.DataFrame,
    models: Mapping[str, str],
    sets=("2-hop", "3-hop", "21k"),
    metric: str = "hit@5",
    chance: Mapping[str, float] | None = None,
):
    """A panel per candidate set: each label's `metric` per model (a dot per label by
    photo set), their quartiles, their mean (a bar) and `chance` (a dotted line)."""
    fig, axes = plt.subplots(
        1, len(sets), figsize=(3.4 * len(sets), 3.8), sharey=True, squeeze=False
    )
    colours = {d: f"C{i}" for i, d in enumerate(sorted(set(per_label["dataset"])))}
    jitter = np.random.default_rng(0)
    for ax, name in zip(axes[0], sets, strict=True):
        rows = per_label[per_label["candidate_set"] == name]
        for x, model in enumerate(models):
            mine = rows[rows["model"] == model]
            values = mine[metric].to_numpy(dtype=float)
            if not len(values):
                continue
            ax.boxplot(values, positions=[x], widths=0.5, showfliers=False)
            offsets = jitter.uniform(-0.2, 0.2, len(values))
            dots = [colours[d] for d in mine["dataset"]]
            ax.scatter(x + offsets, values, s=14, c=dots, alpha=0.7, zorder=3)
            ax.hlines(values.mean(), x - 0.32, x + 0.32, colors="black", zorder=4)
        if chance and name in chance:
            ax.axhline(chance[name], ls=":", color="grey")
        ax.set_xticks(range(len(models)), list(models.values()), fontsize=8)
        ax.set_title(f"{name}: {rows['wnid'].nunique()} test labels", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(f"{metric} of each test label")
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=c, label=d)
        for d, c in colours.items()
    ]
    handles.append(plt.Line2D([], [], color="black", label="mean over labels"))
    if chance:
        handles.append(plt.Line2D([], [], ls=":", color="grey", label="chance"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
