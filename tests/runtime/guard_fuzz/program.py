"""What the generator makes: fragments of handler code, assembled into a program.

A *program* is a set of module files (one handler module ``app.py``, or a package with
``app.py``, ``store.py`` and ``__init__.py``) plus the events of the invocations to run.
A *fragment* is one idiom: the module-level state it needs, the helpers that use it, and the
line(s) the handler runs; programs combine a few fragments. Fragments only ever use names of
their own, so any subset of a program's fragments is a program too (which is how failures
are minimised first).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

HANDLER_MODULE = "app"


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

    def block(self, module: str, source: str) -> None:
        self.blocks.setdefault(module, []).append(textwrap.dedent(source).strip("\n"))

    def need(self, module: str, *lines: str) -> None:
        self.imports.setdefault(module, set()).update(lines)


@dataclass
class Case:
    """A runnable program: module files by name, and the events to invoke it with."""

    files: dict[str, str]  # "app.py", and for a package "__init__.py", "store.py", ...
    events: list[dict[str, Any]]
    package: bool = False
    constructs: tuple[str, ...] = ()

    def source(self) -> str:
        """The program as one readable text: each file under a header, then the events."""
        parts = []
        for name in sorted(self.files, key=_file_order):
            shown = f"pkg/{name}" if self.package else name
            parts.append(f"# ---- {shown} ----\n{self.files[name].rstrip()}\n")
        events = ",\n".join(f"#   {event!r}" for event in self.events)
        parts.append(f"# ---- events, invoked in order ----\n{events}\n")
        return "\n".join(parts)


def _file_order(name: str) -> tuple[int, str]:
    return (0 if name == "app.py" else 1, name)


@dataclass
class Program:
    """Generated fragments and how to assemble them."""

    fragments: list[Fragment]
    events: list[dict[str, Any]]
    package: bool = False
    async_handler: bool = False
    raises: bool = False  # the handler ends with `raise ValueError(...)` on some events
    number: int | None = None

    def with_fragments(self, fragments: list[Fragment]) -> Program:
        return Program(
            fragments,
            self.events,
            self.package,
            self.async_handler,
            self.raises,
            self.number,
        )

    @property
    def constructs(self) -> tuple[str, ...]:
        return tuple(f.construct for f in self.fragments)

    def case(self) -> Case:
        return Case(self.render(), list(self.events), self.package, self.constructs)

    def render(self) -> dict[str, str]:
        modules = [HANDLER_MODULE, "store", "extra", "__init__"] if self.package else ["app"]
        imports: dict[str, set[str]] = {m: set() for m in modules}
        blocks: dict[str, list[str]] = {m: [] for m in modules}
        for fragment in self.fragments:
            for module, lines in fragment.imports.items():
                imports[module].update(lines)
            for module, found in fragment.blocks.items():
                blocks[module].extend(found)
        imports[HANDLER_MODULE].add("from lambdascope import handler")
        blocks[HANDLER_MODULE].append(self._handler())
        files = {}
        for module in modules:
            text = _module_text(imports[module], blocks[module])
            if text or module in (HANDLER_MODULE, "__init__"):
                files[f"{module}.py"] = text
        return files

    def _calls(self) -> list[str]:
        return [call for f in self.fragments for call in f.calls]

    def _handler(self) -> str:
        decorators = ["@handler(modules=(__package__,))" if self.package else "@handler"]
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
    plain = sorted(i for i in imports if i.startswith("import "))
    froms = sorted(i for i in imports if i.startswith("from "))
    head = "\n".join([*plain, *froms])
    return (head + "\n\n\n" if head else "") + "\n\n\n".join(blocks) + "\n"
