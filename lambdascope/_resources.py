"""``@init_resource``: lazily created, once-per-environment values."""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from contextvars import ContextVar
from functools import update_wrapper

from ._scope import in_invocation
from ._state import state
from ._util import (
    check_callable,
    describe,
    is_async_callable,
    positive_seconds,
    reject_unknown_options,
    required_arguments,
    seconds_value,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Generic, Literal, TypeVar, overload

    T = TypeVar("T")

    class _GenericBase(Generic[T]):
        pass

else:  # keep `typing` off the import path: it is a measurable share of a cold start

    def overload(func):
        return func

    class _GenericBase:  # gives subclasses __dict__ and __weakref__
        def __class_getitem__(cls, item):
            return cls

    T = None

__all__ = [
    "InitResource",
    "ResourceRecord",
    "init_resource",
    "prewarm",
    "reset_resources",
    "resource_records",
    "shutdown",
]

_MISSING: Any = object()
_OPTIONS = ("ttl", "validate", "close", "eager", "on_restore")
_RESTORE_POLICIES = ("keep", "recreate")
_EXAMPLE = "@init_resource(ttl=300)"
_MAX_RECORDS = 256


class ResourceRecord:
    """One run of an init resource's factory: what, when, how long, during which phase.

    Attributes:
        name: the resource's dotted name (``module.factory``).
        started: wall-clock start, seconds since the epoch.
        duration: seconds the factory took.
        phase: ``"init"`` when created outside any invocation (module import,
            ``eager=True``, prewarming), ``"invoke"`` when created lazily by an invocation.
        invocation: the invocation counter at creation time (0 during Init).
        error: ``repr`` of the exception the factory raised, or ``None``.
    """

    __slots__ = ("duration", "error", "invocation", "name", "phase", "started")
    __module__ = "lambdascope"

    def __init__(  # noqa: PLR0917 - built by one internal call site
        self,
        name: str,
        started: float,
        duration: float,
        phase: str,
        invocation: int,
        error: str | None,
    ) -> None:
        self.name = name
        self.started = started
        self.duration = duration
        self.phase = phase
        self.invocation = invocation
        self.error = error

    def as_dict(self) -> dict[str, Any]:
        """The record as a JSON-serialisable dict."""
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        outcome = "ok" if self.error is None else self.error
        return (
            f"<ResourceRecord {self.name} {self.duration * 1000:.3f} ms "
            f"phase={self.phase} invocation={self.invocation} {outcome}>"
        )


def report_entry(record: ResourceRecord) -> dict[str, Any]:
    """*record* as the cold-start report and ``lambdascope invoke --json`` show it."""
    return {
        "name": record.name,
        "ms": round(record.duration * 1000, 3),
        "phase": record.phase,
        "error": record.error,
    }


def record_from_entry(entry: dict[str, Any], invocation: int) -> ResourceRecord:
    """The :class:`ResourceRecord` a :func:`report_entry` stands for (start time unknown: 0)."""
    return ResourceRecord(
        entry["name"], 0.0, entry["ms"] / 1000, entry["phase"], invocation, entry["error"]
    )


_registry: list[weakref.ref[InitResource[Any]]] = []
#: True while an init resource factory runs in this context (read by lambdascope.aws).
in_factory: ContextVar[bool] = ContextVar("lambdascope.in_factory", default=False)
_records: list[ResourceRecord] = []
_records_lock = threading.Lock()
_sequence = 0  # creation order, for closing in reverse


#: Dependency-cycle detection across threads: which resource each blocked thread waits for.
_graph_lock = threading.Lock()
_waiting: dict[int, InitResource[Any]] = {}
_local = threading.local()


def _creating_here() -> list[InitResource[Any]]:
    """The init resources whose factories are running in this thread, outermost first."""
    stack: list[InitResource[Any]] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def _cycle_message(resource: InitResource[Any], chain: list[InitResource[Any]]) -> str:
    names = [r.name for r in chain]
    if resource in chain:
        names = names[chain.index(resource) :]
    path = " -> ".join([*names, resource.name])
    where = "" if resource in _creating_here() else " (its creation runs in another thread)"
    return (
        f"init resource {resource.name} was called from its own factory{where}: the init "
        f"resources depend on each other in a cycle: {path}. A factory must not (even "
        "indirectly) call itself: give what both need to a third init resource, or build one "
        "of them without the other."
    )


def _reject_coroutine(resource: InitResource[Any], value: object) -> None:
    if hasattr(value, "__await__") and hasattr(value, "cr_code"):
        value.close()  # type: ignore[attr-defined]  # never awaited: no "never awaited" warning
        raise TypeError(_async_message(resource.name))


def _async_message(name: str) -> str:
    return (
        f"@init_resource cannot cache {name}: it returns a coroutine, which can be awaited "
        "only once, so every invocation after the first would fail ('cannot reuse already "
        "awaited coroutine'). Use a plain def factory that builds the object without awaiting "
        "(async clients such as aiobotocore sessions or httpx.AsyncClient connect on first use), "
        "and await its setup inside the handler if it needs any."
    )


def _record(entry: ResourceRecord) -> None:
    with _records_lock:
        _records.append(entry)
        if len(_records) > _MAX_RECORDS:
            del _records[0]


def _record_creation(
    name: str, started: float, duration: float, in_init: bool, error: BaseException | None
) -> None:
    """Record one run of a resource factory: how long it took, in which phase, how it ended."""
    phase = "init" if in_init else "invoke"
    shown = None if error is None else repr(error)
    _record(ResourceRecord(name, started, duration, phase, state.invocations, shown))


def clear_records() -> None:
    """Forget every record (a new environment starts with none)."""
    with _records_lock:
        del _records[:]


def resource_records() -> list[ResourceRecord]:
    """Every factory run in this process so far, oldest first (at most the last 256).

    The records feed cold-start reports: they show which resource dominated Init::

        for r in lambdascope.resource_records():
            print(r.name, f"{r.duration * 1000:.1f} ms", r.phase)
    """
    with _records_lock:
        return list(_records)


def _live_resources() -> list[InitResource[Any]]:
    alive = [r for r in (ref() for ref in _registry) if r is not None]
    if len(alive) != len(_registry):
        _registry[:] = [weakref.ref(r) for r in alive]
    return alive


def cached_values() -> list[Any]:
    """The values init resources hold now: the guard never watches them (they are theirs)."""
    return [r._value for r in _live_resources() if r._value is not _MISSING]


#: ``(started, finished)`` called around a factory that runs during an invocation: the
#: guard registers them, so what a factory writes counts as Init work, not a leak.
_factory_observers: list[tuple[Callable[[], object], Callable[[object], None]]] = []


def observe_factories(started: Callable[[], object], finished: Callable[[object], None]) -> None:
    """Have *started* and *finished* called around factories that run during an invocation."""
    if (started, finished) not in _factory_observers:
        _factory_observers.append((started, finished))


def reset_resources() -> None:
    """Drop every cached init resource, closing values in reverse creation order.

    This is what a new execution environment looks like to init resources: the
    next call of each one runs its factory again. Close errors are logged on the
    ``lambdascope`` logger, not raised, so one broken resource does not keep the
    others open. Tests use it to simulate a cold start::

        def test_cold_path():
            lambdascope.reset_resources()
            assert lambda_handler(event, None) == expected
    """
    for resource in created_newest_first():
        try:
            resource.reset()
        except Exception:
            _log_close_error(resource)


def created_newest_first() -> list[InitResource[Any]]:
    """The init resources holding a value, newest first: the one order every close follows.

    A resource whose factory uses another is created after it, so closing newest
    first closes dependants before their dependencies.
    """
    created = [r for r in _live_resources() if r._value is not _MISSING]
    created.sort(key=lambda r: r._sequence, reverse=True)
    return created


def _log_close_error(resource: InitResource[Any]) -> None:
    import logging

    logging.getLogger("lambdascope").exception(
        "closing init resource %s failed; the value was dropped anyway", resource.name
    )


def prewarm(*resources: InitResource[Any]) -> None:
    """Create init resources now, during Init, instead of on first use.

    With no argument, every init resource defined so far is created (in
    definition order); otherwise only the ones given. Call it at the end of
    the handler module, so that provisioned concurrency or SnapStart pays for
    the clients before traffic arrives::

        s3 = init_resource(make_s3)
        table = init_resource(make_table)
        lambdascope.prewarm()  # both exist before the first invocation

    A factory that fails raises its own exception, unchanged, with a note
    naming the resource (Python 3.11+), so the Lambda Init error says which
    resource broke.
    """
    for resource in resources or tuple(_live_resources()):
        if not isinstance(resource, InitResource):
            raise TypeError(
                f"prewarm() takes init resources (functions decorated with @init_resource), "
                f"got {describe(resource)}"
            )
    for resource in resources or tuple(_live_resources()):
        _create_during_init(resource)


def _create_during_init(resource: InitResource[Any]) -> None:
    try:
        resource()
    except Exception as exc:
        if hasattr(exc, "add_note"):
            exc.add_note(f"(raised while creating init resource {resource.name} during Init)")
        raise


def before_snapshot() -> None:
    """Close and drop every resource declared ``on_restore="recreate"``, newest first."""
    for resource in created_newest_first():
        if resource._on_restore == "recreate":
            resource.reset()


def after_restore() -> None:
    """After a SnapStart restore: re-create or notify each resource, as its ``on_restore`` says."""
    for resource in _live_resources():
        policy = resource._on_restore
        if policy == "recreate":
            if resource.initialized:  # created after the snapshot hook ran
                resource.reset()
            if resource._eager:
                _create_during_init(resource)
        elif callable(policy) and resource.initialized:
            policy(resource())


def shutdown(timeout: float = 0.25) -> list[str]:
    """Close every created init resource once, newest first, within *timeout* seconds.

    This is what Lambda's Shutdown phase should do with connections: it is
    called by the SIGTERM handler (see :func:`install_shutdown_handler`) and
    can be called directly by tests or other runtimes. Close errors are logged
    on the ``lambdascope`` logger, never raised. Resources still open when the
    time budget runs out are dropped without closing and logged. Calling it
    again closes nothing twice.

    Returns:
        The names of the resources that were closed (or dropped), in order.
    """
    timeout = shutdown_budget("shutdown(timeout=...)", timeout)
    deadline = time.monotonic() + timeout
    done: list[str] = []
    for resource in created_newest_first():
        if time.monotonic() >= deadline:
            import logging

            logging.getLogger("lambdascope").warning(
                "shutdown budget of %.3f s exhausted: dropping %s without closing it",
                timeout,
                resource.name,
            )
            with resource._lock:
                resource._value = resource._fast = _MISSING
        else:
            try:
                resource.reset()
            except Exception:
                _log_close_error(resource)
        done.append(resource.name)
    return done


def shutdown_budget(option: str, timeout: object) -> float:
    """Validate a shutdown time budget: a positive, finite number of seconds."""
    return seconds_value(
        option, timeout, "Lambda allows about 0.3-0.5 s after SIGTERM; the default is 0.25"
    )


def _after_fork_in_child() -> None:
    """A forked child starts as a new environment: it must not share the parent's sockets.

    Values are dropped *without* calling ``close``: they belong to the parent,
    which keeps using them. Locks are replaced, because a lock another thread
    held at fork time would never be released in the child.
    """
    global _records_lock
    _records_lock = threading.Lock()
    del _records[:]  # the parent's Init is not the child's
    global _graph_lock
    _graph_lock = threading.Lock()
    _waiting.clear()
    for resource in _live_resources():
        resource._lock = threading.RLock()
        resource._creating = False
        resource._owner = None
        resource._value = resource._fast = _MISSING
        resource._expires = math.inf
    state.reset()


if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX Python has it
    os.register_at_fork(after_in_child=_after_fork_in_child)


class InitResource(_GenericBase[T]):
    """A lazily created value cached for the life of the execution environment.

    Made by :func:`init_resource`; call it to get the value. See that function
    for the behaviour and the options.
    """

    __module__ = "lambdascope"
    # The hot attribute lives in a slot: update_wrapper() fills the instance __dict__ with
    # the factory's metadata, and slot access stays fast whatever that dict looks like.
    __slots__ = ("_fast", "_value")

    def __init__(
        self,
        factory: Callable[[], T],
        *,
        ttl: float | None = None,
        validate: Callable[[T], object] | None = None,
        close: Callable[[T], object] | None = None,
        on_restore: str | Callable[[T], object] = "keep",
    ) -> None:
        update_wrapper(self, factory)
        self._on_restore = on_restore
        self._eager = False
        self._factory = factory
        self._ttl = ttl
        self._validate = validate
        self._close = close
        self._plain = ttl is None and validate is None
        self._lock = threading.RLock()
        self._creating = False
        self._owner: int | None = None  # the thread running the factory
        self._generation = 0  # bumped whenever the cached value changes
        self._value: T = _MISSING
        self._fast: T = _MISSING
        self._expires = math.inf
        self._sequence = 0
        self.name: str = (
            f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', '?')}"
        )
        """Dotted name of the factory, used in records and messages."""
        self.creations = 0
        """How many times the factory has run successfully in this process."""
        self.last_duration: float | None = None
        """Seconds the last successful factory run took, or ``None``."""
        _registry.append(weakref.ref(self))

    def __call__(self) -> T:
        # _fast holds the value only while no ttl/validate check is needed on access.
        value = self._fast
        if value is not _MISSING:
            return value
        return self._get()

    @property
    def initialized(self) -> bool:
        """Whether a value is currently cached (the factory has run and not been reset)."""
        return self._value is not _MISSING

    def reset(self) -> None:
        """Drop the cached value, calling ``close`` on it if one was given.

        The next call runs the factory again. The value is dropped even when
        ``close`` raises; the error propagates to the caller.
        """
        with self._lock:
            value = self._value
            if value is _MISSING:
                return
            self._value = self._fast = _MISSING
            self._expires = math.inf
            self._generation += 1
            if self._close is not None:
                self._close(value)

    def _fresh(self, value: T) -> bool:
        if self._ttl is not None and time.monotonic() >= self._expires:
            return False
        if self._validate is None:
            return True
        try:
            return bool(self._validate(value))
        except Exception:  # a failing health check means "not healthy"
            return False

    def _get(self) -> T:
        generation = self._generation
        value = self._value
        if value is not _MISSING and self._fresh(value):
            return value
        self._acquire()
        try:
            current = self._value
            if current is not _MISSING and self._generation != generation:
                return current  # another thread created or refreshed it meanwhile
            if self._creating:
                raise RuntimeError(_cycle_message(self, _creating_here()))
            if current is _MISSING:
                return self._create()
            return self._refresh(current)  # expired or unhealthy
        finally:
            self._lock.release()

    def _refresh(self, old: T) -> T:
        """Replace *old* with a new value, then close *old* unless the factory returned it."""
        try:
            new = self._create()
        except BaseException:
            self._drop(old)  # the stale value is not kept; nothing new is cached
            raise
        if new is not old:
            self._close_quietly(old)
        return new

    def _drop(self, old: T) -> None:
        self._value = self._fast = _MISSING
        self._expires = math.inf
        self._generation += 1
        self._close_quietly(old)

    def _close_quietly(self, old: T) -> None:
        if self._close is not None:
            try:
                self._close(old)
            except Exception:
                _log_close_error(self)

    def _acquire(self) -> None:
        """Take the creation lock; raise instead of waiting on a dependency cycle."""
        if self._lock.acquire(blocking=False):
            return
        me = threading.get_ident()
        with _graph_lock:
            chain: list[InitResource[Any]] = [self]
            owner = self._owner
            while owner is not None:
                if owner == me:  # the thread we wait for waits, in the end, for us
                    raise RuntimeError(_cycle_message(self, [*_creating_here(), *chain]))
                waited = _waiting.get(owner)
                if waited is None:
                    break
                chain.append(waited)
                owner = waited._owner
            _waiting[me] = self
        try:
            self._lock.acquire()
        finally:
            with _graph_lock:
                _waiting.pop(me, None)

    def _create(self) -> T:
        global _sequence
        in_init = not in_invocation()
        started_wall = time.time()
        started = time.perf_counter()
        self._creating = True
        self._owner = threading.get_ident()
        stack = _creating_here()
        stack.append(self)
        marker = in_factory.set(True)
        observed = [] if in_init else [(end, start()) for start, end in _factory_observers]
        try:
            value = self._factory()
            _reject_coroutine(self, value)
        except BaseException as exc:
            _record_creation(self.name, started_wall, time.perf_counter() - started, in_init, exc)
            raise
        finally:
            self._creating = False
            self._owner = None
            stack.pop()
            in_factory.reset(marker)
            for finished, token in observed:
                finished(token)
        duration = time.perf_counter() - started
        _sequence += 1
        self._sequence = _sequence
        self.creations += 1
        self.last_duration = duration
        if self._ttl is not None:
            self._expires = time.monotonic() + self._ttl
        self._value = value
        self._generation += 1
        if self._plain:
            self._fast = value
        _record_creation(self.name, started_wall, duration, in_init, None)
        return value

    def __repr__(self) -> str:
        status = "initialized" if self.initialized else "not initialized"
        return f"<lambdascope.InitResource {self.name} ({status})>"


def _check_hook(option: str, hook: object) -> None:
    if hook is not None and not callable(hook):
        raise TypeError(
            f"init_resource({option}=...) must be a callable taking the value, got {describe(hook)}"
        )


@overload
def init_resource(
    factory: Callable[[], T],
    /,
    *,
    ttl: float | Any | None = None,
    validate: Callable[[T], object] | None = None,
    close: Callable[[T], object] | None = None,
    eager: bool = False,
    on_restore: Literal["keep", "recreate"] | Callable[[T], object] = "keep",
) -> InitResource[T]: ...


@overload
def init_resource(  # the value type is not known yet: hooks take Any
    *,
    ttl: float | Any | None = None,
    validate: Callable[[Any], object] | None = None,
    close: Callable[[Any], object] | None = None,
    eager: bool = False,
    on_restore: Literal["keep", "recreate"] | Callable[[Any], object] = "keep",
) -> Callable[[Callable[[], T]], InitResource[T]]: ...


def init_resource(factory: Any = None, /, **options: Any) -> Any:
    """Turn a zero-argument factory into a lazily created, once-per-environment value.

    The first call runs the factory and caches its result; later calls return the
    cached value (``init_resource(factory, ttl=...)`` works as a plain call too).
    Concurrent first calls from several threads run the factory
    once. A factory that raises caches nothing: the exception propagates
    unchanged and the next call tries again::

        @init_resource
        def s3():
            return boto3.client("s3")

        @init_resource(ttl=300, validate=lambda conn: conn.is_alive(), close=lambda c: c.close())
        def db():
            return connect(DSN)

    Args:
        factory: a callable taking no arguments.

    Keyword Args:
        ttl (float | timedelta | None): seconds (or a ``timedelta``) after which the
            value is closed and re-created on the next call.
        validate (Callable | None): a predicate called with the value on every access;
            a false result (or an exception) closes it and creates a new one.
        close (Callable | None): called with the value when it is dropped (``reset()``,
            ``ttl``, ``validate``, :func:`reset_resources`).
        eager (bool): create the value now, during Init, instead of on first use.
        on_restore (str | Callable): what a SnapStart restore does with the value:
            ``"keep"`` (default), ``"recreate"`` (closed before the snapshot, created
            again after the restore — for network connections and random state), or a
            callable that receives the value after the restore.

    Returns:
        An :class:`InitResource`: call it for the value; ``.reset()`` drops it;
        ``.initialized`` says whether one is cached.

    Raises:
        TypeError: *factory* is not callable or needs arguments, or an option is
            unknown or of the wrong type.
        ValueError: ``ttl`` is not a positive, finite number, or ``on_restore`` is
            neither ``"keep"``, ``"recreate"`` nor a callable.
    """
    unknown = {k: v for k, v in options.items() if k not in _OPTIONS}
    reject_unknown_options("init_resource", unknown, _OPTIONS, _EXAMPLE)
    ttl = positive_seconds(
        "init_resource(ttl=...)",
        options.get("ttl"),
        "leave ttl out to keep the value for the life of the environment",
    )
    validate = options.get("validate")
    close = options.get("close")
    _check_hook("validate", validate)
    _check_hook("close", close)
    eager = options.get("eager", False)
    if not isinstance(eager, bool):
        raise TypeError(f"init_resource(eager=...) must be True or False, got {describe(eager)}")
    on_restore = options.get("on_restore", "keep")
    if not callable(on_restore) and on_restore not in _RESTORE_POLICIES:
        raise ValueError(
            "init_resource(on_restore=...) must be 'keep', 'recreate' or a callable taking the "
            f"value, got {on_restore!r}"
        )

    def decorate(func: Any) -> InitResource[Any]:
        check_callable("@init_resource", func, _EXAMPLE)
        if is_async_callable(func):
            raise TypeError(_async_message(describe(func)))
        required, kwonly = required_arguments(func)
        if required or kwonly:
            raise TypeError(
                f"@init_resource needs a factory that takes no arguments, but "
                f"{describe(func)} requires {required + len(kwonly)}. Give the parameters "
                "defaults, or wrap the call: @init_resource def client(): return make(...)"
            )
        resource = InitResource(
            func, ttl=ttl, validate=validate, close=close, on_restore=on_restore
        )
        resource._eager = eager
        if eager:
            _create_during_init(resource)
        return resource

    if factory is None:
        return decorate
    return decorate(factory)
