"""The whole book builds strictly (warnings and cell errors fail) on the tiny preset."""
import os
import subprocess
from pathlib import Path

import yaml

from devise_lite.__main__ import main

REPO = Path(__file__).resolve().parent.parent


def test_book_builds_strictly_on_the_tiny_preset(tmp_path):
    assert main(["run", "--preset", "tiny"]) == 0          # chapters then read the cached stages
    env = {**os.environ, "DEVISE_PRESET": "tiny", "TQDM_DISABLE": "1"}
    build = subprocess.run(["jupyter-book", "build", str(REPO), "-W", "-n", "--keep-going",
                            "--path-output", str(tmp_path)],
                           env=env, capture_output=True, text=True, timeout=2400)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]
    for page in pages:
        assert (tmp_path / "_build" / "html" / f"{page}.html").exists(), page
