"""Figures of results: training curves, metric bars, hop histograms of mistakes, the
paper's bars beside ours, and zero-shot against the number of seen labels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..evaluation import paper_setting_name
from ..zeroshot import FIRST_EXPERIMENT


def training_curves(
    history, quantities=("loss", "test hit@1", "test hit@5"), title="Training curves"
):
    """One panel per quantity of `history` against the epoch, one line per model."""
    missing = [q for q in ("epoch", "model", *quantities) if q not in history.columns]
    if missing:
        raise ValueError(
            f"history lacks the columns {missing}; it has {list(history.columns)}"
        )
    fig, axes = plt.subplots(
        1, len(quantities), figsize=(4.2 * len(quantities), 3.4), squeeze=False
    )
    for ax, quantity in zip(axes[0], quantities, strict=True):
        for model, rows in history.groupby("model", sort=False):
            ax.plot(rows["epoch"], rows[quantity], marker=".", label=model)
        # symlog: losses of other scales (rank, cross-entropy) or at 0 stay readable
        log = quantity == "loss"
        if log:
            ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(quantity + (" (symlog)" if log else ""))
        ax.set_title(quantity)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def metric_bars(
    table, panels: dict[str, list[str]], title: str, ylabels: dict | None = None
):
    """Grouped bars of `table`'s models, a panel per group of metric columns it has."""
    models = list(table["model"])
    rows = table.set_index("model")
    # Narrow panels: a figure wider than the book's ~750 px column shrinks its text.
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.4 * len(panels), 3.6), squeeze=False
    )
    for ax, (panel, columns) in zip(axes[0], panels.items(), strict=True):
        columns = [c for c in columns if c in rows.columns]
        x = np.arange(len(columns))
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            offset = (i - (len(models) - 1) / 2) * width
            ax.bar(
                x + offset, rows.loc[model, columns].astype(float), width, label=model
            )
        ax.set_xticks(x, columns)
        ax.set_ylim(0, 1)
        ax.set_xlabel("metric at k")
        ax.set_ylabel((ylabels or {}).get(panel, panel))
        ax.set_title(panel)
        ax.grid(axis="y", alpha=0.3)
    handles, ncol = axes[0][0].get_legend_handles_labels(), min(len(models), 3)
    fig.legend(*handles, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 * ((len(models) + 2) // 3) + 0.04, 1, 1))
    return fig


def hop_histogram(hops: dict, title: str):
    """Histograms of WordNet hops ({model: [hops]}) from 1, the nearest a mistake is."""
    top = max((max(h) for h in hops.values() if len(h)), default=1)
    bins = np.arange(1, top + 2)
    width = 0.8 / max(len(hops), 1)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (model, values) in enumerate(hops.items()):
        counts, _ = np.histogram(np.minimum(values, top), bins=bins)
        share = counts / max(len(values), 1)
        offset = (i - (len(hops) - 1) / 2) * width
        ax.bar(bins[:-1] + offset, share, width, label=f"{model} ({len(values)})")
    ax.set_xticks(bins[:-1])
    ax.set_xlabel("WordNet hops from the true label to the top-1 label")
    ax.set_ylabel("share of the model's mistakes")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def paper_beside_ours(
    panels: dict, title: str, ylabels: dict[str, str], log=(), lines=None
):
    """One panel per comparison, for each category (a row) the paper's bar beside ours;
    `log` panels get a log axis, `lines` a reference line ({panel: (y, label)})."""
    widths = {"width_ratios": [max(len(f), 1) for f in panels.values()]}
    fig, axes = plt.subplots(
        1, len(panels), figsize=(9.2, 4.2), squeeze=False, gridspec_kw=widths
    )
    labels = list(dict.fromkeys(label for _, label in (lines or {}).values()))
    colours = {"paper": "0.6", "ours": "tab:blue"}
    for ax, (panel, frame) in zip(axes[0], panels.items(), strict=True):
        x = np.arange(len(frame))
        on_log = panel in log
        for i, side in enumerate(("paper", "ours")):
            values = frame[side].astype(float).to_numpy()
            shown = np.isfinite(values) & ((values > 0) if on_log else True)
            where = x + (i - 0.5) * 0.4
            ax.bar(where[shown], values[shown], 0.4, color=colours[side], label=side)
            for xi, v in zip(where[~shown], values[~shown], strict=True):
                # a value the axis cannot show is written at the foot of its bar
                ax.annotate(
                    "0" if v == 0 else "n/a",
                    (xi, 0),
                    xytext=(0, 2),
                    textcoords="offset points",
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    fontsize=8,
                    color=colours[side],
                )
        if on_log:
            ax.set_yscale("log")
        if lines and panel in lines:
            y, label = lines[panel]
            style = ("--", ":", "-.")[labels.index(label) % 3]
            ax.axhline(y, color="black", linestyle=style, linewidth=1, label=label)
        ax.set_xticks(x, list(frame.index), rotation=30, ha="right")
        ax.set_xlabel(frame.index.name or "")
        ax.set_ylabel(ylabels.get(panel, panel))
        ax.set_title(panel)
        ax.grid(axis="y", alpha=0.3)
    legend = {}  # the bars, and every panel's reference line once
    for ax in axes[0]:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(name, handle)
    handles, names = list(legend.values()), list(legend)
    fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def seen_count_figure(points, metric: str = "hit@5", title: str = ""):
    """2-hop `metric` / chance against the number of seen labels, a line per model."""
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    colours = {}
    paper_setting = points[points["experiment"] != FIRST_EXPERIMENT]
    for model, mine in paper_setting.groupby("model", sort=False):
        mine = mine.sort_values("n_seen")
        name = paper_setting_name(model)
        (line,) = ax.plot(
            mine["n_seen"], mine["x chance"], marker="o", label=f"{name}, ILSVRC seen"
        )
        colours[model] = line.get_color()
    first = points[points["experiment"] == FIRST_EXPERIMENT]
    for row in first.to_dict("records"):
        ax.scatter(
            row["n_seen"],
            row["x chance"],
            marker="*",
            s=200,
            color=colours.get(row["model"], "black"),
            edgecolor="black",
            zorder=3,
            label=f"{row['model']}, Caltech seen (first experiment)",
        )
    counts = sorted(set(points["n_seen"]))
    ax.set_xscale("log")
    ax.set_xticks(counts, [f"{n:,}" for n in counts])
    ax.minorticks_off()
    ax.set_yscale("symlog", linthresh=1)
    top = max(1.0, float(points["x chance"].max()))
    ticks = [t for t in (0, 1, 3, 10, 30, 100, 300, 1000) if t <= 1.5 * top]
    ax.set_yticks(ticks, [f"{t}x" for t in ticks])
    ax.set_ylim(0, 1.6 * top)
    ax.axhline(1, color="grey", lw=0.8, ls=":")
    # "chance" between the two middle counts, clear of the curves' ends
    mid = len(counts) // 2
    middle = (counts[mid - 1] * counts[mid]) ** 0.5 if len(counts) > 1 else counts[0]
    ax.text(middle, 1.1, "chance", color="grey", ha="center", va="bottom")
    ax.set_xlabel("number of seen labels")
    ax.set_ylabel(f"2-hop {metric} / chance")
    ax.set_title(title)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig
