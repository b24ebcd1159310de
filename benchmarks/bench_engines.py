"""Backbone inference engines and JPEG decoding, against baselines in the same process.

    python benchmarks/bench_engines.py [--images 64] [--batch-size 32] [--rounds 3]

Three parts, on the same Caltech-101 photos:

* engines: features of already decoded batches, eager torch fp32 NCHW (the baseline,
  today's path) against channels_last and ONNX Runtime with 1 and 2 threads in one
  session, and with each batch split over 2 single-threaded sessions (the package's
  engine); the export is timed apart, and each engine's largest difference from the
  baseline is printed;
* decoding: one photo to the network's input, torchvision's PIL transform (the baseline)
  against `engines.eval_array` (PIL + numpy) and `torchvision.io.decode_jpeg` + a tensor
  resize (which is not the same arithmetic, so its difference is printed too);
* end to end (e2e): files to features, decoding in the main process or in one DataLoader
  worker process or in a thread that reads one batch ahead (`batches_read_ahead`),
  against today's `extract_features` path (eager fp32 NCHW, decoding in the main
  process).

Other jobs share the 2 cores, so every figure is the best of `--rounds` interleaved
rounds (warm-up excluded), and the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from bench_features import caltech_sample

from devise_lite.config import VisualConfig
from devise_lite.engines import (
    OnnxEngine,
    batches_read_ahead,
    eval_array,
    normalisation,
)
from devise_lite.extraction import torch_threads
from devise_lite.image_inputs import ImageFiles, image_transform
from devise_lite.torch_engines import TorchEngine, export_onnx
from devise_lite.visual import build_backbone


@dataclass(frozen=True)
class Row:
    """One line of the report: a figure, its unit, its ratio to the part's baseline."""

    name: str
    value: float
    unit: str
    ratio: float | None = None  # None: this row is the baseline

    def cells(self) -> tuple[str, float, str, float | None]:
        return self.name, self.value, self.unit, self.ratio


def best_rate(runs: list[float], count: int) -> float:
    """Items per second of the fastest of several timed runs over `count` items
    (the least disturbed by other jobs)."""
    return count / min(runs)


def timed(work: Callable[[], object]) -> float:
    """Seconds `work()` takes."""
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def interleaved(
    jobs: dict[str, Callable[[], object]], rounds: int, warm_up: bool = True
) -> dict:
    """Seconds of each job, per round; the jobs take turns so load hits them alike."""
    seconds = {name: [] for name in jobs}
    for job in jobs.values() if warm_up else ():
        job()  # first-call allocations, thread pools, page cache
    for _ in range(rounds):
        for name, job in jobs.items():
            seconds[name].append(timed(job))
    return seconds


def against_first(rates: dict[str, float], gaps: dict | None = None) -> list[Row]:
    """Rows of images/s per job; the first job is the baseline of the others' ratios."""
    base = next(iter(rates.values()))
    rows = []
    for name, rate in rates.items():
        label = f"{name}, diff {gaps[name]:.0e}" if rows and gaps else name
        rows.append(Row(label, rate, "images/s", rate / base if rows else None))
    return rows


# ---------------------------------------------------------------- engines

TODAY = "eager torch fp32 NCHW (today)"  # ORT below: ONNX Runtime


def engines_part(
    paths: list, cfg: VisualConfig, rounds: int, onnx_dir: Path
) -> tuple[list[Row], dict]:
    """Engine rows on decoded batches, and the engines (by row name) for later parts."""
    transform = image_transform(cfg)
    images = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths])
    batches = list(images.split(cfg.batch_size))
    onnx = onnx_dir / "backbone.onnx"
    export_s = timed(lambda: export_onnx(build_backbone(cfg), cfg.image_size, onnx))
    made = {
        TODAY: TorchEngine(build_backbone(cfg), "cpu"),
        "eager torch channels_last": TorchEngine(
            build_backbone(cfg), "cpu", channels_last=True
        ),
        "ORT 1 thread": OnnxEngine(onnx, 1),
        f"ORT {cfg.num_threads} threads, one session": OnnxEngine(
            onnx, cfg.num_threads, split=False
        ),
        f"ORT, batch split over {cfg.num_threads} sessions": OnnxEngine(
            onnx, cfg.num_threads
        ),
    }
    jobs = {
        name: partial(run_batches, engine, batches) for name, engine in made.items()
    }
    with torch_threads(cfg.num_threads):
        seconds = interleaved(jobs, rounds)
        expected = made[TODAY](images)
        gaps = {n: float(np.abs(e(images) - expected).max()) for n, e in made.items()}
    rates = {name: best_rate(runs, len(paths)) for name, runs in seconds.items()}
    rows = against_first(rates, gaps)
    rows[-1] = replace(rows[-1], name=f"{rows[-1].name}, export {export_s:.1f} s")
    return rows, made


def run_batches(engine, batches: list) -> list:
    return [engine(batch) for batch in batches]


# ---------------------------------------------------------------- decoding


def decode_tensor(path: Path, cfg: VisualConfig) -> torch.Tensor:
    """torchvision.io's JPEG decoder, then the eval geometry on the uint8 tensor."""
    from torchvision.io import ImageReadMode, decode_jpeg, read_file
    from torchvision.transforms.v2 import functional as F

    pixels = decode_jpeg(read_file(str(path)), mode=ImageReadMode.RGB)
    pixels = F.resize(pixels, [round(cfg.image_size * 256 / 224)], antialias=True)
    pixels = F.center_crop(pixels, [cfg.image_size])
    mean, std = normalisation(cfg.backbone)
    return F.normalize(pixels.float() / 255, mean, std)


def pil_transform(path: Path, transform) -> torch.Tensor:
    with Image.open(path) as image:
        return transform(image.convert("RGB"))


def pil_numpy(path: Path, cfg: VisualConfig) -> np.ndarray:
    with Image.open(path) as image:
        return eval_array(image, cfg)


def decoding_part(paths: list, cfg: VisualConfig, rounds: int) -> list[Row]:
    """Per-photo decode + resize + crop + normalise rates, one process, one thread."""
    decoders = {
        "decode PIL + torchvision (today)": partial(
            pil_transform, transform=image_transform(cfg)
        ),
        "decode PIL + numpy (eval_array)": partial(pil_numpy, cfg=cfg),
        "decode_jpeg + tensor resize": partial(decode_tensor, cfg=cfg),
    }
    jobs = {name: partial(map_list, d, paths) for name, d in decoders.items()}
    with torch_threads(1):  # as in a loader worker
        seconds = interleaved(jobs, rounds)
        outputs = {
            n: np.stack([np.asarray(x) for x in job()]) for n, job in jobs.items()
        }
    today = next(iter(outputs.values()))
    gaps = {n: float(np.abs(x - today).max()) for n, x in outputs.items()}
    rates = {name: best_rate(runs, len(paths)) for name, runs in seconds.items()}
    return against_first(rates, gaps)


def map_list(function, items: list) -> list:
    return [function(item) for item in items]


# ---------------------------------------------------------------- end to end


def features_through_loader(
    engine, paths: list, cfg: VisualConfig, workers: int, transform
) -> np.ndarray:
    """Files to features: a DataLoader decodes (here or in workers), `engine` infers."""
    loader = DataLoader(
        ImageFiles(paths, transform), batch_size=cfg.batch_size, num_workers=workers
    )
    return np.concatenate([engine(batch) for batch in loader])


def features_read_ahead(engine, paths: list, cfg: VisualConfig) -> np.ndarray:
    """Files to features, the next batch decoded in a thread while `engine` infers."""
    images = ImageFiles(paths, partial(eval_array, cfg=cfg))
    return np.concatenate(
        [engine(b) for b in batches_read_ahead(images, cfg.batch_size)]
    )


def end_to_end_part(
    paths: list, cfg: VisualConfig, rounds: int, made: dict, baseline_images: int
) -> list:
    """Files-to-features rates of engine x where decoding runs, against today's path.

    Today's path has no pipeline to fill, so its rate is steady on fewer photos (the
    first `baseline_images`). The engines are warm from the engines part: no warm-up."""
    today = "e2e eager NCHW, decode: main process (today)"
    jobs = {
        today: partial(
            features_through_loader,
            made[TODAY],
            paths[:baseline_images],
            cfg,
            0,
            image_transform(cfg),
        )
    }
    as_array = partial(eval_array, cfg=cfg)
    for name, engine in made.items():
        if isinstance(engine, OnnxEngine):
            for workers in (0, 1):
                place = "1 loader worker" if workers else "main process"
                jobs[f"e2e {name}, decode: {place}"] = partial(
                    features_through_loader, engine, paths, cfg, workers, as_array
                )
            jobs[f"e2e {name}, decode: thread, read ahead"] = partial(
                features_read_ahead, engine, paths, cfg
            )
    with torch_threads(cfg.num_threads):
        seconds = interleaved(jobs, rounds, warm_up=False)
    counts = {name: len(paths) for name in jobs} | {today: len(paths[:baseline_images])}
    return against_first({n: best_rate(runs, counts[n]) for n, runs in seconds.items()})


# ---------------------------------------------------------------- report


def engine_rows(
    n_images: int = 64,
    batch_size: int = 32,
    threads: int = 2,
    rounds: int = 3,
    end_to_end_images: int = 128,
) -> list[tuple[str, float, str, float | None]]:
    """Every row of this benchmark as (name, value, unit, ratio), for bench_all.py."""
    paths = caltech_sample(max(n_images, end_to_end_images))
    cfg = VisualConfig(batch_size=batch_size, num_threads=threads, device="cpu")
    print(
        f"engines: {cfg.backbone} at {cfg.image_size} px, {n_images} Caltech-101 "
        f"photos ({end_to_end_images} end to end), batch {batch_size}, {threads} "
        f"threads, best of {rounds} rounds, load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as folder:
        rows, made = engines_part(paths[:n_images], cfg, rounds, Path(folder))
        rows += decoding_part(paths[:n_images], cfg, rounds)
        rows += end_to_end_part(paths[:end_to_end_images], cfg, rounds, made, n_images)
    return [r.cells() for r in rows]


def print_row(name: str, value: float, unit: str, ratio: float | None = None) -> None:
    shown = "baseline" if ratio is None else f"{ratio:.2f}x"
    print(f"  {name:<44}{value:>10,.1f} {unit:<9}{shown:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64, help="Caltech-101 photos")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (best)")
    parser.add_argument(
        "--end-to-end-images", type=int, default=128, help="photos files to features"
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min)")
    for cells in engine_rows(
        args.images, args.batch_size, args.threads, args.rounds, args.end_to_end_images
    ):
        print_row(*cells)
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
