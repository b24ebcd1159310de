"""`python -m devise_lite verify [--preset P] [--repair]`: every finished stage of a
preset, exported engine and checkpoint hashed against its record, as `git fsck` does;
exit status 1 if anything is damaged. `--repair` removes it for the next run to rebuild.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from . import pipeline
from .config import Config
from .errors import UserError
from .integrity import damage_beside, sidecar
from .storage import DONE, damaged_file, data_root, is_done, outdated_input, read_info

DAMAGED = 1
RECORD_SUFFIX = sidecar(Path("x")).name.removeprefix("x")  # ".blake2b.json"


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    name: str
    files: int
    state: str  # "ok", "damaged (...)", "stale (...)", "not built", "unrecorded", ...
    remove: Path | None = None  # what --repair deletes (only when damaged)

    @property
    def damaged(self) -> bool:
        return self.state.startswith("damaged")


def stage_findings(cfg: Config) -> list[Finding]:
    """Every stage of the preset's table, in build order, fully hashed."""
    findings = []
    for name in pipeline.STAGES:
        try:
            folder = pipeline.folder(cfg, name)
        except UserError as err:  # its key needs a dataset that is not here
            findings.append(Finding(name, 0, f"unknown ({err})"))
        else:
            findings.append(_folder_finding(name, folder))
    return findings


def _folder_finding(name: str, folder: Path) -> Finding:
    if not is_done(folder):
        return Finding(name, 0, "not built")
    try:
        files = read_info(folder).get("files")
    except (OSError, ValueError):
        return Finding(name, 0, f"damaged ({DONE}: unreadable)", folder)
    if files is None:
        return Finding(name, 0, "unrecorded (made before records were kept)")
    if (damage := damaged_file(folder, hash=True)) is not None:
        return Finding(name, len(files), f"damaged ({damage})", folder)
    if (upstream := outdated_input(folder)) is not None:
        return Finding(name, len(files), f"stale ({upstream} was rebuilt since)")
    return Finding(name, len(files), "ok")


def recorded_file_findings(root: Path) -> list[Finding]:
    """Every exported engine and checkpoint file that keeps a record beside it."""
    cache = root / "cache"
    findings = []
    for folder in (cache / "engines", cache / "checkpoints"):
        for record in sorted(folder.rglob(f"*{RECORD_SUFFIX}")):
            path = record.with_name(record.name.removesuffix(RECORD_SUFFIX))
            shown = path.relative_to(cache).as_posix()
            if not path.exists():
                continue  # a temporary's record, or a file removed with its record
            damage = damage_beside(path)
            state = "ok" if damage is None else f"damaged ({damage.reason})"
            findings.append(Finding(shown, 1, state, path if damage else None))
    return findings


def verify(cfg: Config, repair: bool, out: TextIO) -> int:
    """Print the report; `repair` removes what is damaged. Returns 1 if any, else 0."""
    root = data_root()
    print(f"verify: preset {cfg.name}, data root {root}", file=out)
    stages = stage_findings(cfg)
    findings = stages + recorded_file_findings(root)
    width = max(len(f.name) for f in stages)  # an engine's long name runs over
    for finding in findings:
        files = f"{finding.files} file{'s' * (finding.files != 1)}"
        print(f"{finding.name:<{width}}  {files:>9}  {finding.state}", file=out)
    damaged = [f for f in findings if f.damaged]
    if not damaged:
        print("verify: everything built is intact", file=out)
        return 0
    if repair:
        for finding in damaged:
            if finding.remove.is_dir():
                shutil.rmtree(finding.remove)
            else:
                finding.remove.unlink(missing_ok=True)
                sidecar(finding.remove).unlink(missing_ok=True)
        summary = f"removed {len(damaged)} damaged: the next run rebuilds them"
    else:
        summary = (
            f"{len(damaged)} damaged: `verify --repair` removes them (the next run "
            "rebuilds them), or the next run finds and rebuilds them itself"
        )
    print(f"verify: {summary}", file=out)
    return DAMAGED
