"""`predict` at scale: latency of one photo from process start, and images/s and peak
memory for 1, 100 and 1,000 photos, batched (today) against one batch of every photo
(the old way), in the same run.

Each measurement is a fresh `python -m devise_lite predict` process, as a user runs
it, timed from its start to its exit, with its peak resident memory (the OS's record of
the child). The preset's `predictor` stage must be built
(`python -m devise_lite run --preset book`).

    python benchmarks/bench_predict.py [--preset book] [--counts 1 100 1000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from devise_lite.datasets import IMAGE_SUFFIXES, locate  # noqa: E402


def caltech_photos(n: int) -> list[Path]:
    """`n` Caltech-101 photos spread over the sorted file list (many classes)."""
    files = sorted(
        p for p in locate("caltech101").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
    )
    step = max(1, len(files) // n)
    return files[::step][:n]


# `python -m devise_lite`, reporting its own peak resident memory as it exits.
CHILD = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "f'PEAK_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
    "runpy.run_module('devise_lite', run_name='__main__')\n"
)


def run_predict(paths: list[Path], preset: str, batch: int) -> tuple[float, float]:
    """(seconds from process start to exit, peak resident MB) of one predict call."""
    command = [
        sys.executable,
        "-c",
        CHILD,
        "predict",
        *map(str, paths),
        "--preset",
        preset,
        "--batch",
        str(batch),
        "--json",
    ]
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"}
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    peak_kb = int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0])
    return seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="book")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    photos = caltech_photos(max(args.counts))
    warm, _ = run_predict(photos[:1], args.preset, args.batch)  # file caches warm
    latency, _ = run_predict(photos[:1], args.preset, args.batch)
    print(
        f"predict, one photo, warm: {latency:.2f} s from process start "
        f"(first call {warm:.2f} s; target: at most 3 s)"
    )
    print(
        f"{'photos':>7} {'mode':<22} {'images/s':>9} {'seconds':>8} {'peak MB':>8} "
        f"{'x speed':>8} {'x memory':>9}"
    )
    for count in sorted(args.counts):
        chosen = photos[:count]
        rows = {}
        for mode, batch in (
            ("one batch (old)", count),
            (f"batches of {args.batch}", args.batch),
        ):
            seconds, peak = run_predict(chosen, args.preset, batch)
            rows[mode] = (count / seconds, seconds, peak)
        base = rows["one batch (old)"]
        for mode, (speed, seconds, peak) in rows.items():
            print(
                f"{count:>7} {mode:<22} {speed:>9.1f} {seconds:>8.2f} {peak:>8.0f} "
                f"{speed / base[0]:>8.2f} {peak / base[2]:>9.2f}"
            )


if __name__ == "__main__":
    main()
