"""The package's shape (issue L): small modules, imports at the top, no import cycle,
and a core that never needs the book layer. Read from the source alone (ast): fast."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "devise_lite"
MAX_LINES = 400
# The whole package, subpackages included, no bigger than on the day issue L was filed:
# a feature that adds lines makes room for them.
MAX_PACKAGE_LINES = 12_582
MAX_LOCAL_IMPORTS = 40  # torch, pandas, gensim, ... on an optional path only


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (subpackages too)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, bool]]:
    """(imported module of the package, whether the import is inside a function)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    local = _local_imports(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: up from this module's package
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            # `from . import x` names modules; `from .m import f` names the module m
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(t, id(node) in local) for t in targets if t in MODULES and t != name]
    return found


def _local_imports(tree: ast.Module) -> set[int]:
    """The ids of the import statements inside a function (nested ones counted once)."""
    return {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    }


def _local_import_count(name: str) -> int:
    return len(_local_imports(ast.parse(MODULES[name].read_text(encoding="utf-8"))))


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (its modules in order), or None."""
    done, path = set(), []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph[node]):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None


def test_no_module_is_over_400_lines():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in MODULES.items()
    }
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_the_package_is_no_bigger_than_when_issue_l_was_filed():
    lines = sum(
        len(path.read_text(encoding="utf-8").splitlines()) for path in MODULES.values()
    )
    assert lines <= MAX_PACKAGE_LINES


def test_no_import_cycle_counting_imports_inside_functions():
    graph = {name: {target for target, _ in _imports(name)} for name in MODULES}
    assert _cycle(graph) is None


def test_imports_inside_functions_are_few():
    counts = {name: _local_import_count(name) for name in MODULES}
    assert sum(counts.values()) <= MAX_LOCAL_IMPORTS, {
        n: c for n, c in counts.items() if c
    }


def test_the_core_never_imports_the_book_layer():
    book = "devise_lite.book"
    core = [n for n in MODULES if n != book and not n.startswith(book + ".")]
    offenders = {
        name: sorted(t for t, _ in _imports(name) if t == book or t.startswith(book))
        for name in core
    }
    assert {n: t for n, t in offenders.items() if t} == {}
