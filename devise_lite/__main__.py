"""Command line: `python -m devise_lite <stage> --preset NAME`, or `run` for every stage in order."""

from __future__ import annotations

import argparse
import sys
import time

from . import predict
from .config import PRESETS, get_preset
from .datasets import DatasetIntegrityError, DatasetUnavailableError
from .pipeline import STAGES as PIPELINE_STAGES
from .zeroshot import STAGE as ZERO_SHOT_STAGE

# Zero-shot learning builds on every pipeline stage, so it runs last.
STAGES = {**PIPELINE_STAGES, **ZERO_SHOT_STAGE}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devise_lite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, _) in STAGES.items():
        sub.add_parser(name, help=help_text).add_argument(
            "--preset", default="book", choices=sorted(PRESETS)
        )
    run = sub.add_parser(
        "run", help="every stage in order (finished stages load from the cache)"
    )
    run.add_argument("--preset", default="book", choices=sorted(PRESETS))
    predict.add_arguments(
        sub.add_parser(
            "predict", help="top-K labels of your own images from the trained model"
        )
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "predict":
            return predict.command(args)
        run_stages(
            get_preset(args.preset),
            list(STAGES) if args.command == "run" else [args.command],
        )
    except (DatasetUnavailableError, DatasetIntegrityError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def run_stages(cfg, names: list[str]) -> None:
    for name in names:
        start = time.perf_counter()
        print(f"[devise-lite] {name} ({cfg.name}): {STAGES[name][0]}", flush=True)
        STAGES[name][1](cfg)
        print(
            f"[devise-lite] {name} done in {time.perf_counter() - start:.1f}s",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
