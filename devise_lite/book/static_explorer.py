"""Chapter 7's explorer for readers without a kernel: a map where picking a label or
photo shows its precomputed nearest labels under each model. plotly.py's bundled
`plotly.min.js` draws it; `_ext/plotly_assets.py` copies it into `_static/` and loads it
only on pages with this output (`PAGE_MARKER`): no script comes from the internet."""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from IPython.display import HTML
from matplotlib.colors import to_hex
from plotly.utils import PlotlyJSONEncoder

from .explorer import Explorer, Groups
from .explorer_answers import MapQuery, answers_data, map_queries, nearest_labels

PAGE_MARKER = "devise-static-explorer"  # the output's class: this page needs plotly.js
PAGE_TEMPLATE = "static_explorer.html"  # in resources/: the output's CSS and script
PLOTLY_SCRIPT = "vendor/plotly/plotly.min.js"  # where the page loads it, under _static/
# matplotlib's markers as plotly's symbols (the chapter's styles are matplotlib's)
SYMBOLS = {"o": "circle", "x": "x", "^": "triangle-up", "v": "triangle-down"}


def plotly_js_file() -> Path:
    """plotly.py's own copy of plotly.js, the version its figures are written for."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def map_figure(
    queries: Sequence[MapQuery], coords: Mapping[str, np.ndarray], styles=None
) -> tuple[go.Figure, dict[int, list[float]]]:
    """The map in plotly (a trace per group, then the pick's) and each query's place."""
    fig, at = go.Figure(), {}
    for group, xy in coords.items():
        mine = [i for i, query in enumerate(queries) if query.group == group]
        if len(mine) != len(xy):
            raise ValueError(
                f"{group!r}: {len(xy)} points on the map, {len(mine)} queries"
            )
        style = (styles or {}).get(group, {})
        marker = {
            "size": max(4.0, 1.4 * float(np.sqrt(style.get("s", 12)))),
            "opacity": style.get("alpha", 0.7),
            "symbol": SYMBOLS.get(style.get("marker", "o"), "circle"),
        }
        if "color" in style:
            marker["color"] = to_hex(style["color"])
        if "edgecolors" in style:
            marker["line"] = {"color": to_hex(style["edgecolors"]), "width": 0.5}
        xy = np.round(xy.astype(float), 3)
        at.update(zip(mine, xy.tolist(), strict=True))
        fig.add_scatter(
            x=xy[:, 0].tolist(),
            y=xy[:, 1].tolist(),
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
    return fig, at


def static_explorer(
    explorer: Explorer,
    label_groups: Groups,
    photo_groups: Groups,
    coords: Mapping[str, np.ndarray],
    styles: Mapping[str, Mapping] | None = None,
    k: int = 8,
    candidates: str = "21k+seen",
    start: str | None = None,
) -> HTML:
    """The page's explorer: the map (`coords` of `map_points`' groups), each point's k
    nearest labels under every model, and `start` (wnid or photo) shown first."""
    queries = map_queries(explorer, label_groups, photo_groups)
    if not queries:
        raise ValueError("the static explorer needs at least one label or photo")
    figure, at = map_figure(queries, coords, styles)  # checks each group's points
    answers = nearest_labels(explorer, queries, k, candidates)
    data = answers_data(explorer, queries, answers)
    groups = list(dict.fromkeys(q.group for q in queries))
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
