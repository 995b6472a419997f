"""``@handler``: opens and closes the request scope around every invocation."""

from __future__ import annotations

import os
from functools import update_wrapper

from . import _lifecycle, _shutdown
from ._request import _current, new_scope
from ._util import (
    accepts_positional,
    check_callable,
    describe,
    is_async_callable,
    reject_unknown_options,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable, Sequence
    from types import ModuleType
    from typing import Any, Literal, Protocol, TypeVar, overload

    from typing_extensions import ParamSpec

    P = ParamSpec("P")
    R = TypeVar("R")

    class _HandlerDecorator(Protocol):
        @overload
        def __call__(self, func: Callable[P, Coroutine[Any, Any, R]], /) -> Callable[P, R]: ...
        @overload
        def __call__(self, func: Callable[P, R], /) -> Callable[P, R]: ...

    class InvocationHook(Protocol):
        """What ``@handler`` calls around each invocation (the guard is one)."""

        def enter(self) -> object:
            """Called after the request scope opens; returns a token for :meth:`exit`."""

        def exit(self, token: object, failed: bool) -> None:
            """Called before the scope closes; may raise to fail the invocation."""

else:

    def overload(func):
        return func


__all__ = ["handler"]

_EXAMPLE = "@handler"
_MARK = "__lambdascope_handler__"
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


def _build(  # noqa: PLR0915 - four hand-unrolled variants of one hot path
    func: Any, method: bool, is_async: bool, hooks: Sequence[InvocationHook]
) -> Any:
    """Generate the per-invocation wrapper. The hook-less variants are the hot path."""
    state = _lifecycle.state
    var_set = _current.set
    var_reset = _current.reset

    if hooks:
        return _build_hooked(func, method, is_async, hooks)

    if is_async:
        if method:

            def async_method_wrapper(self: Any, event: Any, context: Any = None) -> Any:
                n = state.invocations = state.invocations + 1
                special = n >= state.check_at
                scope = [event, context, n, special and state.begin(n), None, True]
                token = var_set(scope)
                try:
                    return _run_coroutine(func(self, event, context))
                finally:
                    scope[5] = False  # ACTIVE (a literal: this is the hot path)
                    var_reset(token)
                    if special:
                        state.end(n)

            return async_method_wrapper

        def async_wrapper(event: Any, context: Any = None) -> Any:
            n = state.invocations = state.invocations + 1
            special = n >= state.check_at
            scope = [event, context, n, special and state.begin(n), None, True]
            token = var_set(scope)
            try:
                return _run_coroutine(func(event, context))
            finally:
                scope[5] = False  # ACTIVE (a literal: this is the hot path)
                var_reset(token)
                if special:
                    state.end(n)

        return async_wrapper

    if method:

        def method_wrapper(self: Any, event: Any, context: Any = None) -> Any:
            n = state.invocations = state.invocations + 1
            special = n >= state.check_at
            scope = [event, context, n, special and state.begin(n), None, True]
            token = var_set(scope)
            try:
                return func(self, event, context)
            finally:
                scope[5] = False  # ACTIVE (a literal: this is the hot path)
                var_reset(token)
                if special:
                    state.end(n)

        return method_wrapper

    def plain_wrapper(event: Any, context: Any = None) -> Any:
        n = state.invocations = state.invocations + 1
        special = n >= state.check_at
        scope = [event, context, n, special and state.begin(n), None, True]
        token = var_set(scope)
        try:
            return func(event, context)
        finally:
            scope[5] = False  # ACTIVE (a literal: this is the hot path)
            var_reset(token)
            if special:
                state.end(n)

    return plain_wrapper


def _build_hooked(func: Any, method: bool, is_async: bool, hooks: Sequence[InvocationHook]) -> Any:
    """The wrapper with invocation hooks (the guard): enter in order, exit in reverse."""
    state = _lifecycle.state

    def invoke(args: tuple[Any, ...]) -> Any:
        event, context = args[-2], args[-1]
        n = state.invocations = state.invocations + 1
        special = n >= state.check_at
        scope = new_scope(event, context, n, special and state.begin(n))
        token = _current.set(scope)
        entered: list[tuple[InvocationHook, object]] = []
        failed = True
        try:
            for hook in hooks:
                entered.append((hook, hook.enter()))
            result = func(*args)
            if is_async:
                result = _run_coroutine(result)
            failed = False
        finally:
            try:
                # Exit hooks run even when the handler raised; a hook that raises
                # replaces the handler's outcome (the handler's error is chained).
                for hook, hook_token in reversed(entered):
                    hook.exit(hook_token, failed)
            finally:
                scope[5] = False  # ACTIVE (a literal: this is the hot path)
                _current.reset(token)
                if special:
                    state.end(n)
        return result

    if method:

        def hooked_method_wrapper(self: Any, event: Any, context: Any = None) -> Any:
            return invoke((self, event, context))

        return hooked_method_wrapper

    def hooked_wrapper(event: Any, context: Any = None) -> Any:
        return invoke((event, context))

    return hooked_wrapper


def _is_method(func: Any) -> bool:
    code = getattr(func, "__code__", None)
    return (
        code is not None
        and not hasattr(func, "__self__")
        and code.co_argcount == 3
        and code.co_varnames[0] in ("self", "cls")
    )


def _wrap(func: Any, hooks: Sequence[InvocationHook] = ()) -> Any:
    if isinstance(func, (staticmethod, classmethod)):
        inner = _wrap(func.__func__, hooks)
        return type(func)(inner)
    check_callable("@handler", func, "@handler or @handler()")
    if getattr(func, _MARK, False):
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
    wrapper = _build(func, method, is_async_callable(func), hooks)
    try:
        update_wrapper(wrapper, func)
    except AttributeError:  # pragma: no cover - callables without a __dict__
        wrapper.__wrapped__ = func
    setattr(wrapper, _MARK, True)
    return wrapper


_OPTIONS = ("guard", "allow", "modules")
_OPTIONS_EXAMPLE = "@handler(guard='warn', allow=('cache',), modules=('mypackage',))"


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
) -> _HandlerDecorator: ...


def handler(
    func: Any = None,
    /,
    *,
    guard: Any = None,
    allow: Any = (),
    modules: Any = (),
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
    invocation, that the handler did not write module-level state of its own
    module (and of *modules*): ``guard="raise"`` (the default, or the value of
    the ``LAMBDASCOPE_GUARD`` environment variable) fails the invocation with
    :class:`~lambdascope.ScopeLeakError` and restores the state,
    ``guard="warn"`` issues a :class:`~lambdascope.ScopeLeakWarning` once per
    variable, ``guard="off"`` leaves the plain wrapper. *allow* names
    module-level variables that are deliberate caches; *modules* adds modules
    (a package name covers its submodules).

    Raises:
        TypeError: *func* is not callable, cannot take ``(event, context)``, is
            already decorated, or an option is unknown or of the wrong type.
        ValueError: *guard* (or ``LAMBDASCOPE_GUARD``) is not a guard mode.
    """
    reject_unknown_options("@handler", unknown, _OPTIONS, _OPTIONS_EXAMPLE)
    from ._guard import resolve_mode

    mode = resolve_mode(guard)
    if mode == "off":
        hooks_for = None
    else:
        from ._guard import Guard

        Guard(None, mode, allow, modules)  # validate the options now, at decoration time

        def hooks_for(target: Any) -> Sequence[InvocationHook]:
            inner = getattr(target, "__func__", target)  # staticmethod / classmethod
            return (Guard(inner, mode, allow, modules),)

    def decorate(target: Any) -> Any:
        _shutdown.maybe_install_on_lambda()
        from .aws import install_client_warning  # cheap: botocore is not imported for it

        install_client_warning()
        return _wrap(target, () if hooks_for is None else hooks_for(target))

    if func is None:
        return decorate
    return decorate(func)
