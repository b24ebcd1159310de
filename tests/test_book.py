"""The whole book builds strictly (warnings and cell errors fail) on the tiny preset."""

import importlib.util
import inspect
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "parallel_chapters", REPO / "_ext" / "parallel_chapters.py"
)
parallel_chapters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(parallel_chapters)
_spec = importlib.util.spec_from_file_location(
    "book_build", REPO / "_ext" / "book_build.py"
)
book_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_build)


def test_book_builds_strictly_on_the_tiny_preset(tiny_book):
    assert tiny_book.returncode == 0, tiny_book.log
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]
    for page in pages:
        assert (tiny_book.html / f"{page}.html").exists(), page


def test_book_build_executes_chapters_in_parallel(tiny_book):
    """With more than one core, Sphinx reads (and myst-nb executes) the chapters a core
    each: no extension made Sphinx fall back to one at a time (parallel_chapters.py)."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the chapters are executed one at a time")
    assert tiny_book.parallel, tiny_book.log


def test_undeclared_extensions_are_declared_safe_and_no_others():
    def extension(safe):
        return SimpleNamespace(parallel_read_safe=safe, parallel_write_safe=safe)

    app = SimpleNamespace(
        extensions={
            "sphinx_jupyterbook_latex": extension(None),
            "sphinx_multitoc_numbering": extension(None),
            "some_unsafe_extension": extension(False),
            "some_undeclared_extension": extension(None),
        }
    )
    parallel_chapters.declare_safe(app)
    safe = {name for name, ext in app.extensions.items() if ext.parallel_read_safe}
    assert safe == set(parallel_chapters.SAFE_UNDECLARED)
    assert app.extensions["some_unsafe_extension"].parallel_read_safe is False
    assert app.extensions["some_undeclared_extension"].parallel_read_safe is None


def test_the_execution_cache_is_emptied_when_the_stages_changed(tmp_path):
    cache = tmp_path / "_build" / ".jupyter_cache"
    assert not book_build.keep_cache_honest(cache, "corpus k1 b1\n")  # a first build
    (cache / "global.db").write_text("executed on b1")
    assert not book_build.keep_cache_honest(cache, "corpus k1 b1\n")  # the same
    assert (cache / "global.db").exists()
    assert book_build.keep_cache_honest(cache, "corpus k1 b2\n")  # rebuilt since
    assert not (cache / "global.db").exists()
    assert (cache / book_build.STAMP).read_text() == "corpus k1 b2\n"
    (cache / book_build.STAMP).unlink()  # a cache from before the stamp: not trusted
    (cache / "global.db").write_text("executed on ?")
    assert book_build.keep_cache_honest(cache, "corpus k1 b2\n")
    assert not (cache / "global.db").exists()


def test_the_execution_cache_database_exists_before_the_parallel_read(tmp_path):
    # Two chapter readers that both find no database both create its tables: CI once
    # failed with "table nbproject already exists". The build creates it first.
    import sqlite3

    cache = tmp_path / "_build" / ".jupyter_cache"
    book_build.create_database(cache)
    book_build.create_database(cache)  # again: kept, not recreated
    with sqlite3.connect(cache / "global.db") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master")}
    assert "nbproject" in tables


def test_the_stages_stamp_follows_each_build(tmp_path, monkeypatch):
    from conftest import mirror

    from devise_lite import pipeline
    from devise_lite.config import get_preset

    mirror()  # the keys hash the mirror's text files
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    tiny = get_preset("tiny")
    nothing_built = book_build.stages_stamp(tiny)
    assert nothing_built.splitlines()[1].endswith(" -")  # corpus: not built
    corpus = pipeline.folder(tiny, "corpus")
    corpus.mkdir(parents=True)
    (corpus / "done.json").write_text('{"build": "b1"}')
    first = book_build.stages_stamp(tiny)
    assert first != nothing_built and "corpus" in first and " b1" in first
    (corpus / "done.json").write_text('{"build": "b2"}')  # rebuilt, the same key
    assert book_build.stages_stamp(tiny) not in (first, nothing_built)
    assert book_build.execution_cache([".", "-W", "--path-output", "/x"]) == Path(
        "/x/_build/.jupyter_cache"
    )
    assert book_build.execution_cache(["book", "-W"]) == Path(
        "book/_build/.jupyter_cache"
    )


def _cells(notebook) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


def test_notebook_copies_for_colab_match_their_chapters():
    """`make notebooks` writes book/*.ipynb for Colab; an edited chapter must be copied
    again."""
    import jupytext

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    for page in [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]:
        source = REPO / f"{page}.md"
        if "kernelspec" not in source.read_text()[:400]:
            continue  # a plain Markdown page has no notebook
        copy = REPO / f"{page}.ipynb"
        assert copy.exists(), f"{copy.name} is missing: run `make notebooks`"
        assert _cells(jupytext.read(copy)) == _cells(jupytext.read(source)), (
            f"{copy.name} differs from {source.name}: run `make notebooks`"
        )
        assert all(not c.get("outputs") for c in jupytext.read(copy).cells), (
            "no outputs in git"
        )


WIDTH = 88  # characters of code that fit the rendered column without a scroll bar


def _code_cells(text: str):
    """(first line number, lines) of every code cell of a MyST notebook."""
    lines, cell, start = text.splitlines(), None, 0
    for number, line in enumerate(lines, 1):
        if cell is None and line.startswith("```{code-cell}"):
            cell, start = [], number + 1
        elif cell is not None and line.startswith("```"):
            yield start, [c for c in cell if not c.startswith(":tags:")]
            cell = None
        elif cell is not None:
            cell.append(line)


def _shown_objects(text: str) -> list[tuple[str, object]]:
    """(expression, object) of every `show_source(...)` argument of a chapter, each
    resolved through the chapter's own imports of the package."""
    import ast

    namespace, shown = {}, []
    for _, lines in _code_cells(text):
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:  # a cell with IPython syntax imports nothing of ours
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("devise_"):
                exec(compile(ast.Module([node], []), "<chapter>", "exec"), namespace)
            called = getattr(node, "func", None)
            if isinstance(called, ast.Name) and called.id == "show_source":
                shown += [ast.unparse(arg) for arg in node.args]
    return [(expression, eval(expression, namespace)) for expression in shown]


def test_every_code_line_of_the_book_fits_the_column():
    """Code cells and the package objects the chapters show stay within 88
    characters, so the rendered page shows them without a scroll bar. The code comes
    from the package (`show_source`), never from a `literalinclude`, whose directive
    JupyterLab would print as raw text."""
    too_long = []
    for page in sorted((REPO / "book").glob("*.md")):
        text = page.read_text()
        assert "{literalinclude}" not in text, f"{page.name}: use show_source"
        for start, lines in _code_cells(text):
            too_long += [
                f"{page.name}:{start + i}: {len(line)}"
                for i, line in enumerate(lines)
                if len(line) > WIDTH
            ]
        for expression, shown in _shown_objects(text):
            too_long += [
                f"{page.name} shows {expression}: {len(line)}"
                for line in inspect.getsource(shown).splitlines()
                if len(line) > WIDTH
            ]
    assert not too_long, "\n".join(too_long)


def test_the_width_check_finds_a_long_line(tmp_path):
    page = (
        "```{code-cell} ipython3\n:tags: [hide-input]\nshort\n" + "x" * 89 + "\n```\n"
    )
    cells = list(_code_cells(page))
    assert [len(line) > WIDTH for line in cells[0][1]] == [False, True]
    from devise_lite.vectors import unit

    chapter = (
        "```{code-cell} ipython3\nfrom devise_lite.vectors import unit\n```\n"
        "```{code-cell} ipython3\n:tags: [remove-input]\nshow_source(unit)\n```\n"
    )
    assert _shown_objects(chapter) == [("unit", unit)]
