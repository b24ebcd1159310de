"""Figures of photos: a captioned grid, each photo beside the models' ranked labels,
and the paper's Figure 2."""

from __future__ import annotations

import matplotlib.pyplot as plt
from PIL import Image

from ..zeroshot import synset_label


def thumbnail(path, size: int = 256):
    """An RGB thumbnail of an image file (aspect kept), for figures only."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((size, size))
        return image


def photo_grid(paths, captions, title: str, ncols: int = 3, panel_size: float = 2.8):
    """Photos in a grid, each with a (multi-line) caption under it."""
    if len(paths) != len(captions):
        raise ValueError(
            f"got {len(paths)} photos but {len(captions)} captions; give one caption "
            "per photo"
        )
    nrows = max(1, -(-len(paths) // ncols))
    size = (ncols * panel_size, nrows * (panel_size + 0.9))
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, path, caption in zip(axes.flat, paths, captions, strict=False):
        ax.imshow(thumbnail(path))
        ax.set_title(caption, fontsize=8, loc="left", y=-0.02, va="top", pad=0)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def prediction_gallery(
    paths, truths, predictions: dict, title: str, panel_size: float = 2.4, text=str
):
    """One row per photo: the photo and its label, then each model's ranked labels (the
    true one checked); `text` writes a label (`zeroshot.wnid_label` for wnids)."""
    models = list(predictions)
    for model, lists in predictions.items():
        if len(lists) != len(paths):
            raise ValueError(
                f"{model!r} has {len(lists)} label lists for {len(paths)} photos"
            )
    size = (panel_size * (1 + 1.3 * len(models)), panel_size * len(paths))
    widths = {"width_ratios": [1] + [1.3] * len(models)}
    fig, axes = plt.subplots(
        len(paths), 1 + len(models), squeeze=False, figsize=size, gridspec_kw=widths
    )
    for row, (path, truth) in enumerate(zip(paths, truths, strict=True)):
        photo = axes[row][0]
        photo.imshow(thumbnail(path))
        photo.set_title(f"true: {text(truth)}", fontsize=8)
        photo.axis("off")
        for ax, model in zip(axes[row][1:], models, strict=True):
            lines = [
                f"{rank}. {text(label)}" + (" \u2713" if label == truth else "")
                for rank, label in enumerate(predictions[model][row], start=1)
            ]
            block = f"{model}\n" + "\n".join(lines)  # left-aligned: the default
            ax.text(0.0, 0.95, block, va="top", fontsize=9, transform=ax.transAxes)
            ax.axis("off")
    fig.suptitle(title)
    # Half an inch above the first row for the title, whatever the number of rows.
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    return fig


def figure2(photos: list[dict], models: dict[str, str], title: str):
    """The paper's Figure 2: a row per photo, each model's top 5, the true in bold."""
    # 6.8 inches at 100 dpi is the book's column: the labels print at their font size
    size = (6.8, 1.6 * len(photos) + 0.6)
    widths = {"width_ratios": [1] + [1.4] * len(models)}
    fig, axes = plt.subplots(
        len(photos), 1 + len(models), squeeze=False, figsize=size, gridspec_kw=widths
    )
    for row, photo in zip(axes, photos, strict=True):
        row[0].imshow(thumbnail(photo["image"]))
        row[0].set_title(synset_label(photo["true"]), fontsize=10, pad=3)
        for ax, model in zip(row[1:], models, strict=True):
            for rank, name in enumerate(photo["top5"].get(model, []), start=1):
                ax.text(
                    0.03,
                    0.95 - 0.2 * (rank - 1),
                    f"{rank}. {synset_label(name)}",
                    fontsize=9.5,
                    va="top",
                    weight="bold" if name == photo["true"] else "normal",
                    transform=ax.transAxes,
                )
        for ax in row:
            ax.axis("off")
    for ax, heading in zip(axes[0][1:], models.values(), strict=True):
        ax.set_title(heading, fontsize=10, loc="left", pad=3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
