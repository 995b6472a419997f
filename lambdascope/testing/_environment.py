"""One simulated execution environment: Init once, then cold and warm invocations."""

from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

from lambdascope import _resources
from lambdascope._errors import LambdascopeError, ScopeLeakError
from lambdascope._handler import is_handler
from lambdascope._state import state
from lambdascope._tmp import PRIVATE_ENV, remove_tree

from ._context import (
    INIT_TYPES,
    Closing,
    LambdaContext,
    lambda_seconds,
    lambda_variables,
    memory_size,
)
from ._target import load_handler, split_target

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

    from lambdascope._resources import ResourceRecord

__all__ = [
    "InitInfo",
    "Invocation",
    "LambdaEnvironment",
    "MarshalError",
    "RuntimeExitError",
    "assert_warm_matches_cold",
    "error_type",
    "invoke_cold_and_warm",
    "new_environment",
]


# --- environments ---------------------------------------------------------------------------


def new_environment(*, init_type: str | None = None) -> None:
    """Reset lambdascope's process state as if a new execution environment had started.

    Closes and drops every init resource (their ``close`` hooks run), forgets the
    resource records and the invocation count (so the next ``@handler``
    invocation is a cold start), and clears :mod:`lambdascope.aws`'s parameter
    and secret caches. Module-level code is not re-run: use a
    :class:`LambdaEnvironment` with ``reimport=True`` for that.

    Args:
        init_type: ``"on-demand"`` (cold starts), ``"provisioned-concurrency"``,
            ``"snap-start"`` or ``"lambda-managed-instances"`` (Init ran ahead of
            traffic, so no invocation is a cold start); default:
            ``AWS_LAMBDA_INITIALIZATION_TYPE`` or on-demand.
    """
    if init_type is not None:
        _check_init_type(init_type)
    _resources.reset_resources()
    _resources.clear_records()
    aws = sys.modules.get("lambdascope.aws")
    if aws is not None:
        aws.clear_caches()
    state.reset(init_type)


def _check_init_type(init_type: object) -> str:
    if init_type not in INIT_TYPES:
        raise ValueError(f"init_type must be one of {', '.join(INIT_TYPES)}, got {init_type!r}")
    return str(init_type)


@dataclass(frozen=True)
class Invocation:
    """What one invocation in a :class:`LambdaEnvironment` did.

    Attributes:
        number: 1 for the environment's first invocation, then 2, 3, ...
        cold_start: whether it paid for the Init (the first one, on-demand only).
        request_id: the context's ``aws_request_id``.
        duration_ms: wall-clock milliseconds the handler took.
        result: what the handler returned (``None`` when it raised).
        error: the exception it raised, with its original traceback, or ``None``.
        resources: the init resources created during it (lazily, on first use).
        event: the copy of the event the handler received.
        context: the :class:`LambdaContext` it received.
    """

    number: int
    cold_start: bool
    request_id: str
    duration_ms: float
    result: Any
    error: BaseException | None
    resources: tuple[ResourceRecord, ...] = ()
    event: Any = None
    context: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """``True`` when the handler returned (and its result could be sent as JSON)."""
        return self.error is None

    @property
    def error_payload(self) -> dict[str, Any] | None:
        """The error as Lambda reports it: ``errorType``, ``errorMessage``, ``stackTrace``."""
        if self.error is None:
            return None
        import traceback

        frames = [
            frame
            for frame in traceback.extract_tb(self.error.__traceback__)
            if frame.filename != __file__  # the simulator's own frames
        ]
        return {
            "errorType": error_type(self.error),
            "errorMessage": str(self.error),
            "stackTrace": traceback.format_list(frames),
            "requestId": self.request_id,
        }

    def outcome(self) -> tuple[str, Any]:
        """``("result", value)`` or ``("error", "Type: message")``, for comparisons."""
        if self.error is None:
            return ("result", self.result)
        return ("error", f"{error_type(self.error)}: {self.error}")

    def same_outcome(self, other: Invocation) -> bool:
        """Whether *other* ended the same way, compared as Lambda would send it back.

        Errors by type and message (request ids left out); results by their JSON, so
        ``NaN`` equals ``NaN``, a tuple equals the list it becomes, and key order does
        not matter.
        """
        if (self.error is None) != (other.error is None):
            return False
        if self.error is not None and other.error is not None:
            return _error_text(self.error) == _error_text(other.error)
        return _as_json(self.result) == _as_json(other.result)


@dataclass(frozen=True)
class InitInfo:
    """What an environment's Init did: the handler import and the resources it created.

    Attributes:
        module: the handler module's name (``None`` for a handler passed as a callable).
        import_ms: milliseconds the import took, ``0.0`` if the module was already
            imported (and not re-imported), ``None`` for a callable.
        resources: init resources created during Init (``eager=True`` or used at import).
        init_type: ``on-demand``, ``provisioned-concurrency``, ``snap-start`` or
            ``lambda-managed-instances``.
    """

    module: str | None
    import_ms: float | None
    resources: tuple[ResourceRecord, ...]
    init_type: str

    @property
    def resources_ms(self) -> float:
        """Milliseconds spent in init resource factories during Init."""
        return sum(r.duration for r in self.resources) * 1000


def error_type(error: BaseException) -> str:
    """The ``errorType`` Lambda reports for *error*: ``Runtime.ExitError`` or the class name."""
    return str(getattr(error, "error_type", None) or type(error).__name__)


def _error_text(error: BaseException) -> str:
    text = f"{error_type(error)}: {error}"
    request_id = getattr(error, "request_id", "")
    return text.replace(request_id, "<request id>") if request_id else text


def _as_json(value: Any) -> str:
    """*value* as the runtime would send it (keys sorted where they can be)."""
    for sort_keys in (True, False):
        try:
            return json.dumps(value, default=_not_json, sort_keys=sort_keys)
        except TypeError:  # keys of mixed types cannot be sorted
            continue
        except (ValueError, RecursionError):
            break
    return repr(id(value))  # not sendable: equal only to itself


class RuntimeExitError(LambdascopeError, RuntimeError):
    """The handler ended the runtime process (``sys.exit``): Lambda's ``Runtime.ExitError``.

    On Lambda the invocation fails with this error and the execution environment
    is gone: the next request starts a new one (a new Init, a cold start).

    Attributes:
        status: the process exit status (0 for ``sys.exit()``/``sys.exit(0)``, 1 for
            ``sys.exit("message")``, else the code given).
        exit_message: the message of ``sys.exit("message")``, or ``None``.
    """

    error_type = "Runtime.ExitError"

    def __init__(self, request_id: str, code: object) -> None:
        if code is None or isinstance(code, int):
            self.status, self.exit_message = code or 0, None
        else:  # Python prints the message to stderr and exits with status 1
            self.status, self.exit_message = 1, str(code)
        self.request_id = request_id
        reason = (
            "Runtime exited without providing a reason"
            if self.status == 0
            else f"Runtime exited with error: exit status {self.status}"
        )
        called = f"sys.exit({code!r})" if code is not None else "sys.exit()"
        super().__init__(
            f"RequestId: {request_id} Error: {reason}\n(the handler called {called}: "
            "the runtime process ended, and with it this execution environment)"
        )


def _not_json(obj: object) -> Any:
    import decimal

    if isinstance(obj, decimal.Decimal):  # the runtime encodes Decimals as numbers
        return float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


class MarshalError(LambdascopeError, TypeError):
    """The handler's result cannot be sent back as JSON (Lambda's ``Runtime.MarshalError``)."""


def _unsendable(result: Any) -> BaseException | None:
    """Why the runtime could not send *result* back, or ``None`` if it could."""
    if hasattr(result, "__await__") and hasattr(result, "close"):
        result.close()  # never awaited: close it so Python does not warn
        return TypeError(
            "the handler returned a coroutine: Lambda's Python runtime does not await "
            "handlers. Decorate the async def handler with @lambdascope.handler."
        )
    try:
        json.dumps(result, default=_not_json)
    except RecursionError:
        return MarshalError(
            "Runtime.MarshalError: unable to marshal the response: it is nested too deeply "
            "to serialise as JSON"
        )
    except (TypeError, ValueError) as exc:
        error = MarshalError(f"Runtime.MarshalError: unable to marshal the response: {exc}")
        error.__cause__ = exc
        return error
    return None


def _fresh_event(event: Any) -> Any:
    """A copy of *event*, as Lambda decodes every event afresh from its JSON."""
    try:
        return copy.deepcopy(event)
    except RecursionError:  # deepcopy recurses deeper than the JSON decoder does
        return json.loads(json.dumps(event))


class LambdaEnvironment(Closing):
    """One simulated Lambda execution environment: Init once, then invocations.

    Creating it runs Init: lambdascope's process state is reset (init resources
    closed and dropped, no invocation seen, so the next one is a cold start), the
    Lambda environment variables are set, and the handler module is imported
    (again, with *reimport*). Then :meth:`invoke` and :meth:`run` call the handler
    the way the runtime does: a deep copy of the event (Lambda decodes each event
    afresh, so a handler that mutates its event does not affect the next one), a
    new :class:`LambdaContext` with a fresh request id and deadline, and a result
    that must be JSON serialisable::

        with LambdaEnvironment("app.handlers:lambda_handler") as env:
            first = env.run({"bucket": "incoming"})
            second = env.run({"bucket": "incoming"})
            assert first.cold_start and not second.cold_start
            assert first.result == second.result

    Like Lambda, each environment has a temp dir of its own, :attr:`tmp`: while it is
    live, ``TMPDIR`` and ``tempfile.gettempdir()`` name it, and the /tmp watch of
    ``@handler`` fails an invocation that leaves a file there (in a temp dir shared with
    other programs it only warns: it cannot tell who wrote a file).

    :meth:`restart` starts a new environment (optionally re-importing the module) with
    a new temp dir, :meth:`close` (or leaving the ``with`` block) closes the init
    resources, removes the temp dir and restores the environment variables.
    lambdascope's state is per process, so one environment is live at a time:
    starting one retires the previous one.

    Args:
        handler: the handler, or a target string for :func:`load_handler`.
        function_name: the function's name, as Lambda would configure it (like the
            next three, it fills the environment variables and every context).
        memory_mb: the memory size in MB.
        timeout: the timeout in seconds (the context's deadline).
        region: the AWS region.
        init_type: ``"on-demand"`` (the first invocation is a cold start),
            ``"provisioned-concurrency"``, ``"snap-start"`` or
            ``"lambda-managed-instances"`` (Init ran ahead of traffic: no cold start;
            this environment is then one worker process: :class:`ManagedInstances`
            runs several).
        environ: extra environment variables for the function's configuration.
        reimport: import the handler module again, so its top level runs again.
        guard: sets ``LAMBDASCOPE_GUARD`` during Init, so ``@handler`` picks that mode;
            with an undecorated handler, wraps it in ``@handler(guard=...)``.
        tmp: a directory to use as the environment's ``/tmp`` instead of a new one
            (``TMPDIR`` in *environ* does the same); it is kept when the environment ends.

    Attributes:
        tmp: the environment's temp dir (its ``/tmp``).

    Raises:
        TypeError, ValueError: a bad option or target, at construction.
    """

    def __init__(
        self,
        handler: Callable[..., Any] | str,
        *,
        function_name: str = "test-function",
        memory_mb: int = 128,
        timeout: float = 3.0,
        region: str = "us-east-1",
        init_type: str = "on-demand",
        environ: Mapping[str, str] | None = None,
        reimport: bool = False,
        guard: Literal["raise", "warn", "off"] | None = None,
        tmp: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(handler, str) and not callable(handler):
            raise TypeError(
                f"LambdaEnvironment needs a handler function or a 'module:function' string, "
                f"got {handler!r}"
            )
        if guard is not None:
            from lambdascope._guard import resolve_mode

            resolve_mode(guard)
        self._target = handler
        self.function_name = function_name
        self.memory_mb = memory_size(memory_mb)
        self.timeout = lambda_seconds("timeout", timeout)
        self.region = region
        self.init_type = _check_init_type(init_type)
        self.guard = guard
        self._environ = dict(environ or {})
        given = os.fspath(tmp) if tmp is not None else self._environ.get("TMPDIR")
        self._given_tmp = os.path.abspath(given) if given else None
        self.tmp: str = ""
        # tempfile.tempdir before the first start, and the temp dir it stood for
        self._saved_tempdir: list[str | None] = []
        self._saved: dict[str, str | None] = {}
        self._closed = False
        self.handler: Callable[..., Any]
        self.module: ModuleType | None = None
        self.init: InitInfo
        self.invocations: list[Invocation] = []
        self._start(reimport)

    def _lambda_environ(self) -> dict[str, str]:
        variables = lambda_variables(
            function_name=self.function_name,
            memory_mb=self.memory_mb,
            init_type=self.init_type,
            region=self.region,
            handler=self._target if isinstance(self._target, str) else "",
        )
        variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] = str(int(self.timeout))
        if self.init_type == "lambda-managed-instances":  # set by Lambda for its runtime
            variables["AWS_LAMBDA_MAX_CONCURRENCY"] = "1"
        if self.guard is not None:
            variables["LAMBDASCOPE_GUARD"] = self.guard
        variables.update(self._environ)
        variables["TMPDIR"] = variables[PRIVATE_ENV] = self.tmp
        return variables

    def _apply_environ(self) -> None:
        for name, value in self._lambda_environ().items():
            if name not in self._saved:
                self._saved[name] = os.environ.get(name)
            os.environ[name] = value

    def _restore_environ(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()

    def _start(self, reimport: bool) -> None:
        global _live
        if _live is not None and _live is not self:
            _live._retire()
        _live = self
        self._new_tmp()
        self._apply_environ()
        new_environment(init_type=self.init_type)
        self.invocations = []
        try:
            self._init(reimport)
        except BaseException:  # a failed Init leaves nothing behind: variables, resources
            _resources.reset_resources()
            self._retire()
            raise

    def _init(self, reimport: bool) -> None:
        module_name: str | None = None
        import_ms: float | None = None
        if isinstance(self._target, str):
            where, _ = split_target(self._target)
            before = set(sys.modules)
            started = time.perf_counter()
            func, module = load_handler(self._target, reimport=reimport)
            import_ms = (time.perf_counter() - started) * 1000
            module_name = module.__name__
            if module_name in before and not reimport and not where.endswith(".py"):
                import_ms = 0.0
            self.module = module
        else:
            func = self._target
            self.module = sys.modules.get(getattr(func, "__module__", "") or "")
        if self.guard is not None and not is_handler(func):
            from lambdascope._handler import wrap_in

            site = self.module.__name__ if self.module is not None else None
            func = wrap_in(site, func, guard=self.guard)
        self.handler = func
        self.init = InitInfo(
            module=module_name,
            import_ms=import_ms,
            resources=tuple(_resources.resource_records()),
            init_type=self.init_type,
        )

    def _new_tmp(self) -> None:
        """A temp dir for the environment starting now: Lambda gives each its own ``/tmp``."""
        self._drop_tmp()
        if not self._saved_tempdir:  # the first start: the temp dir of the process
            self._saved_tempdir[:] = [tempfile.tempdir, tempfile.gettempdir()]
        if self._given_tmp is not None:
            os.makedirs(self._given_tmp, exist_ok=True)
            self.tmp = self._given_tmp
        else:
            self.tmp = tempfile.mkdtemp(prefix="lambdascope-tmp-", dir=self._saved_tempdir[1])
        tempfile.tempdir = self.tmp

    def _drop_tmp(self) -> None:
        """Remove the temp dir of the environment that ended (unless it was given)."""
        if self.tmp and self.tmp != self._given_tmp:
            remove_tree(self.tmp)

    def _retire(self) -> None:
        self._restore_environ()
        self._drop_tmp()
        if self._saved_tempdir:
            tempfile.tempdir = self._saved_tempdir[0]
            self._saved_tempdir.clear()
        self._closed = True

    def new_context(self, **overrides: Any) -> LambdaContext:
        """A context for the next invocation: this environment's settings, a new request id."""
        options: dict[str, Any] = {
            "function_name": self.function_name,
            "memory_mb": self.memory_mb,
            "timeout": self.timeout,
            "region": self.region,
            "log_stream_name": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        }
        options.update(overrides)
        return LambdaContext(**options)

    def run(self, event: Any = None, *, context: Any = None) -> Invocation:
        """Invoke the handler once and record what happened; exceptions are captured.

        Args:
            event: the event (deep-copied; default ``{}``).
            context: a context to pass instead of a new :class:`LambdaContext`.

        Returns:
            the :class:`Invocation`; its ``error`` holds the handler's exception,
            a :class:`RuntimeExitError` when it called ``sys.exit`` (the environment
            then ends, as the runtime process does on Lambda: :attr:`closed` is true),
            or a :class:`MarshalError` when the result is not JSON serialisable,
            or a ``TypeError`` when an ``async def`` handler was not wrapped
            (the runtime does not await coroutines).

        Raises:
            RuntimeError: this environment was closed or replaced by a newer one.
        """
        if self._closed:
            raise RuntimeError(
                "this LambdaEnvironment is closed (or a newer one replaced it: lambdascope's "
                "state is per process, so one environment is live at a time); call restart()"
            )
        number = len(self.invocations) + 1
        cold_start = number == 1 and state.cold_eligible  # the rule @handler follows
        ctx = self.new_context() if context is None else context
        payload = _fresh_event({} if event is None else event)
        since = time.time()
        started = time.perf_counter()
        result: Any = None
        error: BaseException | None = None
        exited = False
        try:
            result = self.handler(payload, ctx)
        except Exception as exc:  # the invocation failed; the environment goes on
            error = exc
        except SystemExit as exc:  # the runtime process ends: so does the environment
            error = RuntimeExitError(str(getattr(ctx, "aws_request_id", "")), exc.code)
            error.__cause__ = exc
            error.__traceback__ = exc.__traceback__
            exited = True
        else:
            error = _unsendable(result)
            if error is not None:
                result = None
        duration_ms = (time.perf_counter() - started) * 1000
        created = tuple(r for r in _resources.resource_records() if r.started >= since)
        invocation = Invocation(
            number=number,
            cold_start=cold_start,
            request_id=str(getattr(ctx, "aws_request_id", "")),
            duration_ms=duration_ms,
            result=result,
            error=error,
            resources=created,
            event=payload,
            context=ctx,
        )
        self.invocations.append(invocation)
        if exited:
            self._retire()
        return invocation

    @property
    def closed(self) -> bool:
        """Whether this environment has ended: closed, replaced, or its handler called
        ``sys.exit`` (then :meth:`restart` starts the next one, as Lambda would)."""
        return self._closed

    def invoke(self, event: Any = None, *, context: Any = None) -> Any:
        """Invoke the handler once and return its result; its exception propagates.

        The same as :meth:`run`, for tests that want the value (or the error,
        with its original traceback) directly.
        """
        invocation = self.run(event, context=context)
        if invocation.error is not None:
            raise invocation.error
        return invocation.result

    def run_many(self, event: Any = None, *, times: int = 3) -> list[Invocation]:
        """Invoke the handler *times* times with the same event; return every invocation."""
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive int, got {times!r}")
        return [self.run(event) for _ in range(times)]

    def restart(self, *, reimport: bool = False) -> None:
        """Start a new execution environment: close the resources, reset, run Init again.

        With *reimport*, the handler module is imported again (its top level runs
        again, module-level state starts over); without it, only lambdascope's
        state is reset.
        """
        self._closed = False
        self._start(reimport)

    def close(self) -> None:
        """End the environment: close init resources, restore the environment variables."""
        if self._closed and _live is not self:
            return
        _resources.reset_resources()
        self._retire()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self.invocations)} invocations"
        target = self._target if isinstance(self._target, str) else repr(self._target)
        return f"<LambdaEnvironment {target} {state}>"


_live: LambdaEnvironment | None = None


def invoke_cold_and_warm(
    handler: Callable[..., Any] | str, event: Any = None, *, warm: int = 2, **options: Any
) -> list[Invocation]:
    """Run *handler* in a new environment: a cold start, then *warm* warm invocations.

    Every invocation gets the same *event*. *options* go to
    :class:`LambdaEnvironment` (``reimport=True`` runs the module's top level
    again). The environment is closed afterwards.
    """
    if isinstance(warm, bool) or not isinstance(warm, int) or warm < 1:
        raise ValueError(
            f"warm must be a positive int (warm invocations after the cold one), got {warm!r}"
        )
    with LambdaEnvironment(handler, **options) as env:
        return env.run_many(event, times=warm + 1)


def _describe(invocation: Invocation) -> str:
    kind, value = invocation.outcome()
    return f"returned {value!r}" if kind == "result" else f"raised {value}"


def assert_warm_matches_cold(
    handler: Callable[..., Any] | str, event: Any = None, *, warm: int = 2, **options: Any
) -> list[Invocation]:
    """Assert that warm invocations answer the same event the way the cold start did.

    Runs :func:`invoke_cold_and_warm` and compares each warm invocation's result
    (or exception type and message) with the cold one's. Any
    :class:`~lambdascope.ScopeLeakError` fails the assertion too. This is the
    test that catches state kept at module level between invocations::

        def test_prefix_check_is_stable():
            assert_warm_matches_cold("app:lambda_handler", {"bucket": "incoming"}, warm=3)

    Returns:
        the invocations, cold first, for further assertions.

    Raises:
        AssertionError: a warm invocation differed, naming it and both outcomes.
    """
    invocations = invoke_cold_and_warm(handler, event, warm=warm, **options)
    for invocation in invocations:
        if isinstance(invocation.error, ScopeLeakError):
            raise AssertionError(
                f"invocation {invocation.number} wrote module-level state: {invocation.error}"
            ) from invocation.error
    cold = invocations[0]
    for invocation in invocations[1:]:
        if not invocation.same_outcome(cold):
            raise AssertionError(
                f"warm invocation {invocation.number} answered differently from the cold start "
                f"for the same event:\n"
                f"  invocation 1 (cold) {_describe(cold)}\n"
                f"  invocation {invocation.number} (warm) {_describe(invocation)}\n"
                "State kept between invocations changed the answer: look for module-level data "
                "written by the handler (`lambdascope check` finds it), keep per-invocation data "
                "on `lambdascope.request`."
            )
    return invocations
