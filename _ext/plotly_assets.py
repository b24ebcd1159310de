"""Chapter 7's static explorer draws its map with plotly.js, and the rendered book
serves it from its own `_static/`, never from a CDN.

The file is plotly.py's bundled `plotly.min.js` (the version its figures are written
for; no network, no second copy in the repository). It is 4-5 MB, so only the pages
that hold a static explorer (`PAGE_MARKER` in their body) load it, deferred; the
explorer's own script waits for the page to finish loading before it draws.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from sphinx.application import Sphinx

from devise_lite.book.static_explorer import (
    PAGE_MARKER,
    PLOTLY_SCRIPT,
    plotly_js_file,
)


def load_plotly_where_needed(app, pagename, templatename, context, doctree) -> None:
    """Add plotly.js to this page only (Sphinx resets the scripts for the next)."""
    if PAGE_MARKER in str(context.get("body", "")):
        app.add_js_file(PLOTLY_SCRIPT, priority=400, loading_method="defer")


def copy_plotly(app: Sphinx, exception: Exception | None) -> None:
    """Put plotly.js where the pages load it, after Sphinx has copied `_static/`."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / PLOTLY_SCRIPT
    source = plotly_js_file()
    if not (target.is_file() and filecmp.cmp(source, target, shallow=False)):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", load_plotly_where_needed)
    app.connect("build-finished", copy_plotly)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
