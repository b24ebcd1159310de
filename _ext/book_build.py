"""`jupyter-book build` with Sphinx's `-j`: the chapters are read, and executed, a core
each (the CLI of jupyter-book 1.x has no such option; its `build_sphinx` does).

    python _ext/book_build.py . -W -n --keep-going   # jupyter-book build's arguments

$BOOK_JOBS sets the number of chapters at once (default: every core). One chapter mostly
keeps one core busy, so on 2 cores two at a time cut the cold build by about a third
(README, "Timings").

It also keeps the execution cache honest. jupyter-cache re-executes a chapter only when
its code changed, not when the stages it reads did: after a stage is rebuilt (another
setting, a repaired cache) the pages would show the old run's numbers. So the cache
remembers which stage builds it was executed on (`stages_stamp`); when they changed, it
is emptied and every page is read (so executed) again.

And it creates the cache's database before the chapters are read in parallel: each
reader opens it, and two that find it missing both create its tables, one failing.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
from pathlib import Path

from jupyter_book import sphinx
from jupyter_book.cli.main import main
from jupyter_cache import get_cache

from devise_lite import pipeline
from devise_lite.config import preset_from_env
from devise_lite.errors import UserError
from devise_lite.storage import read_info

STAMP = "devise-stages.txt"  # beside the cache's database, in its folder


def jobs() -> int:
    return int(os.environ.get("BOOK_JOBS") or os.cpu_count() or 1)


def stages_stamp(cfg) -> str:
    """Every stage of the preset the chapters read: its key and the id of its build
    (`done.json`), or "-" where it is not built. Reads, never builds."""
    run = pipeline.at(cfg)
    lines = [cfg.name]
    for name in pipeline.STAGES:
        built = run.is_built(name)
        build = read_info(run.folder(name)).get("build", "") if built else "-"
        lines.append(f"{name} {run.key(name)} {build}")
    return "\n".join(lines) + "\n"


def keep_cache_honest(cache: Path, stamp: str) -> bool:
    """Empty the execution cache `cache` when it was filled from other stage builds
    than `stamp` says; record `stamp`. Returns whether it emptied the cache."""
    record = cache / STAMP
    stale = cache.exists() and (not record.exists() or record.read_text() != stamp)
    if stale:
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    record.write_text(stamp)
    return stale


def create_database(cache: Path) -> None:
    """Create the execution cache's database in `cache` now, in one process, so the
    parallel readers all find it (jupyter-cache creates it on first use, unlocked)."""
    cache.mkdir(parents=True, exist_ok=True)
    get_cache(cache).db.dispose()


def execution_cache(args: list[str]) -> Path:
    """Where jupyter-book keeps the execution cache for these `build` arguments."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("path_source")
    parser.add_argument("--path-output")
    known, _ = parser.parse_known_args(args)
    return Path(known.path_output or known.path_source) / "_build" / ".jupyter_cache"


if __name__ == "__main__":
    arguments = sys.argv[1:]
    cache = execution_cache(arguments)
    try:
        stamp = stages_stamp(preset_from_env())
    except (UserError, OSError):
        stamp = None  # no data to key on: the chapters will say what is missing
    if stamp is not None and keep_cache_honest(cache, stamp):
        print(f"[book] the stages changed since the pages ran: emptied {cache}")
        arguments.append("--all")  # and Sphinx reads every page again, not the edited
    create_database(cache)
    # `build` imports `build_sphinx` from the module when it runs: the default lands
    sphinx.build_sphinx = functools.partial(sphinx.build_sphinx, jobs=jobs())
    sys.exit(main(["build", *arguments]))
