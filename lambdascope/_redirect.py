"""The handler redirect's work: find the handler a setting names, wrap it, or fail Init.

:mod:`lambdascope.redirect` runs :func:`serve` when the runtime imports it; ``lambdascope
invoke`` takes the handler setting and the variable's name from here.
"""

from __future__ import annotations

import os
import sys

from ._errors import ConfigurationError, LambdascopeError
from ._handler import is_handler, wrap_in
from ._util import exec_spec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

__all__ = ["ENV", "HANDLER", "HandlerLoadError", "as_served", "load", "serve", "split_setting"]

#: The environment variable naming the function's own handler.
ENV = "LAMBDASCOPE_HANDLER"
#: The handler setting that runs the redirect.
HANDLER = "lambdascope.redirect.handler"

_MALFORMED = "Runtime.MalformedHandlerName"
_IMPORT = "Runtime.ImportModuleError"
_NOT_FOUND = "Runtime.HandlerNotFound"
_SYNTAX = "Runtime.UserCodeSyntaxError"
_BUILT_IN = "Runtime.BuiltInModuleConflict"
_SHOWN_PATHS = 5  # search-path entries named in a message
#: The guard mode when LAMBDASCOPE_GUARD is not set, and why: the function is unmodified, so
#: its answers must not change because a variable was dropped (``--environment`` replaces all).
DEFAULT_MODE = (
    "warn",
    "the redirect's default: LAMBDASCOPE_GUARD is not set, and a function run under the "
    "redirect without code changes is observed, not failed",
)


class HandlerLoadError(LambdascopeError, ImportError):
    """The handler named by ``LAMBDASCOPE_HANDLER`` cannot be loaded.

    Attributes:
        error_type: the ``errorType`` Lambda reports for the same problem with its own
            handler setting (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
            ``Runtime.MalformedHandlerName``, ``Runtime.UserCodeSyntaxError``,
            ``Runtime.BuiltInModuleConflict``).
        trace: the lines Lambda shows as the error's ``stackTrace`` (the place of a
            syntax error; empty otherwise).
    """

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.trace = trace or []


def _task_root() -> str:
    return os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()


def _searched() -> str:
    """The task root and the first entries of the module search path, for "searched ..."."""
    seen: list[str] = []
    for entry in (_task_root(), *sys.path):
        path = os.path.abspath(entry or os.getcwd())
        if path not in seen:
            seen.append(path)
    more = ", ..." if len(seen) > _SHOWN_PATHS else ""
    return ", ".join(seen[:_SHOWN_PATHS]) + more


def split_setting(setting: str) -> tuple[str | None, str, str] | None:
    """``(folder or None, module, function)`` of a Lambda handler setting (``app.handler``,
    ``pkg.app.handler``, ``folder/app.handler``), None when it is not one. ``lambdascope
    invoke`` and ``analyse`` read their targets' handler-setting form with it too."""
    folder, slash, rest = setting.strip().rpartition("/")
    module, dot, function = rest.rpartition(".")
    if not dot or not module or not function or not function.isidentifier():
        return None
    return (folder if slash else None), module, function


def _split(setting: str) -> tuple[str | None, str, str]:
    found = split_setting(setting)
    if found is None:
        raise HandlerLoadError(
            _MALFORMED,
            f"Bad handler {setting!r} in {ENV}: write it as the Lambda handler setting, "
            "MODULE.FUNCTION (app.lambda_handler), PACKAGE.MODULE.FUNCTION or "
            "FOLDER/MODULE.FUNCTION (src/app.lambda_handler)",
        )
    return found


def _folder(folder: str, setting: str) -> str:
    """The directory *folder* names: absolute, or under the task root or a search-path entry."""
    if os.path.isabs(folder):
        candidates = [folder]
    else:
        candidates = [os.path.join(root, folder) for root in (_task_root(), *sys.path) if root]
    for candidate in candidates:
        if os.path.isdir(candidate):
            return os.path.abspath(candidate)
    raise HandlerLoadError(
        _IMPORT,
        f"Unable to import module {setting.rpartition('.')[0]!r}: no folder {folder!r} "
        f"({ENV}={setting!r}; searched {_searched()})",
    )


def _import_from(base: str, module: str) -> ModuleType:
    """Import *module* (``top`` or ``top.sub``) from the directory *base*, not from sys.path."""
    import importlib
    from importlib.machinery import PathFinder

    top = module.partition(".")[0]
    spec = PathFinder.find_spec(top, [base])
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {top!r} in {base}", name=top)
    loaded = exec_spec(top, spec)
    return importlib.import_module(module) if module != top else loaded


def _import(folder: str | None, module: str, setting: str) -> ModuleType:
    import importlib

    parts = folder.split("/") if folder is not None else []
    if all(part.isidentifier() for part in parts):  # Lambda's own way: folders are packages
        name = ".".join([*parts, module])
        if name.partition(".")[0] in sys.builtin_module_names:
            raise HandlerLoadError(
                _BUILT_IN, f"Cannot use built-in module {name} as a handler module"
            )
        return importlib.import_module(name)
    assert folder is not None
    return _import_from(_folder(folder, setting), module)


def _module_error(error: BaseException, module: str, setting: str) -> HandlerLoadError | None:
    """Lambda's words for an import that failed, or ``None`` for the module's own error."""
    if isinstance(error, SyntaxError):
        return HandlerLoadError(
            _SYNTAX,
            f"Syntax error in module {module!r}: {error}",
            [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}'],
        )
    if isinstance(error, ImportError) and not isinstance(error, HandlerLoadError):
        return HandlerLoadError(
            _IMPORT,
            f"Unable to import module {module!r}: {error} ({ENV}={setting!r}; "
            f"searched {_searched()})",
        )
    return None


def _attribute(loaded: ModuleType, module: str, function: str, setting: str) -> Any:
    try:
        return getattr(loaded, function)
    except AttributeError:
        pass
    from difflib import get_close_matches

    names = [n for n, v in vars(loaded).items() if callable(v) and not n.startswith("_")]
    close = get_close_matches(function, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise HandlerLoadError(
        _NOT_FOUND,
        f"Handler {function!r} missing on module {module!r} ({ENV}={setting!r}; module "
        f"file {getattr(loaded, '__file__', None)}{hint})",
    )


def load(setting: str) -> Callable[..., Any]:
    """Import the handler *setting* names (``app.lambda_handler``) and wrap it with ``@handler``.

    A handler already decorated with ``@handler`` is returned as it is. The guard mode comes
    from ``LAMBDASCOPE_GUARD``; unset, it is ``warn`` (:data:`DEFAULT_MODE`): the function's
    answers do not change.

    Raises:
        HandlerLoadError: the setting is malformed, its module cannot be imported, its
            function is missing or is not a handler; ``error_type`` says which, in
            Lambda's words.
        ConfigurationError: a ``LAMBDASCOPE_*`` variable has a value lambdascope does not
            know.
        Exception: whatever the handler module itself raised while it was imported
            (its Init failed), unchanged.
    """
    if not isinstance(setting, str) or not setting.strip():
        raise HandlerLoadError(
            _MALFORMED,
            f"{ENV} is not set. The function's handler is {HANDLER}, which runs the handler "
            f"named by {ENV}: set {ENV} to the function's own handler setting (e.g. "
            "app.lambda_handler), or keep that setting as the handler and set "
            "AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdascope-wrapper to make the swap",
        )
    if setting.strip() == HANDLER:
        raise HandlerLoadError(
            _MALFORMED,
            f"{ENV}={setting!r} names the redirect itself: set it to the function's own "
            "handler setting (e.g. app.lambda_handler)",
        )
    folder, module, function = _split(setting)
    shown = module if folder is None else f"{folder}/{module}"
    try:
        loaded = _import(folder, module, setting)
    except Exception as error:
        translated = _module_error(error, shown, setting)
        if translated is None:
            raise
        raise translated from None
    target = _attribute(loaded, shown, function, setting)
    try:
        return as_served(loaded, target)
    except ConfigurationError:
        raise  # a LAMBDASCOPE_* variable, not the handler: its own words
    except (TypeError, ValueError) as error:
        raise HandlerLoadError(_NOT_FOUND, f"{ENV}={setting!r}: {error}") from None


def as_served(loaded: ModuleType, target: Any) -> Callable[..., Any]:
    """*target*, the handler of module *loaded*, as the redirect serves it: an ``@handler``
    one as it is, any other wrapped in ``@handler`` applied for *loaded* (the function's
    project is that module's, also when *target* is a library's adapter object such as
    ``Mangum(app)``). Its guard mode is ``LAMBDASCOPE_GUARD``'s, else :data:`DEFAULT_MODE`.
    ``lambdascope analyse`` takes the guard it analyses from here.

    Raises:
        TypeError, ValueError: *target* cannot be a handler, or a guard option is wrong.
    """
    if is_handler(target):
        return target  # type: ignore[no-any-return]
    wrapped: Callable[..., Any] = wrap_in(loaded.__name__, target, DEFAULT_MODE)
    return wrapped


def _fail_init(error: BaseException) -> BaseException:
    """The error to end Init with: the runtime's own fault, when the runtime is awslambdaric.

    Under the Lambda runtime interface client (managed runtimes and container images), its
    ``FaultException`` makes the runtime post exactly the payload it posts for its own
    handler setting: our error type and message, and a stack trace of the handler module's
    frames only (none of the redirect's). Elsewhere (a test, another runtime) the error is
    raised as it is.
    """
    faults = sys.modules.get("awslambdaric.lambda_runtime_exception")
    fault: Callable[..., BaseException] | None = getattr(faults, "FaultException", None)
    if fault is None:
        return error
    if isinstance(error, HandlerLoadError):
        return fault(error.error_type, str(error), error.trace)
    import traceback

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames = [  # as the client lists them itself: (file, line, function, source line)
        (frame.filename, frame.lineno or 0, frame.name, frame.line)
        for frame in traceback.extract_tb(error.__traceback__)
        if not os.path.abspath(frame.filename).startswith(package)
    ]
    return fault(type(error).__name__, str(error), traceback.format_list(frames))


def serve() -> Callable[..., Any]:
    """The handler ``LAMBDASCOPE_HANDLER`` names, wrapped: what the redirect serves.

    Under the runtime interface client a failure is the client's own fault (see
    :func:`_fail_init`); elsewhere it is raised as it is.
    """
    try:
        return load(os.environ.get(ENV, ""))
    except Exception as error:
        failure = _fail_init(error)
        if failure is error:
            raise
        raise failure from None
