"""Chapter 7's explorer for readers of the rendered page, who have no kernel.

Every label and photo of the joint map is a query. Its k nearest labels under each
model are ranked here as `Explorer` ranks them (a test holds the two equal), all at
once, and written with the map's coordinates into one HTML output: hovering a point
names it, and picking a label or photo (in the list, or by clicking its point) shows
its nearest labels under each model side by side.

The map is drawn by plotly.js, which the output does not carry: it is plotly.py's
bundled `plotly.min.js`, which the book's Sphinx extension `_ext/plotly_assets.py`
copies into `_static/` and loads only on the pages that hold this output
(`PAGE_MARKER`), so no page loads a script from the internet. In a notebook the list
and the tables still work without the map; there the live widget is the explorer.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML
from matplotlib.colors import to_hex
from plotly.utils import PlotlyJSONEncoder

from ..vectors import top_k, unit
from .explorer import Explorer

PAGE_MARKER = "devise-static-explorer"  # the output's class: this page needs plotly.js
PAGE_TEMPLATE = "static_explorer.html"  # in resources/: the output's CSS and script
PLOTLY_SCRIPT = "vendor/plotly/plotly.min.js"  # where the page loads it, under _static/
_CHUNK = 256  # query rows scored at once: (256, 21k) float32 scores are ~20 MB
# matplotlib's markers as plotly's symbols (the chapter's styles are matplotlib's)
SYMBOLS = {"o": "circle", "x": "x", "^": "triangle-up", "v": "triangle-down"}


def plotly_js_file() -> Path:
    """plotly.py's own copy of plotly.js, the version its figures are written for."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


@dataclass(frozen=True)
class MapQuery:
    """One point of the map as a query: a label (wnid) or a gallery photo (name)."""

    kind: str  # "label" or "image", as `Explorer.answer` takes them
    query: str
    caption: str  # what the reader reads in the list and on hover
    group: str  # the map group the point belongs to


def map_queries(
    explorer: Explorer,
    label_groups: Mapping[str, Sequence[str]],
    photo_groups: Mapping[str, Sequence[str]],
) -> list[MapQuery]:
    """The map's points as queries, group by group, in the order of `map_points`."""
    name_of = dict(zip(explorer.space.wnids, explorer.space.names, strict=True))
    queries = [
        MapQuery("label", w, f"{name_of[w]} ({w})", group)
        for group, wnids in label_groups.items()
        for w in wnids
    ]
    for group, names in photo_groups.items():
        for name in names:
            truth = explorer.images[name].wnid
            label = name_of.get(truth, truth or "unknown label")
            queries.append(MapQuery("image", name, f"photo of {label}: {name}", group))
    return queries


def nearest_labels(
    explorer: Explorer, queries: Sequence[MapQuery], k: int, candidates: str
) -> dict[str, list[tuple[list[str], np.ndarray] | None]]:
    """Per model, each query's k nearest labels among `candidates` as (wnids, cosines),
    best first: what `Explorer.neighbours_of_label` and `neighbours_of_image` answer
    (a label leaves itself out, ties go to the first candidate), for all queries at
    once, a matrix product per model instead of a ranking per query (seconds, not
    minutes, for a map's ~1,400 points). None where the model cannot place a query."""
    labels = [i for i, q in enumerate(queries) if q.kind == "label"]
    photos = [i for i, q in enumerate(queries) if q.kind == "image"]
    # models that rank the same label vectors (the word space) share label answers
    done: dict[tuple, list] = {}
    answers = {}
    for model in explorer.models:
        view, sets = explorer.model_view(model), explorer.sets_of(model)
        if candidates not in sets:
            raise ValueError(f"{model!r} has no candidate set {candidates!r}")
        space = view.space
        rows = space.index(sets[candidates])
        found: list = [None] * len(queries)
        key = (id(space), rows.tobytes())
        if key not in done:
            wnids = [queries[i].query for i in labels]
            done[key] = _ranked(
                space, rows, space.vectors[space.index(wnids)], k, wnids
            )
        for i, answer in zip(labels, done[key], strict=True):
            found[i] = answer
        if view.embed_images is not None and photos:
            features = [explorer.image_features(queries[i].query)[0] for i in photos]
            points = view.embed_images(np.stack(features))
            for i, answer in zip(photos, _ranked(space, rows, points, k), strict=True):
                found[i] = answer
        answers[model] = found
    return answers


def _ranked(
    space, rows, points, k, themselves=None
) -> list[tuple[list[str], np.ndarray]]:
    """The k candidates (`rows` of `space`) nearest to each point, as `vectors.nearest`
    ranks them; point i leaves out the label `themselves[i]`, when given."""
    vectors = space.vectors[rows]
    column = {space.wnids[r]: c for c, r in enumerate(rows)}
    answers = []
    for start in range(0, len(points), _CHUNK):
        chunk = unit(np.asarray(points[start : start + _CHUNK], dtype=np.float32))
        scores = chunk @ vectors.T
        if themselves is not None:
            for r, wnid in enumerate(themselves[start : start + _CHUNK]):
                if wnid in column:
                    scores[r, column[wnid]] = -np.inf
        best = top_k(scores, min(k, len(rows)))
        cosines_of = np.take_along_axis(scores, best, axis=1)
        for picked, cosines in zip(best, cosines_of, strict=True):
            kept = np.isfinite(cosines)
            wnids = [space.wnids[rows[c]] for c in picked[kept]]
            answers.append((wnids, cosines[kept].astype(float)))
    return answers


def answers_data(
    explorer: Explorer,
    queries: Sequence[MapQuery],
    answers: Mapping[str, Sequence[tuple[list[str], np.ndarray] | None]],
) -> dict:
    """The answers, compact for the page. Labels are numbers into "labels" ([name,
    wnid] each); an answer is a flat list of (label, cosine in thousandths) pairs, None
    where the model cannot place the query, or the number of an earlier model with the
    same answer (the word-space models agree on labels); "seen" lists each model's
    seen labels among them, "truth" each query's true label (-1: none)."""
    names = dict(zip(explorer.space.wnids, explorer.space.names, strict=True))
    numbers: dict[str, int] = {}
    truth = [
        numbers.setdefault(explorer.images[q.query].wnid, len(numbers))
        if q.kind == "image" and explorer.images[q.query].wnid
        else -1
        for q in queries
    ]
    flats: list[list] = [[] for _ in queries]
    for found in answers.values():
        for flat, answer in zip(flats, found, strict=True):
            pairs = None
            if answer is not None:
                pairs = []
                for wnid, cosine in zip(*answer, strict=True):
                    pairs += [
                        numbers.setdefault(wnid, len(numbers)),
                        round(cosine * 1000),
                    ]
            flat.append(flat.index(pairs) if pairs and pairs in flat else pairs)
    seen = [set(explorer.sets_of(m).get("seen", ())) for m in answers]
    return {
        "models": list(answers),
        "labels": [[names.get(w, w), w] for w in numbers],
        "seen": [[n for w, n in numbers.items() if w in s] for s in seen],
        "truth": truth,
        "answers": flats,
    }


def shown_table(data: dict, row: int, model: str) -> pd.DataFrame | None:
    """What the page shows for query `row` under `model` (what its script reads)."""
    column = data["models"].index(model)
    flat = data["answers"][row][column]
    if isinstance(flat, int):  # the same answer as an earlier model's
        flat = data["answers"][row][flat]
    if flat is None:
        return None
    pairs = np.asarray(flat, dtype=np.int64).reshape(-1, 2)
    seen = set(data["seen"][column])
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(pairs) + 1),
            "name": [data["labels"][i][0] for i in pairs[:, 0]],
            "wnid": [data["labels"][i][1] for i in pairs[:, 0]],
            "cosine": pairs[:, 1] / 1000,
            "seen": [i in seen for i in pairs[:, 0]],
            "true": pairs[:, 0] == data["truth"][row],
        }
    )


def map_figure(
    queries: Sequence[MapQuery],
    coords: Mapping[str, np.ndarray],
    styles: Mapping[str, Mapping] | None = None,
) -> go.Figure:
    """The map as a plotly figure: a trace per group (its matplotlib style carried
    over), each point's hover text its caption and its customdata its query number,
    and last an empty trace that marks the picked point."""
    fig = go.Figure()
    rows = np.arange(len(queries))
    for group, xy in coords.items():
        mine = [i for i in rows if queries[i].group == group]
        if len(mine) != len(xy):
            raise ValueError(
                f"{group!r}: {len(xy)} points on the map, {len(mine)} queries"
            )
        style = dict((styles or {}).get(group, {}))
        marker = {
            "size": max(4.0, 1.4 * float(np.sqrt(style.get("s", 12)))),
            "opacity": style.get("alpha", 0.7),
            "symbol": SYMBOLS.get(style.get("marker", "o"), "circle"),
        }
        if "color" in style:
            marker["color"] = to_hex(style["color"])
        if "edgecolors" in style:
            marker["line"] = {"color": to_hex(style["edgecolors"]), "width": 0.5}
        fig.add_scatter(
            x=np.round(xy[:, 0].astype(float), 3).tolist(),
            y=np.round(xy[:, 1].astype(float), 3).tolist(),
            mode="markers",
            name=f"{group} ({len(xy)})",
            marker=marker,
            customdata=mine,
            hovertext=[html.escape(queries[i].caption) for i in mine],
            hovertemplate="%{hovertext}<extra>" + html.escape(group) + "</extra>",
        )
    fig.add_scatter(
        x=[],
        y=[],
        mode="markers",
        name="picked",
        showlegend=False,
        hoverinfo="skip",
        marker={"size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 2.5}},
    )
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    fig.update_layout(
        template="none",
        height=560,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis=hidden,
        yaxis=hidden,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        hovermode="closest",
        legend={"orientation": "h", "y": -0.02, "yanchor": "top", "font": {"size": 11}},
    )
    return fig


def static_explorer(
    explorer: Explorer,
    label_groups: Mapping[str, Sequence[str]],
    photo_groups: Mapping[str, Sequence[str]],
    coords: Mapping[str, np.ndarray],
    styles: Mapping[str, Mapping] | None = None,
    k: int = 8,
    candidates: str = "21k+seen",
    start: str | None = None,
) -> HTML:
    """The page's explorer: the map (`coords`, the map coordinates of `map_points`'
    groups) and each point's k nearest labels among `candidates` under every model;
    `start` (a wnid or gallery name) is the query shown first."""
    queries = map_queries(explorer, label_groups, photo_groups)
    if not queries:
        raise ValueError("the static explorer needs at least one label or photo")
    figure = map_figure(queries, coords, styles)  # checks each group's points
    data = answers_data(
        explorer, queries, nearest_labels(explorer, queries, k, candidates)
    )
    groups = list(dict.fromkeys(q.group for q in queries))
    at = {}  # query number -> its point on the map
    for group, xy in coords.items():
        mine = [i for i, q in enumerate(queries) if q.group == group]
        at.update(zip(mine, np.round(xy.astype(float), 3).tolist(), strict=True))
    data |= {
        "k": k,
        "candidates": candidates,
        "groups": groups,
        "queries": [
            [q.caption, groups.index(q.group), *at.get(i, (None, None))]
            for i, q in enumerate(queries)
        ],
        "start": next((i for i, q in enumerate(queries) if q.query == start), 0),
        "figure": figure.to_plotly_json(),
    }
    text = json.dumps(data, separators=(",", ":"), cls=PlotlyJSONEncoder)
    ident = "dse-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    page = resources.files("devise_lite").joinpath("resources", PAGE_TEMPLATE)
    page = page.read_text("utf-8").replace("{ID}", ident)
    page = page.replace("{MARKER}", PAGE_MARKER)
    return HTML(page.replace("{DATA}", text.replace("</", "<\\/")))
