"""The floor of the runtime core: this process's lifecycle facts and options.

Lambda imports the handler module once per execution environment (Init) and then calls
the handler once per event (Invoke). In the Python runtime one process runs one
invocation at a time; under Lambda Managed Instances one environment runs several
processes, each initialised on its own. Everything here is therefore per *process*.

This module imports nothing else of lambdascope: every other module may read it. What
happens at the start and end of an invocation (cold start, recycling, the cold-start
report) lives in :mod:`lambdascope._lifecycle`.
"""

from __future__ import annotations

import os
import time

__all__ = [
    "INIT_TYPES",
    "INIT_TYPE_ENV",
    "PREINITIALIZED",
    "Config",
    "LifecycleState",
    "config",
    "initialization_type",
    "state",
]

INIT_TYPE_ENV = "AWS_LAMBDA_INITIALIZATION_TYPE"

#: Every value Lambda sets ``AWS_LAMBDA_INITIALIZATION_TYPE`` to.
INIT_TYPES = ("on-demand", "provisioned-concurrency", "snap-start", "lambda-managed-instances")
#: Initialization types under which Init happens before any request arrives, so
#: the first invocation does not pay for it and is not a cold start.
PREINITIALIZED = frozenset(INIT_TYPES[1:])


def initialization_type() -> str:
    """Return ``AWS_LAMBDA_INITIALIZATION_TYPE``, or ``"on-demand"`` off Lambda.

    One of ``on-demand``, ``provisioned-concurrency``, ``snap-start`` or
    ``lambda-managed-instances``. Local runs, tests and other runtimes count as
    ``on-demand``: the first invocation pays for Init.
    """
    return os.environ.get(INIT_TYPE_ENV) or "on-demand"


class Config:
    """Process-wide options set by :func:`lambdascope.configure`."""

    __slots__ = ("cold_start_report", "max_environment_age", "max_invocations")

    def __init__(self) -> None:
        self.max_environment_age: float | None = None
        self.max_invocations: int | None = None
        self.cold_start_report: bool | None = None  # None: the environment variable decides

    @property
    def limited(self) -> bool:
        """Whether a recycling limit is set (then every invocation takes the slow path)."""
        return self.max_invocations is not None or self.max_environment_age is not None


#: The options of this process.
config = Config()


class LifecycleState:
    """Mutable per-process lifecycle facts. One instance lives in :data:`state`.

    The handler wrapper reads ``invocations`` and ``check_at`` on every invocation and
    calls :func:`lambdascope._lifecycle.begin`/``end`` only when the invocation number
    reaches ``check_at`` (the first invocation, and every invocation while a recycling
    limit is configured), so the common warm path costs one comparison.
    """

    __slots__ = (
        "check_at",
        "cold_eligible",
        "config_warned",
        "first_ms",
        "first_started",
        "generation_invocation",
        "generation_started",
        "guards",
        "init_started",
        "init_type",
        "invocations",
        "recycled_at",
        "recycles",
        "restored",
    )

    def __init__(self, init_type: str | None = None) -> None:
        self.init_started = time.perf_counter()
        self.invocations = 0
        self.init_type = init_type or initialization_type()
        self.cold_eligible = self.init_type not in PREINITIALIZED
        self.check_at: float = 1
        self.first_started: float | None = None
        self.first_ms: float | None = None
        self.generation_started = self.init_started
        self.generation_invocation = 1
        self.recycled_at = 0
        self.recycles = 0
        self.restored = False
        #: handler -> what its guard watches (the cold-start report's ``guard``)
        self.guards: dict[str, dict[str, object]] = {}
        #: (variable, value) already warned about (a new environment warns again)
        self.config_warned: set[tuple[str, str]] = set()

    def reset(self, init_type: str | None = None) -> None:
        """Forget every invocation, as if this process had just been initialised.

        *init_type* overrides ``AWS_LAMBDA_INITIALIZATION_TYPE`` for the new environment.
        """
        self.__init__(init_type)  # type: ignore[misc]

    def past_limit(self, n: int, now: float) -> bool:
        """Whether invocation *n* passes a recycling limit of :data:`config`."""
        limit = config.max_invocations
        if limit is not None and n - self.generation_invocation >= limit:
            return True
        age = config.max_environment_age
        return age is not None and now - self.generation_started >= age

    def recycled(self, n: int) -> bool:
        """Whether invocation *n* re-created the init resources (``request.recycled``)."""
        return bool(self.recycled_at) and n == self.recycled_at

    def after_restore(self) -> None:
        """A SnapStart restore: a new environment whose Init ran before the snapshot."""
        self.reset()
        self.restored = True
        self.cold_eligible = False


#: The lifecycle state of this process.
state = LifecycleState()
