"""Process-wide lifecycle state: initialization type, invocation counter, cold start.

Lambda imports the handler module once per execution environment (Init) and then
calls the handler once per event (Invoke). In the Python runtime one process runs
one invocation at a time; under Lambda Managed Instances one environment runs
several processes, each initialised on its own. Everything here is therefore
per *process*.
"""

from __future__ import annotations

import os
import time

__all__ = ["INIT_TYPE_ENV", "LifecycleState", "initialization_type", "state"]

INIT_TYPE_ENV = "AWS_LAMBDA_INITIALIZATION_TYPE"

#: Initialization types under which Init happens before any request arrives, so
#: the first invocation does not pay for it and is not a cold start.
_PREINITIALIZED = frozenset({"provisioned-concurrency", "snap-start", "lambda-managed-instances"})


def initialization_type() -> str:
    """Return ``AWS_LAMBDA_INITIALIZATION_TYPE``, or ``"on-demand"`` off Lambda.

    One of ``on-demand``, ``provisioned-concurrency``, ``snap-start`` or
    ``lambda-managed-instances``. Local runs, tests and other runtimes count as
    ``on-demand``: the first invocation pays for Init.
    """
    return os.environ.get(INIT_TYPE_ENV) or "on-demand"


class LifecycleState:
    """Mutable per-process lifecycle facts. One instance lives in :data:`state`."""

    __slots__ = ("cold_eligible", "init_started", "init_type", "invocations")

    def __init__(self) -> None:
        self.init_started = time.perf_counter()
        self.invocations = 0
        self.init_type = initialization_type()
        self.cold_eligible = self.init_type not in _PREINITIALIZED

    def reset(self) -> None:
        """Forget every invocation, as if this process had just been initialised."""
        self.__init__()  # type: ignore[misc]


#: The lifecycle state of this process.
state = LifecycleState()
