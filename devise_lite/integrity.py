"""Whether a file is still what was written: sizes and BLAKE2b hashes, in a stage
folder's `done.json` or beside a single file. Sizes are always compared; a file is
rehashed only if its `stat` (size, mtime, ctime, inode) changed since its last good
hash, as git's index does (any rewrite changes the kernel-set ctime). `verify` (or
$DEVISE_CHECKS=always) hashes all, finding bit rot; `off` skips checks, to time them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInputError

HASH = "blake2b"
CHECKS_ENV = "DEVISE_CHECKS"
CHANGED, ALWAYS, OFF = "changed", "always", "off"
CHECK_MODES = (CHANGED, ALWAYS, OFF)
STAMPS = ".checked.json"  # the stats of each file at its last good hash
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Damage:
    """A file that differs from its record, and how."""

    file: str  # relative to the folder (or the file's own name)
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def checks_mode() -> str:
    """$DEVISE_CHECKS: "changed" (the default), "always" or "off"."""
    mode = os.environ.get(CHECKS_ENV, "").strip().lower() or CHANGED
    if mode not in CHECK_MODES:
        raise BadInputError(
            f"${CHECKS_ENV}={mode!r}: use one of {', '.join(CHECK_MODES)}"
        )
    return mode


def file_digest(path: Path) -> str:
    """The file's BLAKE2b hash (hex), read in 1 MiB blocks (memory stays flat)."""
    digest = hashlib.blake2b(digest_size=32)
    buffer = bytearray(_BLOCK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while read := handle.readinto(buffer):
            digest.update(view[:read])
    return digest.hexdigest()


def file_record(path: Path) -> dict:
    return {"bytes": path.stat().st_size, HASH: file_digest(path)}


def _signature(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def folder_records(folder: Path, leave_out: tuple[str, ...] = ()) -> dict[str, dict]:
    """Each file's record under `folder` but `leave_out`, by path; saves stamps too."""
    records, stamps = {}, {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name in leave_out or name == STAMPS:
            continue
        records[name] = file_record(path)
        stamps[name] = _signature(path.stat())
    _write_stamps(folder, stamps)
    return records


def first_damage(
    folder: Path, records: Mapping[str, dict], hash: bool | None = None
) -> Damage | None:
    """The first file of `records` that is missing or differs; None if all match.
    `hash`: True hashes every file, False compares sizes only, None: $DEVISE_CHECKS."""
    mode = checks_mode()
    if hash is None and mode == OFF:
        return None
    rehash_changed = hash is None and mode == CHANGED
    stamps = _read_stamps(folder) if rehash_changed else {}
    hashed = {}
    for name, record in records.items():
        path = folder / name
        try:
            stat = path.stat()
        except FileNotFoundError:
            return Damage(name, "missing")
        if stat.st_size != record["bytes"]:
            return Damage(
                name, f"{stat.st_size:,} bytes where {record['bytes']:,} were written"
            )
        if hash is False or (rehash_changed and stamps.get(name) == _signature(stat)):
            continue
        if file_digest(path) != record[HASH]:
            return Damage(name, "its content differs from what was written")
        hashed[name] = _signature(stat)
    if rehash_changed and hashed:
        _write_stamps(folder, {**stamps, **hashed})
    return None


def sidecar(path: Path) -> Path:
    """Where the record of a single file is kept."""
    return path.with_name(f"{path.name}.{HASH}.json")


def record_beside(path: Path) -> None:
    """Save the record of `path` beside it (after `path` is complete)."""
    _write_json(sidecar(path), file_record(path))


def damage_beside(path: Path) -> Damage | None:
    """How `path` differs from its record (hashed every time: read once a run); None if
    it matches, has no record (made before records, still atomically), or checks off."""
    if checks_mode() == OFF:
        return None
    try:
        record = json.loads(sidecar(path).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return Damage(sidecar(path).name, "unreadable")
    return first_damage(path.parent, {path.name: record}, hash=True)


def _read_stamps(folder: Path) -> dict:
    try:
        stamps = json.loads((folder / STAMPS).read_text())
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def _write_stamps(folder: Path, stamps: dict) -> None:
    """Best effort: a folder that cannot be written is just hashed again next time."""
    with contextlib.suppress(OSError):
        _write_json(folder / STAMPS, stamps)


def _write_json(target: Path, value) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(value))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
