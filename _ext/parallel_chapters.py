"""Sphinx reads, and so myst-nb executes, two or more chapters at once (`book_build.py`
passes `-j`), but only when every extension says it is safe to read in parallel.

Two extensions that `jupyter-book` loads on its own say nothing, so Sphinx falls back
to one chapter at a time and logs a warning, which a strict build (`-W`) turns into a
failure. Both are safe here, for the reasons below, and this declares it for them.
"""

from __future__ import annotations

from sphinx.application import Sphinx

# name -> why reading (or writing) chapters in parallel cannot break it
SAFE_UNDECLARED = {
    "sphinx_jupyterbook_latex": "its nodes and transforms act on LaTeX builds only",
    "sphinx_multitoc_numbering": "it renumbers the toctree after the parallel read, in "
    "the main process, from the merged data",
}


def declare_safe(app: Sphinx) -> None:
    for name in SAFE_UNDECLARED:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True
            extension.parallel_write_safe = True


def setup(app: Sphinx) -> dict:
    # builder-inited: every extension is loaded, and Sphinx has not yet asked
    app.connect("builder-inited", declare_safe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
