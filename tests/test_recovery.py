"""Faults on the tiny preset's real stages, each through the command line as a user
meets it: damaged artifacts, a damaged checkpoint and engine, kills at several points,
two runs at once, a full disk. Each asserts the exit status, one line (no traceback),
and every result CSV equal to a clean run's after recovery.

All are slow. One clean tiny run (the session's `tiny_run`) is the reference; each
test works on a copy of its data root and rebuilds only what its fault costs, but the
two runs at once, which start from nothing and so also show that a whole tiny run
repeats itself exactly."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO
from damage import flip_bytes, truncate_half

from devise_lite.datasets import locate
from devise_lite.diskspace import tree_bytes

pytestmark = pytest.mark.slow

WAIT = 900  # seconds a command may take on two busy cores


@pytest.fixture
def data(tiny_run, tmp_path) -> Path:
    """A copy of the reference data root, without its results (a run writes them)."""
    copy = tmp_path / "data"
    shutil.copytree(tiny_run.parent, copy, symlinks=True)
    shutil.rmtree(copy / "results")
    return copy


def cli(root: Path, *args: str, **popen) -> subprocess.CompletedProcess:
    """`python -m devise_lite ARGS --preset tiny` on the data root `root`."""
    return subprocess.run(
        command(*args), env=environment(root), capture_output=True, text=True,
        timeout=WAIT, cwd=REPO, **popen,
    )  # fmt: skip


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "devise_lite", *args, "--preset", "tiny"]


def environment(root: Path) -> dict:
    return {**os.environ, "DEVISE_DATA": str(root), "TQDM_DISABLE": "1"}


def lines(stderr: str) -> list[str]:
    """What a command said on stderr, asserting that no traceback is among it."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.strip()]


def stage(root: Path, name: str) -> Path:
    (folder,) = (root / "cache").glob(f"{name}-" + "?" * 12)
    return folder


def largest_file(folder: Path) -> Path:
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "done.json"]
    return max(files, key=lambda p: p.stat().st_size)


def assert_results_of_a_clean_run(root: Path, reference: Path) -> None:
    expected = sorted(p.name for p in reference.glob("*.csv"))
    assert sorted(p.name for p in (root / "results").glob("*.csv")) == expected
    for name in expected:
        pd.testing.assert_frame_equal(
            pd.read_csv(root / "results" / name),
            pd.read_csv(reference / name),
            check_exact=True,
            obj=name,
        )


def test_verify_finds_a_truncated_and_a_bit_flipped_artifact_a_run_rebuilds_them(
    data, tiny_run
):
    truncated = largest_file(stage(data, "shark_features"))
    flipped = largest_file(stage(data, "imagenet1k"))
    truncate_half(truncated)
    flip_bytes(flipped)
    found = cli(data, "verify")
    assert found.returncode == 1 and lines(found.stderr) == []
    damaged = [line for line in found.stdout.splitlines() if "damaged (" in line]
    assert [line.split()[0] for line in damaged] == ["shark_features", "imagenet1k"]
    rerun = cli(data, "run")
    assert rerun.returncode == 0
    assert lines(rerun.stderr) == [
        f"warning: cache of shark_features damaged ({truncated.name}): rebuilding",
        "warning: cache of imagenet1k damaged "
        f"({flipped.relative_to(stage(data, 'imagenet1k')).as_posix()}): rebuilding",
    ]
    assert_results_of_a_clean_run(data, tiny_run)
    assert cli(data, "verify").returncode == 0


def test_verify_repair_removes_what_is_damaged(data):
    flip_bytes(largest_file(stage(data, "evaluate")))
    repaired = cli(data, "verify", "--repair")
    assert repaired.returncode == 1 and lines(repaired.stderr) == []
    assert "removed 1 damaged" in repaired.stdout
    again = cli(data, "verify")
    assert again.returncode == 0
    assert any(line.split()[:3] == ["evaluate", "0", "files"] for line in
               again.stdout.splitlines())  # fmt: skip


def test_a_damaged_engine_is_exported_again_a_damaged_predictor_is_refused(
    data, tiny_run
):
    photo = next(locate("caltech101").rglob("*.jpg"))
    for export in (data / "cache" / "engines").glob("*.onnx"):
        flip_bytes(export)
    predictor = stage(data, "predictor")
    (engine,) = predictor.glob("engine/*.onnx")
    flip_bytes(engine)
    shutil.rmtree(stage(data, "shark_features"))  # its rebuild needs an engine
    refused = cli(data, "predict", str(photo))
    assert refused.returncode == 2
    assert lines(refused.stderr) == [
        f"error: cache of predictor damaged (engine/{engine.name}): rebuild it with "
        "python -m devise_lite run --preset tiny"
    ]
    rerun = cli(data, "run")
    assert rerun.returncode == 0
    said = lines(rerun.stderr)
    assert len(said) == 2 and said[0].startswith("warning: exported engine damaged (")
    assert said[0].endswith("): exporting it again")
    assert said[1] == (
        f"warning: cache of predictor damaged (engine/{engine.name}): rebuilding"
    )
    assert cli(data, "predict", str(photo)).returncode == 0
    assert_results_of_a_clean_run(data, tiny_run)


def run_until(root: Path, ready, then_wait: float = 0.0) -> str:
    """Start `run`, SIGKILL it once `ready(root, stdout so far)` holds (polled), and
    return its stderr. A run that ends first fails the test: the kill point was
    never reached."""
    out, err = root / "stdout.txt", root / "stderr.txt"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            command("run"), env=environment(root), stdout=stdout, stderr=stderr,
            cwd=REPO,
        )  # fmt: skip
        deadline = time.monotonic() + WAIT
        while not ready(root, out.read_text()):
            assert process.poll() is None, f"the run ended first:\n{err.read_text()}"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(then_wait)
        process.send_signal(signal.SIGKILL)
        process.wait()
    return err.read_text()


def checkpoint_records(root: Path, name: str) -> list[Path]:
    return sorted((root / "cache" / "checkpoints").glob(f"{name}-*/**/*.blake2b.json"))


def test_kills_at_several_points_then_a_damaged_checkpoint_then_resume(data, tiny_run):
    for name in ("sample_features", "imagenet1k"):
        shutil.rmtree(stage(data, name))  # and what was built from them is outdated
    # 1. while the sample's views are extracted
    said = run_until(data, lambda _, out: "] sample_features: " in out, then_wait=1.5)
    assert lines(said) == []
    # 2. while DeViSE-1K's models train: one is saved; then damage it
    said = run_until(data, lambda root, _: checkpoint_records(root, "imagenet1k"))
    assert lines(said) == []
    record = checkpoint_records(data, "imagenet1k")[0]
    checkpoint = record.with_name(record.name.removesuffix(".blake2b.json"))
    flip_bytes(checkpoint)
    # 3. while Tables 2 and 3 are computed (no checkpoint: the stage starts again)
    said = run_until(data, lambda _, out: "] zeroshot: " in out, then_wait=1.0)
    (warning,) = lines(said)
    assert warning.startswith("warning: checkpoint damaged (cache/checkpoints/")
    assert warning.endswith(f"/{checkpoint.name}): training it again")
    # 4. to the end
    resumed = cli(data, "run")
    assert resumed.returncode == 0 and lines(resumed.stderr) == []
    assert_results_of_a_clean_run(data, tiny_run)
    assert cli(data, "verify").returncode == 0
    assert not list((data / "cache").glob(".*.part"))  # no temporary left behind


def test_two_runs_at_once_from_nothing_both_finish_with_the_results_of_one(
    tiny_run, tmp_path
):
    """Two runs start together on an empty data root: each stage is raced for, one
    run builds it while the other waits, and both end with the session's results. So
    the tiny preset also repeats itself exactly from scratch (one skip-gram worker,
    seeded crops and draws; the book preset's two skip-gram threads race)."""
    data = tmp_path / "data"
    runs = [
        subprocess.Popen(
            command("run"),
            env=environment(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )  # fmt: skip
        for _ in range(2)
    ]
    for run in runs:
        _out, err = run.communicate(timeout=WAIT)
        assert run.returncode == 0
        assert all("another process is building" in line for line in lines(err))
    assert_results_of_a_clean_run(data, tiny_run)
    assert cli(data, "verify").returncode == 0


def test_a_full_disk_is_one_line_and_the_same_command_resumes(data, tiny_run):
    """A tmpfs (where this process may mount one: else skipped, test_integrity.py
    injects ENOSPC instead) that holds every stage but the last: the predictor's
    exported engine does not fit."""
    shutil.rmtree(stage(data, "predictor"))
    disk = data.parent / "disk"
    disk.mkdir()
    size = (tree_bytes(data) >> 20) + 8  # MB: the results, and a little
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}m", "tmpfs", str(disk)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        root = disk / "data"
        shutil.copytree(data, root, symlinks=True)
        full = cli(root, "run")
        assert full.returncode == 2
        (error,) = lines(full.stderr)
        assert error.startswith(
            f"error: no space left on the data root {root} (the predictor stage needs "
        )
        assert error.endswith("run the same command again (finished stages are kept)")
        assert not list((root / "cache").glob("predictor-*"))  # nothing marked done
        assert not list((root / "cache").glob(".*.part"))  # nor left half written
        subprocess.run(["mount", "-o", "remount,size=256m", str(disk)], check=True)
        resumed = cli(root, "run")
        assert resumed.returncode == 0 and lines(resumed.stderr) == []
        assert_results_of_a_clean_run(root, tiny_run)
    finally:
        subprocess.run(["umount", str(disk)], check=False)
