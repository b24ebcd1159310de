"""Projection training speed (phase 1): steps/s with the package's vectorised truncated
hinge rank loss against the naive per-example loop of the same loss, on the same
batches, in the same process.

    python benchmarks/bench_training.py [--steps 50] [--batch-size 64] [--labels 91]
    [--device cpu]

Features and label vectors are random (seeded) with the book preset's shapes (1280-d
features, 500-d unit label vectors), so the benchmark needs no data; the loss does the
same work whatever the values.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(
    0, str(Path(__file__).resolve().parent.parent)
)  # run from a checkout, uninstalled

from devise_lite.devise import Projection
from devise_lite.losses import (
    hinge_rank_loss_truncated,
    naive_hinge_rank_loss_truncated,
)


def steps_per_second(
    loss_fn, steps: int, batch: int, n_labels: int, device: str
) -> float:
    torch.manual_seed(0)
    generator = torch.Generator(device=device).manual_seed(0)
    model = Projection(1280, 500).to(device)
    labels = torch.nn.functional.normalize(
        torch.randn(n_labels, 500, device=device), dim=-1
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    features = torch.randn(steps, batch, 1280, device=device)
    targets = torch.randint(0, n_labels, (steps, batch), device=device)
    start = time.perf_counter()
    for x, y in zip(features, targets, strict=False):
        loss = loss_fn(model(x), labels, y, generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--labels", type=int, default=91)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    naive = steps_per_second(
        naive_hinge_rank_loss_truncated,
        args.steps,
        args.batch_size,
        args.labels,
        args.device,
    )
    fast = steps_per_second(
        hinge_rank_loss_truncated, args.steps, args.batch_size, args.labels, args.device
    )
    print(
        f"phase-1 training, batch {args.batch_size}, {args.labels} labels, "
        f"{args.device}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"naive loop loss (baseline): {naive:8.1f} steps/s")
    print(f"vectorised loss:            {fast:8.1f} steps/s  ratio {fast / naive:.1f}x")


if __name__ == "__main__":
    main()
