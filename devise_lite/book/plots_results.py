"""Figures of results: training curves, metric bars per model, hop histograms of
mistakes, the paper's bars beside ours, and zero-shot against the number of seen
labels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..evaluation import paper_setting_name
from ..zeroshot import FIRST_EXPERIMENT


def training_curves(
    history,
    quantities=("loss", "test hit@1", "test hit@5"),
    title: str = "Training curves",
    log_scale=("loss",),
):
    """One panel per quantity against the epoch, one line per model.

    `history` has the columns "epoch", "model" and the quantities (as
    `trained_models(cfg)["history"]`). Quantities in `log_scale` get a symmetric-log
    axis, so losses of different scales (rank loss, cross-entropy) and losses that reach
    0 all stay readable."""
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
        if quantity in log_scale:
            ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(quantity + (" (symlog)" if quantity in log_scale else ""))
        ax.set_title(quantity)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def metric_bars(
    table,
    panels: dict[str, list[str]],
    title: str,
    models=None,
    ylabels: dict[str, str] | None = None,
):
    """Grouped bars, one panel per group of metric columns (e.g. flat hit@k, hp@k), one
    bar per model.

    `table` has a "model" column and the metric columns (as `pipeline.table1(cfg)`);
    columns absent from the table (hp@20 with fewer than 20 candidates) are skipped.
    `ylabels` names each panel's y axis (by default the panel's name)."""
    models = list(table["model"]) if models is None else list(models)
    rows = table.set_index("model").loc[models]
    # Narrow panels: the book's text column is about 750 px, and a wider figure shrinks
    # its text.
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.4 * len(panels), 3.6), squeeze=False
    )
    for ax, (panel, columns) in zip(axes[0], panels.items(), strict=True):
        columns = [c for c in columns if c in rows.columns]
        x = np.arange(len(columns))
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            ax.bar(
                x + (i - (len(models) - 1) / 2) * width,
                rows.loc[model, columns].astype(float),
                width,
                label=model,
            )
        ax.set_xticks(x, columns)
        ax.set_ylim(0, 1)
        ax.set_xlabel("metric at k")
        ax.set_ylabel((ylabels or {}).get(panel, panel))
        ax.set_title(panel)
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        names,
        loc="lower center",
        ncol=min(len(models), 3),
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 * ((len(models) + 2) // 3) + 0.04, 1, 1))
    return fig


def hop_histogram(hops: dict, title: str, max_hops: int | None = None):
    """Side-by-side histograms of WordNet hop distances, one bar series per model
    (`{model: [hops]}`); the x axis starts at 1 hop, the nearest a mistake can be."""
    top = (
        max_hops
        if max_hops is not None
        else max((max(h) for h in hops.values() if len(h)), default=1)
    )
    bins = np.arange(1, top + 2)
    width = 0.8 / max(len(hops), 1)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (model, values) in enumerate(hops.items()):
        counts, _ = np.histogram(np.minimum(values, top), bins=bins)
        share = counts / max(len(values), 1)
        ax.bar(
            bins[:-1] + (i - (len(hops) - 1) / 2) * width,
            share,
            width,
            label=f"{model} ({len(values)})",
        )
    ax.set_xticks(bins[:-1])
    ax.set_xlabel("WordNet hops from the true label to the top-1 label")
    ax.set_ylabel("share of the model's mistakes")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def paper_beside_ours(
    panels: dict,
    title: str,
    ylabels: dict[str, str],
    log: tuple[str, ...] = (),
    lines: dict[str, tuple[float, str]] | None = None,
):
    """One panel per comparison: for each category (a row of the panel's DataFrame,
    its index on the x axis) the paper's bar beside ours (columns "paper", "ours").

    Panels named in `log` get a log y axis; `lines` draws one reference line per
    panel ({panel: (y, label)}), one line style per label. A value the axis cannot
    show (missing, or 0 on a log axis) is written at the foot of its bar instead.
    Panels are as wide as their number of categories."""
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(9.2, 4.2),
        squeeze=False,
        gridspec_kw={"width_ratios": [max(len(f), 1) for f in panels.values()]},
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
                text = "0" if v == 0 else "n/a"
                ax.annotate(
                    text,
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
    handles, names = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:  # the other panels' reference lines
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            if name not in names:
                handles.append(handle)
                names.append(name)
    fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def seen_count_figure(points, metric: str = "hit@5", title: str = ""):
    """2-hop `metric` as a multiple of chance against the number of seen labels
    (`zero_shot_views.seen_count_points`): one line per model of the paper's setting,
    and the first experiment's points marked apart. Both axes are logarithmic (a ratio
    against a count); the y axis is linear below 1, where chance is."""
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
