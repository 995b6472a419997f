"""The write analysis made ahead of time, shipped beside the code.

``lambdascope analyse MODULE:HANDLER`` (``Guard.analyse_ahead``) runs the guard's census
where the function is built or tested and writes :data:`FILE_NAME` at the root of the
project: for each guarded module, its :class:`~._facts.Analysis`, a digest of its source,
what the analysis read of the running values (the kind of each module-level name it
looked at, the other modules it looked up), what the source defines (to check the
running code against, as a live analysis does), and a digest of all of that (the entry is
bound to its own content: an entry edited since is not used). On the first invocation the
guard uses an entry instead of parsing and analysing the module when all of these still
hold, and analyses the module live otherwise: a changed source, another Python or
lambdascope version, a module-level name bound to another kind of value than at build time.
Why a module was analysed live goes into the cold-start report (:func:`why_live`).

The file is an optimisation and can never hurt: a file that cannot be read as UTF-8 JSON,
or an entry that does not match its digest or has the wrong shape, means "analyse live"
plus one :class:`~lambdascope.AnalysisFileWarning` per file, never an error. This path
never imports :mod:`ast`.
"""

from __future__ import annotations

import os
from operator import itemgetter

from lambdascope._errors import AnalysisFileWarning
from lambdascope._layout import LIBRARY_DIRS

from ._facts import Analysis, Func, GiveUp, outside
from ._kinds import MISSING, MODULE_TYPE, modules_in
from ._source import SourceDefs, check_code, module_source
from ._tables import immutable_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._foreign import Foreign

FILE_NAME = "lambdascope-analysis.json"
FORMAT = 2  # 2: each entry carries the digest of its own content


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


def entry_digest(entry: dict[str, Any]) -> str:
    """The digest an entry carries: :func:`digest` of its ``source``, ``exported`` (as JSON)
    and ``content``, one per line. It binds the analysis to the source it was made from: an
    entry edited since (a hand merge, a write removed) no longer matches it."""
    exported = "true" if entry["exported"] is True else "false"
    return digest(f"{entry['source']}\n{exported}\n{entry['content']}")


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
    import json

    content = {
        "names": {key: _seen(key, namespace.get(key, MISSING)) for key in names},
        "outside": {key: describe(value) for key, value in sorted(builder.looked_up.items())},
        "defines": _defines(builder),
        "analysis": _dump(analysis),
    }
    entry = {
        "exported": builder.exported,
        "source": digest(source),
        # JSON text in the file: bound to its digest as written, decoded only when used
        "content": json.dumps(content, sort_keys=True, separators=(",", ":")),
    }
    entry["digest"] = entry_digest(entry)
    variants.append(entry)


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


def default_path(roots: tuple[str, ...]) -> str:
    """Where ``lambdascope analyse`` writes the file: the project's first root (the task
    root), never an installed library's folder."""
    if not roots:
        raise ValueError("the handler's project has no root folder to write it to: give --output")
    if not LIBRARY_DIRS.isdisjoint(roots[0].split(os.sep)):
        raise ValueError(
            f"the handler's project root {roots[0]} is an installed library's folder: run "
            "lambdascope analyse from the function's code folder (its task root), or give "
            "--output"
        )
    return os.path.join(roots[0], FILE_NAME)


def write(path: str, entries: dict[str, list[dict[str, Any]]]) -> None:
    """Write :data:`FILE_NAME`'s content: the versions, then the entries of each module
    (analysed as used by other modules or not). The entries of modules this run did not
    analyse (another handler's, written there before) stay, when the file was usable."""
    import json

    kept = _read(path).modules or {}
    document = {**_header(), "modules": {**kept, **entries}}
    with open(path, "w", encoding="utf-8") as file:
        json.dump(document, file, separators=(",", ":"), sort_keys=True)
        file.write("\n")


def stale(path: str, entries: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """The modules of *entries* whose entry in the file at *path* is missing or differs,
    each with why (all of them when the file is missing, damaged, or of another format or
    version)."""
    written = _read(path)
    if written.modules is None:
        why = f"{path} {written.problem or 'does not exist'}"
        return dict.fromkeys(sorted(entries), why)
    found = {name: _difference(written.modules.get(name), new) for name, new in entries.items()}
    return {name: why for name, why in sorted(found.items()) if why is not None}


def _difference(old: Any, new: list[dict[str, Any]]) -> str | None:
    """Why the file's entries *old* of a module are not the fresh ones, *new* (None: they are)."""
    if old == new:
        return None
    if not isinstance(old, list) or not old:
        return "not in the file"
    before = {v.get("exported"): v for v in old if isinstance(v, dict)}
    for variant in new:
        if before.get(variant["exported"]) != variant:
            return _why_differs(before.get(variant["exported"]), variant)
    return "the file holds an entry of it this analysis does not make"


def _why_differs(before: dict[str, Any] | None, fresh: dict[str, Any]) -> str:
    if before is None:
        return "no entry for it as the project uses it now"
    try:
        edited = before["digest"] != entry_digest(before)
        old = _decoded(before["content"])
    except (KeyError, TypeError, _Damaged):
        return f"its entry {_SHAPE}"
    if edited:
        return f"its entry {_EDITED}"
    new = _decoded(fresh["content"])
    reasons = (
        (before["source"] != fresh["source"], "its source changed"),
        (old["names"] != new["names"], "a module-level name it uses holds another kind of value"),
        (old["outside"] != new["outside"], "a value of another module it uses changed"),
    )
    return next(
        (why for differs, why in reasons if differs),
        "its analysis differs (the modules it uses changed)",
    )


# -- using it ----------------------------------------------------------------------------


class _File:
    """What one root's file holds: the modules' entries (None: none usable, *problem* says
    why, if there is a file; *damaged*: worth an :class:`AnalysisFileWarning`), and the
    file's state when read."""

    __slots__ = ("damaged", "modules", "path", "problem", "stat", "warned")

    def __init__(self, path: str, stat: tuple[int, ...] | None) -> None:
        self.path = path
        self.stat = stat
        self.modules: dict[str, Any] | None = None
        self.problem: str | None = None
        self.damaged = False
        self.warned = False

    def unusable(self, problem: str, *, damaged: bool = False) -> _File:
        self.problem = problem
        self.damaged = damaged
        return self

    def warn(self, problem: str, what: str) -> None:
        """One :class:`AnalysisFileWarning` per file (the first problem found in it)."""
        if self.warned:
            return
        self.warned = True
        import warnings

        warnings.warn(
            AnalysisFileWarning(
                f"{self.path} {problem}: the guard analyses {what} on the first invocation "
                "instead, as without the file. Write it again with `lambdascope analyse`."
            ),
            stacklevel=2,
        )


class _Damaged(Exception):
    """An entry that is not what ``lambdascope analyse`` wrote."""


_EDITED = "was changed after it was written (it does not match its digest)"
_SHAPE = "does not have the shape lambdascope analyse writes"


_files: dict[str, _File] = {}  # path -> what it held when last read
_why: dict[str, str] = {}  # module -> why its last lookup found no entry it could use


def why_live(name: str) -> str:
    """Why module *name* was not analysed ahead of time, for the cold-start report."""
    return _why.get(name, "analysed live")


def lookup(
    name: str, namespace: dict[str, Any], exported: bool, roots: tuple[str, ...]
) -> Analysis | None:
    """The analysis made ahead of time for module *name*, if one of the *roots* ships one
    that still holds for the running module; None: analyse it live (:func:`why_live` then
    says why). Never raises: the file is an optimisation."""
    try:
        analysis, why = _lookup(name, namespace, exported, roots)
    except Warning:  # AnalysisFileWarning, made an error by a warnings filter (-W error)
        raise
    except Exception as exc:  # whatever goes wrong with the file, the module is analysed live
        analysis, why = None, f"its entry could not be used ({type(exc).__name__})"
    if why is None:
        _why.pop(name, None)
    else:
        _why[name] = why
    return analysis


def _lookup(
    name: str, namespace: dict[str, Any], exported: bool, roots: tuple[str, ...]
) -> tuple[Analysis | None, str | None]:
    files = [_file(root) for root in roots]
    file = next((f for f in files if f.modules is not None and name in f.modules), None)
    if file is None:
        return None, _no_entry(files)
    assert file.modules is not None
    try:
        found = _entry(file, file.modules[name], exported, name, namespace)
    except _Damaged as exc:
        file.warn(f"is damaged: the entry of module {name!r} {exc}", "that module")
        return None, f"its entry in {file.path} {exc}"
    if isinstance(found, str):
        return None, found
    content, defines, analysis = found
    changed = _kinds_changed(content, namespace)
    if changed is not None:
        return None, changed
    try:
        check_code(name, namespace, defines)
    except GiveUp as exc:
        return Analysis(gave_up=str(exc)), f"its running code is not its source's ({exc})"
    analysis.ahead = True
    return analysis, None


def _entry(
    file: _File, shipped: Any, exported: bool, name: str, namespace: dict[str, Any]
) -> str | tuple[dict[str, Any], SourceDefs, Analysis]:
    """The entry *file* ships for module *name* as the project uses it, decoded (its
    content, what the source defines, the analysis), or why there is none for the running
    module; :class:`_Damaged`: it is not what ``lambdascope analyse`` wrote."""
    entry = _variant(shipped, exported)
    if entry is None:
        return f"no entry in {file.path} for it as the project uses it"
    if entry["digest"] != entry_digest(entry):
        raise _Damaged(_EDITED)
    changed = _source_changed(entry, name, namespace)
    if changed is not None:
        return changed
    content = _decoded(entry["content"])
    return content, _defined(content["defines"]), _load(content["analysis"])


def _no_entry(files: list[_File]) -> str:
    """Why none of the roots' *files* has an entry for a module."""
    for file in files:
        if file.problem is not None:
            if file.damaged:
                file.warn(file.problem, "every module of the project")
            return f"{file.path} {file.problem}"
    usable = [file.path for file in files if file.modules is not None]
    if usable:
        return (
            f"not in {', '.join(usable)} (not analysed ahead: added since, or the analysis "
            "cannot vouch for it)"
        )
    if not files:
        return f"no project folder to look for {FILE_NAME} in"
    return f"no {FILE_NAME} in {', '.join(os.path.dirname(file.path) for file in files)}"


def _variant(shipped: Any, exported: bool) -> dict[str, Any] | None:
    """The entry for the module as the project uses it (*exported* or not)."""
    if type(shipped) is not list or not all(map(_is_entry, shipped)):
        raise _Damaged("is not a list of entries of the shape lambdascope analyse writes")
    # analysed as used by other modules: it vouches for less, and holds in both cases
    return next((v for v in shipped if v["exported"] is exported), None) or next(
        (v for v in shipped if v["exported"] is True), None
    )


def _is_entry(value: Any) -> bool:
    return (
        type(value) is dict
        and value.keys() == _ENTRY_KEYS
        and type(value["exported"]) is bool
        and _STR.issuperset(map(type, (value["source"], value["content"], value["digest"])))
    )


def _source_changed(entry: dict[str, Any], name: str, namespace: dict[str, Any]) -> str | None:
    """Why the running module's source is not the one analysed (None: it is)."""
    try:
        source, _ = module_source(name, namespace)
    except GiveUp as exc:
        return f"its source cannot be read ({exc})"
    if digest(source) != entry["source"]:
        return "its source changed since the analysis"
    return None


def _kinds_changed(content: dict[str, Any], namespace: dict[str, Any]) -> str | None:
    """Why a value the analysis looked at (here or in other modules) is of another kind now
    (None: none is)."""
    for key, seen in content["names"].items():
        if _seen(key, namespace.get(key, MISSING)) != seen:
            return f"its module-level name {key!r} holds another kind of value than when analysed"
    for key, seen in content["outside"].items():
        how, _, looked = key.partition(" ")
        if describe(outside(how, looked)) != seen:
            return f"{looked!r}, which its code uses, is another kind of value than when analysed"
    return None


def _file(root: str) -> _File:
    """The file in *root*, read again when it changed since (a test writes it anew; on
    Lambda it is read once)."""
    path = os.path.join(root, FILE_NAME)
    try:
        found = os.stat(path)
        stat: tuple[int, ...] | None = (found.st_mtime_ns, found.st_size, found.st_ino)
    except OSError:
        stat = None
    cached = _files.get(path)
    if cached is None or cached.stat != stat:
        cached = _files[path] = _read(path, stat)
    return cached


def _read(path: str, stat: tuple[int, ...] | None = ()) -> _File:
    """The file at *path*: its entries, or why it has none to use."""
    read = _File(path, stat)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return read  # no file: nothing to say (modules and why both None)
    except OSError as exc:
        return read.unusable(f"cannot be read ({exc.strerror})", damaged=True)
    document, problem = _decode(data)
    if problem is not None:
        return read.unusable(problem, damaged=True)
    other = _other_build(document)
    if other is not None:
        return read.unusable(other)
    if type(document.get("modules")) is not dict:
        return read.unusable('has no "modules" object', damaged=True)
    read.modules = document["modules"]
    return read


def _decode(data: bytes) -> tuple[dict[str, Any], str | None]:
    """The file's JSON object, or what is wrong with it."""
    import json

    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return {}, f"is not UTF-8 text (byte {exc.start}: re-encoded by an editor?)"
    except RecursionError:
        return {}, "is nested too deeply to decode"
    except ValueError as exc:
        return {}, f"is not valid JSON ({exc})"
    if type(document) is not dict:
        return {}, "is not a JSON object"
    return document, None


def _other_build(document: dict[str, Any]) -> str | None:
    """Why a file made by another format, Python or lambdascope version is not used."""
    here = _header()
    made = {key: document.get(key) for key in here}
    if made["format"] != here["format"]:
        return (
            f"is of format {_shown(made['format'])}; lambdascope {here['lambdascope']} reads "
            f"format {FORMAT}"
        )
    if made["python"] != here["python"]:
        return (
            f"was made on Python {_shown(made['python'])}; this is Python {here['python']} "
            f"(lambdascope analyse --python {here['python']} makes it for this one)"
        )
    if made["lambdascope"] != here["lambdascope"]:
        return (
            f"was made by lambdascope {_shown(made['lambdascope'])}; this is lambdascope "
            f"{here['lambdascope']}"
        )
    return None


def _shown(value: Any) -> str:
    """A value read from the file, as a message shows it (short, whatever it is)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- the shape of an entry ----------------------------------------------------------------
# Checked while the records are made from it, with no Python call per string where it can:
# an entry whose digest matches but that holds the wrong types (written by something else
# than lambdascope analyse) is refused as damaged, never half used.

_ENTRY_KEYS = frozenset({"exported", "source", "content", "digest"})
_CONTENT_KEYS = frozenset({"names", "outside", "defines", "analysis"})
_STR, _INT, _BOOL = frozenset({str}), frozenset({int}), frozenset({bool})
_LIST, _DICT = frozenset({list}), frozenset({dict})
_OPTIONAL_STR: frozenset[type] = frozenset({str, type(None)})


def _decoded(text: str) -> dict[str, Any]:
    """An entry's content (the JSON text the digest covers), checked: its four parts, the
    kinds of values of ``names`` and ``outside`` (the others: :func:`_load`, :func:`_defined`)."""
    import json

    try:
        content = json.loads(text)
    except (ValueError, RecursionError):
        raise _Damaged(_SHAPE) from None
    _record(content, _CONTENT_KEYS)
    _mapping(content["names"], _STR)
    _mapping(content["outside"], _STR)
    return content  # type: ignore[no-any-return]


def _record(value: Any, keys: frozenset[str]) -> dict[str, Any]:
    if type(value) is not dict or value.keys() != keys:
        raise _Damaged(_SHAPE)
    return value


def _mapping(value: Any, kinds: frozenset[type]) -> dict[str, Any]:
    """*value*, an object of values of *kinds*."""
    if not (
        type(value) is dict
        and _STR.issuperset(map(type, value))
        and kinds.issuperset(map(type, value.values()))
    ):
        raise _Damaged(_SHAPE)
    return value


def _strs(value: Any) -> list[str]:
    if type(value) is not list or not _STR.issuperset(map(type, value)):
        raise _Damaged(_SHAPE)
    return value


def _rows(value: Any, *kinds: frozenset[type]) -> list[list[Any]]:
    """*value*, a list of rows (lists) whose items are of *kinds*, in order (checked a
    column at a time)."""
    if not (
        type(value) is list
        and _LIST.issuperset(map(type, value))
        and {len(kinds)}.issuperset(map(len, value))
        and all(
            kind.issuperset(map(type, map(itemgetter(column), value)))
            for column, kind in enumerate(kinds)
        )
    ):
        raise _Damaged(_SHAPE)
    return value


# -- the records as JSON -----------------------------------------------------------------


def _defines(builder: Foreign) -> dict[str, Any]:
    def funcs(found: list[Func]) -> list[Any]:
        return [[f.positional, f.kwonly, f.vararg, f.kwarg, sorted(f.idents)] for f in found]

    return {
        "defs": [[n, line, funcs(found)] for (n, line), found in builder.def_keys.items()],
        "lambdas": [[line, funcs(found)] for line, found in builder.lambda_lines.items()],
        "classes": sorted([n, line] for n, line in builder.class_keys),
    }


def _defined(data: Any) -> SourceDefs:
    def funcs(name: str, line: int, found: Any) -> list[Func]:
        made = []
        for row in found:  # a list: checked by _rows
            if type(row) is not list or len(row) != 5:
                raise _Damaged(_SHAPE)
            positional, kwonly, vararg, kwarg, idents = row
            if not _OPTIONAL_STR.issuperset((type(vararg), type(kwarg))):
                raise _Damaged(_SHAPE)
            func = Func(name, (line,), 0)
            func.positional, func.kwonly = _strs(positional), _strs(kwonly)
            func.vararg, func.kwarg, func.idents = vararg, kwarg, set(_strs(idents))
            made.append(func)
        return made

    data = _record(data, frozenset({"defs", "lambdas", "classes"}))
    defines = SourceDefs()
    defines.def_keys = {
        (n, line): funcs(n, line, found)
        for n, line, found in _rows(data["defs"], _STR, _INT, _LIST)
    }
    defines.lambda_lines = {
        line: funcs("<lambda>", line, found) for line, found in _rows(data["lambdas"], _INT, _LIST)
    }
    defines.class_keys = {(n, line) for n, line in _rows(data["classes"], _STR, _INT)}
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


def _load(data: Any) -> Analysis:
    data = _record(data, _ANALYSIS_KEYS)
    if type(data["class_reached"]) is not bool:
        raise _Damaged(_SHAPE)
    return Analysis(
        written=_mapping(data["written"], _BOOL),
        loaded=frozenset(_strs(data["loaded"])),
        rebound=frozenset(_strs(data["rebound"])),
        written_params={
            (n, line): frozenset(_strs(v))
            for n, line, v in _rows(data["written_params"], _STR, _INT, _LIST)
        },
        written_cells={
            (n, line): _mapping(v, _BOOL)
            for n, line, v in _rows(data["written_cells"], _STR, _INT, _DICT)
        },
        imported=frozenset(_strs(data["imported"])),
        foreign={(m, n): deep for m, n, deep in _rows(data["foreign"], _STR, _STR, _BOOL)},
        foreign_rebound=frozenset((m, n) for m, n in _rows(data["foreign_rebound"], _STR, _STR)),
        foreign_loaded=frozenset((m, n) for m, n in _rows(data["foreign_loaded"], _STR, _STR)),
        returns={k: _mapping(v, _INT) for k, v in _mapping(data["returns"], _DICT).items()},
        classes=frozenset(_strs(data["classes"])),
        class_reached=data["class_reached"],
        private_names=frozenset(_strs(data["private_names"])),
    )


_ANALYSIS_KEYS = frozenset(
    {
        "written",
        "loaded",
        "rebound",
        "written_params",
        "written_cells",
        "imported",
        "foreign",
        "foreign_rebound",
        "foreign_loaded",
        "returns",
        "classes",
        "class_reached",
        "private_names",
    }
)
