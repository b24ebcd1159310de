"""The checked artifact store: every file a stage writes is recorded (size, hash), a
damaged one is found and rebuilt with one warning line, together with what was built
from it; checkpoints and exported engines are checked alike; a full disk is one error
line, whichever library's write met it. (The same faults on the tiny preset's real
stages, with kills and concurrent runs: test_recovery.py.)"""

import errno
import gc
import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from damage import flip_bytes, truncate_half

from devise_lite import diskspace, integrity
from devise_lite.__main__ import guarded
from devise_lite.errors import BadInputError, OutOfSpaceError
from devise_lite.storage import (
    atomic_path,
    cached_dir,
    checked_path,
    damaged_file,
    intact,
    is_done,
    read_info,
    reusable,
    writable_array,
)

PAYLOAD = bytes(range(256)) * 64  # 16 KiB


class TwoStages:
    """`alpha` and `beta` (built from alpha), as the pipeline builds stages."""

    def __init__(self, root: Path):
        self.alpha = root / "cache" / f"alpha-{'0' * 12}"
        self.beta = root / "cache" / f"beta-{'1' * 12}"
        self.builds: list[str] = []

    def _build_alpha(self, out: Path) -> dict:
        self.builds.append("alpha")
        (out / "sub").mkdir()
        (out / "sub" / "x.bin").write_bytes(PAYLOAD)
        return {"rows": 3}

    def _build_beta(self, out: Path) -> dict:
        self.builds.append("beta")
        (out / "y.txt").write_text("made from alpha")
        return {}

    def ensure(self) -> None:
        cached_dir(self.alpha, self._build_alpha)
        cached_dir(self.beta, self._build_beta, inputs=[self.alpha])


@pytest.fixture
def stages(tmp_path, monkeypatch) -> TwoStages:
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    monkeypatch.delenv(integrity.CHECKS_ENV, raising=False)
    built = TwoStages(tmp_path)
    built.ensure()
    return built


def test_a_finished_folder_records_every_file_its_build_and_its_inputs(stages):
    alpha, beta = read_info(stages.alpha), read_info(stages.beta)
    digest = hashlib.blake2b(PAYLOAD, digest_size=32).hexdigest()
    assert alpha["files"] == {"sub/x.bin": {"bytes": len(PAYLOAD), "blake2b": digest}}
    assert alpha["rows"] == 3 and alpha["build"] != beta["build"]
    assert beta["inputs"] == {stages.alpha.name: alpha["build"]}
    assert set(beta["files"]) == {"y.txt"}  # done.json and the stamps are not listed


@pytest.mark.parametrize("damage", [truncate_half, flip_bytes])
def test_a_truncated_or_bit_flipped_file_is_found(stages, damage):
    damage(stages.alpha / "sub" / "x.bin")
    assert damaged_file(stages.alpha).file == "sub/x.bin"  # the default check
    assert damaged_file(stages.alpha, hash=True).file == "sub/x.bin"  # `verify`'s
    sizes_only = damaged_file(stages.alpha, hash=False)
    assert (sizes_only is None) == (damage is flip_bytes)  # sizes miss a flip
    assert not reusable(stages.alpha) and reusable(stages.beta)


def test_a_warm_check_hashes_nothing_a_changed_file_is_hashed_once(stages, monkeypatch):
    hashed = []
    real = integrity.file_digest
    monkeypatch.setattr(
        integrity, "file_digest", lambda path: hashed.append(path) or real(path)
    )
    assert damaged_file(stages.alpha) is None and hashed == []  # stamped at build
    os.utime(stages.alpha / "sub" / "x.bin")  # rewritten, say, with the same bytes
    assert damaged_file(stages.alpha) is None and len(hashed) == 1
    assert damaged_file(stages.alpha) is None and len(hashed) == 1  # stamped again


def test_a_damaged_stage_is_rebuilt_with_one_warning_and_so_is_what_used_it(
    stages, capsys
):
    flip_bytes(stages.alpha / "sub" / "x.bin")
    capsys.readouterr()
    stages.ensure()
    out, err = capsys.readouterr()
    assert err == "warning: cache of alpha damaged (sub/x.bin): rebuilding\n"
    assert "beta: rebuilding, alpha was rebuilt since" in out
    assert stages.builds == ["alpha", "beta", "alpha", "beta"]
    assert reusable(stages.alpha) and reusable(stages.beta)
    stages.ensure()
    assert len(stages.builds) == 4  # and now both are reused


def test_an_upstream_deleted_to_save_space_outdates_nothing(stages):
    for file in stages.alpha.rglob("*"):
        if file.is_file():
            file.unlink()
    stages.alpha.joinpath("sub").rmdir()
    stages.alpha.rmdir()
    assert reusable(stages.beta)


def test_checks_can_be_off_for_a_benchmark_but_verify_still_hashes(stages, monkeypatch):
    flip_bytes(stages.alpha / "sub" / "x.bin")
    monkeypatch.setenv(integrity.CHECKS_ENV, "off")
    assert damaged_file(stages.alpha) is None
    assert damaged_file(stages.alpha, hash=True) is not None
    monkeypatch.setenv(integrity.CHECKS_ENV, "sometimes")
    with pytest.raises(BadInputError, match="DEVISE_CHECKS"):
        damaged_file(stages.alpha)


def test_an_unreadable_done_json_is_damage(stages):
    (stages.alpha / "done.json").write_text("{")
    assert damaged_file(stages.alpha).file == "done.json"


# ---------------------------------------------------------------- single files


def test_a_damaged_checkpoint_is_dropped_with_one_warning(tmp_path, capsys):
    checkpoint = tmp_path / "checkpoints" / f"train-{'2' * 12}" / "DeViSE.pt"
    assert not intact(checkpoint, "checkpoint", "training from the start")
    with checked_path(checkpoint) as tmp:
        tmp.write_bytes(PAYLOAD)
    assert intact(checkpoint, "checkpoint", "training from the start")
    flip_bytes(checkpoint)
    assert not intact(checkpoint, "checkpoint", "training from the start")
    err = capsys.readouterr().err
    assert err.startswith("warning: checkpoint damaged (") and err.count("\n") == 1
    assert "DeViSE.pt): training from the start" in err
    assert not checkpoint.exists() and not integrity.sidecar(checkpoint).exists()


def test_a_damaged_engine_is_exported_again(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from devise_lite.config import VisualConfig
    from devise_lite.torch_engines import make_engine

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    cfg = VisualConfig(image_size=16, num_threads=1)
    make_engine(cfg, net, "cpu", tmp_path, "onnx")
    (export,) = tmp_path.glob("*.onnx")
    good = export.read_bytes()
    flip_bytes(export)
    engine = make_engine(cfg, net, "cpu", tmp_path, "onnx")
    err = capsys.readouterr().err
    assert err == (f"warning: exported engine damaged ({export}): exporting it again\n")
    assert export.read_bytes() == good  # the export repeats itself
    batch = np.zeros((1, 3, 16, 16), np.float32)
    assert engine(batch).shape == (1, 4)


# ---------------------------------------------------------------- a full disk


def test_a_full_disk_in_a_stage_is_one_error_line_and_nothing_marked_done(
    tmp_path, monkeypatch, capsys
):
    """ENOSPC injected at the storage layer (a real full disk: below)."""
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    folder = tmp_path / "cache" / f"alpha-{'0' * 12}"

    def build(out: Path) -> dict:
        (out / "part.bin").write_bytes(PAYLOAD)
        raise OSError(errno.ENOSPC, "No space left on device")

    assert guarded(lambda: cached_dir(folder, build)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no space left on the data root {tmp_path} ")
    assert "(the alpha stage needs more than 16 KB; " in err  # what it had written
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not is_done(folder) and not list(folder.parent.glob(".*.part"))
    cached_dir(folder, lambda out: (out / "part.bin").write_bytes(PAYLOAD) and {})
    assert reusable(folder)  # the same call, once there is space


def test_torchs_write_failure_on_a_nearly_full_disk_is_a_full_disk(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    torch_says = "[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534"
    monkeypatch.setattr(diskspace, "_nearly_full", lambda where: True)
    with pytest.raises(OutOfSpaceError), atomic_path(tmp_path / "model.pt"):
        raise RuntimeError(torch_says)
    monkeypatch.setattr(diskspace, "_nearly_full", lambda where: False)
    with pytest.raises(RuntimeError, match="unexpected pos"):
        with atomic_path(tmp_path / "model.pt"):
            raise RuntimeError(torch_says)  # a bug, not the disk: kept as it is


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MB tmpfs where this process may mount one (root, Linux)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (the injected ENOSPC tests still run)")
    try:
        yield disk
    finally:
        gc.collect()  # a failed writer's file may still be open through a traceback
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(disk)], check=False)


def _python(path: Path) -> None:
    path.write_bytes(PAYLOAD * 256)


def _numpy(path: Path) -> None:
    np.save(path, np.zeros(2**20, np.float32))


def _torch(path: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"weight": torch.zeros(2**20)}, path)


def _gensim(path: Path) -> None:
    models = pytest.importorskip("gensim.models")
    vectors = models.KeyedVectors(vector_size=100)
    words = [f"w{i}" for i in range(10_000)]
    vectors.add_vectors(words, np.ones((10_000, 100), np.float32))
    vectors.save(str(path))


def _pandas(path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pd.DataFrame({"x": np.arange(300_000)}).to_csv(path)


def _memory_map(path: Path) -> None:
    writable_array(path, np.float32, (2**20,))[:] = 1  # without the reservation: SIGBUS


@pytest.mark.parametrize(
    "write", [_python, _numpy, _torch, _gensim, _pandas, _memory_map]
)
def test_every_writer_on_a_full_disk_is_one_out_of_space_error(
    small_disk, monkeypatch, write
):
    monkeypatch.setenv("DEVISE_DATA", str(small_disk))
    with pytest.raises(OutOfSpaceError) as caught:
        with atomic_path(small_disk / "artifact") as tmp:
            write(tmp)
    assert str(small_disk) in str(caught.value) and caught.value.needed > 0
    assert list(small_disk.iterdir()) == []  # nothing partial left
