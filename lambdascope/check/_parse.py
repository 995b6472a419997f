"""Reading and parsing source files, with a newer interpreter for syntax this one lacks.

A file this interpreter cannot parse (a Python 3.12 f-string under 3.11) is handed, with every
other such file, to one subprocess of the newest Python found (pyenv versions, ``python3.N`` on
``PATH``): it parses them and sends back their trees as JSON, rebuilt here as :mod:`ast` nodes.
Nothing is imported or run; the subprocess only calls :func:`ast.parse`.
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
import tokenize
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Parsed", "Unparsed", "parse_files", "read"]

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
        files[path] = {"tree": conv(ast.parse(src, path))}
    except (SyntaxError, ValueError) as e:
        files[path] = {"error": str(getattr(e, "msg", None) or e), "line": getattr(e, "lineno", 1)}
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


def read(path: str) -> str | Unparsed:
    """The text of *path* (PEP 263 encodings honoured), or why it cannot be read."""
    try:
        with tokenize.open(path) as fh:
            return fh.read()
    except OSError as exc:
        return Unparsed(path, 1, f"cannot read the file: {exc.strerror or exc}; not analysed")
    except (SyntaxError, UnicodeDecodeError) as exc:
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
    chosen = os.environ.get("LAMBDASCOPE_CHECK_PYTHON")
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


def parse_files(sources: dict[str, str]) -> tuple[list[Parsed], list[Unparsed]]:
    """Parse every source; retry the failures with newer interpreters, newest first."""
    parsed: list[Parsed] = []
    failed: dict[str, tuple[int, str]] = {}
    for path, source in sources.items():
        try:
            parsed.append(Parsed(path, ast.parse(source, filename=path), source, None))
        except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes before 3.12
            failed[path] = (
                getattr(exc, "lineno", None) or 1,
                getattr(exc, "msg", None) or str(exc),
            )
    pythons = newer_pythons() if failed else []
    for python in pythons:
        if not failed:
            break
        answer = _run(python, {path: sources[path] for path in failed})
        for path, result in answer.get("files", {}).items():
            if "tree" in result and path in failed:
                tree = _build(result["tree"])
                assert isinstance(tree, ast.Module)
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
    return parsed, unparsed


def _run(python: str, sources: dict[str, str]) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [python, "-I", "-c", _DUMP],
            input=json.dumps(sources),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        answer: dict[str, Any] = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}
    return answer


def parse_paths(paths: Iterable[str]) -> tuple[list[Parsed], list[Unparsed]]:
    """Read and parse files (see :func:`parse_files`)."""
    sources: dict[str, str] = {}
    unread: list[Unparsed] = []
    for path in paths:
        text = read(path)
        if isinstance(text, Unparsed):
            unread.append(text)
        else:
            sources[path] = text
    parsed, unparsed = parse_files(sources)
    return parsed, unread + unparsed
