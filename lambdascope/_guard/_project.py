"""The project a handler belongs to: which modules the guard watches, and why.

A Lambda function is a project, not a file: the handler's module, the routes and services it
imports, a shared ``utils`` package, code in a layer. The guard watches all of it — the
*function's own code* — and none of what it merely uses:

- the **roots**: on Lambda (``LAMBDA_TASK_ROOT`` set and the handler's module under it) the
  task root and ``/opt/python`` (layers); anywhere else the folder holding the handler's
  top-level package (for ``app/handlers/orders.py`` of package ``app``, the folder with
  ``app/`` in it), or the folder of a top-level module (``lambda_function.py``), and the
  layers' ``python`` folders on ``sys.path`` of the same serverless project (a folder above
  both holds its ``template.yaml``, ``cdk.json``, ...);
- a loaded module (in ``sys.modules``) is the project's when its file is under a root and it
  is none of: the standard library, lambdascope, a test module, a module in a tool's or an
  environment's folder or a library vendored without its dist-info (the rules
  ``lambdascope check`` reads a tree with: ``lambdascope._layout``), or a module of an installed
  distribution — one whose top-level name a ``*.dist-info`` folder claims in the import path
  entry it was loaded from (``pip install -t .`` leaves one beside every library it puts in
  the task root; its ``top_level.txt``, else the files its ``RECORD`` lists);
- ``modules=`` adds modules (a package covers its submodules), ``exclude=`` leaves them out.

The site is the module where ``handler(...)`` was called (for ``handler(Mangum(app))`` the
module that calls it, not Mangum's): where the target's code lives does not matter.
"""

from __future__ import annotations

import os
import sys

from lambdascope._layout import LIBRARY_DIRS, is_test_file, skipped_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import ModuleType
    from typing import Any

__all__ = ["GuardedModule", "Project", "caller_module"]

#: Where layers put Python code on Lambda.
LAYER_ROOT = "/opt/python"


class GuardedModule:
    """A module the guard watches: its dotted ``name``, its ``file`` and the ``reason``
    it is guarded (see :func:`lambdascope.guarded_modules`)."""

    __slots__ = ("file", "name", "namespace", "reason")
    __module__ = "lambdascope"

    def __init__(self, name: str, file: str, reason: str, namespace: Any = None) -> None:
        self.name = name
        self.file = file
        self.reason = reason
        self.namespace: dict[str, Any] = namespace  # its globals, for the guard

    def __repr__(self) -> str:
        return f"GuardedModule({self.name!r}, file={self.file!r}, reason={self.reason!r})"


def caller_module(depth: int) -> str | None:
    """The module of the code *depth* frames above the caller, or None when that code is
    lambdascope's own (a tool wrapping a handler for the user: it names the site itself)."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:  # pragma: no cover - there is always a caller
        return None
    name = frame.f_globals.get("__name__")
    if not isinstance(name, str) or name == "lambdascope" or name.startswith("lambdascope."):
        return None
    return name


class Project:
    """The modules of one function's project, found afresh whenever modules were loaded."""

    __slots__ = ("_code", "_installed", "_seen", "code_name", "exclude", "extra", "roots", "site")

    def __init__(
        self,
        site: str | None,
        code: dict[str, Any] | None = None,
        extra: Iterable[str] = (),
        exclude: Iterable[str] = (),
        target: Any = None,
    ) -> None:
        self.site = site
        self.extra = tuple(extra)
        self.exclude = tuple(exclude)
        self._installed: dict[str, frozenset[str]] = {}
        self._seen = 0  # len(sys.modules) when the members were last found
        # A test module applying handler() is not a function's root: its folder holds tests
        # and their helpers; the handler's own code says where the project is.
        roots = (
            []
            if _test_file(_file_of(sys.modules.get(site or "") or _NOTHING))
            else list(_roots(site))
        )
        # The module the handler's code lives in (its globals) adds its project too, when it
        # is the user's code (a handler imported from elsewhere and wrapped here, maybe never
        # put in sys.modules), not a library's.
        self._code: tuple[str, Any] | None = None
        name = code.get("__name__") if code else None
        #: the module the handler's code lives in (the runtime calls it: an entry point)
        self.code_name = name if isinstance(name, str) else ""
        if isinstance(name, str) and code is not None:
            module = _Namespace(code)
            if not _file_of(module):  # built with exec: the user's code, whose else?
                self._code = (name, module)
            elif name != site:
                found = _roots(name, module)  # on Lambda: the task root and the layers'
                if any(self._reason(name, module, (root,)) for root in found):
                    roots.extend(root for root in found if root not in roots)
                    self._code = (name, module)
                if self._code is None and target is not None:
                    # A library's object (``Mangum(app)``, a Flask adapter) wrapped in a test
                    # or a script: the project is where the object, or what it holds, is.
                    for root in self._holder_roots(target):
                        if root not in roots:
                            roots.append(root)
        self.roots = tuple(roots)

    def _holder_roots(self, target: Any) -> list[str]:
        """The roots of the user's modules that hold *target*, or an object it holds."""
        wanted = {id(target)}
        own = getattr(target, "__dict__", None)
        if isinstance(own, dict):  # what the adapter holds (the app), not shared constants
            wanted.update(
                id(value)
                for value in list(own.values())[:50]
                if not isinstance(value, _SHARED) and type(value) is not type(sys)
            )
        found: list[str] = []
        for name, module in list(sys.modules.items()):
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict) or name.partition(".")[0] == "lambdascope":
                continue
            if not any(id(value) in wanted for value in list(namespace.values())):
                continue
            for root in _roots(name, module):
                if (
                    root not in found
                    and not _library_dir(root)
                    and self._reason(name, module, (root,))
                ):
                    found.append(root)
        return found

    def changed(self) -> bool:
        """Were modules loaded (or unloaded) since :meth:`members` last looked?"""
        return len(sys.modules) != self._seen

    def members(self) -> dict[str, GuardedModule]:
        """Every guarded module now loaded, by name, with why it is guarded."""
        self._seen = len(sys.modules)
        found: dict[str, GuardedModule] = {}
        namespaces: set[int] = set()  # one module under two names (__main__, __mp_main__)
        loaded = list(sys.modules.items())
        if self._code is not None:
            loaded.insert(0, self._code)
        for name, module in loaded:
            if module is None or _excluded(name, self.exclude) or name == "__mp_main__":
                continue
            if getattr(module, "__name__", name) != name:
                continue  # a module registered under a second name (requests.packages.*)
            namespace = getattr(module, "__dict__", None)
            if id(namespace) in namespaces:
                continue
            reason = self._reason(name, module, self.roots)
            if reason is not None:
                namespaces.add(id(namespace))
                found[name] = GuardedModule(name, _file_of(module), reason, namespace)
        return dict(sorted(found.items()))

    def _reason(
        self, name: str, module: ModuleType | _Namespace, roots: tuple[str, ...]
    ) -> str | None:
        top = name.partition(".")[0]
        if top == "lambdascope":
            return None  # its own state is not yours, whatever modules= says
        if _excluded(name, self.extra):
            return f"named in modules={self.extra!r}"
        file = _file_of(module)
        path = _real(file) if file else ""
        if not path and self._code is not None and module is self._code[1]:
            return "the handler's own code (built with exec: no file, no project around it)"
        if name == self.site and path and (name == self.code_name or not _test_file(path)):
            # a test module only when the handler's code is there: a test that wraps the
            # function's handler keeps its own bookkeeping (fakes, recorders) in its globals
            return "the project's module where handler() is applied"
        root = next((r for r in roots if path and _under(path, r)), None)
        if (
            root is None
            or _stdlib(top, path)
            or top in self._installed_in(_import_entry(path, root))  # cached per entry
            or not _project_code(path, root)  # a file system look per folder: last
        ):
            return None
        return f"in the project ({root})"

    def _installed_in(self, entry: str) -> frozenset[str]:
        """Top-level names the ``*.dist-info`` folders in *entry* claim (cached)."""
        names = self._installed.get(entry)
        if names is None:
            names = self._installed[entry] = installed_names(entry)
        return names


def installed_names(entry: str) -> frozenset[str]:
    """The top-level module and package names of the distributions installed in *entry*:
    each ``*.dist-info`` folder's ``top_level.txt``, else the first part of the paths its
    ``RECORD`` lists. (Read directly: importing ``importlib.metadata`` costs 20-40 ms on a
    cold start, for the same two files.)"""
    try:
        listing = os.listdir(entry)
    except OSError:
        return frozenset()
    names: set[str] = set()
    for item in listing:
        if not item.endswith(".dist-info"):
            continue
        folder = os.path.join(entry, item)
        top_level = _read(os.path.join(folder, "top_level.txt"))
        if top_level is not None:
            names.update(line.strip() for line in top_level.splitlines() if line.strip())
            continue
        record = _read(os.path.join(folder, "RECORD")) or ""
        for line in record.splitlines():
            first = line.partition(",")[0].replace("\\", "/").partition("/")[0]
            if first and not first.endswith((".dist-info", ".data")) and first not in ("..", "."):
                names.add(first[:-3] if first.endswith(".py") else first)
    names.discard("__pycache__")
    return frozenset(names)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return None


def _file_of(module: ModuleType | _Namespace) -> str:
    file = getattr(module, "__file__", None)
    return file if isinstance(file, str) else ""


_NOTHING = type(sys)("<no module>")


class _Namespace:
    """A module's globals seen as a module (one that is not in ``sys.modules``)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


def _roots(site: str | None, module: Any = None) -> tuple[str, ...]:
    """The folders the project's code is under (see the module's docstring)."""
    if module is None:
        module = sys.modules.get(site or "")
    file = _file_of(module) if module is not None else ""
    if not file or site is None:
        return ()
    path = _real(file)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and _under(path, os.path.realpath(task_root)):
        roots = [os.path.realpath(task_root)]
        if os.path.isdir(LAYER_ROOT):
            roots.append(os.path.realpath(LAYER_ROOT))
        return tuple(roots)
    top = sys.modules.get(site.partition(".")[0])
    locations = list(getattr(top, "__path__", None) or ())
    # a package: the folder that holds it; a module: its folder
    root = os.path.dirname(os.path.realpath(locations[0]) if locations else path)
    return (root, *_layer_roots(root))


#: Files that mark the top of a serverless project (a SAM, CDK or Serverless Framework app).
_PROJECT_MARKERS = (
    "template.yaml",
    "template.yml",
    "samconfig.toml",
    "cdk.json",
    "serverless.yml",
    "pyproject.toml",
)


def _layer_roots(root: str) -> list[str]:
    """Off Lambda: the layers' ``python`` folders on ``sys.path`` that belong to the same
    serverless project as *root* (their common folder holds a ``template.yaml``, a
    ``cdk.json``, ...), as ``sam build`` and a local test put them, and ``/opt/python`` is on
    Lambda."""
    found: list[str] = []
    for entry in sys.path:
        if not entry or os.path.basename(entry.rstrip(os.sep)) != "python":
            continue
        real = _real(entry)
        if real == root or real in found or _library_dir(real) or not os.path.isdir(real):
            continue
        try:
            common = os.path.commonpath([root, real])
        except ValueError:  # different drives
            continue
        if common != os.path.dirname(common) and any(  # not the file system's root
            os.path.exists(os.path.join(common, marker)) for marker in _PROJECT_MARKERS
        ):
            found.append(real)
    return found


_REAL: dict[str, str] = {}


def _real(path: str) -> str:
    """``os.path.realpath``, once per path (the guard asks for every loaded module's file
    whenever modules were loaded; a module's file does not move)."""
    real = _REAL.get(path)
    if real is None:
        real = _REAL[path] = os.path.realpath(path)
    return real


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _import_entry(path: str, root: str) -> str:
    """The ``sys.path`` entry under *root* that *path* was most likely imported from (the
    longest one containing it), or *root*."""
    best = root
    for entry in sys.path:
        if not entry:
            continue
        real = _real(entry)
        if _under(path, real) and _under(real, root) and len(real) > len(best):
            best = real
    return best


_STDLIB_DIR = os.path.dirname(os.path.realpath(os.__file__))
_STDLIB_NAMES: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())


def _stdlib(top: str, path: str) -> bool:
    if top in _STDLIB_NAMES:
        return True
    return _under(path, _STDLIB_DIR) and "site-packages" not in path.split(os.sep)


_SHARED = (type(None), bool, int, float, complex, str, bytes, tuple, frozenset, type)


def _library_dir(path: str) -> bool:
    return not LIBRARY_DIRS.isdisjoint(path.split(os.sep)) or _under(path, _STDLIB_DIR)


def _test_file(path: str) -> bool:
    return is_test_file(os.path.basename(path))


def _project_code(path: str, root: str) -> bool:
    """Is the file *path* under *root* the project's code by the rules ``lambdascope check``
    reads a tree with (``lambdascope._layout``): not a test module, not in a tool's,
    an environment's or a vendored library's folder?"""
    relative = os.path.relpath(path, root)
    parts = relative.split(os.sep)
    if is_test_file("/".join(parts)):
        return False
    folder = root
    for part in parts[:-1]:
        if skipped_dir(folder, part):
            return False
        folder = os.path.join(folder, part)
    return True


def _excluded(name: str, exclude: tuple[str, ...]) -> bool:
    return any(name == item or name.startswith(item + ".") for item in exclude)
