"""Test-wide settings: the read-only data mirror, and a throw-away data root per test session."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _mirror_and_data_root(tmp_path_factory):
    """Point the package at the mirror (unless $DEVISE_MIRROR is set) and at a fresh data root.

    A fresh data root keeps the tests from reading or overwriting the user's `data/`; stages run on
    the `tiny` preset are still cached within the session.
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
