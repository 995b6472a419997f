"""Reading and parsing source files, bounded, with a newer interpreter for syntax this one lacks.

Files are read through :func:`~lambdascope.check._project.read_bytes`: regular files only, at
most ``max_bytes`` each, never through a link out of the checked tree. Any failure of one file
(a syntax error, a file nested too deeply for the parser, a :class:`RecursionError` or
:class:`MemoryError`) is an :class:`Unparsed` for that file; the others are parsed. Before
Python 3.11 the parser can overflow the C stack on a deeply nested expression (a crash, not an
exception), so there it runs in a thread with a large stack.

A file this interpreter cannot parse (a Python 3.12 f-string under 3.11) is handed, with every
other such file, to one subprocess of the newest Python found (pyenv versions, ``python3.N`` on
``PATH``): it parses them and sends back their trees as JSON, rebuilt here as :mod:`ast` nodes.
Nothing is imported or run; the subprocess only calls :func:`ast.parse`, within a time bound.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from typing import Any

from ._project import Unreadable, decode_source, read_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["MAX_BYTES", "SECONDS", "Parsed", "Unparsed", "parse_files", "parse_paths", "read"]

MAX_BYTES = 1_048_576  # per file: larger files are skipped with an LS000 warning
SECONDS = 5.0  # per file: analysis time (and the newer Python's parse time)
_STACK = 512 * 1024 * 1024  # for the parser before 3.11: deep enough for MAX_BYTES of nesting

# Runs in the newer interpreter: stdin {path: source} -> stdout {"version", "files": {path: ...}}.
_DUMP = r"""
import ast, json, sys
def conv(n):
    if isinstance(n, ast.AST):
        d = {"_": type(n).__name__}
        for f in n._fields:
            d[f] = conv(getattr(n, f, None))
        for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(n, a):
                d["@" + a] = getattr(n, a)
        return d
    if isinstance(n, list):
        return [conv(x) for x in n]
    if n is None or isinstance(n, (str, int, float)):
        return n
    if isinstance(n, bytes):
        return {"_bytes": n.decode("latin-1")}
    if isinstance(n, complex):
        return {"_complex": [n.real, n.imag]}
    return {"_ellipsis": 1}
files = {}
for path, src in json.load(sys.stdin).items():
    try:
        files[path] = json.dumps({"tree": conv(ast.parse(src, path))})
    except Exception as e:
        files[path] = json.dumps(
            {"error": str(getattr(e, "msg", None) or e) or type(e).__name__,
             "line": getattr(e, "lineno", None) or 1}
        )
json.dump({"version": "%d.%d" % sys.version_info[:2], "files": files}, sys.stdout)
"""
_STATEMENTS = frozenset({"TypeAlias"})  # newer statement types, read as `pass`


class Parsed:
    """A parsed file: its tree and its lines (Python's line breaks only)."""

    __slots__ = ("lines", "path", "tree", "version")

    def __init__(self, path: str, tree: ast.Module, source: str, version: str | None) -> None:
        self.path = path
        self.tree = tree
        self.lines = re.split(r"\r\n?|\n", source)  # unlike str.splitlines: no \f, no U+2028
        self.version = version  # the newer Python that parsed it, or None


class Unparsed:
    """A file that could not be analysed, and why (an LS000 finding)."""

    __slots__ = ("line", "message", "path")

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message


def read(path: str, max_bytes: int = MAX_BYTES, root: str | None = None) -> str | Unparsed:
    """The text of *path* (PEP 263 encodings honoured), or why it cannot be read."""
    try:
        return decode_source(read_bytes(path, max_bytes, root=root))
    except Unreadable as exc:
        what = "skipped" if exc.too_large else "not analysed"
        return Unparsed(path, 1, f"{exc}; {what}")
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return Unparsed(path, 1, f"cannot decode the file ({exc}); not analysed")


def _version(python: str) -> tuple[int, int]:
    found = re.search(r"(\d+)\.(\d+)", os.path.basename(os.path.dirname(os.path.dirname(python))))
    found = found or re.search(r"python(\d+)\.(\d+)$", python)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def newer_pythons() -> list[str]:
    """Interpreters newer than this one, newest first (``LAMBDASCOPE_CHECK_PYTHON`` first)."""
    here = sys.version_info[:2]
    found = {
        path: _version(path)
        for path in glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"))
    }
    for minor in range(here[1] + 1, 16):
        path = shutil.which(f"python3.{minor}")
        if path:
            found.setdefault(path, (3, minor))
    ordered = sorted((p for p, v in found.items() if v > here), key=found.__getitem__)
    from lambdascope._config import check_python

    chosen = check_python()
    return ([chosen] if chosen else []) + ordered[::-1]


def _build(data: object) -> object:
    if isinstance(data, list):
        return [_build(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "_bytes" in data:
        return str(data["_bytes"]).encode("latin-1")
    if "_complex" in data:
        return complex(*data["_complex"])
    if "_ellipsis" in data:
        return ...
    name = str(data["_"])
    cls = getattr(ast, name, None)
    if not (isinstance(cls, type) and issubclass(cls, ast.AST)):
        cls = ast.Pass if name in _STATEMENTS else ast.Constant
        data = {"value": None, **{k: v for k, v in data.items() if k.startswith("@")}}
    # All fields at once: Python 3.13 deprecates node classes built without their fields.
    return cls(**{key.lstrip("@"): _build(value) for key, value in data.items() if key != "_"})


def _needs(message: str) -> str:
    if "f-string" in message:
        return "Python 3.12 (f-string syntax of PEP 701)"
    return "a newer Python, or it is not valid Python"


def _parse_here(sources: dict[str, str]) -> dict[str, ast.Module | Exception]:
    """Every source parsed by this interpreter, or the exception parsing it raised."""
    results: dict[str, ast.Module | Exception] = {}

    def work() -> None:
        for path, source in sources.items():
            try:
                results[path] = ast.parse(source, filename=path)
            except Exception as exc:
                results[path] = exc

    if sys.version_info >= (3, 11) or not sources:  # RecursionError, not a crash, from 3.11
        work()
        return results
    thread = threading.Thread(target=work, name="lambdascope-check-parser", daemon=True)
    try:
        previous = threading.stack_size(_STACK)
        try:
            thread.start()
        finally:
            threading.stack_size(previous)
    except (ValueError, RuntimeError):  # pragma: no cover - no large stacks on this system
        work()
        return results
    thread.join()
    return results


def _failure(exc: Exception) -> tuple[int, str]:
    """(line, message) of a file the parser refused."""
    if isinstance(exc, RecursionError):
        return 1, "nested too deeply for Python's parser (RecursionError)"
    if isinstance(exc, MemoryError):
        return 1, "too large or nested too deeply for Python's parser (MemoryError)"
    if isinstance(exc, (SyntaxError, ValueError)):  # ValueError: NUL bytes before 3.12
        return getattr(exc, "lineno", None) or 1, getattr(exc, "msg", None) or str(exc)
    return 1, f"{type(exc).__name__}: {exc}"


def parse_files(
    sources: dict[str, str], seconds: float = SECONDS
) -> tuple[list[Parsed], list[Unparsed]]:
    """Parse every source; retry the syntax errors with newer interpreters, newest first."""
    parsed: list[Parsed] = []
    failed: dict[str, tuple[int, str]] = {}
    refused: list[Unparsed] = []
    for path, result in _parse_here(sources).items():
        if isinstance(result, ast.Module):
            parsed.append(Parsed(path, result, sources[path], None))
        elif isinstance(result, (SyntaxError, ValueError)):
            failed[path] = _failure(result)
        else:
            line, message = _failure(result)
            refused.append(Unparsed(path, line, f"{message}; not analysed"))
    pythons = newer_pythons() if failed else []
    for python in pythons:
        if not failed:
            break
        answer = _run(python, {path: sources[path] for path in failed}, seconds * len(failed))
        for path, text in answer.get("files", {}).items():
            tree = _rebuild(text) if path in failed else None
            if tree is not None:
                parsed.append(Parsed(path, tree, sources[path], str(answer["version"])))
                del failed[path]
    here = "{}.{}".format(*sys.version_info[:2])
    unparsed = [
        Unparsed(
            path,
            line,
            f"syntax error: {message} — Python {here} cannot parse this file"
            + (
                " (nor can the newer Pythons found)"
                if pythons
                else f"; it likely needs {_needs(message)}. Not analysed: run lambdascope "
                "check under that version to analyse it"
            ),
        )
        for path, (line, message) in failed.items()
    ]
    return parsed, refused + unparsed


def _rebuild(text: object) -> ast.Module | None:
    """A tree sent back by the newer interpreter, or None (it failed, or cannot be rebuilt)."""
    try:
        data = json.loads(str(text))
        tree = _build(data["tree"]) if "tree" in data else None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return tree if isinstance(tree, ast.Module) else None


def _run(python: str, sources: dict[str, str], timeout: float) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [python, "-I", "-c", _DUMP],
            input=json.dumps(sources),
            capture_output=True,
            text=True,
            timeout=max(timeout, 10.0),  # the interpreter's own start-up included
            check=True,
        )
        answer: dict[str, Any] = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}
    return answer


def parse_paths(
    paths: Iterable[str],
    *,
    max_bytes: int = MAX_BYTES,
    seconds: float = SECONDS,
    roots: dict[str, str] | None = None,
) -> tuple[list[Parsed], list[Unparsed]]:
    """Read (bounded: see :func:`read`; *roots* maps a file to the tree it must stay in) and
    parse files (see :func:`parse_files`)."""
    sources: dict[str, str] = {}
    unread: list[Unparsed] = []
    for path in paths:
        text = read(path, max_bytes, (roots or {}).get(path))
        if isinstance(text, Unparsed):
            unread.append(text)
        else:
            sources[path] = text
    parsed, unparsed = parse_files(sources, seconds)
    return parsed, unread + unparsed
