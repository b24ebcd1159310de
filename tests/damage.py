"""Damage done to a file as a disk, a copy or a person does it (the fault tests)."""

import os
from pathlib import Path


def flip_bytes(path: Path, count: int = 8) -> None:
    """Overwrite `count` bytes in the middle of a file with their complement: same
    size, other content."""
    middle = path.stat().st_size // 2
    with open(path, "r+b") as handle:
        handle.seek(middle)
        data = handle.read(count)
        handle.seek(middle)
        handle.write(bytes(b ^ 0xFF for b in data))


def truncate_half(path: Path) -> None:
    """Cut a file to half its size, as an interrupted copy leaves it."""
    os.truncate(path, path.stat().st_size // 2)
