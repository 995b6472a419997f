"""Run a program under the default guard and judge it with the oracle.

For each invocation: the oracle snapshots the modules' state when the handler's own function
starts and when it returns (a hook on its code object: after the guard's entry check, before
its exit check), so it sees the invocation's writes even when the guard then restores
them, and it holds no reference to module state while the guard looks (see :class:`_Probe`).
The /tmp watch is off (``LAMBDASCOPE_WATCH_TMP=off``): the module guard is what is judged.
Then:

- the oracle saw a change (not one of the documented acceptances) and the guard raised no
  ``ScopeLeakError``: **missed**;
- the guard raised and the oracle saw no change: **false positive**;
- the guard raised and the state afterwards is not what the oracle saw before the invocation
  (object for object): **not restored**;
- the guard raised, undid a change, but its message does not name (in backquotes, as the
  docs show it) a module-level name the changed value is reached from (what ``allow=``
  would take): **not named**; a change it neither names nor undoes counts as missed;
- the handler failed with anything else, and does not without the guard: **crash**.

The guard is a black box here, with two internals used only to *explain* a failure (never to
judge one): ``lambdascope._guard._census.module_analysis(name, namespace).gave_up`` (why the write
analysis watches everything, if it does) and ``lambdascope._guard._analysis.analyse``,
replaced by :func:`forced_fallback` to say whether the static analysis or the runtime walk is
at fault.
"""

from __future__ import annotations

import contextlib
import importlib
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
from .program import HANDLER_MODULE, Case

if TYPE_CHECKING:
    from collections.abc import Iterator

_SETTINGS = ("LAMBDASCOPE_GUARD", "LAMBDASCOPE_WATCH_TMP")
MODULE = "fuzz_app"  # a single-module program's import name
PACKAGE = "fuzz_pkg"  # a package program's import name
EXPECTED_ERROR = "fuzz: bad request"

MISSED = "missed"
FALSE_POSITIVE = "false positive"
NOT_RESTORED = "not restored"
CRASH = "crash"
NOT_NAMED = "not named"


@dataclass
class Failure:
    """One way the guard disagreed with the oracle."""

    kind: str  # MISSED, FALSE_POSITIVE, NOT_RESTORED, NOT_NAMED, CRASH
    invocation: int  # 1 for the first
    detail: str
    changes: list[Change] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.kind} at invocation {self.invocation}: {self.detail}"


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
    def loaded(self, case: Case, guard: str | None = None) -> Iterator[list[str]]:
        """Import *case*'s modules (fresh: a folder of their own); yield their names."""
        import lambdascope
        from lambdascope.testing import new_environment

        self.count += 1
        folder = self.root / str(self.count)
        if case.package:
            package_dir = folder / PACKAGE
            package_dir.mkdir(parents=True)
            for name, text in case.files.items():
                (package_dir / name).write_text(text, encoding="utf-8")
            main = f"{PACKAGE}.{HANDLER_MODULE}"
        else:
            folder.mkdir(parents=True)
            (folder / f"{MODULE}.py").write_text(case.files["app.py"], encoding="utf-8")
            main = MODULE
        _forget_modules()
        saved = {name: os.environ.pop(name, None) for name in _SETTINGS}
        if guard is not None:
            os.environ["LAMBDASCOPE_GUARD"] = guard
        # The module guard is what is judged: the /tmp watch would see the program files
        # written just before an invocation (within the file system's clock tick).
        os.environ["LAMBDASCOPE_WATCH_TMP"] = "off"
        sys.path.insert(0, str(folder))
        new_environment()
        lambdascope.configure(cold_start_report=False)
        try:
            importlib.import_module(main)
            names = [main]
            if case.package:
                names = sorted(
                    n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")
                )
            yield names
        finally:
            sys.path.remove(str(folder))
            sys.path_importer_cache.pop(str(folder), None)
            for name, value in saved.items():
                os.environ.pop(name, None)
                if value is not None:
                    os.environ[name] = value
            _forget_modules()
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
                with self.loaded(case, guard) as names:
                    self._invoke_all(case, names, outcome, stop=stop)
        except _Invalid as exc:
            outcome.invalid = str(exc)
        except Exception as exc:  # the program does not even import
            outcome.invalid = f"import failed: {type(exc).__name__}: {exc}"
        finally:
            sys.dont_write_bytecode = saved
        return outcome

    def _invoke_all(self, case: Case, names: list[str], outcome: Outcome, *, stop: bool) -> None:
        from lambdascope import ScopeLeakError

        main = sys.modules[names[0] if not case.package else f"{PACKAGE}.{HANDLER_MODULE}"]
        target = _handler_code(getattr(main, "lambda_handler", None))
        if target is None:
            raise _Invalid("lambda_handler is missing or not decorated with @handler")
        oracle = Oracle(tuple(names))
        acceptance = Acceptance(source_constants(case.files.values()))
        for number, event in enumerate(case.events, start=1):
            probe = _Probe(oracle, acceptance, target)
            error: BaseException | None = None
            with _watching(probe):
                try:
                    main.lambda_handler(event, None)
                except Exception as exc:
                    error = exc
            if probe.trouble:
                raise _Invalid(probe.trouble)
            outcome.invocations += 1
            reported = isinstance(error, ScopeLeakError)
            outcome.leaks.append(probe.leaks)
            outcome.reported.append(reported)
            outcome.messages.append(str(error) if reported else "")
            failure = self._judge(
                number,
                probe.leaks,
                probe.accepted,
                error=error,
                reported=reported,
                before=probe.before,
                oracle=oracle,
            )
            if failure is not None and outcome.failure is None:
                outcome.failure = failure
                if stop:
                    break
        outcome.gave_up = fallback_reasons(names)  # made by the guard's first invocation

    def _judge(
        self,
        number: int,
        leaks: list[Change],
        accepted: list[Change],
        *,
        error: BaseException | None,
        reported: bool,
        before: Any,
        oracle: Oracle,
    ) -> Failure | None:
        if error is not None and not reported and not _expected(error):
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            return Failure(CRASH, number, detail)
        if not reported:
            return _failure(MISSED, number, "the oracle saw", leaks)
        if not leaks:
            first = str(error).splitlines()[1:2] or [str(error)]
            return Failure(FALSE_POSITIVE, number, f"the guard reported: {first[0].strip()}")
        kept = {c.where for c in accepted}
        residue = [c for c in diff(before, oracle.snapshot(), keep=False) if c.where not in kept]
        stayed = {c.where for c in residue}
        named = _named(str(error))
        # a change the guard neither named nor undid: it did not see it
        unseen = [c for c in leaks if c.where in stayed and not c.roots & named]
        missed = _failure(
            MISSED, number, "the guard reported something else; the oracle saw", unseen
        )
        unseen_where = {c.where for c in unseen}
        not_restored = [c for c in residue if c.where not in unseen_where]
        unnamed = [c for c in leaks if c.where not in stayed and not c.roots & named]
        return (
            missed
            or _failure(NOT_RESTORED, number, "after the restore", not_restored)
            or _failure(NOT_NAMED, number, "undone, but the message does not name", unnamed)
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


class _Probe:
    """The oracle's eyes during one invocation.

    It snapshots the state when the handler's own function starts (after the guard's entry
    check) and when it returns (before the guard's exit check), works out the changes, and
    then lets go of every object: the guard counts references to module-level values to
    find those something else holds (``from app import ITEMS``), so an oracle holding them
    while the guard looks would change what the guard watches. For the same reason the hook
    that calls :meth:`start` and :meth:`stop` is chosen per version (:func:`_watching`).
    """

    def __init__(self, oracle: Oracle, acceptance: Acceptance, target: Any) -> None:
        self.oracle = oracle
        self.acceptance = acceptance
        self.target = target
        self.before: Snapshot | None = None
        self.leaks: list[Change] = []
        self.accepted: list[Change] = []
        self.returned = False
        self.trouble = ""

    def start(self) -> None:
        if self.returned:  # a coroutine resumed after a suspension: not followed
            self.trouble = "the handler suspended: the oracle sees one run of it only"
        self.before = self.oracle.snapshot()

    def stop(self) -> None:
        if self.before is None or self.returned:
            return
        self.returned = True
        end = self.oracle.snapshot()
        changes = diff(self.before, end)
        self.leaks, self.accepted = self.acceptance.split(changes, self.before, end)
        self.before.release()
        end.release()


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


def _forget_modules() -> None:
    for name in [n for n in sys.modules if n in (MODULE, PACKAGE) or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


# -- the two internals used to explain failures ------------------------------------------------


def fallback_reasons(module_names: list[str]) -> dict[str, str]:
    """Module -> why the write analysis watches everything there (modules it vouches for are
    left out). Uses ``lambdascope._guard._census.module_analysis`` (an internal, for the
    tallies only)."""
    from lambdascope._guard import _census

    reasons = {}
    for name in module_names:
        module = sys.modules.get(name)
        if module is None:
            continue
        gave_up = _census.module_analysis(name, vars(module)).gave_up
        if gave_up is not None:
            reasons[name] = str(gave_up)
    return reasons


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


def same_failure(kind: str) -> Any:
    def check(outcome: Outcome) -> bool:
        return outcome.failure is not None and outcome.failure.kind == kind

    return check


def fault(runner: Runner, case: Case, outcome: Outcome) -> str:
    """ "analysis" when watching everything makes the failure go away, else "runtime"."""
    assert outcome.failure is not None
    if outcome.gave_up:
        return RUNTIME
    with forced_fallback():
        forced = runner.run(case)
    return RUNTIME if same_failure(outcome.failure.kind)(forced) else ANALYSIS


def crash_is_guards(runner: Runner, case: Case) -> bool:
    """A crash counts only when the program runs cleanly without the guard."""
    plain = runner.run(case, guard="off")
    return plain.invalid is None and (plain.failure is None or plain.failure.kind != CRASH)
