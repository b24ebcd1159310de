"""Chapter 7's static explorer (`devise_lite.book.static_explorer`): the neighbour
tables written into the page (`explorer_answers`) are the explorer's own answers, the
output loads nothing from the internet, and the book's extension that serves plotly.js
(`_ext/plotly_assets`) loads it on the explorer's page only. Hand-made explorers; once,
the tiny preset's (its synonyms share a vector: exact ties)."""

import importlib.util
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from devise_lite.book.explorer import Explorer, GalleryImage, ModelView
from devise_lite.book.explorer_answers import answers_data, map_queries, nearest_labels
from devise_lite.book.static_explorer import (
    PAGE_MARKER,
    PLOTLY_SCRIPT,
    plotly_js_file,
    static_explorer,
)
from devise_lite.labels import LabelSpace
from devise_lite.vectors import unit

REPO = Path(__file__).resolve().parent.parent
N_LABELS, DIM, FEATURES = 40, 6, 9


def projection(seed):
    weight = np.random.default_rng(seed).standard_normal((FEATURES, DIM))
    return lambda features: np.asarray(features, np.float32) @ weight.astype(np.float32)


@pytest.fixture
def explorer(tmp_path):
    """Random labels (two with the same vector: a tie), a word model and a random
    control that embed photos, and a model that ranks labels only, with sets of its
    own."""
    rng = np.random.default_rng(1)
    wnids = [f"n{i:08d}" for i in range(N_LABELS)]
    names = [f"label {i}" for i in range(N_LABELS)]
    vectors = rng.standard_normal((N_LABELS, DIM)).astype(np.float32)
    vectors[7] = vectors[3]  # labels 3 and 7 tie: the first candidate wins
    space = LabelSpace(wnids, names, unit(vectors))
    control = LabelSpace(
        wnids, names, unit(rng.standard_normal((N_LABELS, DIM)).astype(np.float32))
    )
    sets = {"seen": wnids[:10], "unseen": wnids[10:], "all": wnids}
    own = {"seen": wnids[20:], "unseen": wnids[:20], "all": wnids[::-1]}
    models = {
        "word model": ModelView(space, projection(2)),
        "random control": ModelView(control, projection(3), has_words=False),
        "labels only": ModelView(space, sets=own),
    }
    images = {
        f"photos/{i}.jpg": GalleryImage(
            tmp_path / f"{i}.jpg", rng.standard_normal(FEATURES), wnids[i % 12]
        )
        for i in range(8)
    }
    return Explorer(space, sets, models, images=images)


def groups_of(explorer):
    wnids = explorer.space.wnids
    labels = {"some labels": wnids[:12], "more labels": wnids[30:36]}
    return labels, {"photos": list(explorer.images)}


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


def assert_shown_as_answered(explorer, queries, k, candidates):
    """The page's table of every query under every model is the explorer's answer."""
    data = answers_data(
        explorer, queries, nearest_labels(explorer, queries, k, candidates)
    )
    ask = {"label": explorer.neighbours_of_label, "image": explorer.neighbours_of_image}
    for row, query in enumerate(queries):
        for model, view in explorer.models.items():
            shown = shown_table(data, row, model)
            if query.kind == "image" and view.embed_images is None:
                assert shown is None  # the model does not place photos
                continue
            expected = ask[query.kind](query.query, k, candidates, model)
            assert shown["wnid"].tolist() == expected["wnid"].tolist(), (query, model)
            assert shown["name"].tolist() == expected["name"].tolist()
            assert shown["cosine"].to_numpy() == pytest.approx(
                expected["cosine"].to_numpy(), abs=6e-4
            )
            assert shown["seen"].tolist() == expected["seen"].tolist()
            truth = expected["true"] if "true" in expected else [False] * len(shown)
            assert shown["true"].tolist() == list(truth)
    return data


@pytest.mark.parametrize("candidates", ["all", "unseen"])
def test_the_page_shows_what_the_explorer_answers(explorer, candidates):
    labels, photos = groups_of(explorer)
    queries = map_queries(explorer, labels, photos)
    data = assert_shown_as_answered(explorer, queries, 5, candidates)
    if candidates == "all":  # the models agree on some answers: written once
        assert any(isinstance(a, int) for per in data["answers"] for a in per)
    if candidates == "all":  # a label leaves itself out, not its twin
        twin = next(i for i, q in enumerate(queries) if q.query == "n00000003")
        nearest = shown_table(data, twin, "word model").iloc[0]
        assert nearest["wnid"] == "n00000007" and nearest["cosine"] == 1.0


class Loads(HTMLParser):
    """What a piece of HTML loads, and its inline scripts by type."""

    def __init__(self):
        super().__init__()
        self.loads, self.scripts, self._type = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "embed") and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link":
            self.loads.append(attrs.get("href", ""))
        if tag == "script":
            self._type = attrs.get("type", "text/javascript")

    def handle_data(self, data):
        if self._type is not None:
            self.scripts.append((self._type, data))
            self._type = None


def test_the_output_loads_nothing_and_carries_its_data(explorer):
    labels, photos = groups_of(explorer)
    rng = np.random.default_rng(0)
    coords = {g: rng.random((len(m), 2)) for g, m in {**labels, **photos}.items()}
    styles = {"photos": {"color": "tab:green", "marker": "x", "s": 10, "alpha": 0.3}}
    output = static_explorer(
        explorer,
        labels,
        photos,
        coords,
        styles,
        k=4,
        candidates="all",
        start="n00000031",
    ).data
    page = Loads()
    page.feed(output)
    assert page.loads == []  # plotly.js comes from the book's _static/, by the page
    assert not re.search(r"url\(|@import|https?://", output.split("<script")[0])
    assert PAGE_MARKER in output and "Plotly.newPlot" in output
    assert len(output) < 100_000  # the data, not plotly.js (4-5 MB)
    assert output.count('"answers":') == 1  # the data once
    kinds = [kind for kind, _ in page.scripts]
    assert kinds == ["application/json", "text/javascript"]
    data = json.loads(page.scripts[0][1])
    assert data["k"] == 4 and data["models"] == list(explorer.models)
    assert len(data["queries"]) == 12 + 6 + len(explorer.images)
    assert data["queries"][data["start"]][0] == "label 31 (n00000031)"
    traces = data["figure"]["data"]
    assert [t["name"] for t in traces[:-1]] == [
        f"{g} ({len(m)})" for g, m in {**labels, **photos}.items()
    ]
    assert traces[2]["marker"]["symbol"] == "x"  # matplotlib's style carried over
    assert traces[2]["hovertext"][0].startswith("photo of label 0: photos/0.jpg")
    assert traces[-1]["name"] == "picked"  # where the picked point is marked


def test_a_map_group_must_match_its_queries(explorer):
    labels, photos = groups_of(explorer)
    coords = {"some labels": np.zeros((3, 2))}
    with pytest.raises(ValueError, match="3 points on the map, 12 queries"):
        static_explorer(explorer, labels, photos, coords, candidates="all")


def load_extension():
    spec = importlib.util.spec_from_file_location(
        "plotly_assets", REPO / "_ext" / "plotly_assets.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["plotly_assets"] = module
    spec.loader.exec_module(module)
    return module


def test_the_extension_serves_plotly_on_the_explorer_page_only(tmp_path):
    assets = load_extension()
    added = []
    app = SimpleNamespace(
        add_js_file=lambda name, **options: added.append((name, options)),
        builder=SimpleNamespace(format="html"),
        outdir=str(tmp_path),
    )
    assets.load_plotly_where_needed(app, "intro", "page.html", {"body": "<p/>"}, None)
    assert added == []
    body = f'<div class="{PAGE_MARKER}" id="x"></div>'
    assets.load_plotly_where_needed(app, "07", "page.html", {"body": body}, None)
    assert [name for name, _ in added] == [PLOTLY_SCRIPT]
    assets.copy_plotly(app, None)
    copied = tmp_path / "_static" / PLOTLY_SCRIPT
    assert copied.read_bytes() == plotly_js_file().read_bytes()
    assert b"window.Plotly" in copied.read_bytes()[-200:]  # no AMD: a global


def test_the_tiny_map_shown_as_the_tiny_explorer_answers(tiny_run):
    """Chapter 7's first map on the tiny preset's stages: every second point, under
    every model (reuses the session's tiny caches)."""
    from devise_lite import pipeline
    from devise_lite.book import explorer_views as views
    from devise_lite.book.explorer_build import explorer_for
    from devise_lite.config import get_preset
    from devise_lite.evaluation import DEVISE_1K
    from devise_lite.sharks import shark_wnids

    cfg = get_preset("tiny")
    explorer = explorer_for(cfg)
    groups = views.map_label_groups(
        explorer.sets_of(DEVISE_1K),
        pipeline.experiment_labels(cfg),
        shark_wnids(explorer.space.wnids),
    )
    queries = map_queries(explorer, groups, views.map_photo_groups(explorer.images))
    assert {q.kind for q in queries} == {"label", "image"}
    assert_shown_as_answered(explorer, queries[::2], 8, "21k+seen")
