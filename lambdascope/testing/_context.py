"""What Lambda hands a function: its environment variables, its ARN and the context object."""

from __future__ import annotations

import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from lambdascope._state import INIT_TYPES
from lambdascope._util import seconds_value

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from typing_extensions import Self

__all__ = [
    "INIT_TYPES",
    "Client",
    "ClientContext",
    "Closing",
    "CognitoIdentity",
    "LambdaContext",
    "check_settings",
    "function_arn",
    "lambda_seconds",
    "lambda_variables",
    "memory_size",
]

_ACCOUNT = "123456789012"
_MIN_MEMORY, _MAX_MEMORY = 128, 10240
_MAX_TIMEOUT = 900  # seconds


def lambda_seconds(option: str, value: object) -> float:
    hint = f"Lambda allows 1 to {_MAX_TIMEOUT} seconds"
    seconds = seconds_value(option, value, hint)
    if seconds > _MAX_TIMEOUT:
        raise ValueError(f"{option} must be at most {_MAX_TIMEOUT} seconds, got {value!r}; {hint}")
    return seconds


def memory_size(value: object) -> int:
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
    memory_size(memory_mb)
    lambda_seconds("timeout", timeout)


def function_arn(region: str, function_name: str) -> str:
    return f"arn:aws:lambda:{region}:{_ACCOUNT}:function:{function_name}"


def _log_stream_name(version: str = "$LATEST") -> str:
    """``YYYY/MM/DD/[version]`` and 32 hex digits, as Lambda names a log stream."""
    return time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{version}]{uuid.uuid4().hex}"


def lambda_variables(
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
        seconds = lambda_seconds("timeout", timeout)
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = str(memory_size(memory_mb))
        self.invoked_function_arn = invoked_function_arn or function_arn(region, function_name)
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


class Closing:
    """The ``with`` protocol of the harnesses: entering returns it, leaving calls ``close()``."""

    def close(self) -> None:
        """End what this object started (each harness says what)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
