"""Test and run Lambda handlers the way Lambda runs them: Init once, then warm invocations.

Unit tests usually call a handler once, so a handler that keeps per-request data at
module level passes them and then fails "only sometimes" in production, where one
execution environment serves many events. This module makes the warm path the
default way to exercise a handler:

- :class:`LambdaContext` — the context object Lambda passes, with every attribute
  the Python runtime sets and a deadline that really counts down;
- :class:`LambdaEnvironment` — one simulated execution environment: Init (import
  the handler module, reset every init resource and the cold-start state) and
  then any number of invocations, each a fresh copy of its event and a new context;
- :func:`invoke_cold_and_warm` and :func:`assert_warm_matches_cold` — a cold start
  followed by warm invocations of the same event, and the check that they agree;
- :func:`new_environment` — reset lambdascope's process state between tests;
- :class:`LocalRuntime` — the handler under the real runtime interface client
  (``awslambdaric``) in a subprocess, fed by a local Runtime API server
  (:class:`RuntimeInvocation` results, :class:`RuntimeExited` when its Init fails).

The pytest plugin (installed with lambdascope, see the testing docs page) wraps
these in fixtures. This module imports only the standard library; ``import
lambdascope`` does not import it.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

from . import _lifecycle, _resources
from ._errors import ScopeLeakError
from ._handler import _MARK
from ._util import seconds_value

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import ModuleType, TracebackType

    from typing_extensions import Self

    from ._resources import ResourceRecord

__all__ = [
    "InitInfo",
    "Invocation",
    "LambdaContext",
    "LambdaEnvironment",
    "LocalRuntime",  # noqa: F822 - imported on first access by __getattr__
    "MarshalError",
    "RuntimeExitError",
    "RuntimeExited",  # noqa: F822
    "RuntimeInvocation",  # noqa: F822
    "assert_warm_matches_cold",
    "invoke_cold_and_warm",
    "load_handler",
    "new_environment",
]

INIT_TYPES = ("on-demand", "provisioned-concurrency", "snap-start")
_ACCOUNT = "123456789012"
_MIN_MEMORY, _MAX_MEMORY = 128, 10240


def _positive_number(option: str, value: object) -> float:
    return seconds_value(option, value, "Lambda allows 1 to 900 seconds")


def _memory(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"memory_mb must be an int (megabytes), got {value!r}")
    if not _MIN_MEMORY <= value <= _MAX_MEMORY:
        raise ValueError(
            f"memory_mb must be between {_MIN_MEMORY} and {_MAX_MEMORY} (Lambda's limits), "
            f"got {value}"
        )
    return value


def check_settings(*, memory_mb: object, timeout: object) -> None:
    """Raise ``TypeError``/``ValueError`` for a memory size or timeout Lambda would refuse.

    Shared with ``lambdascope invoke``, which reports them as usage errors.
    """
    _memory(memory_mb)
    _positive_number("timeout", timeout)


def _function_arn(region: str, function_name: str) -> str:
    return f"arn:aws:lambda:{region}:{_ACCOUNT}:function:{function_name}"


def _log_stream_name(version: str = "$LATEST") -> str:
    """``YYYY/MM/DD/[version]`` and 32 hex digits, as Lambda names a log stream."""
    return time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{version}]{uuid.uuid4().hex}"


def _lambda_variables(
    *, function_name: str, memory_mb: int, init_type: str, region: str, handler: str
) -> dict[str, str]:
    """The environment variables Lambda sets for a function (shared with LocalRuntime)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": _log_stream_name(),
        "AWS_LAMBDA_INITIALIZATION_TYPE": init_type,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "_HANDLER": handler,
    }


# --- the context object ---------------------------------------------------------------------


class CognitoIdentity:
    """``context.identity``: set for invocations through the AWS Mobile SDK, else ``None``s."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(
        self, cognito_identity_id: str | None = None, cognito_identity_pool_id: str | None = None
    ) -> None:
        self.cognito_identity_id = cognito_identity_id
        self.cognito_identity_pool_id = cognito_identity_pool_id

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity(cognito_identity_id={self.cognito_identity_id!r}, "
            f"cognito_identity_pool_id={self.cognito_identity_pool_id!r})"
        )


class Client:
    """``context.client_context.client``: the mobile app that invoked the function."""

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, fields: Mapping[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Client({inner})"


class ClientContext:
    """``context.client_context``: ``custom``, ``env`` and ``client`` from the caller."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.custom: Any = fields.get("custom")
        self.env: Any = fields.get("env")
        client = fields.get("client")
        self.client: Client | None = None if client is None else Client(client)

    def __repr__(self) -> str:
        return f"ClientContext(custom={self.custom!r}, env={self.env!r}, client={self.client!r})"


class LambdaContext:
    """A context object like the one the Python runtime (``awslambdaric``) passes to handlers.

    Every attribute the runtime sets is here, with the same types: note that
    ``memory_limit_in_mb`` is a **string**, as on Lambda (it comes from an
    environment variable), so ``int(context.memory_limit_in_mb)`` is tested the
    way it runs. ``get_remaining_time_in_millis()`` counts down from a deadline
    of *timeout* seconds after the context was created::

        context = LambdaContext(function_name="orders", timeout=30, memory_mb=512)
        assert context.memory_limit_in_mb == "512"
        assert 29_000 < context.get_remaining_time_in_millis() <= 30_000

    Args:
        function_name: the function's name (also used for the ARN and log group).
        function_version: ``"$LATEST"`` or a published version number.
        memory_mb: the configured memory, 128 to 10240.
        timeout: the function timeout in seconds; the deadline is now + *timeout*.
        aws_request_id: the request id (default: a new UUID4).
        region: the region used for ``invoked_function_arn``.
        invoked_function_arn: default ``arn:aws:lambda:{region}:123456789012:function:{name}``.
        log_group_name: default ``/aws/lambda/{name}``.
        log_stream_name: default ``YYYY/MM/DD/[{version}]`` followed by 32 hex digits.
        client_context: a dict with ``custom``, ``env`` and ``client`` (mobile SDK calls).
        identity: a dict with ``cognitoIdentityId`` and ``cognitoIdentityPoolId``.
        tenant_id: the tenant id of tenant-isolated functions, else ``None``.
        deadline_ms: the deadline as epoch milliseconds (overrides *timeout*).

    Raises:
        TypeError, ValueError: a bad *memory_mb* or *timeout*.
    """

    def __init__(
        self,
        *,
        function_name: str = "test-function",
        function_version: str = "$LATEST",
        memory_mb: int = 128,
        timeout: float = 3.0,
        aws_request_id: str | None = None,
        region: str = "us-east-1",
        invoked_function_arn: str | None = None,
        log_group_name: str | None = None,
        log_stream_name: str | None = None,
        client_context: Mapping[str, Any] | None = None,
        identity: Mapping[str, Any] | None = None,
        tenant_id: str | None = None,
        deadline_ms: int | None = None,
    ) -> None:
        seconds = _positive_number("timeout", timeout)
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = str(_memory(memory_mb))
        self.invoked_function_arn = invoked_function_arn or _function_arn(region, function_name)
        self.log_group_name = log_group_name or f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name or _log_stream_name(function_version)
        self.client_context = None if client_context is None else ClientContext(client_context)
        ident = identity or {}
        self.identity = CognitoIdentity(
            ident.get("cognitoIdentityId"), ident.get("cognitoIdentityPoolId")
        )
        self.tenant_id = tenant_id
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + int(seconds * 1000)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the deadline (never negative), as Lambda computes it."""
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: object) -> None:
        """Write *msg* to stdout, where the runtime's ``context.log`` writes without a log sink."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(aws_request_id={self.aws_request_id!r}, "
            f"function_name={self.function_name!r}, "
            f"memory_limit_in_mb={self.memory_limit_in_mb!r}, "
            f"remaining_ms={self.get_remaining_time_in_millis()})"
        )


# --- environments ---------------------------------------------------------------------------


def new_environment(*, init_type: str | None = None) -> None:
    """Reset lambdascope's process state as if a new execution environment had started.

    Closes and drops every init resource (their ``close`` hooks run), forgets the
    resource records and the invocation count (so the next ``@handler``
    invocation is a cold start), and clears :mod:`lambdascope.aws`'s parameter
    and secret caches. Module-level code is not re-run: use a
    :class:`LambdaEnvironment` with ``reimport=True`` for that.

    Args:
        init_type: ``"on-demand"`` (cold starts), ``"provisioned-concurrency"`` or
            ``"snap-start"`` (Init ran ahead of traffic, so no invocation is a cold
            start); default: ``AWS_LAMBDA_INITIALIZATION_TYPE`` or on-demand.
    """
    if init_type is not None:
        _check_init_type(init_type)
    _resources.reset_resources()
    _resources.clear_records()
    aws = sys.modules.get("lambdascope.aws")
    if aws is not None:
        aws.clear_caches()
    _lifecycle.state.reset()
    if init_type is not None:
        _lifecycle.state.init_type = init_type
        _lifecycle.state.cold_eligible = init_type == "on-demand"


def _check_init_type(init_type: object) -> str:
    if init_type not in INIT_TYPES:
        raise ValueError(f"init_type must be one of {', '.join(INIT_TYPES)}, got {init_type!r}")
    return str(init_type)


def _split_target(target: str) -> tuple[str, str]:
    """``module:attr``, ``path/file.py:attr``, ``path/file.py`` or ``module.attr``."""
    if ":" in target:
        where, _, attr = target.rpartition(":")
    elif target.endswith(".py"):
        where, attr = target, "lambda_handler"
    else:
        where, _, attr = target.rpartition(".")
    if not where or not attr:
        raise ValueError(
            f"cannot read handler {target!r}: write MODULE:FUNCTION (app.handlers:lambda_handler), "
            "FILE.py:FUNCTION (src/app.py:lambda_handler) or MODULE.FUNCTION as in the Lambda "
            "handler setting (app.lambda_handler)"
        )
    return where, attr


def _locate(target: str) -> tuple[str | None, str, str]:
    """(absolute file path or ``None`` for a module target, module name, attribute)."""
    where, attr = _split_target(target)
    if not (where.endswith(".py") or os.sep in where or "/" in where):
        return None, where, attr
    path = os.path.abspath(where)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"handler file {where!r} does not exist")
    name = os.path.basename(path)
    return path, name[:-3] if name.endswith(".py") else name, attr


def _import_file(module_name: str, path: str) -> ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise ImportError(f"cannot import {path!r}", path=path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]  # as a failed import does
        raise
    return module


def load_handler(target: str, *, reimport: bool = False) -> tuple[Callable[..., Any], ModuleType]:
    """Import the module of *target* and return ``(handler, module)``.

    *target* is ``module:function``, ``path/to/file.py:function`` (the file's
    directory goes first on ``sys.path``, as Lambda puts its task root there),
    ``path/to/file.py`` (function ``lambda_handler``) or ``module.function`` (the
    Lambda handler setting). The function part may be dotted
    (``module:Handler.handle``). With *reimport*, a module imported before is
    imported again, so its top level (Init) runs again.

    Raises:
        ValueError: *target* cannot be read.
        FileNotFoundError: the file does not exist.
        ImportError: the module cannot be imported (anything its import raises
            propagates unchanged).
        AttributeError: the module has no such function.
        TypeError: the attribute is not callable.
    """
    path, module_name, attr = _locate(target)
    if path is not None:
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)  # its sibling modules import as on Lambda
        loaded = sys.modules.get(module_name)
        if reimport or loaded is None or os.path.abspath(loaded.__file__ or "") != path:
            module = _import_file(module_name, path)  # this file, whatever else is on sys.path
        else:
            module = loaded
    else:
        if reimport:
            sys.modules.pop(module_name, None)
            importlib.invalidate_caches()
        module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError(
                f"handler {attr!r} not found in module {module_name!r} "
                f"({getattr(module, '__file__', None)})"
            ) from None
    if not callable(obj):
        raise TypeError(f"handler {target!r} is {type(obj).__name__}, not a function")
    return obj, module


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
        init_type: ``on-demand``, ``provisioned-concurrency`` or ``snap-start``.
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


class RuntimeExitError(RuntimeError):
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


class MarshalError(TypeError):
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


class LambdaEnvironment:
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

    :meth:`restart` starts a new environment (optionally re-importing the module),
    :meth:`close` (or leaving the ``with`` block) closes the init resources and
    restores the environment variables. lambdascope's state is per process, so
    one environment is live at a time: starting one retires the previous one.

    Args:
        handler: the handler, or a target string for :func:`load_handler`.
        function_name, memory_mb, timeout, region: what Lambda would configure;
            they fill the environment variables and every context.
        init_type: ``"on-demand"`` (the first invocation is a cold start),
            ``"provisioned-concurrency"`` or ``"snap-start"`` (Init ran ahead of
            traffic: no cold start).
        environ: extra environment variables for the function's configuration.
        reimport: import the handler module again, so its top level runs again.
        guard: sets ``LAMBDASCOPE_GUARD`` during Init, so ``@handler`` picks that mode;
            with an undecorated handler, wraps it in ``@handler(guard=...)``.

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
    ) -> None:
        if not isinstance(handler, str) and not callable(handler):
            raise TypeError(
                f"LambdaEnvironment needs a handler function or a 'module:function' string, "
                f"got {handler!r}"
            )
        if guard is not None:
            from ._guard import resolve_mode

            resolve_mode(guard)
        self._target = handler
        self.function_name = function_name
        self.memory_mb = _memory(memory_mb)
        self.timeout = _positive_number("timeout", timeout)
        self.region = region
        self.init_type = _check_init_type(init_type)
        self.guard = guard
        self._environ = dict(environ or {})
        self._saved: dict[str, str | None] = {}
        self._closed = False
        self.handler: Callable[..., Any]
        self.module: ModuleType | None = None
        self.init: InitInfo
        self.invocations: list[Invocation] = []
        self._start(reimport)

    def _lambda_environ(self) -> dict[str, str]:
        variables = _lambda_variables(
            function_name=self.function_name,
            memory_mb=self.memory_mb,
            init_type=self.init_type,
            region=self.region,
            handler=self._target if isinstance(self._target, str) else "",
        )
        variables["AWS_LAMBDA_FUNCTION_TIMEOUT"] = str(int(self.timeout))
        if self.guard is not None:
            variables["LAMBDASCOPE_GUARD"] = self.guard
        variables.update(self._environ)
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
            where, _ = _split_target(self._target)
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
        if self.guard is not None and not getattr(func, _MARK, False):
            from ._handler import handler as wrap

            func = wrap(guard=self.guard)(func)
        self.handler = func
        self.init = InitInfo(
            module=module_name,
            import_ms=import_ms,
            resources=tuple(_resources.resource_records()),
            init_type=self.init_type,
        )

    def _retire(self) -> None:
        self._restore_environ()
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
            cold_start=number == 1 and self.init_type == "on-demand",
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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


_RUNTIME_NAMES = ("LocalRuntime", "RuntimeExited", "RuntimeInvocation")


def __getattr__(name: str) -> Any:
    if name in _RUNTIME_NAMES:  # the awslambdaric harness: imported only when asked for
        from . import _runtime

        return getattr(_runtime, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> Sequence[str]:
    return sorted([*globals(), *_RUNTIME_NAMES])
