"""Feature-extraction speed: batched `extract_features` against one image at a time.

    python benchmarks/bench_features.py [--images 128] [--batch-sizes 8 32 64] [--device
    auto]

Every run goes through the real code path (decode, resize, forward, atomic cache writes)
in a throw-away data root, so nothing is read from or left in the user's cache. The
naive baseline runs in the same process on the same images, model and threads: it
decodes one image and runs the network on a batch of one, which is what a loop written
without a DataLoader does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(
    0, str(Path(__file__).resolve().parent.parent)
)  # run from a checkout, uninstalled

from devise_lite.config import VisualConfig
from devise_lite.datasets import IMAGE_SUFFIXES, locate
from devise_lite.extraction import extract_features, resolve_device, torch_threads
from devise_lite.image_inputs import image_transform
from devise_lite.visual import build_backbone


def caltech_sample(n: int) -> list:
    """`n` Caltech-101 images spread evenly over the sorted file list (so over many
    classes)."""
    files = sorted(
        p for p in locate("caltech101").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
    )
    step = max(1, len(files) // n)
    return files[::step][:n]


def naive_images_per_second(paths: list, cfg: VisualConfig) -> float:
    """One image at a time, no DataLoader, no batching: the baseline."""
    device = resolve_device(cfg)
    transform = image_transform(cfg)
    with torch_threads(cfg.num_threads), torch.inference_mode():
        model = build_backbone(cfg).to(device)
        model(
            torch.zeros(1, 3, cfg.image_size, cfg.image_size, device=device)
        )  # warm-up
        began = time.perf_counter()
        for path in paths:
            with Image.open(path) as image:
                x = transform(image.convert("RGB"))
            model(x[None].to(device)).cpu()
        return len(paths) / (time.perf_counter() - began)


def batched_images_per_second(paths: list, cfg: VisualConfig) -> float:
    """The computing run's images/s as `extract_features` records it (model loading
    excluded), through the configured engine."""
    root = Path(os.environ["DEVISE_DATA"])
    name = f"bench-b{cfg.batch_size}-{cfg.engine}"
    stats = extract_features(
        paths, cfg, root / f"{name}.npy", root / name, progress=False
    )
    return stats["images_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--images", type=int, default=128, help="Caltech-101 images to embed"
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--naive-images",
        type=int,
        default=None,
        help="images for the one-at-a-time baseline (default: all of --images)",
    )
    args = parser.parse_args()

    paths = caltech_sample(args.images)
    cfg = VisualConfig(
        backbone=args.backbone,
        image_size=args.image_size,
        num_threads=args.threads,
        device=args.device,
    )
    device = resolve_device(cfg)
    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    print(
        f"{args.backbone} at {args.image_size} px on {device}{gpu}, "
        f"{args.threads} threads, {len(paths)} Caltech-101 images"
    )

    with tempfile.TemporaryDirectory() as root:
        os.environ["DEVISE_DATA"] = root  # a fresh cache: every run really computes
        naive = naive_images_per_second(paths[: args.naive_images or len(paths)], cfg)
        print(f"{'mode':<22}{'images/s':>10}{'x naive':>10}")
        print(f"{'one at a time':<22}{naive:>10.2f}{1.0:>10.2f}")
        for batch_size in args.batch_sizes:
            speed = batched_images_per_second(
                paths, replace(cfg, batch_size=batch_size)
            )
            mode = f"batched, batch {batch_size}"
            print(f"{mode:<22}{speed:>10.2f}{speed / naive:>10.2f}")


if __name__ == "__main__":
    main()
