"""``@handler``: opens and closes the request scope around every invocation."""

from __future__ import annotations

import os
from contextvars import copy_context
from functools import partial, update_wrapper

from . import _shutdown
from ._lifecycle import begin, end
from ._scope import ACTIVE, CLEANUPS, current, run_cleanups
from ._state import state
from ._util import (
    accepts_positional,
    check_callable,
    describe,
    is_async_callable,
    reject_unknown_options,
    seconds_value,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable
    from datetime import timedelta
    from types import ModuleType
    from typing import Any, Literal, Protocol, TypeVar, overload

    from typing_extensions import ParamSpec

    from ._guard import Guard, GuardedModule

    P = ParamSpec("P")
    R = TypeVar("R")

    class _HandlerDecorator(Protocol):
        @overload
        def __call__(self, func: Callable[P, Coroutine[Any, Any, R]], /) -> Callable[P, R]: ...
        @overload
        def __call__(self, func: Callable[P, R], /) -> Callable[P, R]: ...

else:

    def overload(func):
        return func


__all__ = ["guarded_modules", "handler"]

_EXAMPLE = "@handler"
_MARK = "__lambdascope_handler__"


def is_handler(func: object) -> bool:
    """Whether *func* is already wrapped by ``@handler``."""
    return bool(getattr(func, _MARK, False))


_loop: Any = None


def _event_loop() -> Any:
    """The one event loop async handlers run on, for the life of this process.

    Loop-bound clients (aiohttp sessions, aioboto3 clients) created by one
    invocation stay usable by the next.
    """
    global _loop
    if _loop is None or _loop.is_closed():
        import asyncio

        _loop = asyncio.new_event_loop()
    return _loop


def _forget_loop_in_child() -> None:
    # The parent's loop (its selector, its self-pipe) must not be shared with a forked child.
    global _loop
    _loop = None


if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX Python has it
    os.register_at_fork(after_in_child=_forget_loop_in_child)


def _run_coroutine(coro: Any) -> Any:
    import asyncio

    if asyncio._get_running_loop() is not None:
        coro.close()
        raise RuntimeError(
            "an async @handler was called from inside a running event loop. Lambda calls "
            "handlers synchronously and lambdascope runs the coroutine on its own loop; "
            "call the handler from synchronous code (a plain test function, or "
            "loop.run_in_executor) instead"
        )
    return _event_loop().run_until_complete(coro)


def _build(
    func: Any, method: bool, is_async: bool, guard: Guard | None, margin: float | None = None
) -> Any:
    """The per-invocation wrapper for *func*.

    Every invocation can run in :func:`_scoped_target`'s body; a method (``self`` comes
    first) and a guarded handler always do, through thin adapters, and an ``async def``
    handler through one more that runs the coroutine. A plain unguarded function gets
    :func:`_warm_path`, which handles its warm invocations itself and hands every other
    one (the first, and each while a recycling limit is set) to that body.
    With a deadline *margin* the adapter fixes the deadline first, and cancels a
    coroutine at the deadline minus the margin.
    """
    call = func
    if margin is not None:
        from . import _deadline

        if is_async:

            def call(*args: Any) -> Any:
                return _run_coroutine(_deadline.bounded(func(*args), margin))

        else:

            def call(*args: Any) -> Any:
                _deadline.start(margin)
                return func(*args)

    elif is_async:

        def call(*args: Any) -> Any:
            return _run_coroutine(func(*args))

    run = _scoped_target(guard)
    if guard is None and not method:
        return _warm_path(call, run)
    if method:

        def method_wrapper(self: Any, event: Any, context: Any = None) -> Any:
            return run(event, context, partial(call, self))

        return method_wrapper

    def guarded_wrapper(event: Any, context: Any = None) -> Any:
        return run(event, context, call)

    return guarded_wrapper


def _warm_path(
    call: Callable[[Any, Any], Any], run: Callable[[Any, Any, Callable[[Any, Any], Any]], Any]
) -> Callable[..., Any]:
    """The hot path: a warm invocation of a plain handler, with nothing else to do.

    Count, open the request scope, call (in a copy of the caller's context: what the
    handler sets in a ``ContextVar`` is this request's, gone when it returns), close the
    scope. An invocation that reaches
    ``state.check_at`` (the first one, and every one while a recycling limit is set)
    goes to *run*, the general body, which also does the cold start, recycling and the
    cold-start report; a warm invocation pays one comparison for that.
    """
    enter_scope = current.set
    leave_scope = current.reset
    active, cleanups = ACTIVE, CLEANUPS  # local constants are as fast as literals

    def plain_wrapper(event: Any, context: Any = None) -> Any:
        n = state.invocations + 1
        if n >= state.check_at:
            return run(event, context, call)
        state.invocations = n
        scope = [event, context, n, False, None, True, None]  # EVENT, ..., CLEANUPS
        token = enter_scope(scope)
        try:
            return copy_context().run(call, event, context)  # its ContextVars: this request's
        finally:
            scope[active] = False
            leave_scope(token)
            if scope[cleanups] is not None:
                run_cleanups(scope)

    return plain_wrapper


def _scoped_target(guard: Guard | None) -> Callable[[Any, Any, Callable[[Any, Any], Any]], Any]:
    """The general body: one invocation around a target given per call, checked by *guard*.

    ``begin``/``end`` (cold start, recycling, the cold-start report) run only when the
    invocation number reaches ``state.check_at``.

    The guard's ``enter`` runs inside the scope before the handler and its ``exit``
    after it, also when the handler raised; a leak then replaces the handler's error,
    which is chained as its ``__context__``. The handler runs in a copy of the caller's
    context, as in :func:`_warm_path`.
    """
    enter_scope = current.set
    leave_scope = current.reset
    active, cleanups = ACTIVE, CLEANUPS
    check_before = guard.enter if guard is not None else _nothing
    check_after = guard.exit if guard is not None else _nothing

    def run(event: Any, context: Any, target: Callable[[Any, Any], Any]) -> Any:
        n = state.invocations = state.invocations + 1
        special = n >= state.check_at
        cold_start = special and begin(n)
        scope = [event, context, n, cold_start, None, True, None]  # EVENT, ..., CLEANUPS
        token = enter_scope(scope)
        try:
            check_before()
            try:
                return copy_context().run(target, event, context)
            finally:
                check_after()
        finally:
            scope[active] = False
            leave_scope(token)
            if scope[cleanups] is not None:
                run_cleanups(scope)
            if special:
                end(n, context)

    return run


def _nothing() -> None:
    """The guard's place when there is no guard."""


def _is_method(func: Any) -> bool:
    code = getattr(func, "__code__", None)
    return (
        code is not None
        and not hasattr(func, "__self__")
        and code.co_argcount == 3
        and code.co_varnames[0] in ("self", "cls")
    )


def _wrap(func: Any, guard: Guard | None = None, margin: float | None = None) -> Any:
    if isinstance(func, (staticmethod, classmethod)):
        inner = _wrap(func.__func__, guard, margin)
        return type(func)(inner)
    check_callable("@handler", func, "@handler or @handler()")
    if is_handler(func):
        raise TypeError(
            f"{describe(func)} is already decorated with @handler; decorate it once "
            "(put all options on that one decorator)"
        )
    method = _is_method(func)
    if not method and not accepts_positional(func, 2):
        raise TypeError(
            f"@handler needs a Lambda handler that accepts (event, context), but {describe(func)} "
            "cannot be called with those two positional arguments. Define it as "
            "`def lambda_handler(event, context):` "
            "(or a method `def handle(self, event, context):`)"
        )
    wrapper = _build(func, method, is_async_callable(func), guard, margin)
    try:
        update_wrapper(wrapper, func)
    except AttributeError:  # pragma: no cover - callables without a __dict__
        wrapper.__wrapped__ = func
    setattr(wrapper, _MARK, True)
    return wrapper


_OPTIONS = ("guard", "allow", "modules", "exclude", "watch_tmp", "tmp_allow", "deadline_margin")
#: The options' values when not given.
_UNSET: dict[str, Any] = dict.fromkeys(_OPTIONS, ())
_UNSET.update(guard=None, watch_tmp=None, deadline_margin=None)
_OPTIONS_EXAMPLE = "@handler(guard='warn', allow=('cache',), exclude=('app.vendored',))"
_GUARD = "__lambdascope_guard__"


@overload
def handler(func: Callable[P, Coroutine[Any, Any, R]], /) -> Callable[P, R]: ...


@overload
def handler(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def handler(
    *,
    guard: Literal["raise", "warn", "off"] | None = None,
    allow: Iterable[str] = (),
    modules: Iterable[str | ModuleType] = (),
    exclude: Iterable[str | ModuleType] = (),
    watch_tmp: bool | None = None,
    tmp_allow: Iterable[str | os.PathLike[str]] = (),
    deadline_margin: float | timedelta | None = None,
) -> _HandlerDecorator: ...


def handler(
    func: Any = None,
    /,
    *,
    guard: Any = None,
    allow: Any = (),
    modules: Any = (),
    exclude: Any = (),
    watch_tmp: Any = None,
    tmp_allow: Any = (),
    deadline_margin: Any = None,
    **unknown: Any,
) -> Any:
    """Wrap a Lambda handler so every invocation gets a fresh :data:`request` scope.

    Per invocation it counts the invocation, works out whether it is the cold
    start, opens the request scope, calls the handler and always closes the
    scope, also when the handler raises (the exception propagates unchanged)::

        @handler
        def lambda_handler(event, context):
            request.user = event["user"]
            return {"cold": request.cold_start, "n": request.invocation}

    ``async def`` handlers are run to completion on one event loop that lives
    for the whole environment, so Lambda (which calls handlers synchronously)
    can call them directly. Methods (``def handle(self, event, context)``),
    static methods and callable instances work too. ``context`` defaults to
    ``None`` for local calls.

    The module-state guard (see the guard docs page) checks, around every
    invocation, that the handler did not write module-level state of the
    function's own code: every module of the project the handler belongs to
    (found from the module where ``handler`` is applied: on Lambda the task
    root and layers, elsewhere the folder holding the top-level package;
    not the standard library, lambdascope, test modules or installed
    distributions; :func:`~lambdascope.guarded_modules` lists them), plus
    *modules*, minus *exclude* (a package name covers its submodules).
    ``guard="raise"`` (the default, or the value of the ``LAMBDASCOPE_GUARD``
    environment variable) fails the invocation with
    :class:`~lambdascope.ScopeLeakError` and restores the state,
    ``guard="warn"`` issues a :class:`~lambdascope.ScopeLeakWarning` once per
    variable, ``guard="off"`` leaves the plain wrapper. *allow* names
    module-level variables that are deliberate caches (``"name"`` in the
    handler's module, ``"package.module.name"`` in any).

    In the guard's modes the /tmp watch also reports files the invocation left
    in the temp dir outside ``request.tmpdir``, :func:`~lambdascope.init_tmpdir`
    and *tmp_allow* (paths or patterns relative to the temp dir), as
    :class:`~lambdascope.TmpLeakError` or :class:`~lambdascope.TmpLeakWarning`;
    ``watch_tmp=False`` (or ``LAMBDASCOPE_WATCH_TMP=off``) turns just that off.

    *deadline_margin* (seconds or a ``timedelta``, opt-in) stops an invocation
    that runs out of time before Lambda's timeout does: an ``async def`` handler
    is cancelled at the deadline minus the margin and
    :class:`~lambdascope.DeadlineExceededError` is raised in its place; a sync
    handler is never interrupted, and calls ``request.check_deadline()`` where it
    can stop, which raises the same error once past that moment.

    Raises:
        TypeError: *func* is not callable, cannot take ``(event, context)``, is
            already decorated, or an option is unknown or of the wrong type.
        ValueError: *guard* (or ``LAMBDASCOPE_GUARD``) is not a guard mode, or
            ``LAMBDASCOPE_WATCH_TMP`` is not ``on``/``off``, or *deadline_margin* is
            negative, infinite or NaN.
    """
    reject_unknown_options("@handler", unknown, _OPTIONS, _OPTIONS_EXAMPLE)
    decorate = _decorator(
        guard=guard,
        allow=allow,
        modules=modules,
        exclude=exclude,
        watch_tmp=watch_tmp,
        tmp_allow=tmp_allow,
        deadline_margin=deadline_margin,
    )
    if func is None:
        return decorate
    from ._guard import caller_module

    return decorate(func, caller_module(1))  # where handler(func) is called


#: Why the guard has its mode when ``LAMBDASCOPE_GUARD`` is not set and the code says nothing.
DEFAULT_MODE = ("raise", "@handler's default")


def _decorator(
    *,
    guard: Any,
    allow: Any,
    modules: Any,
    exclude: Any,
    watch_tmp: Any,
    tmp_allow: Any,
    deadline_margin: Any,
    default: tuple[str, str] = DEFAULT_MODE,
) -> Any:
    """The options checked now, at decoration time; the decorator that applies them.

    *default* is the guard mode, and why in words, when neither ``guard=`` nor
    ``LAMBDASCOPE_GUARD`` gives one.
    """
    margin = None
    if deadline_margin is not None:
        margin = seconds_value(
            "@handler(deadline_margin=...)",
            deadline_margin,
            "e.g. deadline_margin=2 stops the handler 2 seconds before the function timeout",
            zero=True,
        )
    from ._config import GUARD, check_environment
    from ._guard import caller_module, resolve_mode

    mode = resolve_mode(guard, default[0])
    if guard is not None:
        set_by = f"guard={guard!r} in @handler(...)"
    elif os.environ.get(GUARD, "").strip():
        set_by = f"{GUARD}={mode}"
    else:
        set_by = default[1]
    from ._guard import resolve_watch, tmp_paths, with_watch

    watch = resolve_watch(watch_tmp)  # validated now, at decoration time
    tmp_allowed = tmp_paths(tmp_allow)
    check_environment()
    if mode != "off":
        from ._guard import Guard

        # validate the options now, at decoration time
        Guard(None, mode, allow, modules, exclude=exclude)

    def decorate(target: Any, site: str | None = None) -> Any:
        _shutdown.maybe_install_on_lambda()
        from .aws import install_client_warning  # cheap: botocore is not imported for it

        install_client_warning()
        if mode == "off":
            return _wrap(target, None, margin)
        if site is None:
            site = caller_module(1)  # where @handler(...) is applied
        guard = Guard(target, mode, allow, modules, exclude=exclude, site=site)
        guard.mode_set_by = set_by
        wrapper = _wrap(target, with_watch(guard, target, watch, tmp_allowed), margin)
        _set_guard(wrapper, guard)
        return wrapper

    return decorate


def wrap_in(
    site: str | None, target: Any, default: tuple[str, str] = DEFAULT_MODE, **options: Any
) -> Any:
    """``handler(**options)(target)`` for a tool that wraps a handler of module *site* for
    the user (the redirect, the test helpers): the project is *site*'s. *default* is the
    guard mode, and why, when neither *options* nor ``LAMBDASCOPE_GUARD`` sets one."""
    unknown = {name: value for name, value in options.items() if name not in _OPTIONS}
    reject_unknown_options("@handler", unknown, _OPTIONS, _OPTIONS_EXAMPLE)
    decorate = _decorator(**{**_UNSET, **options}, default=default)
    return decorate(target, site)


def guarded_modules(handler: Any) -> list[GuardedModule]:
    """The modules the guard of *handler* watches, with why: ``name``, ``file``, ``reason``.

    *handler* is what ``@handler`` or ``handler(...)`` returned. The guarded set is the
    function's own code (see :func:`handler`), as loaded now: call it after the handler's
    module was imported (on Lambda, after Init) or after an invocation. Empty when the guard
    is off::

        for module in lambdascope.guarded_modules(lambda_handler):
            print(module.name, module.file, module.reason)

    Raises:
        TypeError: *handler* was not returned by ``@handler``.
    """
    guard = guard_of(handler)
    return [] if guard is None else guard.guarded_modules()


def guard_of(func: Any) -> Any:
    """The guard of a function ``@handler`` returned (None: the guard is off)."""
    func = getattr(func, "__func__", func)
    if not is_handler(func):
        raise TypeError(
            f"guarded_modules() takes a handler returned by @handler or handler(...), got "
            f"{describe(func)}"
        )
    return getattr(func, _GUARD, None)


def _set_guard(wrapper: Any, guard: Any) -> None:
    inner = getattr(wrapper, "__func__", wrapper)  # a staticmethod or classmethod
    setattr(inner, _GUARD, guard)
