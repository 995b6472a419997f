"""Run a program under the default guard and judge it with the oracle.

The program's files are written to a folder of their own as its layout says (a task root, a
``src`` folder, a SAM tree with a layer, an installed package with its dist-info: see
:mod:`.layouts`), its folders go first on ``sys.path`` and its handler module is imported by
name, as Lambda does. Its modules are loaded through a loader of the runner's own (a source
file loader that notes each module's namespace and tells the probe when a module's top-level
code runs): what the oracle watches is the project's modules as the generator wrote them,
never what the guard decides.

For each invocation: the oracle snapshots the modules' state when the handler's own function
starts and when it returns (a hook on its code object: after the guard's entry check, before
its exit check), so it sees the invocation's writes even when the guard then restores
them, and it holds no reference to module state while the guard looks (see :class:`_Probe`).
A module imported during the invocation splits it: what its top-level code does is Init work
(accepted), what the handler does before and after is judged. The oracle also snapshots the
state just before the call and just after it (outside the guard): the guard must be a pure
observer. The /tmp watch is off (``LAMBDASCOPE_WATCH_TMP=off``): the module guard is what is
judged. Then:

- the oracle saw a change (not one of the documented acceptances) and the guard raised no
  ``ScopeLeakError``: **missed**; also a ContextVar whose value the next invocation sees is
  not what it was before this one (see ``oracle.CONTEXTVARS``);
- the guard raised and the oracle saw no change: **false positive**;
- the guard raised and the state afterwards is not what the oracle saw before the invocation
  (object for object): **not restored**;
- the guard raised, undid a change, but its message does not name (in backquotes, as the
  docs show it) a module-level name the changed value is reached from (what ``allow=``
  would take): **not named**; a change it neither names nor undoes counts as missed;
- the state changed between the call and the handler's start, or (nothing reported) between
  the handler's return and the end of the call: the guard ran the program's code or wrote
  its data (a ``__len__``, ``__iter__``, ``__eq__`` or a metaclass's ``__getattr__``):
  **not pure**;
- the handler failed with anything else, and does not without the guard: **crash**.

The guard is a black box here, with internals used only to *explain* a failure (never to
judge one): ``lambdascope._guard._census.module_analysis(name, namespace).gave_up`` (why the
write analysis watches everything, if it does) and ``lambdascope._guard._analysis.analyse``,
replaced by :func:`forced_fallback` to say whether the static analysis or the runtime walk is
at fault; and, for the cost report only, what the guard compares per invocation
(:func:`guard_cost`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import re
import shutil
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .oracle import Acceptance, Change, Oracle, Snapshot, diff, source_constants

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .program import Case

_SETTINGS = ("LAMBDASCOPE_GUARD", "LAMBDASCOPE_WATCH_TMP", "LAMBDA_TASK_ROOT")
EXPECTED_ERROR = "fuzz: bad request"

MISSED = "missed"
FALSE_POSITIVE = "false positive"
NOT_RESTORED = "not restored"
CRASH = "crash"
NOT_NAMED = "not named"
NOT_PURE = "not pure"


@dataclass
class Failure:
    """One way the guard disagreed with the oracle."""

    kind: str  # MISSED, FALSE_POSITIVE, NOT_RESTORED, NOT_NAMED, NOT_PURE, CRASH
    invocation: int  # 1 for the first
    detail: str
    changes: list[Change] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.kind} at invocation {self.invocation}: {self.detail}"


@dataclass
class Cost:
    """What the guard compares on every invocation (its internals: the cost report only)."""

    nodes: int  # watched objects
    items: int  # their items and attributes, and the names checked by identity
    table_nodes: int = 0  # of the watched objects, those in the program's read-only tables
    table_size: int = 0  # the objects in those tables


@dataclass
class Outcome:
    """What running one program showed."""

    failure: Failure | None = None
    invocations: int = 0
    gave_up: dict[str, str] = field(default_factory=dict)  # module -> reason
    invalid: str | None = None  # the program itself is broken (a generator bug)
    leaks: list[list[Change]] = field(default_factory=list)  # per invocation, per the oracle
    reported: list[bool] = field(default_factory=list)  # per invocation, by the guard
    messages: list[str] = field(default_factory=list)
    cost: Cost | None = None  # after the last invocation


class Loaded:
    """A program imported: its handler module, and the project's modules loaded now."""

    def __init__(self, imports: _Imports, case: Case, folder: Path) -> None:
        self.imports = imports
        self.project = {str(folder / path) for path in case.tree.project}
        self.main = sys.modules[case.tree.main]

    def modules(self) -> list[tuple[str, dict[str, Any]]]:
        """(name, namespace) of each project module loaded now, in the order they loaded."""
        return [
            (name, namespace)
            for name, (namespace, filename) in self.imports.namespaces.items()
            if filename in self.project and sys.modules.get(name) is not None
        ]

    def names(self) -> list[str]:
        return [name for name, _ in self.modules()]

    def oracle(self) -> Oracle:
        return Oracle(self.modules, self.project)


class _Imports(importlib.abc.MetaPathFinder):
    """Loads the program's modules (those under its folder, and no other) with :class:`_Loader`."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder) + os.sep
        self.namespaces: dict[str, tuple[dict[str, Any], str]] = {}  # name -> (globals, file)
        self.probe: _Probe | None = None
        self.depth = 0

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not (spec.origin or "").startswith(self.folder):
            return None
        if type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return None
        spec.loader = _Loader(fullname, spec.origin, self)
        return spec

    def running(self, module: Any, execute: Any) -> None:
        """Run a module's top-level code; the outermost one, during an invocation, is told to
        the probe (Init work run late)."""
        probe = self.probe if self.depth == 0 else None
        if probe is not None:
            probe.import_started()
        self.namespaces[module.__name__] = (module.__dict__, module.__spec__.origin)
        self.depth += 1
        try:
            execute(module)
        finally:
            self.depth -= 1
            if probe is not None:
                probe.import_finished()


class _Loader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, imports: _Imports) -> None:
        super().__init__(fullname, path)
        self.imports = imports

    def exec_module(self, module: Any) -> None:
        self.imports.running(module, super().exec_module)


class Runner:
    """Loads programs into a private folder and runs them, one at a time."""

    def __init__(self, root: Path | None = None) -> None:
        self._own_root = root is None
        if root is None:
            # a memory file system when there is one: thousands of tiny folders are made and
            # removed, which costs ~3 ms each on a disk here and ~0.04 ms in memory
            memory = "/dev/shm"
            base = memory if os.path.isdir(memory) and os.access(memory, os.W_OK) else None
            root = Path(tempfile.mkdtemp(prefix="guard-fuzz-", dir=base))
        self.root = root
        self.count = 0

    def close(self) -> None:
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- loading ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def loaded(self, case: Case, guard: str | None = None) -> Iterator[Loaded]:
        """Import *case*'s handler module (fresh: a folder of its own), as Lambda does."""
        import lambdascope
        from lambdascope.testing import new_environment

        self.count += 1
        folder = self.root / str(self.count)
        for path, text in case.files.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        entries = [str(folder / p) if p else str(folder) for p in case.tree.paths]
        imports = _Imports(folder)
        tops = _top_names(case)
        shadowed = _shadowed(tops, entries)
        saved = {name: os.environ.pop(name, None) for name in _SETTINGS}
        if guard is not None:
            os.environ["LAMBDASCOPE_GUARD"] = guard
        # The module guard is what is judged: the /tmp watch would see the program files
        # written just before an invocation (within the file system's clock tick).
        os.environ["LAMBDASCOPE_WATCH_TMP"] = "off"
        for name, value in case.tree.env:
            os.environ[name] = value.replace("$ROOT", str(folder)).rstrip("/")
        sys.path[:0] = entries
        sys.meta_path.insert(0, imports)
        new_environment()
        lambdascope.configure(cold_start_report=False)
        try:
            importlib.import_module(case.tree.main)
            yield Loaded(imports, case, folder)
        finally:
            sys.meta_path.remove(imports)
            for entry in entries:
                sys.path.remove(entry)
                sys.path_importer_cache.pop(entry, None)
            for name, value in saved.items():
                os.environ.pop(name, None)
                if value is not None:
                    os.environ[name] = value
            _forget_modules(imports, tops)
            sys.modules.update(shadowed)
            new_environment()
            lambdascope.configure()
            shutil.rmtree(folder, ignore_errors=True)

    # -- running ---------------------------------------------------------------------------------

    def run(self, case: Case, *, guard: str | None = None, stop: bool = True) -> Outcome:
        """Invoke *case* with each of its events; judge each invocation (see the module doc)."""
        outcome = Outcome()
        saved = sys.dont_write_bytecode
        sys.dont_write_bytecode = True  # no .pyc from a lazy import lands in the watched /tmp
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a program's own warnings are not the point
                with self.loaded(case, guard) as loaded:
                    self._invoke_all(case, loaded, outcome, stop=stop)
        except _Invalid as exc:
            outcome.invalid = str(exc)
        except Exception as exc:  # the program does not even import
            outcome.invalid = f"import failed: {type(exc).__name__}: {exc}"
        finally:
            sys.dont_write_bytecode = saved
        return outcome

    def _invoke_all(self, case: Case, loaded: Loaded, outcome: Outcome, *, stop: bool) -> None:
        from lambdascope import ScopeLeakError

        main = loaded.main
        target = _handler_code(getattr(main, "lambda_handler", None))
        if target is None:
            raise _Invalid("lambda_handler is missing or not decorated with @handler")
        oracle = loaded.oracle()
        acceptance = Acceptance(source_constants(_sources(case)))
        outer = oracle.snapshot()  # nothing runs between two calls: the last one's "after"
        outer.release()  # the guard counts references: hold none while it looks
        for number, event in enumerate(case.events, start=1):
            probe = _Probe(oracle, acceptance, target)
            error: BaseException | None = None
            loaded.imports.probe = probe
            with _watching(probe):
                try:
                    main.lambda_handler(event, None)
                except Exception as exc:
                    error = exc
            loaded.imports.probe = None
            if probe.trouble:
                raise _Invalid(probe.trouble)
            outcome.invocations += 1
            reported = isinstance(error, ScopeLeakError)
            outcome.leaks.append(probe.leaks)
            outcome.reported.append(reported)
            outcome.messages.append(str(error) if reported else "")
            after = oracle.snapshot()
            failure = self._judge(
                number, probe, error=error, reported=reported, outer=(outer, after)
            )
            after.release()
            outer = after
            if failure is not None and outcome.failure is None:
                outcome.failure = failure
                if stop:
                    break
        outcome.gave_up = fallback_reasons(loaded.modules())  # made by the guard's first call
        if outcome.failure is None and not any(outcome.leaks):
            outcome.cost = guard_cost(main.lambda_handler, case.tree.tables)

    def _judge(
        self,
        number: int,
        probe: _Probe,
        *,
        error: BaseException | None,
        reported: bool,
        outer: tuple[Snapshot, Snapshot],
    ) -> Failure | None:
        leaks, accepted, before = probe.leaks, probe.accepted, probe.before
        if error is not None and not reported and not _expected(error):
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            return Failure(CRASH, number, detail)
        first, last = outer
        crossed = diff(first, last, part="context")
        if crossed:
            return _failure(MISSED, number, "the next invocation would see", crossed)
        if before is None:  # the handler's function never ran
            return None
        entry = diff(first, before)
        if not reported:
            exit_ = [] if probe.end is None else diff(probe.end, last)
            return _failure(MISSED, number, "the oracle saw", leaks) or _failure(
                NOT_PURE, number, "the guard changed", entry + exit_
            )
        if not leaks:
            first_line = str(error).splitlines()[1:2] or [str(error)]
            return Failure(FALSE_POSITIVE, number, f"the guard reported: {first_line[0].strip()}")
        kept = {c.where for c in accepted}
        residue = [c for c in diff(before, last) if c.where not in kept]
        stayed = {c.where for c in residue}
        named = _named(str(error))
        # a change the guard neither named nor undid: it did not see it
        unseen = [c for c in leaks if c.where in stayed and not c.roots & named]
        missed = _failure(
            MISSED, number, "the guard reported something else; the oracle saw", unseen
        )
        unseen_where = {c.where for c in unseen}
        # what the handler touched and is not back is not restored; a change to what it
        # never touched is the guard's own doing
        touched = {_object(c) for c in [*leaks, *accepted]}
        not_restored = [c for c in residue if c.where not in unseen_where]
        guards = [c for c in not_restored if _object(c) not in touched]
        not_restored = [c for c in not_restored if _object(c) in touched]
        unnamed = [c for c in leaks if c.where not in stayed and not c.roots & named]
        return (
            missed
            or _failure(NOT_RESTORED, number, "after the restore", not_restored)
            or _failure(NOT_NAMED, number, "undone, but the message does not name", unnamed)
            or _failure(NOT_PURE, number, "the guard changed", entry + guards)
        )


def _failure(kind: str, number: int, text: str, changes: list[Change]) -> Failure | None:
    if not changes:
        return None
    shown = "; ".join(c.describe() for c in changes[:4])
    return Failure(kind, number, f"{text} {shown}", changes)


def _named(message: str) -> set[str]:
    """The names in backquotes in the guard's message, and each of their parts."""
    return {
        part for found in re.findall(r"`([^`]+)`", message) for part in re.split(r"[.\[ (]", found)
    }


def _object(change: Change) -> tuple[Any, ...]:
    """The object a change is in: a followed object's id, or the module of a root."""
    return change.where[:2]


def _sources(case: Case) -> list[str]:
    return [text for path, text in case.files.items() if path.endswith(".py")]


def _top_names(case: Case) -> set[str]:
    """The top-level module names of the program's files, in each of its sys.path folders."""
    tops = set()
    for path in case.files:
        for relative in case.tree.paths if path.endswith(".py") else ():
            prefix = f"{relative}/" if relative else ""
            if path.startswith(prefix):
                tops.add(path[len(prefix) :].split("/")[0].removesuffix(".py"))
    return tops


def _shadowed(tops: set[str], entries: list[str]) -> dict[str, Any]:
    """Take out of ``sys.modules`` the modules (the standard library's) that a top-level
    module of the program shadows, as its folder first on ``sys.path`` does on Lambda; they
    are put back afterwards."""
    taken = {}
    for name in tops:
        for loaded in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
            module = sys.modules[loaded]
            if not str(getattr(module, "__file__", "") or "").startswith(tuple(entries)):
                taken[loaded] = sys.modules.pop(loaded)
    return taken


class _Probe:
    """The oracle's eyes during one invocation.

    It snapshots the state when the handler's own function starts (after the guard's entry
    check) and when it returns (before the guard's exit check), works out the changes, and
    then lets go of every object: the guard counts references to module-level values to
    find those something else holds (``from app import ITEMS``), so an oracle holding them
    while the guard looks would change what the guard watches. For the same reason the hook
    that calls :meth:`start` and :meth:`stop` is chosen per version (:func:`_watching`).

    A module of the program imported meanwhile splits the invocation: the top-level code of
    the module is Init work (its changes are accepted), the handler's code before and after
    it is judged.
    """

    def __init__(self, oracle: Oracle, acceptance: Acceptance, target: Any) -> None:
        self.oracle = oracle
        self.acceptance = acceptance
        self.target = target
        self.before: Snapshot | None = None
        self.end: Snapshot | None = None
        self.mark: Snapshot | None = None  # where the handler's code last took over
        self.leaks: list[Change] = []
        self.accepted: list[Change] = []
        self.returned = False
        self.trouble = ""

    def start(self) -> None:
        if self.returned:  # a coroutine resumed after a suspension: not followed
            self.trouble = "the handler suspended: the oracle sees one run of it only"
        self.before = self.mark = self.oracle.snapshot()

    def import_started(self) -> None:
        if self.mark is None or self.returned:
            return  # not inside the handler's function
        now = self.oracle.snapshot()
        self._judge(self.mark, now)
        self._release(self.mark)
        self.mark = now

    def import_finished(self) -> None:
        if self.mark is None or self.returned:
            return
        now = self.oracle.snapshot()
        self.accepted += diff(self.mark, now)  # the module's top-level code: Init work
        self._release(self.mark)
        self.mark = now

    def stop(self) -> None:
        if self.mark is None or self.returned:
            return
        self.returned = True
        end = self.oracle.snapshot()
        self._judge(self.mark, end)
        self._release(self.mark)
        assert self.before is not None
        self.before.release()
        end.release()
        self.end = end

    def _judge(self, start: Snapshot, end: Snapshot) -> None:
        leaks, accepted = self.acceptance.split(diff(start, end), start, end)
        self.leaks += leaks
        self.accepted += accepted

    def _release(self, snap: Snapshot) -> None:
        if snap is not self.before:
            snap.release()


@contextlib.contextmanager
def _watching(probe: _Probe) -> Iterator[None]:
    """Call the probe when the handler's function starts and ends, touching nothing else.

    Python 3.12+: ``sys.monitoring`` events local to that code object. 3.11: a profile
    function. 3.9 and 3.10: a trace function, because there a profile function makes calls
    into C hold extra references, which the guard's reference counts would see; a trace
    function already set (coverage's) is paused meanwhile: it cannot be chained, it puts
    itself back in charge when called.
    """
    if sys.version_info >= (3, 12):
        with _monitoring(probe):
            yield
        return

    def hook(frame: Any, what: str, arg: Any) -> Any:
        if frame.f_code is not probe.target:
            return None
        if what == "call":
            probe.start()
        elif what == "return":
            probe.stop()
        return hook

    use_profile = sys.version_info >= (3, 11)
    previous = sys.getprofile() if use_profile else sys.gettrace()
    (sys.setprofile if use_profile else sys.settrace)(hook)
    try:
        yield
    finally:
        (sys.setprofile if use_profile else sys.settrace)(previous)


@contextlib.contextmanager
def _monitoring(probe: _Probe) -> Iterator[None]:
    monitoring: Any = getattr(sys, "monitoring")  # noqa: B009 - 3.12+ only
    events = monitoring.events
    tool = next(i for i in range(6) if monitoring.get_tool(i) is None)
    monitoring.use_tool_id(tool, "guard-fuzz")

    def started(code: Any, offset: int) -> None:
        probe.start()

    def ended(code: Any, offset: int, value: Any) -> None:
        if code is probe.target:  # PY_UNWIND comes from every function
            probe.stop()

    monitoring.register_callback(tool, events.PY_START, started)
    monitoring.register_callback(tool, events.PY_RETURN, ended)
    monitoring.register_callback(tool, events.PY_UNWIND, ended)
    monitoring.set_local_events(tool, probe.target, events.PY_START | events.PY_RETURN)
    monitoring.set_events(tool, events.PY_UNWIND)
    try:
        yield
    finally:
        monitoring.set_events(tool, 0)
        monitoring.set_local_events(tool, probe.target, 0)
        monitoring.free_tool_id(tool)


class _Invalid(Exception):
    """The program cannot be judged (a generator or reducer artefact)."""


def _expected(error: BaseException) -> bool:
    return isinstance(error, ValueError) and str(error) == EXPECTED_ERROR


def _handler_code(wrapper: Any) -> Any:
    """The code object of the handler's own function, if *wrapper* is a guarded @handler."""
    if wrapper is None or getattr(wrapper, "__wrapped__", None) is None:
        return None
    lambdascope_dir = str(Path(sys.modules["lambdascope"].__file__ or "").parent)
    code = getattr(wrapper, "__code__", None)
    if code is None or not code.co_filename.startswith(lambdascope_dir):
        return None
    # what @handler received: a decorator of the module under it runs in that function too
    return getattr(wrapper.__wrapped__, "__code__", None)


def _forget_modules(imports: _Imports, tops: set[str]) -> None:
    """Take the program's modules (its own and its libraries': *tops* are their top-level
    names) out of ``sys.modules``."""
    for name in list(sys.modules):
        if name in imports.namespaces or name.partition(".")[0] in tops:
            del sys.modules[name]


# -- the internals used to explain failures, and the cost report ------------------------------


def fallback_reasons(modules: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Module -> why the write analysis watches everything there (modules it vouches for are
    left out). Uses ``lambdascope._guard._census.module_analysis`` (an internal, for the
    tallies only)."""
    from lambdascope._guard import _census

    reasons = {}
    for name, namespace in modules:
        gave_up = _census.module_analysis(name, namespace).gave_up
        if gave_up is not None:
            reasons[name] = str(gave_up)
    return reasons


def guard_cost(wrapper: Any, tables: tuple[tuple[str, str], ...] = ()) -> Cost | None:
    """What the guard of *wrapper* compares on every invocation now: its watched objects, their
    items, the names it checks; and which of the watched objects are in *tables* (read-only
    data the handler never writes). The guard's internals, read for the cost report only."""
    from lambdascope._handler import guard_of

    guard = guard_of(wrapper)
    if guard is None or guard._spaces is None:
        return None
    items = 0
    for compare, _live, saved in guard._checks:
        kept = saved[0] if getattr(compare, "__name__", "") == "_same_entries" else saved
        items += len(kept) if hasattr(kept, "__len__") else 1  # _same_entries: (keys, values)
    items += sum(len(saved) for _values, saved in guard._bindings)
    inside: set[int] = set()
    for module_name, name in tables:
        module = sys.modules.get(module_name)
        if module is not None and name in vars(module):
            _plain_objects(vars(module)[name], inside)
    watched = {id(node.obj) for node in guard._nodes}
    return Cost(len(guard._nodes), items, len(watched & inside), len(inside))


def _plain_objects(value: Any, found: set[int]) -> None:
    """The ids of the builtin containers in *value*, itself included."""
    if isinstance(value, (dict, list)) and id(value) not in found:
        found.add(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            _plain_objects(item, found)


@contextlib.contextmanager
def forced_fallback() -> Iterator[None]:
    """Make the write analysis give up on every module (watch everything)."""
    from lambdascope._guard import _analysis, _facts

    original = _analysis.analyse

    def gave_up(module_name: str, namespace: dict[str, Any], **_options: Any) -> Any:
        return _facts.Analysis(gave_up="forced by the fuzzer")

    _analysis.analyse = gave_up  # type: ignore[assignment]
    try:
        yield
    finally:
        _analysis.analyse = original  # type: ignore[assignment]


# -- judging a failure: whose fault, and the smallest program showing it ------------------------

ANALYSIS = "analysis"
RUNTIME = "runtime"


def same_failure(kind: str, detail: str = "") -> Any:
    """A check that an outcome fails the same way: of the same class and, for a crash, with
    the same exception type (*detail* is the first failure's)."""
    error = detail.split(":", maxsplit=1)[0] if kind == CRASH else ""

    def check(outcome: Outcome) -> bool:
        failure = outcome.failure
        if failure is None or failure.kind != kind:
            return False
        return not error or failure.detail.split(":")[0] == error

    return check


def fault(runner: Runner, case: Case, outcome: Outcome) -> str:
    """ "analysis" when watching everything makes the failure go away, else "runtime"."""
    assert outcome.failure is not None
    if outcome.gave_up:
        return RUNTIME
    with forced_fallback():
        forced = runner.run(case)
    check = same_failure(outcome.failure.kind, outcome.failure.detail)
    return RUNTIME if check(forced) else ANALYSIS


def crash_is_guards(runner: Runner, case: Case) -> bool:
    """A crash counts only when the program runs cleanly without the guard."""
    plain = runner.run(case, guard="off")
    return plain.invalid is None and (plain.failure is None or plain.failure.kind != CRASH)
