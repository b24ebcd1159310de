"""The distributed path on CPU: `torchrun` with 2 gloo processes against the
single-process code.

One torchrun launch (this file run as a script, `worker` below) trains phase 1 and phase
2 with DDP, extracts features of real photos sharded, and gathers rows; the tests
compare what it saved with the package's single-process functions run here. The
truncated rank loss draws a random order of false labels; the DDP path draws it for the
whole global batch from the same seeded generator on every rank, so the two runs see the
same draws and must agree to float rounding, not just statistically.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from devise_lite.config import DeviseConfig

HERE = Path(__file__).resolve()
N, FEATURES, LABELS, DIM = (
    49,
    12,
    7,
    6,
)  # 49 = 3 x 16 + 1: a last global batch of one row
PHASE1 = DeviseConfig(
    batch_size=16, phase1_epochs=6, phase1_lr=0.5, softmax_epochs=4, seed=3
)
PHASE2 = DeviseConfig(phase2_epochs=2, phase2_lr=0.05, phase2_max_steps=None, seed=5)
IMAGES_BATCH, N_IMAGES = 8, 38  # 38 = 4 x 8 + 6: an uneven last batch
ATOL = 1e-5


def synthetic_features():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, FEATURES)).astype(np.float32)
    y = rng.integers(0, LABELS, N)
    v = rng.standard_normal((LABELS, DIM)).astype(np.float32)
    return x, y, v / np.linalg.norm(v, axis=1, keepdims=True)


def tiny_net() -> nn.Module:
    from devise_lite.devise import EndToEnd, Projection

    torch.manual_seed(1)
    return EndToEnd(
        nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 10), nn.Tanh()),
        Projection(10, DIM),
    )


def image_tensors():
    from devise_lite.image_inputs import LabelledImages

    g = torch.Generator().manual_seed(2)
    return LabelledImages(
        torch.randn(N_IMAGES, 3, 4, 4, generator=g), np.arange(N_IMAGES) % LABELS
    )


# ---------------------------------------------------------------- the torchrun side


def worker(out: Path) -> None:
    """One torchrun process: the package's own trainers and extractor, given the
    group."""
    from dataclasses import replace

    from devise_lite import ddp
    from devise_lite.config import VisualConfig
    from devise_lite.devise import fine_tune, train_projection, train_softmax
    from devise_lite.extraction import extract_features

    group = ddp.start("cpu")
    results: dict = {"world": group.world}
    x, y, v = synthetic_features()
    for loss in ("truncated", "full"):
        cfg = replace(PHASE1, loss=loss)
        model, history = train_projection(x, y, v, cfg, group=group, progress=False)
        results[f"phase1_{loss}"] = (model.state_dict(), history["loss"].tolist())
    model, _ = train_softmax(x, y, LABELS, PHASE1, group=group, progress=False)
    results["softmax"] = model.state_dict()
    # Interrupted after 3 epochs, then resumed to 6, with any rank count.
    checkpoint = out / "phase1.pt"
    first = replace(PHASE1, phase1_epochs=3)
    train_projection(x, y, v, first, group=group, checkpoint=checkpoint, progress=False)
    resumed, _ = train_projection(
        x, y, v, PHASE1, group=group, checkpoint=checkpoint, progress=False
    )
    results["resumed"] = resumed.state_dict()

    net = tiny_net()
    history = fine_tune(
        net,
        image_tensors(),
        torch.as_tensor(v),
        PHASE2,
        IMAGES_BATCH,
        group=group,
        progress=False,
    )
    state = {k: t.cpu() for k, t in net.state_dict().items()}
    results["phase2"] = (state, history["loss"].tolist())

    ddp.GATHER_ROWS = 2  # several all_gather rounds over 7 uneven rows
    total = 7
    local = np.arange(group.rank, total, group.world, dtype=np.float32)[:, None]
    results["gathered"] = ddp.gather_rows(local.repeat(3, axis=1), total, group)

    paths = json.loads((out / "images.json").read_text())  # empty without the mirror
    if paths:
        visual = VisualConfig(image_size=64, batch_size=2, num_threads=1)
        target = out / "sharded.npy" if group.is_main else None
        results["features"] = extract_features(
            paths, visual, target, out / "chunks", group=group, progress=False
        )
    torch.save(results, out / f"rank{group.rank}.pt")
    ddp.stop()


# ---------------------------------------------------------------- the pytest side


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    from conftest import DEFAULT_MIRROR

    from devise_lite.datasets import IMAGE_SUFFIXES

    out = tmp_path_factory.mktemp("ddp")
    sharks = (
        Path(os.environ.get("DEVISE_MIRROR", DEFAULT_MIRROR)) / "sharks" / "hammerhead"
    )
    photos = (
        sorted(p for p in sharks.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if sharks.is_dir()
        else []
    )
    (out / "images.json").write_text(json.dumps([str(p) for p in photos[:5]]))
    env = {
        **os.environ,
        "DEVISE_DATA": str(out / "data"),
        "TQDM_DISABLE": "1",
        "OMP_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(HERE),
        "--worker",
        str(out),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


def close(a: dict, b: dict, atol: float = ATOL) -> bool:
    return all(torch.allclose(a[k].float(), b[k].float(), atol=atol) for k in a)


@pytest.mark.parametrize("loss", ["truncated", "full"])
def test_ddp_phase1_equals_the_single_process_run(ddp_run, loss):
    from dataclasses import replace

    from devise_lite.devise import train_projection

    _, ranks = ddp_run
    assert ranks[0]["world"] == 2
    x, y, v = synthetic_features()
    single, history = train_projection(
        x, y, v, replace(PHASE1, loss=loss), progress=False
    )
    state, losses = ranks[0][f"phase1_{loss}"]
    assert close(state, single.state_dict())
    assert np.allclose(losses, history["loss"], atol=ATOL)
    assert close(
        ranks[1][f"phase1_{loss}"][0], state, atol=0
    )  # DDP keeps the ranks identical
    # The comparison can fail: a run that differs only in its seed is far outside the
    # tolerance.
    other, _ = train_projection(
        x, y, v, replace(PHASE1, loss=loss, seed=4), progress=False
    )
    assert not close(state, other.state_dict(), atol=1e-2)


def test_ddp_softmax_baseline_and_resume_equal_the_single_process_run(ddp_run):
    from devise_lite.devise import train_projection, train_softmax

    _, ranks = ddp_run
    x, y, v = synthetic_features()
    assert close(
        ranks[0]["softmax"],
        train_softmax(x, y, LABELS, PHASE1, progress=False)[0].state_dict(),
    )
    assert close(
        ranks[0]["resumed"],
        train_projection(x, y, v, PHASE1, progress=False)[0].state_dict(),
    )


def test_ddp_phase2_equals_single_process_fine_tune(ddp_run):
    from devise_lite.devise import fine_tune

    _, ranks = ddp_run
    _, _, v = synthetic_features()
    net = tiny_net()
    history = fine_tune(
        net, image_tensors(), torch.as_tensor(v), PHASE2, IMAGES_BATCH, progress=False
    )
    state, losses = ranks[0]["phase2"]
    assert close(state, net.state_dict())
    assert np.allclose(losses, history["loss"], atol=ATOL)
    assert not close(state, tiny_net().state_dict(), atol=1e-3)  # it did train


def test_gather_rows_restores_the_original_order(ddp_run):
    _, ranks = ddp_run
    assert np.array_equal(
        ranks[0]["gathered"], np.arange(7, dtype=np.float32)[:, None].repeat(3, axis=1)
    )
    assert ranks[1]["gathered"] is None


def test_sharded_features_are_what_the_single_process_run_computes(ddp_run, tmp_path):
    from devise_lite.config import VisualConfig
    from devise_lite.extraction import extract_features

    out, ranks = ddp_run
    paths = json.loads((out / "images.json").read_text())
    if not paths:
        pytest.skip("needs the data mirror's shark photos")
    visual = VisualConfig(image_size=64, batch_size=2, num_threads=1)
    assert ranks[0]["features"]["world_size"] == 2
    assert ranks[0]["features"]["images_computed"] == len(paths)
    sharded = np.load(out / "sharded.npy")
    assert sharded.shape == (5, 1280)
    assert not (out / "chunks").exists()  # the shards' chunks are gone
    single_file = tmp_path / "single.npy"
    extract_features(paths, visual, single_file, tmp_path / "chunks", progress=False)
    single = np.load(single_file)
    assert np.allclose(sharded, single, atol=1e-4)
    assert not np.allclose(sharded, single[::-1], atol=1e-2)  # other photos differ


if __name__ == "__main__" and "--worker" in sys.argv:
    worker(Path(sys.argv[sys.argv.index("--worker") + 1]))
