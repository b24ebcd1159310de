"""Every stage's cache key is what it was before `pipeline` became a package: a
restructure that changed a key would silently rebuild (or orphan) every user's cache.
The keys were recorded at commit f42007b with the text files' modification times set
to 0 (a fresh clone's mirror has other times), for the `tiny` and `book` presets."""

import json
from pathlib import Path

import pytest
from conftest import mirror

from devise_lite import pipeline
from devise_lite.config import get_preset
from devise_lite.text import text_fingerprint

RECORDED = json.loads((Path(__file__).parent / "data" / "stage_keys.json").read_text())


@pytest.mark.parametrize("preset", ["tiny", "book"])
def test_stage_keys_are_the_ones_recorded_before_the_move(preset, monkeypatch):
    mirror()  # the keys hash the mirror's file names and sizes

    def timeless(source, max_files=None):
        return [
            (name, size, 0) for name, size, _ in text_fingerprint(source, max_files)
        ]

    monkeypatch.setattr(pipeline.language, "text_fingerprint", timeless)
    cfg = get_preset(preset)
    keys = {name: pipeline.key(cfg, name) for name in pipeline.STAGES}
    assert keys == RECORDED[preset]
