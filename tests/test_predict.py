"""`python -m devise_lite predict` on the tiny preset: real images, bad files, and no
model yet."""

import json

import pytest

from devise_lite import pipeline
from devise_lite.__main__ import main
from devise_lite.config import get_preset

TINY = get_preset("tiny")


@pytest.fixture(scope="module")
def trained(tiny_run):
    """The seen labels of the tiny run's trained models (the session's cached stages
    hold everything `predict` needs)."""
    return pipeline.experiment_labels(TINY)


@pytest.fixture(scope="module")
def photo(trained):
    split = pipeline.image_split(TINY)
    return next(str(i.path) for i in split.test if i.wnid == trained[0])


def test_predict_answers_good_files_and_reports_bad_ones(
    trained, photo, tmp_path, capsys
):
    broken = tmp_path / "broken.jpg"
    broken.write_text("this is not a JPEG")
    missing = tmp_path / "missing.png"
    code = main(
        ["predict", photo, str(broken), str(missing), "--preset", "tiny", "--top", "3"]
    )
    out, err = capsys.readouterr()
    assert code == 1  # some files failed, the good one is answered
    assert (
        photo in out
        and len(
            [
                line
                for line in out.splitlines()
                if line.strip()[:2] in ("1.", "2.", "3.")
            ]
        )
        == 3
    )
    assert str(broken) in err and "not a readable image" in err
    assert str(missing) in err and "does not exist" in err
    assert str(broken) not in out


def test_predict_json_ranks_the_seen_labels(trained, photo, capsys):
    caltech = ["--model", "devise-caltech", "--candidates", "seen"]
    assert main(["predict", photo, "--preset", "tiny", "--json", *caltech]) == 0
    answers = json.loads(capsys.readouterr().out)
    assert (
        len(answers) == 1
        and answers[0]["image"] == photo
        and answers[0]["candidates"] == "seen"
    )
    labels = answers[0]["labels"]
    assert [label["rank"] for label in labels] == [1, 2, 3, 4, 5]
    assert {label["wnid"] for label in labels} <= set(trained)
    cosines = [label["cosine"] for label in labels]
    assert cosines == sorted(cosines, reverse=True) and all(
        -1 <= c <= 1 for c in cosines
    )


def test_predict_zero_shot_candidates_exclude_the_seen_labels(trained, photo, capsys):
    assert (
        main(
            [
                "predict",
                photo,
                "--preset",
                "tiny",
                "--candidates",
                "2-hop",
                "--json",
                "--model",
                "devise-caltech",
            ]
        )
        == 0
    )
    labels = json.loads(capsys.readouterr().out)[0]["labels"]
    assert len(labels) == 5 and not {label["wnid"] for label in labels} & set(trained)


def test_predict_without_a_trained_model_names_the_command(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))

    def no_training(*args, **kwargs):
        raise AssertionError("predict must not start a stage")

    for stage in ("ensure", "get", "label_space", "trained_models", "image_features"):
        monkeypatch.setattr(pipeline, stage, no_training)
    assert main(["predict", "anything.jpg", "--preset", "tiny"]) == 2  # bad input
    err = capsys.readouterr().err
    assert "python -m devise_lite run --preset tiny" in err
    assert not (tmp_path / "cache").exists()
