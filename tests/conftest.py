"""Test-wide settings: the read-only data mirror, and a throw-away data root per test
session."""

import os
from pathlib import Path

import pytest

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
    os.environ["DEVISE_DATA"] = str(tmp_path_factory.mktemp("data_root"))
    os.environ.setdefault("TQDM_DISABLE", "1")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def mirror() -> Path:
    path = Path(os.environ.get("DEVISE_MIRROR", DEFAULT_MIRROR))
    if not path.exists():
        pytest.skip(f"the data mirror {path} is not here")
    return path


# The tests that run stages on real data (the tiny preset's whole pipeline, a torchrun
# launch, the book build) are `slow`: `make test` runs them, `make test-fast` leaves
# them out. Marked here, in one place, by the fixtures and modules that make them slow.
SLOW_FIXTURES = {"tiny_run", "tiny_results", "trained", "photo", "ddp_run"}
SLOW_MODULES = {"test_book.py", "test_distributed.py"}
SLOW_TESTS = {
    "test_tiny_explorer_from_the_cached_stages",
    "test_training_receives_no_unseen_feature_row",
    "test_no_test_photo_has_a_seen_or_ilsvrc_label",
    "test_a_missing_shark_folder_costs_only_the_shark_stages",
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
