"""Test-wide settings and the fixtures tests share: the read-only data mirror, a
throw-away data root per test session, the tiny preset's run and its book (once per
session), the hand-made hierarchy, a network that is down, and a handshake on a stage's
lock.

`make test` runs the tests in parallel (pytest-xdist, one worker a core). The workers
share one data root and one book build: the stages' own locks let one worker build
a stage while the others wait for it, as two runs at once do (test_recovery.py), and
the book is built under a lock, once."""

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import handmade
import pytest

from devise_lite import datasets
from devise_lite.__main__ import main
from devise_lite.hierarchy import Hierarchy
from devise_lite.storage import results_dir

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _mirror_and_data_root(tmp_path_factory):
    """Point the package at the mirror (unless $DEVISE_MIRROR is set) and at a fresh
    data root.

    A fresh data root keeps the tests from reading or overwriting the user's `data/`;
    stages run on the `tiny` preset are still cached within the session.
    """
    saved = {k: os.environ.get(k) for k in ("DEVISE_MIRROR", "DEVISE_DATA")}
    if not os.environ.get("DEVISE_MIRROR") and DEFAULT_MIRROR.exists():
        os.environ["DEVISE_MIRROR"] = str(DEFAULT_MIRROR)
    os.environ["DEVISE_DATA"] = str(session_folder(tmp_path_factory, "data_root"))
    os.environ.setdefault("TQDM_DISABLE", "1")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def session_folder(tmp_path_factory, name: str) -> Path:
    """A fresh folder for this test session: one that every xdist worker of the
    session shares (their base folders' parent), else a new temporary one."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.mktemp(name)
    folder = tmp_path_factory.getbasetemp().parent / name
    folder.mkdir(exist_ok=True)
    return folder


def mirror() -> Path:
    path = Path(os.environ.get("DEVISE_MIRROR", DEFAULT_MIRROR))
    if not path.exists():
        pytest.skip(f"the data mirror {path} is not here")
    return path


@pytest.fixture(scope="session")
def tiny_run() -> Path:
    """The tiny preset's whole pipeline, run once per session through the command line
    into the session's data root; returns the results folder it wrote.

    Every test that reads tiny stages takes this fixture, then reads them through
    `pipeline.<accessor>(get_preset("tiny"))`, which loads them from the cache."""
    mirror()
    assert main(["run", "--preset", "tiny"]) == 0
    return results_dir()


@dataclass(frozen=True)
class BookBuild:
    """A `jupyter-book build`: its exit status, the end of what it printed, and the
    HTML folder it wrote."""

    returncode: int
    log: str
    html: Path
    # Sphinx read (and executed) the chapters in batches, a core each (_ext/book_build)
    parallel: bool


@pytest.fixture(scope="session")
def tiny_book(tiny_run, tmp_path_factory) -> BookBuild:
    """The whole book built strictly (warnings and cell errors fail) once per session,
    its chapters reading the tiny run's cached stages (the data root is in the
    environment)."""
    out = session_folder(tmp_path_factory, "book")
    record = out / "build.json"  # the first worker's build, for the others
    with open(out / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait here while it builds
        if not record.exists():
            build = subprocess.run(
                [sys.executable, str(REPO / "_ext" / "book_build.py"), str(REPO)]
                + ["-W", "-n", "--keep-going"]
                + ["--path-output", str(out)],
                env={**os.environ, "DEVISE_PRESET": "tiny", "TQDM_DISABLE": "1"},
                capture_output=True,
                text=True,
                timeout=2400,
            )
            log = build.stdout[-4000:] + build.stderr[-2000:]
            plain = re.sub(r"\x1b\[[0-9;]*m", "", build.stdout)
            # parallel reading names each batch: "[ 50%] book/01_... .. book/05_..."
            batch = r"reading sources\.\.\. \[.*%\] \S+ \.\. "
            parallel = bool(re.search(batch, plain))
            record.write_text(json.dumps([build.returncode, log, parallel]))
    returncode, log, parallel = json.loads(record.read_text())
    return BookBuild(returncode, log, out / "_build" / "html", parallel)


OFFLINE_ERROR = "[Errno -3] Temporary failure in name resolution"


@pytest.fixture
def offline(monkeypatch) -> list[str]:
    """A network that is down: every dataset download fails as a missing DNS does.
    Returns the URLs tried, in order."""
    tried: list[str] = []

    def download(url, target, timeout=30.0):
        tried.append(url)
        raise OSError(OFFLINE_ERROR)

    monkeypatch.setattr(datasets, "download", download)
    return tried


@pytest.fixture
def zoo() -> Hierarchy:
    """The hand-made is-a tree of `handmade.py`, a fresh instance per test."""
    return handmade.zoo()


@pytest.fixture
def lock_refused(monkeypatch) -> threading.Event:
    """Set when a caller finds a stage's lock taken and starts to wait for it: a build
    that waits on this event knows the second caller has arrived (no sleeps)."""
    fcntl = pytest.importorskip("fcntl")  # POSIX only, as the lock itself
    refused, real_flock = threading.Event(), fcntl.flock

    def flock(handle, operation):
        try:
            return real_flock(handle, operation)
        except BlockingIOError:
            refused.set()
            raise

    monkeypatch.setattr(fcntl, "flock", flock)
    return refused


# The tests that run stages on real data (the tiny preset's whole pipeline, a torchrun
# launch, the book build) are `slow`: `make test` runs them, `make test-fast` leaves
# them out. Marked here, in one place, by the fixtures and modules that make them slow
# (a test marked by a fixture is marked through any fixture that needs it, too;
# `rendered_html` asks for `tiny_book` only when $DEVISE_RENDERED_HTML is not set, so
# it is named itself).
SLOW_FIXTURES = {"tiny_run", "ddp_run", "rendered_html"}
SLOW_MODULES = {"test_book.py", "test_distributed.py"}
SLOW_TESTS = {
    "test_predict_without_a_trained_model_names_the_command",
    "test_real_mirror_files_give_the_same_corpus_on_1_and_2_processes",
    "test_an_xml_dump_gives_the_same_corpus_on_1_and_2_processes",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        name = item.name.split("[")[0]
        if (
            fixtures & SLOW_FIXTURES
            or Path(item.fspath).name in SLOW_MODULES
            or name in SLOW_TESTS
        ):
            item.add_marker(pytest.mark.slow)
