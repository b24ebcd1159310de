"""The whole book builds strictly (warnings and cell errors fail) on the tiny preset."""

import os
import subprocess
from pathlib import Path

import yaml

from devise_lite.__main__ import main

REPO = Path(__file__).resolve().parent.parent


def test_book_builds_strictly_on_the_tiny_preset(tmp_path):
    assert (
        main(["run", "--preset", "tiny"]) == 0
    )  # chapters then read the cached stages
    env = {**os.environ, "DEVISE_PRESET": "tiny", "TQDM_DISABLE": "1"}
    build = subprocess.run(
        [
            "jupyter-book",
            "build",
            str(REPO),
            "-W",
            "-n",
            "--keep-going",
            "--path-output",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=2400,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]
    for page in pages:
        assert (tmp_path / "_build" / "html" / f"{page}.html").exists(), page


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


def _included_objects(text: str):
    """(module path, object name) of every `literalinclude` with a `:pyobject:`."""
    import re

    pattern = re.compile(
        r"```\{literalinclude\} \.\./(\S+)\n(?::[^\n]*\n)*?:pyobject: (\S+)"
    )
    return pattern.findall(text)


def _object_source(module: Path, name: str) -> list[str]:
    import ast

    source = module.read_text()
    node = ast.parse(source)
    for part in name.split("."):
        found = [
            n for n in ast.iter_child_nodes(node) if getattr(n, "name", None) == part
        ]
        if not found:
            return []
        node = found[0]
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return source.splitlines()[start - 1 : node.end_lineno]


def test_every_code_line_of_the_book_fits_the_column():
    """Code cells and the package objects the chapters include stay within 88
    characters, so the rendered page shows them without a scroll bar."""
    too_long = []
    for page in sorted((REPO / "book").glob("*.md")):
        text = page.read_text()
        for start, lines in _code_cells(text):
            too_long += [
                f"{page.name}:{start + i}: {len(line)}"
                for i, line in enumerate(lines)
                if len(line) > WIDTH
            ]
        for module, name in _included_objects(text):
            lines = _object_source(REPO / module, name)
            assert lines, f"{page.name} includes {module}:{name}, which does not exist"
            too_long += [
                f"{page.name} includes {module}:{name}: {len(line)}"
                for line in lines
                if len(line) > WIDTH
            ]
    assert not too_long, "\n".join(too_long)


def test_the_width_check_finds_a_long_line(tmp_path):
    page = (
        "```{code-cell} ipython3\n:tags: [hide-input]\nshort\n" + "x" * 89 + "\n```\n"
    )
    cells = list(_code_cells(page))
    assert [len(line) > WIDTH for line in cells[0][1]] == [False, True]
    assert _included_objects(
        "```{literalinclude} ../devise_lite/vectors.py\n:pyobject: unit\n```"
    ) == [("devise_lite/vectors.py", "unit")]
    assert _object_source(REPO / "devise_lite" / "vectors.py", "unit")[0].startswith(
        "def unit("
    )
