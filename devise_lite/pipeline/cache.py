"""The stage cache: a table of stages as keyed, atomic, resumable folders. A stage's
folder, `data/cache/<stage>-<key>/`, is keyed by what it reads and by its upstream keys
(`Run.key`): change a setting and exactly the stages downstream rebuild. A builder reads
its upstream stages through the `Run` it gets, so none imports the table naming it."""

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


@dataclass(frozen=True)
class Stage:
    """One row of the table of stages."""

    name: str
    help: str
    build: Callable[[Run, Path | None, Group], dict | None]  # fills the folder
    needs: tuple[str, ...] = ()  # the stages whose artifacts it reads
    # what of the config (or the data) it depends on, beside its upstream stages
    reads: Callable[[Config], Any] = lambda cfg: None
    load: Callable[[Run, Path], Any] = lambda run, folder: folder  # the artifact
    results: tuple[str, ...] = ()  # files of the folder copied to data/results/
    distributed: bool = False  # runs on every torchrun process


@dataclass(frozen=True)
class Run:
    """A configuration's view of the table: keys, folders, artifacts built on demand."""

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
        """The stage's folder, built after what it needs unless reusable. Rank 0 decides
        from the disk, broadcasting: all ranks branch alike while shared disks lag."""
        stage, target = self.stages[name], self.folder(name)
        if broadcast(group.is_main and reusable(target), group):
            return target
        for need in stage.needs:
            self.ensure(need, group)
        inputs = [self.folder(need) for need in stage.needs]  # their builds recorded
        builders = group if stage.distributed else SINGLE
        if group.is_main:
            cached_dir(target, lambda tmp: stage.build(self, tmp, builders), inputs)
        elif stage.distributed:
            stage.build(self, None, group)
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
        files = self.stages[name].results
        for file in files:
            copy_atomic(self.folder(name) / file, results_dir() / file)
        return [results_dir() / file for file in files]

    def missing_for(self, name: str) -> list[str]:
        """The stages still to build before `name` can load (nothing is built)."""
        return [s for s in upstream(self.stages, [name]) if not self.is_built(s)]


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
    """A stage's CSV: only an empty cell is missing ("nan", the bread, is a label)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def load_tables(_run: Run, done: Path) -> dict:
    """A results stage's tables by name: {"table2_zero_shot": DataFrame, ...}."""
    return {path.stem: read_csv(path) for path in sorted(done.glob("*.csv"))}
