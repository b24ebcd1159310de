"""What the cache checks cost: a fully cached `run` and one `predict` call, each timed
with the checks on ($DEVISE_CHECKS unset: sizes, and hashes of what changed) and off
($DEVISE_CHECKS=off), alternately in one process, so the ratio compares like with like.
Target: at most 1.05. Then the checks alone (every stage folder, warm), and for scale a
synthetic stage folder of `--megabytes`: a warm check (a `stat` a file) against a full
hash (`verify`, or the first use after a copy).

The preset's stages must be built (`python -m devise_lite run --preset tiny`).

    python benchmarks/bench_integrity.py [--preset tiny] [--repeats 7]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import numpy as np

from devise_lite import pipeline
from devise_lite.__main__ import run_stages
from devise_lite.config import get_preset
from devise_lite.datasets import IMAGE_SUFFIXES, locate
from devise_lite.integrity import CHECKS_ENV
from devise_lite.predict import predict
from devise_lite.storage import cached_dir, damaged_file, read_info, reusable


def timed(action: Callable[[], object], checks: str) -> float:
    """Seconds `action` takes with $DEVISE_CHECKS=`checks` ("" for the default)."""
    os.environ[CHECKS_ENV] = checks
    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        action()
    return time.perf_counter() - began


def compare(name: str, action: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` runs with checks and without, alternating (after one
    warm-up each): the fastest is the one other processes disturbed least. Prints
    them and returns the ratio."""
    timed(action, "off"), timed(action, "")
    off, on = [], []
    for _ in range(repeats):
        off.append(timed(action, "off"))
        on.append(timed(action, ""))
    ratio = min(on) / min(off)
    print(
        f"{name:<26} checks off {min(off) * 1000:8.1f} ms, on {min(on) * 1000:8.1f} ms"
        f" (medians {statistics.median(off) * 1000:.0f}, "
        f"{statistics.median(on) * 1000:.0f}): ratio {ratio:.3f} "
        f"({'ok' if ratio <= 1.05 else 'OVER'}: target <= 1.05)"
    )
    return ratio


def checks_alone(cfg) -> None:
    """The checks by themselves, warm: every stage folder of the preset, as `ensure`
    checks it (a direct measure, free of the run's noise)."""
    os.environ[CHECKS_ENV] = ""
    folders = [pipeline.folder(cfg, name) for name in pipeline.STAGES]
    files = sum(len(read_info(f).get("files") or {}) for f in folders)
    for folder in folders:
        reusable(folder)  # stamps, if a copy left any file unhashed
    seconds = min(
        _seconds(lambda: [reusable(folder) for folder in folders]) for _ in range(20)
    )
    print(
        f"the checks alone, warm: {seconds * 1000:.2f} ms for {len(folders)} stages, "
        f"{files} files"
    )


def folder_scale(megabytes: int) -> None:
    """A warm check of a stage folder of `megabytes` against a full hash of it."""
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "cache" / f"synthetic-{'0' * 12}"

        def build(out: Path) -> dict:
            rows = megabytes * 2**20 // (4 * 1024)
            data = np.random.default_rng(0).random((rows, 1024), dtype=np.float32)
            np.save(out / "features.npy", data)
            return {}

        cached_dir(folder, build)
        os.environ[CHECKS_ENV] = ""
        warm = min(_seconds(lambda: damaged_file(folder)) for _ in range(5))
        full = min(_seconds(lambda: damaged_file(folder, hash=True)) for _ in range(3))
    print(
        f"a {megabytes} MB stage folder: warm check {warm * 1000:.2f} ms, full hash "
        f"{full * 1000:.0f} ms ({megabytes / full:.0f} MB/s, BLAKE2b)"
    )


def _seconds(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def one_photo() -> Path:
    return next(
        p for p in sorted(locate("caltech101").rglob("*")) if p.suffix in IMAGE_SUFFIXES
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    cfg = get_preset(args.preset)
    missing = pipeline.missing_for(cfg, "predictor")
    if missing:
        raise SystemExit(
            f"build the {args.preset} preset first (missing: {', '.join(missing)})"
        )
    photo = one_photo()
    print(f"preset {args.preset}, fastest of {args.repeats} alternating runs each")
    compare(
        "run, every stage cached",
        lambda: run_stages(cfg, list(pipeline.STAGES)),
        args.repeats,
    )
    compare(
        "predict, one photo, warm",
        lambda: predict(cfg, [photo], progress=False),
        args.repeats,
    )
    checks_alone(cfg)
    folder_scale(args.megabytes)
    os.environ.pop(CHECKS_ENV, None)


if __name__ == "__main__":
    main()
