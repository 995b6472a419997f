"""Small helpers shared by the decorators. Nothing here imports anything heavy."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

__all__ = [
    "accepts_positional",
    "check_callable",
    "describe",
    "exec_spec",
    "is_async_callable",
    "outside_stacklevel",
    "positive_seconds",
    "reject_unknown_options",
    "required_arguments",
    "seconds_value",
    "warn_at",
]

_CO_VARARGS = 0x04
_CO_COROUTINE = 0x80


def describe(obj: object) -> str:
    """A short, human description of *obj* for error messages."""
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return (
        f"{name!s} ({type(obj).__name__})" if callable(obj) else f"{obj!r} ({type(obj).__name__})"
    )


def _code_owner(obj: Any) -> tuple[Any, int] | None:
    """Return the Python function behind *obj* and how many leading arguments are bound."""
    func = obj
    bound = 0
    if hasattr(func, "__func__") and hasattr(func, "__self__"):  # bound method
        func, bound = func.__func__, 1
    if not hasattr(func, "__code__"):
        call = getattr(type(obj), "__call__", None)  # noqa: B004 - the Python-level __call__ itself
        if isinstance(obj, type) or getattr(call, "__code__", None) is None:
            return None
        func, bound = call, 1  # callable instance
    if not hasattr(func, "__defaults__"):
        return None
    return func, bound


def _signature_counts(obj: Any) -> tuple[int, int | None, tuple[str, ...]] | None:
    """(required positional, max positional or None for *args, required keyword-only names)."""
    owner = _code_owner(obj)
    if owner is None:
        return _signature_counts_slow(obj)
    func, bound = owner
    code = func.__code__
    positional = code.co_argcount - bound
    required = positional - len(func.__defaults__ or ())
    names = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    kwdefaults = func.__kwdefaults__ or {}
    kwonly = tuple(n for n in names if n not in kwdefaults)
    maximum = None if code.co_flags & _CO_VARARGS else positional
    return max(required, 0), maximum, kwonly


def _signature_counts_slow(obj: Any) -> tuple[int, int | None, tuple[str, ...]] | None:
    # Classes, partials, builtins: rare enough to pay for inspect (imported here only).
    import inspect

    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # some builtins have no signature: trust the caller
        return None
    required = 0
    maximum: int | None = 0
    kwonly: list[str] = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            maximum = None if maximum is None else maximum + 1
            required += p.default is p.empty
        elif p.kind is p.VAR_POSITIONAL:
            maximum = None
        elif p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            kwonly.append(p.name)
    return required, maximum, tuple(kwonly)


def required_arguments(obj: Any) -> tuple[int, tuple[str, ...]]:
    """How many positional arguments *obj* requires, and its required keyword-only names."""
    counts = _signature_counts(obj)
    if counts is None:
        return 0, ()
    return counts[0], counts[2]


def accepts_positional(obj: Any, n: int) -> bool:
    """Whether *obj* can be called with exactly *n* positional arguments (as far as we can tell)."""
    counts = _signature_counts(obj)
    if counts is None:
        return True
    required, maximum, kwonly = counts
    return required <= n and (maximum is None or maximum >= n) and not kwonly


def is_async_callable(obj: Any) -> bool:
    """``inspect.iscoroutinefunction`` without importing inspect (or asyncio).

    Sees through bound methods, ``functools.partial`` and callable instances whose
    ``__call__`` is ``async def``.
    """
    while True:
        inner = getattr(obj, "func", None)  # functools.partial
        if inner is None or not callable(inner) or not hasattr(obj, "keywords"):
            break
        obj = inner
    if getattr(obj, "_is_coroutine_marker", None) is not None:  # inspect.markcoroutinefunction
        return True
    owner = _code_owner(obj)
    return owner is not None and bool(owner[0].__code__.co_flags & _CO_COROUTINE)


def outside_stacklevel() -> int:
    """The ``stacklevel`` that makes the caller's ``warnings.warn`` point at the first frame
    outside lambdascope (the user's code that applied ``@handler`` or called the handler)."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = sys._getframe(1)  # the function that will call warnings.warn: level 1
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
        level += 1
    return level


def warn_at(func: Any, warning: Warning) -> None:
    """Issue *warning* at *func*'s definition, its file and first line: a warning about the
    user's handler points at the handler, not at lambdascope (nor at whoever called it)."""
    import warnings

    code = getattr(func, "__code__", None)
    module_globals = getattr(func, "__globals__", None)
    if code is None or not isinstance(module_globals, dict):
        warnings.warn(warning, stacklevel=outside_stacklevel())
        return
    warnings.warn_explicit(
        warning,
        type(warning),
        code.co_filename,
        code.co_firstlineno,
        module=getattr(func, "__module__", None) or None,
        registry=module_globals.setdefault("__warningregistry__", {}),
        module_globals=module_globals,
    )


def positive_seconds(option: str, value: object, unset_hint: str) -> float | None:
    """Validate a duration option: ``None``, or a positive finite number of seconds / timedelta."""
    if value is None:
        return None
    return seconds_value(option, value, unset_hint)


def seconds_value(option: str, value: object, hint: str, *, zero: bool = False) -> float:
    """A finite number of seconds (or a timedelta) as a float: > 0, or >= 0 with *zero*.

    ``TypeError`` for anything but a real number or timedelta, ``ValueError`` for NaN,
    infinities, out-of-range values and ints too large for a float (never ``OverflowError``).
    """
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(
            f"{option} must be a number of seconds or a timedelta, got {describe(value)}"
        )
    try:
        as_float = float(seconds)
    except OverflowError:  # an int beyond float's range, e.g. 10**400
        as_float = float("inf")
    in_range = as_float >= 0 if zero else as_float > 0
    if not (in_range and as_float != float("inf")):  # also rejects NaN
        shown = repr(value) if len(repr(value)) <= 40 else f"a {len(str(value))}-digit number"
        kind = "a finite number of seconds >= 0" if zero else "a positive, finite number of seconds"
        raise ValueError(f"{option} must be {kind}, got {shown}; {hint}")
    return as_float


def reject_unknown_options(
    decorator: str, options: dict[str, Any], valid: tuple[str, ...], example: str
) -> None:
    """Raise a helpful ``TypeError`` for keyword options *decorator* does not know."""
    if options:
        unknown = ", ".join(sorted(options))
        raise TypeError(
            f"{decorator}() got unknown option(s): {unknown}. "
            f"Valid options are: {', '.join(valid)} (e.g. {example})."
        )


def not_callable(decorator: str, obj: object, example: str) -> TypeError:
    return TypeError(
        f"{decorator} must decorate a function or other callable, got {describe(obj)}. "
        f"Options are keyword-only: write {example}."
    )


def check_callable(decorator: str, obj: object, example: str) -> Callable[..., Any]:
    if not callable(obj):
        raise not_callable(decorator, obj, example)
    return obj


def exec_spec(name: str, spec: ModuleSpec) -> ModuleType:
    """Create the module *spec* describes, register it as *name* and run it, as an import does.

    A module whose code raises is taken out of ``sys.modules`` again, as a failed import is.
    """
    import sys
    from importlib.util import module_from_spec

    assert spec.loader is not None
    module = module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
