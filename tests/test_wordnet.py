import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nltk
import pytest

from devise_lite import wordnet
from devise_lite.datasets import REGISTRY, DatasetUnavailableError
from devise_lite.wordnet import nltk_wordnet, wordnet_folder

REPO = Path(__file__).resolve().parent.parent


def _nltk_data(root: Path, zipped: bool) -> Path:
    """An nltk_data folder with a stand-in WordNet, laid out as NLTK's downloader."""
    corpora = root / "corpora"
    corpora.mkdir(parents=True)
    if zipped:
        with zipfile.ZipFile(corpora / "wordnet.zip", "w") as z:
            z.writestr("wordnet/", "")
            z.writestr("wordnet/data.noun", "stand-in")
    else:
        (corpora / "wordnet").mkdir()
        (corpora / "wordnet" / "data.noun").write_text("stand-in")
    return root


def _no_registry(name, **kwargs):
    raise AssertionError("NLTK's own WordNet should have been used")


@pytest.mark.parametrize("zipped", [True, False])
def test_wordnet_on_nltks_own_search_path_comes_first(tmp_path, monkeypatch, zipped):
    own = _nltk_data(tmp_path / "nltk_data", zipped)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty"), str(own)])
    monkeypatch.setattr(wordnet, "locate", _no_registry)
    found = nltk_wordnet()
    assert found is not None and found.startswith(str(own))
    assert wordnet_folder() is None  # NLTK loads it itself: nothing to add


def test_without_it_the_registry_folder_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    monkeypatch.setattr(wordnet, "locate", lambda name: tmp_path / "located" / name)
    assert nltk_wordnet() is None
    assert wordnet_folder() == tmp_path / "located" / "wordnet"


def test_offline_without_any_wordnet_the_error_names_every_way_to_get_it(
    tmp_path, monkeypatch, offline
):
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    monkeypatch.delenv("DEVISE_MIRROR", raising=False)
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetUnavailableError) as err:
        wordnet_folder()
    message = str(err.value)
    assert "\n" not in message
    for way in ("NLTK_DATA", "python -m nltk.downloader wordnet", "DEVISE_MIRROR"):
        assert way in message
    assert REGISTRY["wordnet"].url in message and str(tmp_path / "empty") in message


def test_nltk_data_in_the_environment_is_honoured_by_a_fresh_process(tmp_path):
    own = _nltk_data(tmp_path / "nltk_data", zipped=True)
    env = {**os.environ, "NLTK_DATA": str(own)}
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from devise_lite import wordnet as w; print(w.nltk_wordnet())",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found.startswith(str(own))
