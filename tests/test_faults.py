"""Bad input and faults: one clear line, a distinct exit status, nothing wrong cached,
and runs that repeat. (The text side's faults are in test_text.py / test_corpus.py,
WordNet's in test_wordnet.py, predict's in test_predict.py; damaged caches and a full
disk in test_integrity.py, and on the tiny preset's real stages, with kills and two runs
at once, in test_recovery.py.)"""

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import mirror

from devise_lite import datasets, pipeline
from devise_lite.__main__ import main, parser
from devise_lite.archives import DatasetIntegrityError
from devise_lite.config import PRESET_HELP, get_preset
from devise_lite.datasets import DatasetUnavailableError
from devise_lite.errors import INTERRUPTED
from devise_lite.pipeline import Stage
from devise_lite.storage import is_done

TINY = get_preset("tiny")


# ---------------------------------------------------------------- the command line


def test_a_data_root_that_is_a_file_is_one_line_and_exit_2(
    tmp_path, monkeypatch, capsys
):
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("oops")
    monkeypatch.setenv("DEVISE_DATA", str(not_a_folder))
    assert main(["labels", "--preset", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "DEVISE_DATA" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["labels", "--preset", "tiny", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err  # --debug shows it


def test_ctrl_c_ends_with_130_and_says_the_work_is_kept(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "ensure", interrupted)
    monkeypatch.setattr(pipeline, "is_built", lambda cfg, name: False)
    assert main(["corpus", "--preset", "tiny"]) == INTERRUPTED
    assert "resume" in capsys.readouterr().err


def test_the_preset_goes_before_or_after_the_stage_and_comes_from_the_environment(
    monkeypatch, capsys
):
    chosen = []
    monkeypatch.setattr(
        "devise_lite.__main__.run_stages",
        lambda cfg, names: chosen.append((cfg.name, names)),
    )
    assert main(["--preset", "tiny", "corpus"]) == 0
    assert main(["corpus", "--preset", "tiny"]) == 0
    monkeypatch.setenv("DEVISE_PRESET", "tiny")
    assert main(["corpus"]) == 0
    assert chosen == [("tiny", ["corpus"])] * 3
    monkeypatch.delenv("DEVISE_PRESET")
    assert main(["corpus"]) == 0 and chosen[-1][0] == "book"  # the default
    help_text = (
        parser().format_help()
        + parser()._subparsers._group_actions[0].choices["run"].format_help()
    )
    assert "--preset" in help_text and "DEVISE_PRESET" in help_text


def test_a_run_says_its_preset_and_what_it_costs(monkeypatch, capsys):
    from devise_lite.__main__ import run_stages

    monkeypatch.setattr(pipeline, "ensure", lambda cfg, name, group=None: None)
    monkeypatch.setattr(pipeline, "publish", lambda cfg, name: [])
    monkeypatch.setattr(pipeline, "is_built", lambda cfg, name: False)
    run_stages(TINY, ["corpus"])
    out = capsys.readouterr().out
    assert f"preset tiny ({PRESET_HELP['tiny']})" in out and "to build" in out


# ---------------------------------------------------------------- stages


@pytest.fixture
def demo_stage(monkeypatch, lock_refused):
    """A stage of one's own in the table, counting its builds; a build starts (sets
    `building`) and finishes only once a second caller has found its lock taken."""
    builds, building = [], threading.Event()

    def build(cfg, out, group):
        builds.append(1)
        building.set()
        assert lock_refused.wait(10), "the second caller never reached the lock"
        if out is not None:
            (out / "made.txt").write_text("once")
        return {}

    table = dict(pipeline.STAGES)
    table["demo"] = Stage(
        "demo",
        "a test stage",
        needs=(),
        reads=lambda cfg: "x",
        build=build,
        distributed=True,
    )
    monkeypatch.setattr(pipeline, "STAGES", table)
    return builds, building


def test_two_runs_of_any_stage_take_turns_and_build_once(demo_stage):
    builds, building = demo_stage
    folders = []
    first = threading.Thread(
        target=lambda: folders.append(pipeline.ensure(TINY, "demo"))
    )
    first.start()
    assert building.wait(10)  # the first run holds the lock
    folders.append(pipeline.ensure(TINY, "demo"))  # waits for the lock, then reuses
    first.join(10)
    assert len(builds) == 1 and len(folders) == 2 and folders[0] == folders[1]
    assert (folders[0] / "made.txt").read_text() == "once"


def _mirror_without(tmp_path: Path, left_out: str) -> Path:
    """A second mirror at another path: links to the real mirror's datasets but one."""
    real = mirror()
    other = tmp_path / "moved-mirror"
    other.mkdir()
    for entry in real.iterdir():
        if entry.name != left_out:
            (other / entry.name).symlink_to(entry)
    return other


def test_a_moved_mirror_keeps_the_feature_cache(tmp_path, monkeypatch):
    moved = _mirror_without(tmp_path, "nothing")  # skips where there is no mirror
    before = pipeline.key(TINY, "features")
    monkeypatch.setenv("DEVISE_MIRROR", str(moved))
    assert pipeline.key(TINY, "features") == before  # keyed by relative paths


def test_a_missing_shark_folder_costs_only_the_shark_stages(
    tiny_run, tmp_path, monkeypatch, capsys, offline
):
    from devise_lite.__main__ import run_stages
    from devise_lite.errors import UserError

    monkeypatch.setenv("DEVISE_MIRROR", str(_mirror_without(tmp_path, "sharks")))
    with pytest.raises(UserError, match="zeroshot_sharks"):
        run_stages(TINY, ["zeroshot", "zeroshot_sharks"])
    out = capsys.readouterr()
    assert "zeroshot done" in out.out and "shark_features" in out.err + out.out
    assert is_done(pipeline.folder(TINY, "zeroshot"))
    assert set(offline) == {datasets.REGISTRY["sharks"].url}  # only the one missing


# ---------------------------------------------------------------- the explorer


def test_a_label_without_a_vector_points_at_the_missing_labels_report():
    from devise_lite.book.explorer import Explorer, ModelView, UnknownQueryError
    from devise_lite.labels import LabelSpace

    space = LabelSpace(["n00000001"], ["thing"], np.ones((1, 2), np.float32) / 2**0.5)
    explorer = Explorer(
        space,
        {"seen": ["n00000001"]},
        {"m": ModelView(space)},
        missing={"n00005787": "benthos"},
    )
    for query in ("n00005787", "benthos"):
        with pytest.raises(UnknownQueryError, match="missing-labels report"):
            explorer.find_label(query)
    with pytest.raises(UnknownQueryError, match="no label named"):
        explorer.find_label("unicorn")


# ---------------------------------------------------------------- datasets of the 1K


@pytest.mark.parametrize("name", ["imagenet_sample", "imagenet_zsl_lists"])
def test_the_sample_and_the_lists_are_found_checked_and_missed_clearly(
    name, tmp_path, monkeypatch, offline
):
    real = mirror() / datasets.REGISTRY[name].folder
    assert datasets.locate(name) == real  # mirror first, verified
    broken = tmp_path / "broken-mirror"
    target = broken / datasets.REGISTRY[name].folder
    target.mkdir(parents=True)
    files = sorted(real.iterdir())
    for file in files[:-1]:  # one file short
        (target / file.name).symlink_to(file)
    monkeypatch.setenv("DEVISE_MIRROR", str(broken))
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetIntegrityError):
        datasets.locate(name)
    monkeypatch.setenv("DEVISE_MIRROR", str(tmp_path / "empty"))
    with pytest.raises(DatasetUnavailableError, match="https://github.com"):
        datasets.locate(name)
    assert offline == [datasets.REGISTRY[name].url]


# ---------------------------------------------------------------- runs that repeat


def test_progress_bars_obey_tqdm_disable_set_at_any_time(monkeypatch):
    from devise_lite.progress import progress_bar

    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bar(range(3)).disable
    monkeypatch.setenv("TQDM_DISABLE", "")
    assert progress_bar(range(3), progress=False).disable
    assert not progress_bar(range(3), file=open(os.devnull, "w")).disable


def test_phase_2_repeats_itself(tmp_path):
    """Two fine-tunings from the same start give the same weights: the random crops
    are seeded (they were not, and two runs differed by 0.18)."""
    import torch
    from PIL import Image

    from devise_lite.config import DeviseConfig, VisualConfig
    from devise_lite.devise import EndToEnd, Projection, fine_tune
    from devise_lite.image_inputs import ImageFiles, LabelledImages, image_transform

    paths = []
    for i in range(6):
        path = tmp_path / f"photo{i}.png"
        Image.fromarray(
            np.random.default_rng(i).integers(0, 255, (40, 50, 3), dtype=np.uint8)
        ).save(path)
        paths.append(path)
    images = ImageFiles(paths, image_transform(VisualConfig(image_size=16), train=True))
    data = LabelledImages(images, np.arange(6) % 3)
    vectors = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    cfg = DeviseConfig(phase2_epochs=2, phase2_lr=0.05, seed=3)

    def tuned():
        torch.manual_seed(1)
        net = EndToEnd(
            torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 8)),
            Projection(8, 4),
        )
        fine_tune(net, data, vectors, cfg, batch_size=4, progress=False)
        return net.state_dict()

    first, second = tuned(), tuned()
    assert all(torch.equal(first[k], second[k]) for k in first)
