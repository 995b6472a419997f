"""The architecture, checked from the source: two layers, no import cycle, no private name
used across a module boundary.

The import graph is read with ``ast`` from every module of ``lambdascope/``, counting imports
at module level *and* inside functions: an import moved into a function still ties two modules
together, it only hides the cycle from Python.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lambdascope"
TOOLING = ("lambdascope.testing", "lambdascope.cli", "lambdascope.check", "lambdascope.__main__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _package_of(name: str) -> str:
    return name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]


def _absolute(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(importer).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _resolve(name: str) -> str | None:
    """The lambdascope module *name* refers to (a name imported from a package may be one)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(name: str) -> list[tuple[str, int, list[str]]]:
    """(imported module, line, names taken from it) for every import in module *name*."""
    tree = ast.parse(MODULES[name].read_text(), str(MODULES[name]))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target is not None:
                    found.append((target, node.lineno, []))
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(name, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:  # `from lambdascope import _guard`
                    found.append((submodule, node.lineno, []))
                    continue
                target = _resolve(source)
                if target is not None:
                    found.append((target, node.lineno, [alias.name]))
    return found


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name in MODULES:
        for target, _line, _names in _imports(name):
            # A package's __init__ importing its submodules counts too: a submodule that
            # imports its package (or anything that does) is a cycle like any other.
            if target != name:
                graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for nxt in sorted(graph[node]):
            found = visit(nxt)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = _cycle(_edges())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_runtime_core_never_imports_the_tooling() -> None:
    core = [name for name in MODULES if not name.startswith(TOOLING)]
    wrong = [
        f"{name} imports {target} (line {line})"
        for name in core
        for target, line, _names in _imports(name)
        if target.startswith(TOOLING)
    ]
    assert not wrong


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_name_is_imported_across_modules() -> None:
    wrong = [
        f"{name}:{line} takes {taken} from {target}"
        for name in MODULES
        for target, line, names in _imports(name)
        for taken in names
        if _private(taken) and target != name
    ]
    assert not wrong


def test_no_private_attribute_of_another_module_is_used() -> None:
    """``module._name`` where ``module`` is a lambdascope module imported by this one."""
    wrong = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(name, node)
                for alias in node.names:
                    if f"{source}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
                and aliases[node.value.id] != name
            ):
                wrong.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not wrong


def test_import_lambdascope_loads_no_tooling_and_no_heavy_module() -> None:
    heavy = ("boto3", "botocore", "wrapt", "typing_extensions", "asyncio", "inspect")
    code = (
        "import sys, lambdascope\n"
        f"loaded = sorted(m for m in sys.modules if m.startswith({TOOLING!r}) or m in {heavy!r})\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_every_exception_the_library_defines_derives_from_lambdascope_error() -> None:
    import lambdascope.check
    import lambdascope.testing
    from lambdascope._redirect import HandlerLoadError  # lambdascope.redirect raises it

    own = [
        HandlerLoadError,
        lambdascope.testing.MarshalError,
        lambdascope.testing.RuntimeExitError,
        lambdascope.testing.RuntimeExited,
        lambdascope.check.CheckError,
        lambdascope.OutsideInvocationError,
        lambdascope.ScopeLeakError,
        lambdascope.TmpLeakError,
        lambdascope.DeadlineExceededError,
        lambdascope.ConfigurationError,
    ]
    assert all(issubclass(cls, lambdascope.LambdascopeError) for cls in own)
    # ...and keeps the built-in base that `except` clauses written before relied on
    assert issubclass(lambdascope.testing.MarshalError, TypeError)
    assert issubclass(lambdascope.testing.RuntimeExited, RuntimeError)
    assert issubclass(lambdascope.check.CheckError, ValueError)
    assert issubclass(lambdascope.DeadlineExceededError, TimeoutError)
    assert issubclass(HandlerLoadError, ImportError)
    assert issubclass(lambdascope.ConfigurationError, ValueError)


def test_every_exception_class_in_the_package_is_listed_above() -> None:
    """A new exception class must be added to the test above (and derive from the base)."""
    names = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Exited")):
                names.add(node.name)
    # RemoteError stands for a handler's own error reported by a runtime process, not ours.
    assert names - {"RemoteError"} == {
        "HandlerLoadError",
        "LambdascopeError",
        "MarshalError",
        "RuntimeExitError",
        "RuntimeExited",
        "CheckError",
        "OutsideInvocationError",
        "ScopeLeakError",
        "TmpLeakError",
        "DeadlineExceededError",
        "ConfigurationError",
    }
