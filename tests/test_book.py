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


def test_notebook_copies_for_colab_match_their_chapters():
    """`make notebooks` writes book/*.ipynb for Colab; an edited chapter must be copied again."""
    import jupytext

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    for page in [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]:
        source = REPO / f"{page}.md"
        if "kernelspec" not in source.read_text()[:400]:
            continue  # a plain Markdown page has no notebook
        copy = REPO / f"{page}.ipynb"
        assert copy.exists(), f"{copy.name} is missing: run `make notebooks`"
        cells = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]
        assert cells(jupytext.read(copy)) == cells(jupytext.read(source)), (
            f"{copy.name} differs from {source.name}: run `make notebooks`"
        )
        assert all(not c.get("outputs") for c in jupytext.read(copy).cells), (
            "no outputs in git"
        )
