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
- a loaded module (in ``sys.modules``) is the project's when the file it was loaded from is
  under a root and the facts do not make it a library's or a test's (the table in
  docs/guard.md "Which modules are guarded"): not the standard library's folder, not where
  tests or tools are (``lambdascope._layout``, the rules ``lambdascope check`` reads a tree
  with); the handler's own top-level name and the distribution that holds it are the
  project's; a library is told by its ``*.dist-info``, a vendored name, what its folder holds,
  a copy among the installed libraries, or a library importing it (:mod:`._libraries`); a
  module named like a test is a test unless it holds no tests and production code uses it;
- ``modules=`` adds modules (a package covers its submodules), ``exclude=`` leaves them out.

The site is the module where ``handler(...)`` was called (for ``handler(Mangum(app))`` the
module that calls it, not Mangum's): where the target's code lives does not matter.
"""

from __future__ import annotations

import os
import sys

from lambdascope._layout import LIBRARY_DIRS, is_test_file, skipped_dir, test_location, test_name

from ._kinds import cell_values, innermost
from ._libraries import EXTENSIONS, Libraries, read_text, real_path, under

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

    __slots__ = (
        "_code",
        "_folders",
        "_libraries",
        "_own",
        "_seen",
        "_tops",
        "code_name",
        "exclude",
        "extra",
        "roots",
        "site",
    )

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
        self._libraries = Libraries()
        self._tops: dict[str, str] = {}  # what the files say of each top-level name (cached)
        self._folders: dict[tuple[str, str], bool] = {}  # (folder, root): where code is?
        self._seen = 0  # len(sys.modules) when the members were last found
        # A test module applying handler() is not a function's root: its folder holds tests
        # and their helpers; the handler's own code says where the project is.
        site_module = _module_of(site or "", sys.modules.get(site or ""))
        in_test = _test_file(_file_of(site_module)) if site_module is not None else False
        roots = [] if in_test else list(_roots(site))
        # The top-level names of the handler's own code: never a library's (the distribution
        # that holds them is the function's own, installed with its dist-info or not).
        own = {site.partition(".")[0]} if site and roots else set()
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
                found = self._user_roots(name, module)
                if found:
                    _add(roots, found)
                    own.add(name.partition(".")[0])
                    self._code = (name, module)
                elif target is not None:
                    # A library's object (``Mangum(app)``, a Flask adapter, a resolver's
                    # bound ``app.resolve``) wrapped in a test or a script: the project is
                    # where the object, or what it holds, is.
                    _add(roots, self._holder_roots(target, own))
            elif in_test and target is not None:
                # The handler's code is the test's own (``lambda e, c: process(e, c)``): the
                # project is where what it calls lives.
                _add(roots, self._called_roots(target, code, own))
        self.roots = tuple(roots)
        self._own = frozenset(own)

    def _user_roots(self, name: str, module: Any) -> list[str]:
        """The roots of module *name* (on Lambda: the task root and the layers') when it is
        the user's code under one of them, not a library's."""
        found = _roots(name, module)
        for root in found:
            verdict = None if _library_dir(root) else self._verdict(name, module, (root,), _NONE)
            if verdict is not None and verdict[1] != _LIBRARY:
                return list(found)
        return []

    def _holder_roots(self, target: Any, own: set[str]) -> list[str]:
        """The roots of the user's modules that hold *target*, or an object it holds (the
        object a bound method is bound to included)."""
        wanted = {id(target)}
        holders = [target]
        owner = getattr(target, "__self__", None)
        if owner is not None and type(owner) is not type(sys):
            wanted.add(id(owner))
            holders.append(owner)
        for holder in holders:
            own_dict = getattr(holder, "__dict__", None)
            if isinstance(own_dict, dict):  # what the adapter holds (the app), not constants
                wanted.update(
                    id(value)
                    for value in list(own_dict.values())[:50]
                    if not isinstance(value, _SHARED) and type(value) is not type(sys)
                )
        found: list[str] = []
        for name, loaded in list(sys.modules.items()):
            module = _module_of(name, loaded)
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict) or name.partition(".")[0] == "lambdascope":
                continue
            if not any(id(value) in wanted for value in list(namespace.values())):
                continue
            roots = self._user_roots(name, module)
            if roots:
                _add(found, roots)
                own.add(name.partition(".")[0])
        return found

    def _called_roots(self, target: Any, code: dict[str, Any], own: set[str]) -> list[str]:
        """The roots of the user's code that the handler's function names: the modules, and
        the modules of the functions and classes, its code reads from its globals and its
        closure; for any other object (an app whose bound method it calls), the modules that
        hold it."""
        func = innermost(target)
        names = getattr(getattr(func, "__code__", None), "co_names", ())
        values = [code.get(name) for name in names]
        for cell in getattr(func, "__closure__", None) or ():
            values.extend(cell_values(cell, ("",)).values())
        found: list[str] = []
        for value in values:
            if value is None or isinstance(value, _CONSTANTS):
                continue
            if type(value) is type(sys):
                module_name = value.__name__
            elif isinstance(value, (type, _FUNCTION)):
                module_name = value.__module__
            else:
                _add(found, self._holder_roots(value, own))
                continue
            module = sys.modules.get(module_name)
            if module is None or module_name == self.site:
                continue
            roots = self._user_roots(module_name, module)
            if roots:
                own.add(module_name.partition(".")[0])
                _add(found, roots)
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
        libraries: list[dict[str, Any]] = []  # library modules under the roots
        unsure: dict[str, list[str]] = {}  # top-level name -> its modules, no fact either way
        test_named: list[str] = []
        for name, loaded_module in loaded:
            skip = _excluded(name, self.exclude) or name == "__mp_main__"
            module = None if skip else _module_of(name, loaded_module)
            if module is None or getattr(module, "__name__", name) != name:
                continue  # a module registered under a second name (requests.packages.*)
            namespace = module.__dict__
            if id(namespace) in namespaces:
                continue
            verdict = self._verdict(name, module, self.roots, self._own)
            if verdict is None:
                continue
            reason, kind = verdict
            if kind == _LIBRARY:
                libraries.append(namespace)
                continue
            namespaces.add(id(namespace))
            if kind == _UNSURE:
                unsure.setdefault(name.partition(".")[0], []).append(name)
            elif kind == _TEST_NAMED:
                test_named.append(name)
            found[name] = GuardedModule(name, _file_of(module), reason, namespace)
        self._settle(found, unsure, libraries, test_named)
        return dict(sorted(found.items()))

    def _settle(
        self,
        found: dict[str, GuardedModule],
        unsure: dict[str, list[str]],
        libraries: list[dict[str, Any]],
        test_named: list[str],
    ) -> None:
        """Take out of *found* what the other modules show is a library's or a test."""
        for top in [top for top in unsure if self._tops.get(top) == _LIBRARY]:
            for name in unsure.pop(top):  # an extension module showed it a library's
                libraries.append(found.pop(name).namespace)
        if unsure and libraries:
            for name in self._imported_by_libraries(found, unsure, libraries):
                del found[name]
        if test_named:
            for name in self._tests(found, test_named):
                del found[name]

    def _imported_by_libraries(
        self,
        found: dict[str, GuardedModule],
        unsure: dict[str, list[str]],
        libraries: list[dict[str, Any]],
    ) -> list[str]:
        """The modules of the top-level names in *unsure* that a library imports: a
        library's dependency is a library (to a fixed point: its own imports are too)."""
        taken: list[str] = []
        sources = libraries
        while sources and unsure:
            tops: set[str] = set()
            for namespace in sources:
                tops.update(self._libraries.imported(namespace).intersection(unsure))
                if len(tops) == len(unsure):
                    break
            sources = []
            for top in tops:
                for name in unsure.pop(top):
                    taken.append(name)
                    sources.append(found[name].namespace)
        return taken

    def _tests(self, found: dict[str, GuardedModule], test_named: list[str]) -> list[str]:
        """Which of the modules *test_named* (named like tests: ``test_*.py``, ``*_test.py``)
        are tests: those that hold tests (a ``test*`` function, a ``Test*`` class, pytest or
        unittest imported), and those no production module of the project uses (imports, or
        takes a function or class from). ``ab_test.py`` imported by the handler is production
        code."""
        suspects = {name for name in test_named if not _holds_tests(found[name].namespace)}
        production = [name for name in found if name not in test_named]
        kept: set[str] = set()
        while production and suspects:
            used = set()
            for name in production:
                used.update(_uses(name, found[name].namespace))
            production = [name for name in suspects if name in used]
            kept.update(production)
            suspects.difference_update(production)
        return [name for name in test_named if name not in kept]

    def _verdict(
        self,
        name: str,
        module: ModuleType | _Namespace,
        roots: tuple[str, ...],
        own: frozenset[str],
    ) -> tuple[str, str] | None:
        """``(reason, kind)`` for a module that is guarded, or a library's under *roots*
        (kind :data:`_LIBRARY`), or is so unless the other modules say otherwise (kinds
        :data:`_UNSURE`, :data:`_TEST_NAMED`); None for any other module."""
        if name.partition(".")[0] == "lambdascope":
            return None  # its own state is not yours, whatever modules= says
        file = _file_of(module)
        path = _real(file) if file else ""
        named = self._named(name, module, path)
        if named is not None:
            return (named, _SETTLED)
        root = next((r for r in roots if path and under(path, r)), None)
        if root is None or _stdlib(path) or name == "__main__":
            return None
        if not self._where_code_is(path, root):
            return None
        return (f"in the project ({root})", self._kind(name, path, root, roots, own))

    def _where_code_is(self, path: str, root: str) -> bool:
        """:func:`_project_file`, the folders' part cached per folder."""
        folder = os.path.dirname(path)
        known = self._folders.get((folder, root))
        if known is None:
            known = self._folders[(folder, root)] = _project_file(
                os.path.join(folder, "__init__.py"), root
            )
        return known and not test_location(os.path.basename(path))

    def _named(self, name: str, module: ModuleType | _Namespace, path: str) -> str | None:
        """Why module *name* is guarded whatever its file: named in ``modules=``, the
        handler's code built with ``exec``, the module applying ``handler()``."""
        if _excluded(name, self.extra):
            return f"named in modules={self.extra!r}"
        if not path and self._code is not None and module is self._code[1]:
            return "the handler's own code (built with exec: no file, no project around it)"
        if name == self.site and path and (name == self.code_name or not _test_file(path)):
            # a test module only when the handler's code is there: a test that wraps the
            # function's handler keeps its own bookkeeping (fakes, recorders) in its globals
            return "the project's module where handler() is applied"
        return None

    def _kind(
        self, name: str, path: str, root: str, roots: tuple[str, ...], own: frozenset[str]
    ) -> str:
        """What the files say of module *name*, loaded from *path* under *root* (for the
        members: once per top-level name)."""
        if test_name(os.path.basename(path)):
            return _TEST_NAMED
        top = name.partition(".")[0]
        if top in own:
            return _SETTLED
        cache = own is not _NONE  # the members' own names, not __init__'s look at one module
        cached = self._tops.get(top) if cache else None
        if cached is None:
            entry = _import_entry(path, root)
            if top in self._libraries.own_names(entry, own):
                cached = _SETTLED  # the function's own distribution
            elif self._libraries.library(top, entry, _top_folder(name, path), roots) or (
                _versioned(top)
            ):
                cached = _LIBRARY
            else:
                cached = _UNSURE
            if cache:
                self._tops[top] = cached
        if cached == _UNSURE and path.endswith(EXTENSIONS):  # an extension module in it
            cached = self._tops[top] = _LIBRARY
        return cached


#: The kinds of :meth:`Project._verdict`: nothing left to decide; whether a library imports
#: the module's top-level name; whether it is a test module; a library's module under the roots
#: (its imports make their top-level names libraries).
_SETTLED = ""
_NONE: frozenset[str] = frozenset()
_UNSURE = "unsure"
_TEST_NAMED = "test-named"
_LIBRARY = "library"


def _project_file(path: str, root: str) -> bool:
    """Is the file *path* under *root* where the project's code is, by the rules ``lambdascope
    check`` reads a tree with (``lambdascope._layout``): not where tests are, not in a tool's
    or an environment's folder?"""
    relative = os.path.relpath(path, root).split(os.sep)
    if test_location("/".join(relative)):
        return False
    folder = root
    for part in relative[:-1]:
        if skipped_dir(folder, part, top=False):
            return False
        folder = os.path.join(folder, part)
    return True


def _add(found: list[str], roots: Iterable[str]) -> None:
    found.extend(root for root in roots if root not in found)


def _module_of(name: str, loaded: Any) -> ModuleType | _Namespace | None:
    """The module *loaded* (``sys.modules[name]``) stands for: itself, or, for an object of
    a class of its own that a module put in its place (the "module with properties" idiom:
    ``sys.modules[__name__] = _Settings()``), the module's globals, where its functions
    read and write. None when it is neither."""
    if loaded is None or type(loaded) in (type(sys), _Namespace):
        return loaded  # type: ignore[no-any-return]
    if isinstance(loaded, type(sys)) and _file_of(loaded):
        return loaded
    cls = type(loaded)
    if cls.__dict__.get("__module__") != name:
        return loaded if isinstance(loaded, type(sys)) else None
    for value in list(cls.__dict__.values()):
        function = getattr(value, "fget", None) or getattr(value, "__func__", None) or value
        namespace = getattr(function, "__globals__", None)
        if isinstance(namespace, dict) and namespace.get("__name__") == name:
            return _Namespace(namespace)
    return loaded if isinstance(loaded, type(sys)) else None


def _versioned(top: str) -> bool:
    """Does top-level module *top* say its version, as libraries do (``__version__``)?"""
    namespace = getattr(sys.modules.get(top), "__dict__", None)
    return isinstance(namespace, dict) and isinstance(namespace.get("__version__"), str)


def _holds_tests(namespace: dict[str, Any]) -> bool:
    """Does module *namespace* hold tests: a ``test*`` function or ``Test*`` class defined in
    it, or the pytest or unittest module?"""
    name = namespace.get("__name__")
    for key, value in list(namespace.items()):
        if type(value) is type(sys):
            if getattr(value, "__name__", "") in ("pytest", "unittest"):
                return True
        elif (
            key.startswith(("test", "Test"))
            and isinstance(value, (type, _FUNCTION))
            and value.__module__ == name
        ):
            return True
    return False


def _uses(name: str, namespace: dict[str, Any]) -> set[str]:
    """The modules module *name* uses: the modules its globals hold, and those the functions
    and classes it holds are defined in. A package's submodule bound in it by the import system
    (``app.test_orders`` sets ``app.test_orders``) is not a use."""
    used = set()
    for key, value in list(namespace.items()):
        if type(value) is type(sys):
            module_name = getattr(value, "__name__", None)
            if module_name == f"{name}.{key}":
                continue
        elif isinstance(value, (type, _FUNCTION)):
            module_name = value.__module__
        else:
            continue
        if isinstance(module_name, str):
            used.add(module_name)
    return used


def _file_of(module: ModuleType | _Namespace) -> str:
    """The file the import system loaded *module* from (``__file__``, else its spec's
    origin), or ``""``."""
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return ""
    file = namespace.get("__file__")
    if not isinstance(file, str):
        file = getattr(namespace.get("__spec__"), "origin", None)
        if not isinstance(file, str) or not os.path.isabs(file):
            return ""
    return file


_NOTHING = type(sys)("<no module>")


class _Namespace:
    """A module's globals seen as a module (one that is not in ``sys.modules``)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


def _roots(site: str | None, module: Any = None) -> tuple[str, ...]:
    """The folders the project's code is under (see the module's docstring)."""
    if module is None:
        module = _module_of(site or "", sys.modules.get(site or ""))
    file = _file_of(module) if module is not None else ""
    if not file or site is None:
        return ()
    path = _real(file)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and under(path, os.path.realpath(task_root)):
        roots = [os.path.realpath(task_root)]
        if os.path.isdir(LAYER_ROOT):
            roots.append(os.path.realpath(LAYER_ROOT))
        return tuple(roots)
    top = sys.modules.get(site.partition(".")[0])
    locations = list(getattr(top, "__path__", None) or ())
    # a package: the folder that holds it; a module: its folder
    root = os.path.dirname(os.path.realpath(locations[0]) if locations else path)
    roots = [root]
    _add(roots, _descriptor_roots(path))
    _add(roots, _layer_roots(root))
    return tuple(roots)


#: Deployment descriptors that name a function's code folder: SAM templates (``CodeUri``).
_TEMPLATES = ("template.yaml", "template.yml")
_CODE_URI = "CodeUri:"


def _descriptor_roots(path: str) -> list[str]:
    """Off Lambda: the code folders that the deployment descriptor above *path* names and
    that hold it, as they are deployed — a SAM template's ``CodeUri`` (``src/`` holding
    ``src/orders/app.py`` and ``src/shared/``, however a test put them on ``sys.path``), a
    Serverless Framework service's folder (the one holding ``serverless.yml``)."""
    folder = os.path.dirname(path)
    for _ in range(8):
        if os.path.exists(os.path.join(folder, "serverless.yml")):
            return [folder]
        for name in _TEMPLATES:
            text = read_text(os.path.join(folder, name))
            if text is not None:
                return _code_uris(text, folder, path)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return []


def _code_uris(template: str, folder: str, path: str) -> list[str]:
    """The local ``CodeUri`` folders of a SAM *template* in *folder* that hold *path*."""
    found = []
    for line in template.splitlines():
        key, _, value = line.strip().partition(" ")
        value = value.split(" #")[0].strip().strip("'\"")
        if key != _CODE_URI or not value or "://" in value or value.startswith(("!", "$")):
            continue
        code = real_path(os.path.join(folder, value))
        if under(path, code) and os.path.isdir(code):
            found.append(code)
    return found


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
        real = real_path(entry)
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


def _real(path: str) -> str:
    """The real path of the file *path*: its folder's, resolved once per folder (a module
    file's own name is the one the import system loaded)."""
    folder, name = os.path.split(path)
    return os.path.join(real_path(folder), name)


def _import_entry(path: str, root: str) -> str:
    """The ``sys.path`` entry under *root* that *path* was most likely imported from (the
    longest one containing it), or *root*."""
    best = root
    for entry in sys.path:
        if not entry:
            continue
        real = real_path(entry)
        if under(path, real) and under(real, root) and len(real) > len(best):
            best = real
    return best


_STDLIB_DIR = os.path.dirname(os.path.realpath(os.__file__))


def _stdlib(path: str) -> bool:
    """Was *path* loaded from the standard library's folder? (By the file, not the name: a
    ``calendar.py`` of the project's in the task root shadows the standard library's.)"""
    return under(path, _STDLIB_DIR) and not LIBRARY_DIRS.intersection(path.split(os.sep))


_CONSTANTS = (type(None), bool, int, float, complex, str, bytes, tuple, frozenset)
_SHARED = (*_CONSTANTS, type)
_FUNCTION = type(_add)


def _library_dir(path: str) -> bool:
    return not LIBRARY_DIRS.isdisjoint(path.split(os.sep)) or under(path, _STDLIB_DIR)


def _test_file(path: str) -> bool:
    return is_test_file(os.path.basename(path))


def _top_folder(name: str, path: str) -> str:
    """The folder of the top-level package module *name* (loaded from *path*) is in, or
    ``""`` for a top-level module."""
    up = name.count(".") + os.path.basename(path).startswith("__init__.")
    folder = path
    for _ in range(up):
        folder = os.path.dirname(folder)
    return folder if up else ""


def _excluded(name: str, exclude: tuple[str, ...]) -> bool:
    return any(name == item or name.startswith(item + ".") for item in exclude)
