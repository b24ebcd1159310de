"""The code a chapter teaches, read from the package itself and shown as a cell output:
one fenced Markdown block, which the book and JupyterLab highlight. No second copy falls
out of date, and a renamed function fails the chapter instead of showing stale code."""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Listing:
    """Code as a cell output: a fenced Markdown block, or bare where text only shows."""

    code: str
    language: str = "python"

    def _repr_markdown_(self) -> str:
        # A fence longer than any run of backticks inside the code.
        longest = max((len(run) for run in re.findall(r"`+", self.code)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}{self.language}\n{self.code}\n{fence}\n"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.code)


def show_source(*objects) -> Listing:
    """The source of package functions, classes or methods, in one cell output."""
    sources = [textwrap.dedent(inspect.getsource(o)).rstrip("\n") for o in objects]
    return Listing("\n\n\n".join(sources))


def show_excerpt(resource: str, start_at: str, end_at: str) -> Listing:
    """Lines of a `resources/` file, from the one holding `start_at` to `end_at`'s."""
    lines = resources.files("devise_lite").joinpath("resources", resource)
    lines = lines.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if start_at in line)
    last = next(i for i in range(first, len(lines)) if end_at in lines[i])
    return Listing(textwrap.dedent("\n".join(lines[first : last + 1])), "text")
