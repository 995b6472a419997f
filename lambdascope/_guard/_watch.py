"""The guard around each invocation: :class:`Guard` (census on the first invocation, a fast
check before and after every one, the report and the restore), its options, and the hooks
through which ``@init_resource`` factories run during an invocation are accepted as Init work.
"""

from __future__ import annotations

import sys

from lambdascope import _resources
from lambdascope._errors import ScopeLeakError, ScopeLeakWarning
from lambdascope._state import state
from lambdascope._util import warn_at

from . import _ahead
from ._census import (
    Space,
    bound_functions,
    exported_modules,
    lazy_init,
    link_project,
    module_analysis,
    walk,
)
from ._imports import initializing, watch_imports
from ._kinds import (
    MISSING,
    cell_values,
    function_globals,
    holds_resource,
    innermost,
    is_imported_module,
    know_arrays,
)
from ._leaklog import module_leaks
from ._messages import leak_message, name_leak, node_leak, use_sites
from ._nodes import Node, Origin, identical, never
from ._project import GuardedModule, Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


MODES = ("raise", "warn", "off")


ENV = "LAMBDASCOPE_GUARD"


def resolve_mode(guard: object, default: str = "raise") -> str:
    """Validate ``guard=`` (``None`` reads ``LAMBDASCOPE_GUARD``, else *default*)."""
    if guard is None:
        from lambdascope._config import choice

        return choice(ENV, MODES, default, "a guard mode")
    if guard not in MODES:
        raise ValueError(
            f"@handler(guard={guard!r}) is not a guard mode. Use guard='raise' (the default: "
            "fail the invocation), guard='warn' (report once per variable) or guard='off'."
        )
    return str(guard)


def option_names(option: str, value: object, example: str) -> tuple[str, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(
            f"@handler({option}=...) takes a tuple of names, got {value!r}. Write {example}."
        )
    names: list[str] = []
    for item in value:  # type: ignore[attr-defined,unused-ignore]
        name = getattr(item, "__name__", None) if option in ("modules", "exclude") else None
        if name is None:
            name = item
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"@handler({option}=...) takes names (strings), got {item!r}. Write {example}."
            )
        names.append(name)
    return tuple(names)


#: The guards of the invocations running now (innermost last): the factory observer's target.
_active: list[Guard] = []


class Guard:
    """The module-state check ``@handler`` runs around each invocation.

    :meth:`enter` makes sure the snapshot is current (refreshing it silently when
    something changed between invocations); :meth:`exit` compares again and reports
    what the invocation wrote.
    """

    __slots__ = (
        "_allow",
        "_bindings",
        "_census_ms",
        "_checks",
        "_func",
        "_incomplete",
        "_nodes",
        "_project",
        "_spaces",
        "_warned",
        "internal_errors",
        "mode",
        "mode_set_by",
    )

    def __init__(
        self,
        func: Any,
        mode: str,
        allow: object = (),
        modules: object = (),
        *,
        exclude: object = (),
        site: str | None = None,
    ) -> None:
        self.mode = mode
        self.mode_set_by = ""  # why this mode, in words (the cold-start report says it)
        self._func = innermost(func)
        self._allow = frozenset(option_names("allow", allow, "allow=('cache',)"))
        extra = option_names("modules", modules, "modules=('mypackage',)")
        left_out = option_names("exclude", exclude, "exclude=('app.vendored',)")
        code = function_globals(self._func) if func is not None else None
        if site is None and code:  # a tool wrapped it for the user: where its code lives
            site = code.get("__name__")
        self._project = Project(
            site if isinstance(site, str) else None, code, extra, left_out, target=func
        )
        self._spaces: list[Space] | None = None
        self._census_ms = 0.0  # every census of this guard (modules joining add theirs)
        self._nodes: list[Node] = []
        # Every binding of each module watched whole: the namespace's values in order,
        # compared (identity first, in C) with a saved list. A rebinding, a new or a deleted
        # name changes it. Other modules: the names code may rebind, checked by identity.
        self._bindings: list[tuple[Any, list[Any]]] = []
        self._checks: list[tuple[Callable[[Any, Any], Any], Any, Any]] = []
        self._warned: set[tuple[str, str]] = set()
        self._incomplete = False  # a module was left out while it ran its top-level code
        #: errors inside the guard so far (logged; each restarts it: see :meth:`_failed`)
        self.internal_errors = 0

    def guarded_modules(self) -> list[GuardedModule]:
        """The modules this guard watches now, with why (see :mod:`._project`)."""
        self._import_extra()
        return list(self._project.members().values())

    # -- snapshot -----------------------------------------------------------------------
    def _import_extra(self) -> None:
        for wanted in self._project.extra:
            if wanted not in sys.modules:
                import importlib

                try:
                    importlib.import_module(wanted)
                except ImportError as exc:
                    raise ValueError(
                        f"@handler(modules=({wanted!r},)): module {wanted!r} cannot be imported "
                        f"({exc}). Give the dotted name of a module or package of your code."
                    ) from exc

    def _guarded(self) -> list[tuple[str, dict[str, Any]]]:
        """The guarded modules loaded now, but those still running their top-level code (a
        module imported during an invocation, importing another): they join once done."""
        self._import_extra()
        found = []
        self._incomplete = False
        known = {id(space.namespace) for space in self._spaces or ()}
        for name, member in self._project.members().items():
            if id(member.namespace) not in known and initializing(member.namespace):
                self._incomplete = True
                continue
            found.append((name, member.namespace))
        return found

    def _census(self) -> None:
        """First invocation: analyse the guarded modules, then take the snapshot (noted
        for the cold-start report)."""
        import time

        started = time.perf_counter()
        self._spaces = self._analysed()
        self._snapshot()
        self._noted(started)

    def _analysed(self) -> list[Space]:
        """Each guarded module analysed (ahead of time or now), the analyses linked."""
        guarded = self._guarded()
        project = self._project
        entries = {project.site or "", project.code_name}
        exported = exported_modules(guarded, entries)
        roots = project.roots
        spaces = [
            Space(
                name,
                namespace,
                self._allow,
                module_analysis(name, namespace, name in exported, roots),
            )
            for name, namespace in guarded
        ]
        link_project(spaces)
        return spaces

    def _noted(self, started: float) -> None:
        """What the census cost, and what it watches, for the cold-start report."""
        import time

        self._census_ms += (time.perf_counter() - started) * 1000
        assert self._spaces is not None
        label = self._label()
        state.guards[label] = {
            "handler": label,
            "mode": self.mode,
            "mode_set_by": self.mode_set_by,
            "modules": [space.name for space in self._spaces],
            "watched_whole": [space.name for space in self._spaces if space.whole],
            "analysed_ahead": [space.name for space in self._spaces if space.analysis.ahead],
            "analysed_live": {
                space.name: _ahead.why_live(space.name)
                for space in self._spaces
                if not space.analysis.ahead
            },
            "census_ms": round(self._census_ms, 3),
            "internal_errors": self.internal_errors,
        }

    def analyse_ahead(
        self, path: str | None = None, *, check: bool = False
    ) -> tuple[str, dict[str, str], list[str]]:
        """Run the census as the first invocation would, keep the analysis of each module,
        and write it (``lambdascope analyse``) to *path* or to the project's first root.
        Returns ``(path, modules written, modules left to the first invocation)``; with
        *check*, write nothing and return the modules whose entry in the file is missing or
        out of date, each with why, instead of those written."""
        _ahead.start_recording()
        try:
            self._census()
            # The handler's own module and the one applying handler() are analysed as not
            # used by other modules; where a script or a test holds them, they are: keep both.
            for space in self._spaces or ():
                if not _ahead.recorded(space.name, exported=True):
                    module_analysis(space.name, space.namespace, True)
        finally:
            entries = _ahead.finish_recording()
        if path is None:
            path = _ahead.default_path(self._project.roots)
        left = [space.name for space in self._spaces or () if space.name not in entries]
        if check:
            return path, _ahead.stale(path, entries), left
        _ahead.write(path, entries)
        return path, dict.fromkeys(sorted(entries), "written"), left

    def _joined(self) -> bool:
        """Did modules of the project join since the census (imported lazily)? Then they
        are analysed and watched from now on; what they did while they were imported is
        Init work (their top-level code), not a leak."""
        if self._spaces is None or not (self._incomplete or self._project.changed()):
            return False
        known = [space.namespace for space in self._spaces]
        now = self._guarded()
        if len(now) == len(known) and all(ns is old for (_, ns), old in zip(now, known)):
            return False
        self._census()
        return True

    def _snapshot(self) -> None:
        assert self._spaces is not None
        know_arrays()
        names = frozenset(space.name for space in self._spaces)
        seen = {id(value) for value in _resources.cached_values()}  # theirs, not yours
        nodes: list[Node] = []
        met: set[str] = set()  # guarded modules held as data (class Deps: store = store)
        watched: list[tuple[bool, Space, str, Any, bool]] = []
        functions = bound_functions(self._spaces)  # and those the scans find, below
        for space in self._spaces:
            space.project = names
            space.take()
            seen.update(map(id, space.allowed()))  # allowed in one module, allowed in all
            imported = space.analysis.imported
            watched.extend(
                (key in imported, space, key, value, deep)
                for key, value, deep in space.to_watch(names, functions)
            )
        # Defaults and closure cells first, named as the module's analysis names them
        # (``note.seen``, what allow= takes), then the module-level values. A value bound in
        # several modules is named as the module's that defines it, not as those that import
        # it (walked first: the others then find it seen).
        for space in self._spaces:  # a function's defaults and cells: its own module's
            for origin, value in space.defaults(names, functions):
                walk(value, origin, True, names, seen, nodes, met)
            for origin, cell, variable, deep in space.cells(names, functions):
                seen.add(id(cell))
                nodes.append(Node(cell, "cell", None, origin, None, (), variable))
                for contents in cell_values(cell, (variable,)).values():
                    walk(contents, origin, deep, names, seen, nodes, met)
        watched.sort(key=lambda item: item[0])
        for _imported, space, key, value, deep in watched:
            space.watching.add(key)
            walk(value, Origin(space, key, key), deep, names, seen, nodes, met)
        held = [space for space in self._spaces if space.name in met and not space.whole]
        if held:  # anything may be written through them: watched whole, the walk again
            for space in held:
                space.whole = True
            self._snapshot()
            return
        self._nodes = nodes
        self._checks = self._plan()

    def _plan(self) -> list[tuple[Callable[[Any, Any], Any], Any, Any]]:
        """The fast check: one comparison per watched object, one identity pass for names."""
        assert self._spaces is not None
        self._bindings = [b for b in map(Space.bindings, self._spaces) if b is not None]
        checks: list[tuple[Callable[[Any, Any], Any], Any, Any]] = []
        where: list[tuple[Any, Any, Any]] = []
        for space in self._spaces:
            where.extend(space.identities())
        checks.extend(node.check() for node in self._nodes)
        if where:
            containers, keys, values = zip(*where)
            checks.append((identical, (containers, keys), values))
        return checks

    def _unchanged(self) -> bool:
        """The fast path of every check: a few C-level comparisons, no Python per item."""
        try:
            for values, saved in self._bindings:
                if list(values) != saved:
                    return False
            for compare, live, saved in self._checks:
                if compare(live, saved) is not True:
                    return False
        except Exception:  # an __eq__ of a new item raised: look closer
            return False
        return True

    # -- the invocation -------------------------------------------------------------------
    def enter(self) -> None:
        """Before the handler runs: make sure the snapshot is current."""
        if self._spaces is None:
            self._import_extra()  # a module of modules= it cannot import: the user's error
        try:
            watch_imports(_active.__len__, factory_started, factory_finished)
            if self._spaces is None:
                self._census()
            elif not self._joined() and not self._unchanged():
                self._snapshot()  # written outside an invocation (Init, tests): legitimate
        except Exception as exc:
            self._failed(exc)
        _active.append(self)

    def exit(self) -> None:
        """After the handler ran: report (and in raise mode undo) what it wrote; modules
        of the project it imported join the watch."""
        if _active and _active[-1] is self:
            _active.pop()
        try:
            self._report()
        except ScopeLeakError:
            raise
        except Exception as exc:
            self._failed(exc)
        finally:
            try:
                self._joined()
            except Exception as exc:
                self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """An error inside the guard (a bug of lambdascope's, or an object of a kind it
        does not handle): never the function's outage, never a guard silently disarmed.
        The invocation goes on unchecked, the error is logged (its type and where it was
        raised, never its message: it may hold request data) and counted in the
        cold-start report, and the next invocation starts the guard again from a new
        census. A warning of lambdascope's that ``-W error`` made an exception is raised
        (the user asked for that), the guard restarted all the same."""
        import logging

        self._spaces = None
        self._nodes, self._checks, self._bindings = [], [], []
        if isinstance(exc, Warning):  # one of ours, made an error by -W error: the user's call
            raise exc
        self.internal_errors += 1
        label = self._label()
        state.guards.setdefault(label, {"handler": label})["internal_errors"] = self.internal_errors
        where = ""
        trace = exc.__traceback__
        while trace is not None:  # the innermost frame: where it was raised
            where = f" at {trace.tb_frame.f_code.co_filename}:{trace.tb_lineno}"
            trace = trace.tb_next
        logging.getLogger("lambdascope").error(
            "lambdascope guard: internal error (%s%s) while checking handler %s; this "
            "invocation was not checked, the guard starts again on the next one. Please "
            "report it.",
            type(exc).__name__,
            where,
            label,
        )

    def _label(self) -> str:
        """``module.qualname`` of the handler; of an adapter object (``Mangum(app)``), its
        class's (``mangum.adapter.Mangum``)."""
        func = self._func
        name = getattr(func, "__qualname__", None)
        if not isinstance(name, str):  # an instance: name it by its class
            name = type(func).__qualname__
        module = getattr(func, "__module__", None)
        return f"{module if isinstance(module, str) else '?'}.{name}"

    def _report(self) -> None:
        if self._unchanged():
            return
        names, nodes = self._leaks()
        if not names and not nodes:  # init-scope work done lazily, or dunders: accept it
            self._snapshot()
            return
        spaces = self._spaces or []
        leaks = [name_leak(spaces, space, key, before, now) for space, key, before, now in names]
        leaks.extend(node_leak(spaces, node) for node in nodes)
        if self.mode == "raise":
            unrestored = [f"`{node.path}` ({why})" for node, why in self._restore(nodes, names)]
            if not self._unchanged():  # accepted changes stand: they become the baseline
                self._snapshot()
            raise ScopeLeakError(self._message(leaks, restored=True, unrestored=unrestored))
        func = self._func
        module_leaks(func, leaks, lambda m, a, w: use_sites(spaces, func, m, a, "name `" in w))
        fresh = [leak for leak in leaks if (leak[0], leak[3]) not in self._warned]
        self._warned.update((module, allow_as) for module, _, _, allow_as in leaks)
        self._snapshot()
        if fresh:  # at the handler's definition, not in lambdascope
            warn_at(func, ScopeLeakWarning(self._message(fresh, restored=False)))

    @staticmethod
    def _restore(
        nodes: list[Node], names: list[tuple[Space, str, Any, Any]]
    ) -> list[tuple[Node, str]]:
        """Put back what the invocation wrote; never fails: an object that refuses (a
        library's class that cannot lose an attribute) is returned with the error's type."""
        refused = []
        for node in nodes:
            try:
                node.restore()
            except Exception as exc:  # its own business: reported, never an internal error
                refused.append((node, type(exc).__name__))
        for space, key, before, _ in names:
            space.restore(key, before)
        return refused

    def _leaks(self) -> tuple[list[tuple[Space, str, Any, Any]], list[Node]]:
        """What changed and is not init-scope work done lazily."""
        assert self._spaces is not None
        names = [
            (space, key, before, now)
            for space in self._spaces
            for key, before, now in space.changes()
            if not is_imported_module(now)
            and not ((before is None or before is MISSING) and holds_resource(now))
        ]
        return names, [
            node for node in self._nodes if node.state() == "changed" and not lazy_init(node)
        ]

    # -- Init work done during an invocation: a lazy factory, a lazy import ----------------
    def _dirty(self) -> tuple[dict[tuple[str, str], Any], dict[int, tuple[Node, Any]]]:
        """Names (with their old value) and nodes (with a copy of what they hold now) that
        differ from the snapshot now: the handler's own writes so far."""
        if self._spaces is None or self._unchanged():
            return {}, {}
        names = {
            (space.name, key): before
            for space in self._spaces
            for key, before, _ in space.changes()
        }
        nodes = self._nodes
        return names, {id(n.obj): (n, n.copy()) for n in nodes if n.state() != "same"}

    def _rebaseline_except(
        self, dirty: tuple[dict[tuple[str, str], Any], dict[int, tuple[Node, Any]]]
    ) -> None:
        """Accept what changed since :meth:`_dirty` (Init work), keep the rest under watch:
        a container the handler had written before stays reported, with what the Init work
        put into it part of its baseline (a restore keeps a route registered then)."""
        names, nodes = dirty
        if self._incomplete or self._project.changed():
            self._census()  # the modules it imported join now
        else:
            self._snapshot()
        assert self._spaces is not None
        for space in self._spaces:
            for (module, key), before in names.items():
                if module == space.name:
                    if before is MISSING:
                        space.snap.pop(key, None)
                    else:
                        space.snap[key] = before
        for node in self._nodes:
            old = nodes.get(id(node.obj))
            if old is not None and old[0].kind == node.kind:
                node.rebase(old[0], old[1])
        checks = self._plan()
        if names:  # the fast check would not see them: make exit look closer
            checks.append((never, None, None))
        self._checks = checks

    def _message(
        self,
        leaks: list[tuple[str, str, str, str]],
        restored: bool,
        unrestored: list[str] | None = None,
    ) -> str:
        spaces, site = self._spaces or [], self._project.site
        return leak_message(self._func, spaces, site, leaks, restored, unrestored=unrestored)


def factory_started() -> object:
    """Init work starts during an invocation (an ``@init_resource`` factory, a module's
    top-level code): note what is dirty already."""
    guard = _active[-1] if _active else None
    if guard is None or guard._spaces is None:
        return None
    try:
        return (guard, guard._dirty())
    except Exception as exc:  # never the user's factory's or import's failure
        guard._failed(exc)
        return None


def factory_finished(token: object) -> None:
    """The Init work is done: what it wrote is the new baseline."""
    if isinstance(token, tuple):
        guard: Guard = token[0]
        if guard._spaces is None:  # the guard failed and starts again: nothing to keep
            return
        try:
            guard._rebaseline_except(token[1])
        except Exception as exc:
            guard._failed(exc)


_resources.observe_factories(factory_started, factory_finished)
