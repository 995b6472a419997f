"""The modules of a Python project: which files they are, how to read them safely, and how they
import each other.

This is the checker's project model: files and the imports between them, read with the standard
library alone. Which files are the project's code (test modules, tool and environment folders,
vendored libraries) is decided by the rules the guard uses too (``lambdascope._layout``), so the
checker reads the modules the guard watches. Its API:

:func:`discover` (paths) → :class:`Discovery`
    Walks files and directories. ``sources``: the project's ``*.py`` files, skipping hidden
    directories, virtual environments, ``__pycache__``, ``node_modules``, ``cdk.out`` and
    installed or vendored packages; ``others``: the other files a *wanted* predicate selects;
    ``refused``: ``*.py`` paths that are not read, and why (not a regular file, a symbolic link
    out of the checked tree). ``root_of`` maps every file to the tree it was found in.
:func:`read_bytes` (path, max_bytes)
    The content of one regular file, bounded; :class:`Unreadable` says why not (a FIFO, a
    device, a link out of the tree, larger than the bound, an OS error). Never blocks.
:func:`decode_source` (bytes) → str
    PEP 263 encodings and universal newlines, as Python reads a module.
:class:`ProjectModel` (trees, roots)
    ``imports(path)``: local name → :class:`ImportRef`; ``find_module(path, level, dotted)``:
    the file an import names; ``locate(path, dotted)``: the module and the name in it that a
    dotted name used in *path* refers to, through ``import x``, ``from x import y``, relative
    imports and package re-exports; ``relative(path)``.

Paths are as given (joined with the walked directory); the model keys modules by absolute path.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import os
import stat
import tokenize
from dataclasses import dataclass, field

from lambdascope._layout import import_root, is_test_file, skipped_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

__all__ = [
    "Discovery",
    "ImportRef",
    "ProjectModel",
    "Unreadable",
    "decode_source",
    "discover",
    "import_table",
    "is_test_file",
    "read_bytes",
]

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once instead of waiting for a writer
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


# ------------------------------------------------------------------------------ reading


class Unreadable(Exception):
    """A file that is not read, and why (``str()`` is the reason, starting in lower case)."""

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(
    path: str, max_bytes: int, *, root: str | None = None, truncate: bool = False
) -> bytes:
    """The content of the regular file *path*: at most *max_bytes* bytes.

    *root* (a real path): the file, after following symbolic links, must be inside it. A file
    larger than *max_bytes* raises :class:`Unreadable` (``too_large``), or with *truncate* gives
    its first *max_bytes*. Opening never blocks (a FIFO is refused, not waited on).

    Raises:
        Unreadable: not a regular file, a link out of *root*, too large, or an OS error.
    """
    if root is not None and not _within(os.path.realpath(path), root):
        raise Unreadable(f"a symbolic link to {os.path.realpath(path)}, outside the checked tree")
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    except OSError as exc:
        raise Unreadable(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"{_kind(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes and not truncate:
            raise Unreadable(
                f"{info.st_size:,} bytes, more than the {max_bytes:,}-byte limit per file",
                too_large=True,
            )
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew after fstat
        if not truncate:
            raise Unreadable(f"more than the {max_bytes:,}-byte limit per file", too_large=True)
        data = data[:max_bytes]
    return data


def decode_source(data: bytes) -> str:
    """*data* decoded as Python reads a module (PEP 263 coding line or BOM, universal newlines).

    Raises:
        SyntaxError: an unknown or invalid coding declaration.
        UnicodeDecodeError: bytes invalid in the declared encoding.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    with io.TextIOWrapper(io.BytesIO(data), encoding, line_buffering=True) as text:
        return text.read()


# ------------------------------------------------------------------------------ discovery


@dataclass
class Discovery:
    """What :func:`discover` found (see the module docstring)."""

    sources: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    root_of: dict[str, str] = field(default_factory=dict)


def _excluded(path: str, patterns: Sequence[str]) -> bool:
    norm = os.path.normpath(path).replace(os.sep, "/")
    parts = norm.split("/")
    return any(
        fnmatch.fnmatch(norm, p) or any(fnmatch.fnmatch(part, p) for part in parts)
        for p in patterns
    )


def _admit(found: Discovery, full: str, root: str, *, python: bool) -> None:
    """File *full* (found under real path *root*) into ``sources``/``others`` or ``refused``."""
    try:
        if os.path.islink(full) and not _within(os.path.realpath(full), root):
            raise Unreadable(f"a symbolic link to {os.path.realpath(full)}, outside the tree")
        mode = os.stat(full).st_mode
        if not stat.S_ISREG(mode):
            raise Unreadable(f"{_kind(mode)}, not a regular file")
    except FileNotFoundError:
        if python:  # a dangling link: reading it says why
            found.sources.append(full)
            found.root_of[full] = root
        return
    except (OSError, Unreadable) as exc:
        if python:  # a deployment file that is not one is simply not read
            found.refused.append((full, str(exc)))
        return
    (found.sources if python else found.others).append(full)
    found.root_of[full] = root


def discover(
    paths: Iterable[str],
    exclude: Sequence[str] = (),
    wanted: Callable[[str], bool] | None = None,
) -> Discovery:
    """Walk *paths* (files or directories) for the project's ``*.py`` files and *wanted* others.

    A path that does not exist, or a file that is neither ``*.py`` nor *wanted*, raises
    :class:`FileNotFoundError` / :class:`ValueError` with a message naming it.
    """
    found = Discovery()
    for path in paths:
        if os.path.isdir(path):
            root = os.path.realpath(path)
            for folder, dirnames, filenames in os.walk(path):
                if any(n.endswith((".dist-info", ".egg-info")) for n in dirnames):
                    dirnames[:] = []  # an install target (vendored packages): not the user's
                    continue
                dirnames[:] = sorted(
                    d
                    for d in dirnames
                    if not skipped_dir(folder, d, top=import_root(folder, path))
                    and not _excluded(os.path.join(folder, d), exclude)
                )
                for name in sorted(filenames):
                    full = os.path.join(folder, name)
                    python = name.endswith(".py")
                    if (python or (wanted and wanted(name))) and not _excluded(full, exclude):
                        _admit(found, full, root, python=python)
        elif not os.path.lexists(path):
            raise FileNotFoundError(f"{path}: no such file or directory")
        elif path.endswith(".py") or (wanted and wanted(os.path.basename(path))):
            # named on its own: wherever a link leads, it is what the user asked for
            _admit(found, path, os.path.realpath(path), python=path.endswith(".py"))
        else:
            raise ValueError(f"{path}: not a Python file (*.py), a directory or a deployment file")
    found.sources = list(dict.fromkeys(found.sources))
    found.others = list(dict.fromkeys(found.others))
    return found


# ------------------------------------------------------------------------------ imports


@dataclass(frozen=True)
class ImportRef:
    """What a local name was imported as: ``level`` leading dots and the ``dotted`` name.

    ``import a.b`` binds ``a`` → ``ImportRef(0, "a")``; ``import a.b as c`` → ``(0, "a.b")``;
    ``from .m import f as g`` binds ``g`` → ``(1, "m.f")``.
    """

    level: int
    dotted: str

    @property
    def qualified(self) -> str:
        """The dotted name, with its leading dots (a relative import is never a library)."""
        return "." * self.level + self.dotted


def _statements(tree: ast.AST) -> Iterator[ast.stmt]:
    """Every statement in *tree*, nested ones included (expressions are not entered)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend(reversed(children))


def import_table(tree: ast.AST) -> dict[str, ImportRef]:
    """Every name bound by an import anywhere in *tree* (later imports win)."""
    table: dict[str, ImportRef] = {}
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                table[local] = ImportRef(0, alias.name if alias.asname else local)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                dotted = f"{module}.{alias.name}" if module else alias.name
                table[alias.asname or alias.name] = ImportRef(node.level, dotted)
    return table


class ProjectModel:
    """The modules of a project (parsed trees by path) and the imports between them.

    *roots*: the checked directories; an absolute import is looked up from the importing
    file's directory up to its root, then in the project's Lambda layers (``python/``
    directories, and packages under a directory named like ``*layer*``).
    """

    def __init__(self, trees: Mapping[str, ast.Module], roots: Iterable[str]) -> None:
        self.trees = {os.path.abspath(path): tree for path, tree in trees.items()}
        self._imports = {path: import_table(tree) for path, tree in self.trees.items()}
        self.roots = sorted({os.path.abspath(r) for r in roots}, key=len, reverse=True)
        self._layer_modules = [p for p in self.trees if "layer" in os.path.dirname(p).lower()]
        self._layers = sorted(
            {
                folder
                for folder in map(os.path.dirname, self.trees)
                if os.path.basename(folder) == "python"
            }
        )
        self._found: dict[tuple[str, int, str], str | None] = {}  # find_module's answers

    def imports(self, path: str) -> dict[str, ImportRef]:
        """The names module *path* binds by import (empty for a path not in the project)."""
        return self._imports.get(os.path.abspath(path), {})

    def relative(self, path: str) -> str:
        """*path* relative to the checked directory it is in (``/``-separated)."""
        full = os.path.abspath(path)
        root = next((r for r in self.roots if full.startswith(r + os.sep)), os.path.dirname(full))
        return os.path.relpath(full, root).replace(os.sep, "/")

    def _bases(self, path: str, level: int) -> list[str]:
        folder = os.path.dirname(path)
        if level:
            for _ in range(level - 1):
                folder = os.path.dirname(folder)
            return [folder]
        root = next((r for r in self.roots if (folder + os.sep).startswith(r + os.sep)), folder)
        bases = [folder]
        while folder != root and len(folder) > len(root):
            folder = os.path.dirname(folder)
            bases.append(folder)
        return bases + [layer for layer in self._layers if layer.startswith(root + os.sep)]

    def find_module(self, path: str, level: int, dotted: str) -> str | None:
        """The project file that ``import dotted`` (with *level* dots) in *path* names."""
        key = (path, level, dotted)
        if key not in self._found:
            self._found[key] = self._find_module(os.path.abspath(path), level, dotted)
        return self._found[key]

    def _find_module(self, path: str, level: int, dotted: str) -> str | None:
        rel = os.path.join(*dotted.split(".")) if dotted else ""
        for base in self._bases(path, level):
            folder = os.path.join(base, rel) if rel else base
            candidates = ((folder + ".py",) if rel else ()) + (os.path.join(folder, "__init__.py"),)
            for candidate in candidates:
                if candidate in self.trees:
                    return candidate
        if level or not rel:
            return None
        # a layer's code (`layers/common/common/db.py`), packaged to /opt/python by the build
        for end in (os.sep + rel + ".py", os.sep + os.path.join(rel, "__init__.py")):
            found = [p for p in self._layer_modules if p.endswith(end)]
            if found:
                return found[0] if len(found) == 1 else None
        return None

    def locate(self, path: str, dotted: str, _depth: int = 0) -> tuple[str, str] | None:
        """(module file, name in it) that *dotted*, used in module *path*, refers to.

        ``helpers.run`` after ``import helpers`` → (``helpers.py``, ``"run"``); after
        ``from pkg import helpers`` the same; a name re-exported by a package
        (``from .core import run`` in ``__init__.py``) is followed to where it is defined. The
        name part may be dotted (``"Service.handle"``) or empty (the module itself). None when
        the name is not imported or leads outside the project.
        """
        head, _, rest = dotted.partition(".")
        ref = self.imports(path).get(head)
        if ref is None or _depth > 3:
            return None
        parts = (ref.dotted + ("." + rest if rest else "")).split(".")
        for cut in range(len(parts), -1 if ref.level else 0, -1):
            target = self.find_module(path, ref.level, ".".join(parts[:cut]))
            if target is None or target == os.path.abspath(path):
                continue
            attr = ".".join(parts[cut:])
            if attr.split(".")[0] in self.imports(target):  # a re-export: `from .core import run`
                return self.locate(target, attr, _depth + 1)
            return target, attr
        return None
