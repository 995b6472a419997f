"""What the generator makes: fragments of handler code, assembled into a program.

A *program* is a set of module files (one handler module ``app.py``, or a package with
``app.py``, ``store.py``, ``extra.py`` and ``__init__.py``, and whatever else its fragments add:
subpackages, top-level modules beside the package, a layer's modules, libraries) laid out as a
function is deployed (:mod:`.layouts`), plus the events of the invocations to run.
A *fragment* is one idiom: the module-level state it needs, the helpers that use it, and the
line(s) the handler runs; programs combine a few fragments. Fragments only ever use names of
their own, so any subset of a program's fragments is a program too (which is how failures
are minimised first).

Where a fragment puts code (its *module keys*): ``app``, ``store``, ``extra`` and
``__init__`` are the package's modules (``app`` alone for a single-module program); any other
key is a path from the folder on ``sys.path`` that holds the package, in which ``$PKG`` is the
package's folder (``$PKG/services/repo.py``) and ``$LAYER`` a layer's ``python`` folder.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field, replace
from typing import Any

HANDLER_MODULE = "app"
PACKAGE_MODULES = (HANDLER_MODULE, "store", "extra", "__init__")
MODULE = "fuzz_app"  # a single-module program's import name
PACKAGE = "fuzz_pkg"  # a package program's import name


@dataclass
class Fragment:
    """One idiom of handler code."""

    construct: str  # e.g. "list/name/direct/append": what the tallies and reports name
    writes: bool  # the generator's intent; the oracle is the judge
    blocks: dict[str, list[str]] = field(default_factory=dict)  # module -> top-level blocks
    imports: dict[str, set[str]] = field(default_factory=dict)  # module -> import lines
    calls: list[str] = field(default_factory=list)  # statements the handler runs
    min_version: tuple[int, int] = (3, 9)
    decorates_handler: str = ""  # a decorator of the module to put under @handler
    files: dict[str, str] = field(default_factory=dict)  # other files (markers, metadata)
    library: set[str] = field(default_factory=set)  # paths (prefixes) of a library's files
    tables: list[tuple[str, str]] = field(default_factory=list)  # read-only (module, name)
    needs: str = ""  # "", "package", "project" or "layer": the programs it fits (Context.allows)

    def block(self, module: str, source: str) -> None:
        self.blocks.setdefault(module, []).append(textwrap.dedent(source).strip("\n"))

    def need(self, module: str, *lines: str) -> None:
        self.imports.setdefault(module, set()).update(lines)


@dataclass(frozen=True)
class Tree:
    """How a program sits on disk and is imported, as Lambda would (see :mod:`.layouts`)."""

    main: str  # the handler module's dotted name
    paths: tuple[str, ...] = ("",)  # sys.path entries, from the program's folder, first first
    project: frozenset[str] = frozenset()  # the files (paths) of the function's own code
    env: tuple[tuple[str, str], ...] = ()  # environment variables; "$ROOT" is the folder
    layout: str = "module"
    tables: tuple[tuple[str, str], ...] = ()  # read-only tables: (module, name), for the cost


@dataclass
class Case:
    """A runnable program: its files by path, how it is imported, the events to invoke it with."""

    files: dict[str, str]  # path from the program's folder -> text
    events: list[dict[str, Any]]
    tree: Tree = field(default_factory=lambda: Tree(MODULE, project=frozenset({"fuzz_app.py"})))
    constructs: tuple[str, ...] = ()

    @classmethod
    def single(cls, source: str, events: list[dict[str, Any]]) -> Case:
        """A single-module program (``fuzz_app.py``)."""
        return cls({f"{MODULE}.py": source}, events)

    @property
    def package(self) -> bool:
        return self.tree.main != MODULE

    def with_files(self, files: dict[str, str]) -> Case:
        return replace(self, files=files)

    def with_events(self, events: list[dict[str, Any]]) -> Case:
        return replace(self, events=events)

    def source(self) -> str:
        """The program as one readable text: each file under a header, then the events."""
        parts = [f"# layout: {self.tree.layout}; sys.path: {list(self.tree.paths)}"]
        if self.tree.env:
            parts.append(f"# environment: {dict(self.tree.env)}")
        main = self.main_file()
        for name in sorted(self.files, key=lambda n: (n != main, n)):
            library = "" if name in self.tree.project or not name.endswith(".py") else " (library)"
            parts.append(f"# ---- {name}{library} ----\n{self.files[name].rstrip()}\n")
        events = ",\n".join(f"#   {event!r}" for event in self.events)
        parts.append(f"# ---- events, invoked in order ----\n{events}\n")
        return "\n".join(parts)

    def main_file(self) -> str:
        tail = self.tree.main.replace(".", "/") + ".py"
        return next((name for name in self.files if name.endswith(tail)), "")


@dataclass
class Program:
    """Generated fragments and how to assemble them."""

    fragments: list[Fragment]
    events: list[dict[str, Any]]
    package: bool = False
    async_handler: bool = False
    raises: bool = False  # the handler ends with `raise ValueError(...)` on some events
    number: int | None = None
    layout: str = "module"  # see layouts.LAYOUTS; "explicit" is @handler(modules=(__package__,))

    def with_fragments(self, fragments: list[Fragment]) -> Program:
        return replace(self, fragments=fragments)

    def with_layout(self, layout: str) -> Program:
        return replace(self, layout=layout)

    @property
    def constructs(self) -> tuple[str, ...]:
        return tuple(f.construct for f in self.fragments)

    def case(self) -> Case:
        from .layouts import place

        return place(self)

    def render(self) -> dict[str, str]:
        """Module key -> source (see the module doc for the keys)."""
        keys: list[str] = list(PACKAGE_MODULES) if self.package else [HANDLER_MODULE]
        for fragment in self.fragments:
            for key in [*fragment.blocks, *fragment.imports]:
                if key not in keys:
                    keys.append(key)
        imports: dict[str, set[str]] = {m: set() for m in keys}
        blocks: dict[str, list[str]] = {m: [] for m in keys}
        for fragment in self.fragments:
            for module, lines in fragment.imports.items():
                imports[module].update(lines)
            for module, found in fragment.blocks.items():
                blocks[module].extend(found)
        imports[HANDLER_MODULE].add("from lambdascope import handler")
        blocks[HANDLER_MODULE].append(self._handler())
        files = {}
        for module in keys:
            text = _module_text(imports[module], blocks[module])
            if text or module in (HANDLER_MODULE, "__init__"):
                files[module] = text
        return files

    def _calls(self) -> list[str]:
        return [call for f in self.fragments for call in f.calls]

    def _handler(self) -> str:
        explicit = self.layout == "explicit"
        decorators = ["@handler(modules=(__package__,))" if explicit else "@handler"]
        decorators += [f"@{f.decorates_handler}" for f in self.fragments if f.decorates_handler]
        head = "async def" if self.async_handler else "def"
        body = [*self._calls()]
        if self.raises:
            body += ['if event["kind"] == "b":', '    raise ValueError("fuzz: bad request")']
        body.append('return {"ok": True}')
        lines = [*decorators, f"{head} lambda_handler(event, context):"]
        lines += [f"    {line}" for line in body]
        return "\n".join(lines)


def _module_text(imports: set[str], blocks: list[str]) -> str:
    if not imports and not blocks:
        return ""
    future = sorted(i for i in imports if i.startswith("from __future__"))
    plain = sorted(i for i in imports if i.startswith("import "))
    froms = sorted(i for i in imports if i.startswith("from ") and i not in future)
    head = "\n".join([*future, *plain, *froms])
    return (head + "\n\n\n" if head else "") + "\n\n\n".join(blocks) + "\n"
