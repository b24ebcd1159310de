"""`jupyter-book build` with Sphinx's `-j`: the chapters are read, and executed, a core
each (the CLI of jupyter-book 1.x has no such option; its `build_sphinx` does).

    python _ext/book_build.py . -W -n --keep-going   # jupyter-book build's arguments

$BOOK_JOBS sets the number of chapters at once (default: every core). One chapter mostly
keeps one core busy, so on 2 cores two at a time cut the cold build by about a third
(README, "Timings").
"""

from __future__ import annotations

import functools
import os
import sys

from jupyter_book import sphinx
from jupyter_book.cli.main import main


def jobs() -> int:
    return int(os.environ.get("BOOK_JOBS") or os.cpu_count() or 1)


if __name__ == "__main__":
    # `build` imports `build_sphinx` from the module when it runs: the default lands
    sphinx.build_sphinx = functools.partial(sphinx.build_sphinx, jobs=jobs())
    sys.exit(main(["build", *sys.argv[1:]]))
