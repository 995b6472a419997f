"""Modules imported during an invocation: their top-level code is Init work.

A module imported lazily, inside the handler (``import app.extra``), runs its top-level code
then: a route decorator fills the project's ``ROUTES`` dict, a plugin registers itself. That
is the work Init would have done had the import been at the top; it is never a leak, and
undoing it would break every later request (the module stays in ``sys.modules`` and is never
imported again). The guard accepts it the way it accepts an ``@init_resource`` factory that
runs during an invocation: what is dirty when the module starts executing stays under watch,
and what its execution wrote becomes the baseline.

How: a finder first on ``sys.meta_path`` (installed once, with the guard's first census)
that does nothing outside an invocation. During one, it finds the module's spec with the
finders after it, exactly as the import system would, and gives that spec's loader a
one-shot ``exec_module`` of its own instance: the loader stays the same object of the same
class (``isinstance`` checks, ``importlib.resources`` and ``__loader__`` see no proxy), and
the attribute is gone once the module ran.
"""

from __future__ import annotations

import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType
    from typing import Any

__all__ = ["initializing", "watch_imports"]


class _ImportWatch:
    """The finder: during an invocation, hook the loader of the module about to run."""

    def __init__(
        self,
        active: Callable[[], object],
        started: Callable[[], object],
        finished: Callable[[object], None],
    ) -> None:
        self._active = active
        self._started = started
        self._finished = finished
        self._local = threading.local()  # finding a spec ourselves must not find us again

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> Any:
        if not self._active() or getattr(self._local, "busy", False):
            return None
        self._local.busy = True
        try:
            spec = self._find(fullname, path, target)
        finally:
            self._local.busy = False
        if spec is not None:
            self._hook(spec)
        return spec

    def _find(self, fullname: str, path: Any, target: Any) -> Any:
        """The spec the finders after this one give, or None (then the import system
        asks them itself, as if this finder were not there)."""
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:  # a legacy finder: keep the import system's own order
                return None
            spec = find(fullname, path, target)
            if spec is not None:
                return spec
        return None

    def _hook(self, spec: Any) -> None:
        loader = spec.loader
        namespace = getattr(loader, "__dict__", None)
        if (
            loader is None
            or isinstance(loader, type)  # a class used as a loader (built-in, frozen)
            or not isinstance(namespace, dict)
            or "exec_module" in namespace  # hooked already (a loader shared by modules)
            or not callable(getattr(loader, "exec_module", None))
        ):
            return
        run = loader.exec_module
        started, finished = self._started, self._finished

        def exec_module(module: ModuleType) -> None:
            namespace.pop("exec_module", None)  # one shot: the loader is as it was
            token = started()
            try:
                run(module)
            finally:
                _finishing.append(module)  # done, though importlib still marks it initializing
                try:
                    finished(token)
                finally:
                    _finishing.pop()

        namespace["exec_module"] = exec_module


_installed: list[_ImportWatch] = []

#: The modules whose top-level code has just run, while *finished* is told (innermost last).
_finishing: list[ModuleType] = []


def initializing(namespace: dict[str, Any]) -> bool:
    """While a module imported during an invocation joins: is the module of *namespace* one
    still running its top-level code (it imported the one that just ran, and is not done)?"""
    if not _finishing:
        return False
    spec = namespace.get("__spec__")
    if not getattr(spec, "_initializing", False):
        return False
    return not any(module.__dict__ is namespace for module in _finishing)


def watch_imports(
    active: Callable[[], object],
    started: Callable[[], object],
    finished: Callable[[object], None],
) -> None:
    """Have *started* and *finished* called around the top-level code of every module
    imported while *active()* is true. Called before every invocation: the finder must be
    the first on ``sys.meta_path`` (one comparison when it is), also when a finder installed
    later put itself ahead (it is still asked, in its place, by this one)."""
    meta_path = sys.meta_path
    if _installed and meta_path and meta_path[0] is _installed[0]:
        return
    watch = _installed[0] if _installed else _ImportWatch(active, started, finished)
    _installed[:] = [watch]
    if watch in meta_path:
        meta_path.remove(watch)
    meta_path.insert(0, watch)
