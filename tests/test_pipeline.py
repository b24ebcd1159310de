"""The stages end to end on the tiny preset (real data from the mirror), caching and the
CLI."""

import threading

import pandas as pd
import pytest

from devise_lite import language_model, pipeline
from devise_lite.__main__ import main
from devise_lite.config import get_preset, stage_key, with_overrides
from devise_lite.evaluation import TABLE1_COLUMNS
from devise_lite.neighbours import NEIGHBOUR_COLUMNS
from devise_lite.storage import cached_dir, read_info, stage_dir

TINY = get_preset("tiny")


def test_run_writes_the_contract_csvs(tiny_run):
    sharks = pd.read_csv(tiny_run / "shark_neighbours.csv")
    assert list(sharks.columns) == NEIGHBOUR_COLUMNS
    assert set(sharks["rank"]) == set(range(1, 10))
    table = pd.read_csv(tiny_run / "table1.csv")
    assert list(table.columns)[:11] == TABLE1_COLUMNS
    assert {"softmax baseline", "DeViSE", "DeViSE, random embeddings", "chance"} <= set(
        table["model"]
    )
    chance = table.set_index("model").loc["chance"]
    # Every trained model is above chance on flat hit@1, even on the tiny preset.
    assert (table[table.model != "chance"]["hit@1"] > chance["hit@1"]).all()


def test_second_run_loads_every_stage_from_the_cache(tiny_run, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("a finished stage was computed again")

    monkeypatch.setattr(language_model, "train_skipgram", no_training)
    monkeypatch.setattr("devise_lite.devise.train_projection", no_training)
    monkeypatch.setattr("devise_lite.visual.build_backbone", no_training)
    assert main(["run", "--preset", "tiny"]) == 0


def test_label_space_reports_missing_labels_and_has_unit_vectors(tiny_run):
    import numpy as np

    space = pipeline.label_space(TINY)
    missing = pipeline.missing_labels(TINY)
    assert len(space) + len(missing) == len(pipeline.label_vocabulary(TINY))
    assert np.allclose(np.linalg.norm(space.vectors, axis=1), 1, atol=1e-5)
    # the gloss fallback's labels have a vector, the others none; 7 files know few names
    glossed = pipeline.missing_labels(TINY, gloss=True)
    assert set(glossed["wnid"]) <= set(space.wnids)
    assert not set(missing["wnid"]) & set(space.wnids)
    assert len(glossed) > len(space) / 2 and list(glossed.columns) == list(
        missing.columns
    )


def test_a_failing_stage_leaves_no_artifact(tmp_path):
    def build(folder):
        (folder / "half-written.bin").write_bytes(b"x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cached_dir(stage_dir("demo", "k1"), build)
    assert not stage_dir("demo", "k1").exists()
    assert not any(
        p.name.endswith(".part") for p in stage_dir("demo", "k1").parent.iterdir()
    )


def test_stage_keys_follow_the_config():
    changed = with_overrides(TINY, word2vec={"epochs": 4})
    assert pipeline.key(changed, "corpus") == pipeline.key(TINY, "corpus")  # reused
    assert pipeline.key(changed, "word2vec") != pipeline.key(TINY, "word2vec")
    assert stage_key(TINY.text) != stage_key(TINY.phrases)
    # Batch size and threads change only the speed, so they share the features' cache;
    # another image set does not.
    faster = with_overrides(TINY, visual={"batch_size": 64, "num_threads": 1})
    assert pipeline.key(faster, "features") == pipeline.key(TINY, "features")
    fewer = with_overrides(TINY, images={"max_classes": 3})
    assert pipeline.key(fewer, "features") != pipeline.key(TINY, "features")


def test_cli_offline_without_mirror_exits_with_the_clear_error(
    monkeypatch, tmp_path, capsys, offline
):
    monkeypatch.delenv("DEVISE_MIRROR", raising=False)
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    assert main(["corpus", "--preset", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "wikipedia" in err and "DEVISE_MIRROR" in err and "https://" in err


def test_a_killed_stage_leaves_a_temporary_folder_that_the_next_run_removes():
    stale = stage_dir("demo", "k2").parent / ".demo-k2.x1y2.part"
    (stale / "demo-k2").mkdir(parents=True)
    folder = cached_dir(stage_dir("demo", "k2"), lambda tmp: {"made": True})
    assert read_info(folder)["made"] is True
    assert not stale.exists()


def test_two_runs_of_one_stage_take_turns_and_build_once(lock_refused):
    calls, building = [], threading.Event()

    def build(tmp):
        calls.append(1)
        building.set()
        # Finish only once the second caller has found the lock taken.
        assert lock_refused.wait(10), "the second caller never reached the lock"
        (tmp / "artifact.txt").write_text("made once")
        return {}

    results = []
    first = threading.Thread(
        target=lambda: results.append(cached_dir(stage_dir("demo", "k3"), build))
    )
    first.start()
    assert building.wait(10)
    results.append(
        cached_dir(stage_dir("demo", "k3"), build)
    )  # waits for the lock, then reuses
    first.join(10)
    assert lock_refused.is_set() and len(calls) == 1
    assert len(results) == 2 and results[0] == results[1]
    assert (results[0] / "artifact.txt").read_text() == "made once"
