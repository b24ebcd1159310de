"""The stage cache: how a table of stages becomes keyed, atomic, resumable folders.

A stage's folder, `data/cache/<stage>-<key>/`, is keyed by what the stage reads
(`Stage.reads`) and by the keys of the stages it needs (`Stage.needs`), computed in one
place (`Run.key`): change a setting and exactly the stages downstream of it rebuild. A
folder is written atomically and counts only once finished (`storage.cached_dir`), so
an interrupted stage leaves nothing a later run would trust, and what it had finished
(feature chunks, training epochs) waits in a checkpoint folder for the rerun. A
finished folder is checked whenever it is used (`storage.reusable`): a damaged one is
rebuilt, and so is every stage built from the build it replaced.

This module knows no stage: the table lives in `pipeline/__init__.py`, and each
builder receives the `Run` it belongs to, through which it reads its upstream stages
(so no builder imports the table that names it).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Config, stage_key
from ..ddp import SINGLE, Group, barrier, broadcast
from ..storage import (
    cached_dir,
    checkpoint_dir,
    copy_atomic,
    is_done,
    read_info,
    results_dir,
    reusable,
    stage_dir,
)


def _folder_itself(_run: Run, folder: Path) -> Path:
    return folder


@dataclass(frozen=True)
class Stage:
    """One row of the table of stages."""

    name: str
    help: str
    needs: tuple[str, ...]  # the stages whose artifacts it reads
    reads: Callable[[Config], Any]  # what of the config (or the data) it depends on
    build: Callable[[Run, Path | None, Group], dict | None]  # fills the folder
    load: Callable[[Run, Path], Any] = _folder_itself
    results: tuple[str, ...] = ()  # files of the folder copied to data/results/
    distributed: bool = False  # runs on every torchrun process


@dataclass(frozen=True)
class Run:
    """One configuration's view of the table: keys, folders, and artifacts built on
    demand. Every builder gets one and reads its upstream stages through `get`."""

    cfg: Config
    stages: Mapping[str, Stage]
    # what several stages of one run derive alike (the candidate sets), derived once
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def once(self, name: Any, derive: Callable[[], Any]):
        """`derive()`, computed on the first call of this run only."""
        if name not in self.memo:
            self.memo[name] = derive()
        return self.memo[name]

    def key(self, name: str) -> str:
        """A hash of what the stage reads and of its upstream keys (computed once per
        run: reading what a stage depends on lists the image folders)."""

        def derive() -> str:
            stage = self.stages[name]
            upstream = [self.key(need) for need in stage.needs]
            return stage_key(name, stage.reads(self.cfg), *upstream)

        return self.once(("key", name), derive)

    def folder(self, name: str) -> Path:
        return stage_dir(name, self.key(name))

    def checkpoints(self, name: str) -> Path:
        return checkpoint_dir(name, self.key(name))

    def is_built(self, name: str) -> bool:
        return is_done(self.folder(name))

    def ensure(self, name: str, group: Group = SINGLE) -> Path:
        """The stage's finished folder, built (after what it needs) if missing, or
        rebuilt if damaged or built from an upstream build since replaced
        (`storage.reusable`: sizes always, hashes of what changed).

        Every decision that depends on the disk is rank 0's, broadcast, so all ranks of
        a torchrun take the same branch even while a shared file system catches up."""
        stage, target = self.stages[name], self.folder(name)
        # rank 0 checks (and rebuilds); the others follow its answer
        if broadcast(group.is_main and reusable(target), group):
            return target
        for need in stage.needs:
            self.ensure(need, group)
        inputs = [self.folder(need) for need in stage.needs]  # their builds recorded
        if stage.distributed:
            if group.is_main:
                cached_dir(target, lambda tmp: stage.build(self, tmp, group), inputs)
            else:
                stage.build(self, None, group)
        elif group.is_main:
            cached_dir(target, lambda tmp: stage.build(self, tmp, SINGLE), inputs)
        barrier(group)
        if group.is_main:
            shutil.rmtree(self.checkpoints(name), ignore_errors=True)
            self.publish(name)  # results are written where users look, once built
        return target

    def get(self, name: str, group: Group = SINGLE):
        """The stage's artifact (`Stage.load` of its folder), built first if needed."""
        return self.stages[name].load(self, self.ensure(name, group))

    def info(self, name: str) -> dict:
        """What the stage recorded about its run (`done.json`: sizes, seconds, ...)."""
        return read_info(self.ensure(name))

    def publish(self, name: str) -> list[Path]:
        """Copy the stage's result files to `data/results/`; returns their paths."""
        source, copied = self.folder(name), []
        for file in self.stages[name].results:
            target = results_dir() / file
            copy_atomic(source / file, target)
            copied.append(target)
        return copied

    def upstream(self, name: str) -> list[str]:
        """Every stage `name` needs, directly or not, in build order, then itself."""
        return upstream(self.stages, [name])

    def missing_for(self, name: str) -> list[str]:
        """The stages still to build before `name` can load (nothing is built)."""
        return [stage for stage in self.upstream(name) if not self.is_built(stage)]


def upstream(stages: Mapping[str, Stage], names: list[str]) -> list[str]:
    """The stages `names` need, and themselves, each once, in build order."""
    order: list[str] = []

    def visit(stage: str) -> None:
        for need in stages[stage].needs:
            visit(need)
        if stage not in order:
            order.append(stage)

    for name in names:
        visit(name)
    return order


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV of a stage folder. Only an empty cell is missing: the label named "nan"
    (the bread) is a name."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def load_tables(_run: Run, done: Path) -> dict:
    """A results stage's tables by name: {"table2_zero_shot": DataFrame, ...}."""
    return {path.stem: read_csv(path) for path in sorted(done.glob("*.csv"))}
