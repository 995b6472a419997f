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
  (:class:`RuntimeInvocation` results, :class:`RuntimeExited` when its Init fails);
- :class:`ManagedInstances` — Lambda Managed Instances: several worker processes, each
  with its own Init, sharing one ``/tmp`` and serving invocations concurrently
  (:class:`ProcessInvocation` results, :class:`WorkerProcess`, :class:`TmpCollision`).

The pytest plugin (installed with lambdascope, see the testing docs page) wraps
these in fixtures. This module imports only the standard library; ``import
lambdascope`` does not import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._context import Client, ClientContext, CognitoIdentity, LambdaContext, check_settings
from ._environment import (
    InitInfo,
    Invocation,
    LambdaEnvironment,
    MarshalError,
    RuntimeExitError,
    assert_warm_matches_cold,
    error_type,
    invoke_cold_and_warm,
    new_environment,
)
from ._target import load_handler

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._processes import ManagedInstances, ProcessInvocation, TmpCollision, WorkerProcess
    from ._runtime import LocalRuntime, RuntimeExited, RuntimeInvocation

__all__ = [
    "Client",
    "ClientContext",
    "CognitoIdentity",
    "InitInfo",
    "Invocation",
    "LambdaContext",
    "LambdaEnvironment",
    "LocalRuntime",
    "ManagedInstances",
    "MarshalError",
    "ProcessInvocation",
    "RuntimeExitError",
    "RuntimeExited",
    "RuntimeInvocation",
    "TmpCollision",
    "WorkerProcess",
    "assert_warm_matches_cold",
    "check_settings",
    "error_type",
    "invoke_cold_and_warm",
    "load_handler",
    "new_environment",
]

_RUNTIME_NAMES = ("LocalRuntime", "RuntimeExited", "RuntimeInvocation")
_PROCESS_NAMES = ("ManagedInstances", "ProcessInvocation", "TmpCollision", "WorkerProcess")


def __getattr__(name: str) -> Any:
    if name in _RUNTIME_NAMES:  # the awslambdaric harness: imported only when asked for
        from . import _runtime

        return getattr(_runtime, name)
    if name in _PROCESS_NAMES:  # worker processes (subprocess, sockets): the same
        from . import _processes

        return getattr(_processes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> Sequence[str]:
    return sorted([*globals(), *_RUNTIME_NAMES, *_PROCESS_NAMES])
