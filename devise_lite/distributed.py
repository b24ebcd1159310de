"""`torchrun ... -m devise_lite.distributed {features,train,finetune,all}`: the old
name of `torchrun ... -m devise_lite <stage>`, kept so that earlier commands still
work; `all` runs the three visual stages in one launch."""

from __future__ import annotations

import argparse
import sys

from .__main__ import guarded, run_stages
from .__main__ import main as stages_main
from .config import PRESETS, get_preset

VISUAL_STAGES = ("features", "train", "finetune")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devise_lite.distributed")
    parser.add_argument("stage", choices=[*VISUAL_STAGES, "all"])
    parser.add_argument("--preset", default="paper", choices=list(PRESETS))
    args = parser.parse_args(argv)
    if args.stage != "all":
        return stages_main([args.stage, "--preset", args.preset])
    return guarded(lambda: run_stages(get_preset(args.preset), list(VISUAL_STAGES)))


if __name__ == "__main__":
    sys.exit(main())
