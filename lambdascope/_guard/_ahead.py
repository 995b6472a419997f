"""The write analysis made ahead of time, shipped beside the code.

``lambdascope analyse MODULE:HANDLER`` (``Guard.analyse_ahead``) runs the guard's census
where the function is built or tested and writes :data:`FILE_NAME` at the root of the
project: for each guarded module, its :class:`~._facts.Analysis`, a digest of its source,
what the analysis read of the running values (the kind of each module-level name it
looked at, the other modules it looked up), and what the source defines (to check the
running code against, as a live analysis does). On the first invocation the guard uses an
entry instead of parsing and analysing the module when all of these still hold, and
analyses the module live otherwise: a changed source, another Python or lambdascope
version, a module-level name bound to another kind of value than at build time. This path
never imports :mod:`ast`.
"""

from __future__ import annotations

import os

from ._facts import Analysis, Func, GiveUp, outside
from ._kinds import MISSING, MODULE_TYPE, modules_in
from ._source import SourceDefs, check_code, module_source
from ._tables import immutable_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._foreign import Foreign

FILE_NAME = "lambdascope-analysis.json"
FORMAT = 1


class Recording(dict):  # type: ignore[type-arg]
    """A copy of a module's namespace that notes the names the analysis looks at."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__(namespace)
        self.consulted: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        self.consulted.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.consulted.add(key)  # type: ignore[arg-type]
        return super().__contains__(key)

    def __getitem__(self, key: Any) -> Any:
        self.consulted.add(key)
        return super().__getitem__(key)


def describe(value: Any) -> str:
    """Everything the analysis may derive from a value, as text: its type, and whether it
    is a module (which), immutable, a class (its attributes' types), a collection of
    modules (which), callable."""
    if value is MISSING:
        return "-"
    kind = type(value)
    words = [f"{kind.__module__}.{kind.__qualname__}"]
    if kind is MODULE_TYPE:
        words.append(f"module {getattr(value, '__name__', '')}")
    elif immutable_value(value):
        words.append("immutable")
    elif isinstance(value, type):
        attrs = sorted(f"{key}:{type(item).__qualname__}" for key, item in vars(value).items())
        words.append("attributes " + ",".join(attrs))
    else:
        modules = modules_in(value)
        if modules:
            words.append("modules " + ",".join(module.__name__ for module in modules))
    if callable(value):
        words.append("callable")
    return " ".join(words)


def _seen(key: str, value: Any) -> str:
    """:func:`describe` of a module-level value, with the text of the module's own dunder
    strings (``__package__`` decides what a relative import names)."""
    if type(value) is str and key.startswith("__") and key.endswith("__"):
        return f"{describe(value)} {value!r}"
    return describe(value)


def digest(source: str | bytes) -> str:
    """A digest of a module's source (BLAKE2b, 128 bits)."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - CPython builds have it
        from hashlib import blake2b
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    return blake2b(data, digest_size=16).hexdigest()


def _header() -> dict[str, Any]:
    import sys

    from lambdascope._version import __version__

    return {
        "format": FORMAT,
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "lambdascope": __version__,
    }


# -- making it ---------------------------------------------------------------------------

_recording: dict[str, list[dict[str, Any]]] | None = None  # module -> its variants


def recording() -> bool:
    return _recording is not None


def record(
    name: str, namespace: Recording, builder: Foreign, analysis: Analysis, source: str | bytes
) -> None:
    """Keep the entry of one module analysed live, while ``Guard.analyse_ahead`` runs."""
    if _recording is None or analysis.gave_up is not None:
        return  # a module the analysis cannot vouch for is analysed again at run time
    names = sorted(namespace.consulted)
    variants = [v for v in _recording.get(name, ()) if v["exported"] is not builder.exported]
    _recording[name] = variants
    variants.append(
        {
            "exported": builder.exported,
            "source": digest(source),
            "names": {key: _seen(key, namespace.get(key, MISSING)) for key in names},
            "outside": {key: describe(value) for key, value in sorted(builder.looked_up.items())},
            "defines": _defines(builder),
            "analysis": _dump(analysis),
        }
    )


def recorded(name: str, *, exported: bool) -> bool:
    """Does the recording hold module *name* analysed as used by other modules (or not)?"""
    return any(v["exported"] is exported for v in (_recording or {}).get(name, ()))


def start_recording() -> None:
    global _recording
    _recording = {}


def finish_recording() -> dict[str, list[dict[str, Any]]]:
    """The entries recorded since :func:`start_recording`; recording stops."""
    global _recording
    entries, _recording = _recording or {}, None
    return entries


def write(path: str, entries: dict[str, list[dict[str, Any]]]) -> None:
    """Write :data:`FILE_NAME`'s content: the versions, then the entries of each module
    (analysed as used by other modules or not). The entries of modules this run did not
    analyse (another handler's, written there before) stay."""
    import json

    document = {**_header(), "modules": {**_read(path), **entries}}
    with open(path, "w", encoding="utf-8") as file:
        json.dump(document, file, separators=(",", ":"), sort_keys=True)
        file.write("\n")


def stale(path: str, entries: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The modules of *entries* whose entry in the file at *path* is missing or differs
    (all of them when the file is missing or of another format or version)."""
    import json

    written = _read(path)
    # through JSON both ways: the file holds lists where the entries hold tuples
    fresh = json.loads(json.dumps(entries))
    return sorted(name for name, entry in fresh.items() if written.get(name) != entry)


# -- using it ----------------------------------------------------------------------------

_files: dict[str, dict[str, Any]] = {}  # root -> its modules' entries ({}: none usable)


def lookup(
    name: str, namespace: dict[str, Any], exported: bool, roots: tuple[str, ...]
) -> Analysis | None:
    """The analysis made ahead of time for module *name*, if one of the *roots* ships one
    that still holds for the running module; None: analyse it live."""
    shipped: Any = next((found for root in roots if (found := _entries(root).get(name))), [])
    variants = [v for v in shipped if isinstance(v, dict)] if isinstance(shipped, list) else []
    # analysed as used by other modules: it vouches for less, and holds in both cases
    entry = next((v for v in variants if v.get("exported") is exported), None) or next(
        (v for v in variants if v.get("exported") is True), None
    )
    if entry is None:
        return None
    try:
        if not _holds(entry, name, namespace):
            return None
        defines = _defined(entry["defines"])
        analysis = _load(entry["analysis"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # an entry of another shape: analyse live
    try:
        check_code(name, namespace, defines)
    except GiveUp as exc:
        return Analysis(gave_up=str(exc))
    analysis.ahead = True
    return analysis


def _holds(entry: dict[str, Any], name: str, namespace: dict[str, Any]) -> bool:
    """Is the running module the one analysed: same source, and every value the analysis
    looked at (here and in other modules) of the same kind?"""
    try:
        source, _ = module_source(name, namespace)
    except GiveUp:
        return False
    if digest(source) != entry["source"]:
        return False
    for key, seen in entry["names"].items():
        if _seen(key, namespace.get(key, MISSING)) != seen:
            return False
    for key, seen in entry["outside"].items():
        how, _, looked = key.partition(" ")
        if describe(outside(how, looked)) != seen:
            return False
    return True


def _entries(root: str) -> dict[str, Any]:
    found = _files.get(root)
    if found is None:
        found = _files[root] = _read(os.path.join(root, FILE_NAME))
    return found


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError:
        return {}
    import json

    try:
        document = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(document, dict) or any(
        document.get(key) != value for key, value in _header().items()
    ):
        return {}  # another format, Python or lambdascope version: analyse live
    modules = document.get("modules")
    return modules if isinstance(modules, dict) else {}


# -- the records as JSON -----------------------------------------------------------------


def _defines(builder: Foreign) -> dict[str, Any]:
    def funcs(found: list[Func]) -> list[Any]:
        return [[f.positional, f.kwonly, f.vararg, f.kwarg, sorted(f.idents)] for f in found]

    return {
        "defs": [[n, line, funcs(found)] for (n, line), found in builder.def_keys.items()],
        "lambdas": [[line, funcs(found)] for line, found in builder.lambda_lines.items()],
        "classes": sorted([n, line] for n, line in builder.class_keys),
    }


def _defined(data: dict[str, Any]) -> SourceDefs:
    def funcs(name: str, line: int, found: list[Any]) -> list[Func]:
        made = []
        for positional, kwonly, vararg, kwarg, idents in found:
            func = Func(name, (line,), 0)
            func.positional, func.kwonly = list(positional), list(kwonly)
            func.vararg, func.kwarg, func.idents = vararg, kwarg, set(idents)
            made.append(func)
        return made

    defines = SourceDefs()
    defines.def_keys = {(n, line): funcs(n, line, found) for n, line, found in data["defs"]}
    defines.lambda_lines = {line: funcs("<lambda>", line, found) for line, found in data["lambdas"]}
    defines.class_keys = {(n, line) for n, line in data["classes"]}
    return defines


def _dump(analysis: Analysis) -> dict[str, Any]:
    return {
        "written": analysis.written,
        "loaded": sorted(analysis.loaded),
        "rebound": sorted(analysis.rebound),
        "written_params": sorted(
            [n, line, sorted(v)] for (n, line), v in analysis.written_params.items()
        ),
        "written_cells": sorted([n, line, v] for (n, line), v in analysis.written_cells.items()),
        "imported": sorted(analysis.imported),
        "foreign": sorted([m, n, deep] for (m, n), deep in analysis.foreign.items()),
        "foreign_rebound": sorted([m, n] for m, n in analysis.foreign_rebound),
        "foreign_loaded": sorted([m, n] for m, n in analysis.foreign_loaded),
        "returns": analysis.returns,
        "classes": sorted(analysis.classes),
        "class_reached": analysis.class_reached,
        "private_names": sorted(analysis.private_names),
    }


def _load(data: dict[str, Any]) -> Analysis:
    return Analysis(
        written=dict(data["written"]),
        loaded=frozenset(data["loaded"]),
        rebound=frozenset(data["rebound"]),
        written_params={(n, line): frozenset(v) for n, line, v in data["written_params"]},
        written_cells={(n, line): dict(v) for n, line, v in data["written_cells"]},
        imported=frozenset(data["imported"]),
        foreign={(m, n): bool(deep) for m, n, deep in data["foreign"]},
        foreign_rebound=frozenset((m, n) for m, n in data["foreign_rebound"]),
        foreign_loaded=frozenset((m, n) for m, n in data["foreign_loaded"]),
        returns={key: dict(value) for key, value in data["returns"].items()},
        classes=frozenset(data["classes"]),
        class_reached=bool(data["class_reached"]),
        private_names=frozenset(data["private_names"]),
    )
