"""Which code under the project's roots is a library's: facts about files and imports, each read
once, for :mod:`._project`.

A library is not always installed with its ``*.dist-info``: the Serverless Framework's
``slim: true`` deletes them, stripped layers and hand-made zips have none. What still says
"library" (the rows of docs/guard.md "Which modules are guarded"):

- a ``*.dist-info`` folder in the import path entry claims the top-level name (its
  ``top_level.txt``, else its ``RECORD``), unless it is the distribution that holds the
  handler: ``pip install --target build/ .`` installs the function's own package so;
- the name is one of the libraries often vendored without their dist-info
  (:data:`lambdascope._layout.VENDORED`);
- its folder holds what only libraries ship (``py.typed``, extension modules, stubs:
  :func:`lambdascope._layout.library_folder`), or one of its modules is an extension module;
- the same top-level name is importable from a folder of installed libraries too (an entry of
  ``sys.path`` outside the roots that holds ``*.dist-info`` folders, ``site-packages``);
- a library imports it (a library module's globals hold it, or a class defined in it): a
  library's dependencies are libraries (``typing_extensions.py``, ``jmespath``).

Nothing here imports ``importlib.metadata`` (20-40 ms on a cold start, for the same files).
"""

from __future__ import annotations

import os
import sys

from lambdascope._layout import LIBRARY_DIRS, VENDORED, library_folder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["EXTENSIONS", "Libraries", "imported_tops", "read_text", "real_path", "under"]

#: The file suffixes of compiled extension modules.
EXTENSIONS = (".so", ".pyd")

_MODULE = type(sys)


class Libraries:
    """The facts, cached: per import entry (its distributions), per folder (what it holds), per
    library folder on ``sys.path`` (the names importable there), per module (what it imports)."""

    __slots__ = ("_dists", "_folders", "_importable", "_imports")

    def __init__(self) -> None:
        self._dists: dict[str, tuple[frozenset[str], ...]] = {}
        self._folders: dict[str, bool] = {}
        self._importable: dict[str, frozenset[str]] = {}
        self._imports: dict[int, tuple[dict[str, Any], frozenset[str]]] = {}

    def distributions(self, entry: str) -> tuple[frozenset[str], ...]:
        """The top-level names each ``*.dist-info`` folder in *entry* claims."""
        found = self._dists.get(entry)
        if found is None:
            found = self._dists[entry] = distributions_in(entry)
        return found

    def own_names(self, entry: str, own: frozenset[str]) -> frozenset[str]:
        """The names of the distributions in *entry* that hold one of *own* (the handler's)."""
        names: set[str] = set()
        for claimed in self.distributions(entry):
            if not own.isdisjoint(claimed):
                names.update(claimed)
        return frozenset(names)

    def library(self, top: str, entry: str, folder: str, roots: tuple[str, ...]) -> bool:
        """Do the files say that top-level *top* (imported from *entry*, from the package
        folder *folder*, ``""`` for a module file) is a library's?"""
        if top in VENDORED or any(top in claimed for claimed in self.distributions(entry)):
            return True
        if folder:
            marked = self._folders.get(folder)
            if marked is None:
                marked = self._folders[folder] = library_folder(folder)
            if marked:
                return True
        return self.installed_elsewhere(top, roots)

    def installed_elsewhere(self, top: str, roots: tuple[str, ...]) -> bool:
        """Is *top* importable from a folder of installed libraries on ``sys.path`` too?"""
        for entry in list(sys.path):
            if not entry or any(under(real_path(entry), root) for root in roots):
                continue
            names = self._importable.get(entry)
            if names is None:
                names = self._importable[entry] = _library_listing(entry)
            if top in names:
                return True
        return False

    def imported(self, namespace: dict[str, Any]) -> frozenset[str]:
        """The top-level names of the modules and classes module *namespace* holds."""
        cached = self._imports.get(id(namespace))
        if cached is not None and cached[0] is namespace:
            return cached[1]
        found = imported_tops(namespace.values())
        self._imports[id(namespace)] = (namespace, found)
        return found


def imported_tops(values: Iterable[Any]) -> frozenset[str]:
    """The top-level names of the modules among *values* and of the modules the classes among
    them are defined in (what ``import x`` and ``from x import C`` leave in globals). Functions
    are left out: a project sets its own functions on a library's module (a patch), rarely a
    module or a class."""
    tops: set[str] = set()
    for value in list(values):
        if isinstance(value, _MODULE):
            name = getattr(value, "__name__", None)
        elif isinstance(value, type):
            name = value.__dict__.get("__module__")
        else:
            continue
        if isinstance(name, str):
            tops.add(name.partition(".")[0])
    return frozenset(tops)


def distributions_in(entry: str) -> tuple[frozenset[str], ...]:
    """The top-level module and package names each distribution installed in *entry* claims:
    its ``*.dist-info`` folder's ``top_level.txt``, else the first part of the paths its
    ``RECORD`` lists."""
    try:
        listing = os.listdir(entry)
    except OSError:
        return ()
    found: list[frozenset[str]] = []
    for item in sorted(listing):
        if not item.endswith(".dist-info"):
            continue
        folder = os.path.join(entry, item)
        names: set[str] = set()
        top_level = read_text(os.path.join(folder, "top_level.txt"))
        if top_level is not None:
            names.update(line.strip() for line in top_level.splitlines() if line.strip())
        else:
            for line in (read_text(os.path.join(folder, "RECORD")) or "").splitlines():
                first = line.partition(",")[0].replace("\\", "/").partition("/")[0]
                if first and not first.endswith((".dist-info", ".data", "..", ".")):
                    names.add(first[:-3] if first.endswith(".py") else first)
        names.discard("__pycache__")
        found.append(frozenset(names))
    return tuple(found)


def _library_listing(entry: str) -> frozenset[str]:
    """The top-level names importable from *entry* when it is a folder of installed libraries
    (``site-packages``, or a folder holding ``*.dist-info`` folders); else none."""
    try:
        listing = os.listdir(entry)
    except OSError:  # not a folder (a zip file), gone
        return frozenset()
    if LIBRARY_DIRS.isdisjoint(entry.split(os.sep)) and not any(
        item.endswith(".dist-info") for item in listing
    ):
        return frozenset()
    names = set()
    for item in listing:
        if item.endswith(".py"):
            names.add(item[:-3])
        elif item.endswith(EXTENSIONS):
            names.add(item.partition(".")[0])
        elif "." not in item:
            names.add(item)
    return frozenset(names)


def read_text(path: str) -> str | None:
    """The text of file *path*, or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return None


_REAL: dict[str, str] = {}


def real_path(path: str) -> str:
    """``os.path.realpath``, once per path (the guard asks for every loaded module's folder
    whenever modules were loaded; a folder does not move)."""
    real = _REAL.get(path)
    if real is None:
        real = _REAL[path] = os.path.realpath(path)
    return real


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
