"""Command line: `python -m devise_lite <stage> --preset NAME`, `run` for every stage in
order, `predict IMAGE ...`, or `verify` to hash every cache against its record
(`verify.py`). Under `torchrun`, the visual stages run on every process.

A fault the user can fix ends in one line, `error: ...`, and exit status 2 (`--debug`
or $DEVISE_DEBUG=1 shows the traceback too), a full disk included; Ctrl-C ends with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from . import ddp, pipeline, predict
from .config import PRESET_ENV, PRESET_HELP, PRESETS, get_preset, preset_name
from .diskspace import out_of_space, space_error
from .errors import INTERRUPTED, OutOfSpaceError, UserError
from .storage import data_root
from .verify import verify

DEBUG_ENV = "DEVISE_DEBUG"


def parser() -> argparse.ArgumentParser:
    """The command line, stages read from the table of stages."""
    preset_help = "; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items())
    top = argparse.ArgumentParser(prog="python -m devise_lite", description=__doc__)
    options = argparse.ArgumentParser(add_help=False)
    # Before or after the command; SUPPRESS: no later default overwrites a given value
    for where, default in ((top, None), (options, argparse.SUPPRESS)):
        where.add_argument(
            "--preset",
            choices=list(PRESETS),
            default=default,
            help=f"settings to run with (default: ${PRESET_ENV}, else book). "
            + preset_help,
        )
        where.add_argument(
            "--debug",
            action="store_true",
            default=default if default is argparse.SUPPRESS else False,
            help=f"show the traceback of an error (or set {DEBUG_ENV}=1)",
        )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, stage in pipeline.STAGES.items():
        commands.add_parser(name, parents=[options], help=stage.help)
    commands.add_parser(
        "run", parents=[options], help="every stage in order (finished ones load)"
    )
    check = commands.add_parser(
        "verify",
        parents=[options],
        help="hash every finished stage, engine and checkpoint against its record",
    )
    check.add_argument(
        "--repair",
        action="store_true",
        help="remove what is damaged, so that the next run rebuilds it",
    )
    photos = commands.add_parser(
        "predict", parents=[options], help="top-K labels of your own photos"
    )
    predict.add_arguments(photos)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    debug = args.debug or os.environ.get(DEBUG_ENV) == "1"
    return guarded(lambda: _command(args), debug)


def _command(args: argparse.Namespace) -> int:
    cfg = get_preset(args.preset or preset_name())
    if args.command == "predict":
        return predict.command(args, cfg)
    if args.command == "verify":
        return verify(cfg, args.repair, sys.stdout)
    run_stages(cfg, list(pipeline.STAGES) if args.command == "run" else [args.command])
    return 0


def guarded(action, debug: bool = False) -> int:
    """`action()`, with a user-fixable error or Ctrl-C as one line and its exit code."""
    try:
        return action() or 0
    except Exception as err:
        # A full disk outside a stage (writing a result, a lock) gets the same one line.
        if not isinstance(err, UserError) and not out_of_space(err, data_root()):
            raise
        if debug:
            traceback.print_exc()
        fault = err if isinstance(err, UserError) else space_error(err, data_root(), 0)
        print(f"error: {fault}", file=sys.stderr)
        return fault.exit_code
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print(
            "interrupted: finished work is kept; run the same command to resume",
            file=sys.stderr,
        )
        return INTERRUPTED


def run_stages(cfg, names: list[str]) -> None:
    """Build (or load) the named stages in order, on every torchrun process; a stage's
    user-fixable error skips the stages needing it, and one error then names them."""
    group = ddp.start(cfg.visual.device)
    say = print if group.is_main else (lambda *a, **k: None)
    todo = [n for n in pipeline.upstream_all(names) if not _built(cfg, n)]
    plan = f"{len(todo)} stage(s) to build: {', '.join(todo)}" if todo else "all cached"
    say(
        f"[devise-lite] preset {cfg.name} ({PRESET_HELP[cfg.name]}); {plan}", flush=True
    )
    failed: dict[str, str] = {}
    try:
        for name in names:
            if blocked := [n for n in pipeline.upstream(name) if n in failed]:
                failed[name] = f"needs {blocked[0]}"
                say(f"[devise-lite] {name}: skipped, it needs {blocked[0]}", flush=True)
                continue
            start = time.perf_counter()
            say(f"[devise-lite] {name}: {pipeline.STAGES[name].help}", flush=True)
            try:
                pipeline.ensure(cfg, name, group)
            except UserError as err:
                if len(names) == 1 or isinstance(err, OutOfSpaceError):
                    raise  # a full disk stops every stage: one line says so
                failed[name] = str(err)
                say(f"[devise-lite] {name} failed: {err}", file=sys.stderr, flush=True)
                continue
            for path in pipeline.publish(cfg, name) if group.is_main else []:
                say(f"[devise-lite]   -> {path}", flush=True)
            seconds = time.perf_counter() - start
            say(f"[devise-lite] {name} done in {seconds:.1f}s", flush=True)
    finally:
        ddp.stop()
    if failed:
        first = next(iter(failed))
        raise UserError(
            f"{len(failed)} stage(s) not built ({', '.join(failed)}); the others are. "
            f"First: {first}: {failed[first]}"
        )


def _built(cfg, name: str) -> bool:
    """Whether a stage is cached; False if its key cannot be made (it will say why)."""
    try:
        return pipeline.is_built(cfg, name)
    except UserError:
        return False


if __name__ == "__main__":
    sys.exit(main())
