"""The explorer's widget, for a live kernel: ipywidgets controls wired to
`Explorer.answer`, exposed as dicts (`panel.controls`, `panel.outputs`) so that a test
drives the panel without a browser."""

from __future__ import annotations

import html
import io
from pathlib import Path

import ipywidgets as w

from .explorer import QUERY_KINDS, Explorer
from .plots_photos import thumbnail


def build_widget(explorer: Explorer, k: int = 10, word: str = "shark"):
    """An ipywidgets panel whose table of nearest labels follows every control."""
    space = explorer.space
    rows = space.index([f for f in explorer.featured if f in space])
    featured = [f"{space.names[i]} ({space.wnids[i]})" for i in rows]

    def typed(description: str) -> dict:  # a typed query answers on Enter, not per key
        return {"description": description, "continuous_update": False}

    controls = {
        "kind": w.ToggleButtons(
            options=list(QUERY_KINDS), value="word", description="query"
        ),
        "word": w.Text(value=word, placeholder="a word or phrase", **typed("word")),
        "label": w.Combobox(
            value=featured[0] if featured else "",
            options=featured,
            placeholder="a label name or wnid",
            ensure_option=False,
            **typed("label"),
        ),
        "image": w.Dropdown(options=list(explorer.images) or [""], description="image"),
        "path": w.Text(placeholder="/path/to/photo.jpg", **typed("or file")),
        "k": w.IntSlider(value=k, min=1, max=50, description="k"),
        "candidates": w.Dropdown(
            options=list(explorer.candidate_sets), description="candidates"
        ),
        "model": w.Dropdown(options=list(explorer.models), description="model"),
    }
    outputs = {
        "message": w.HTML(),
        "table": w.HTML(),
        "preview": w.Image(format="jpeg", width=180),
    }
    inputs_of = {"word": ["word"], "label": ["label"], "image": ["image", "path"]}

    def query():
        kind = controls["kind"].value
        if kind == "image":
            return controls["path"].value.strip() or controls["image"].value
        return controls[kind].value

    def update(_change=None):
        kind = controls["kind"].value
        for name in ("word", "label", "image", "path"):
            controls[name].layout.display = None if name in inputs_of[kind] else "none"
        model, candidates = controls["model"].value, controls["candidates"].value
        table = explorer.answer(kind, query(), controls["k"].value, candidates, model)
        if table is None:
            message = html.escape(explorer.last_message)
            outputs["message"].value = f"<b style='color:#b00'>{message}</b>"
            outputs["table"].value = ""
        else:
            size = len(explorer.sets_of(model)[candidates])  # each model's own sets
            outputs["message"].value = html.escape(
                f"{len(table)} nearest of {size:,} labels in {candidates!r} "
                f"under {model}, for {kind} {query()!r}"
            )
            outputs["table"].value = table.to_html(
                index=False, float_format=lambda x: f"{x:.3f}"
            )
        picture = _preview(explorer, query()) if kind == "image" else None
        outputs["preview"].value = picture or b""
        outputs["preview"].layout.display = None if picture else "none"

    for control in controls.values():
        control.observe(update, names="value")
    settings = w.HBox([controls["k"], controls["candidates"], controls["model"]])
    queries = [controls[n] for n in ("kind", "word", "label", "image", "path")]
    answer = w.HBox([outputs["preview"], outputs["table"]])
    panel = w.VBox([*queries, settings, outputs["message"], answer])
    panel.controls, panel.outputs = controls, outputs
    update()
    return panel


def _preview(explorer: Explorer, image: str) -> bytes | None:
    """JPEG bytes of a gallery image's or image file's thumbnail; None without one."""
    entry = explorer.images.get(image)
    path = entry.path if entry else Path(image).expanduser()
    try:
        buffer = io.BytesIO()
        thumbnail(path, 180).save(buffer, format="JPEG")
        return buffer.getvalue()
    except OSError:  # no such file, or not an image (UnidentifiedImageError)
        return None
