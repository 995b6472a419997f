"""Loading a handler from a target string, the way Lambda reads its handler setting."""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, Callable

from lambdascope._redirect import split_setting
from lambdascope._util import exec_spec

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["load_handler", "locate", "split_target"]


def split_target(target: str) -> tuple[str, str]:
    """``module:attr``, ``path/file.py:attr``, ``path/file.py`` or a Lambda handler setting:
    ``module.attr``, ``folder/module.attr`` (read as the redirect reads it)."""
    if ":" in target:
        where, _, attr = target.rpartition(":")
    elif target.endswith(".py"):
        where, attr = target, "lambda_handler"
    else:
        setting = split_setting(target)
        folder, module, attr = setting or (None, "", "")
        where = module if folder is None else f"{folder}/{module}"
    if not where or not attr:
        raise ValueError(
            f"cannot read handler {target!r}: write MODULE:FUNCTION (app.handlers:lambda_handler), "
            "FILE.py:FUNCTION (src/app.py:lambda_handler) or MODULE.FUNCTION as in the Lambda "
            "handler setting (app.lambda_handler, todos/create.create)"
        )
    return where, attr


def locate(target: str) -> tuple[str | None, str, str]:
    """(absolute file path or ``None`` for a module target, module name, attribute).

    A folder before the module (``todos/create``, the folder form of the Lambda handler
    setting) names packages, as Lambda reads it: module ``todos.create``, imported from the
    task root. A folder Python cannot import as a package (``v1.2/app``) holds the module's
    file, as the redirect reads it.

    Raises:
        ValueError: *target* cannot be read.
        FileNotFoundError: the file it names does not exist.
    """
    where, attr = split_target(target)
    slashed = where.replace(os.sep, "/")
    if not where.endswith(".py") and "/" in slashed:
        folder, _, module = slashed.rpartition("/")
        parts = [*folder.split("/"), *module.split(".")]
        if all(part.isidentifier() for part in parts):
            return None, ".".join(parts), attr
        where = f"{where}.py"
    if not where.endswith(".py"):
        return None, where, attr
    path = os.path.abspath(where)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"handler file {where!r} does not exist")
    name = os.path.basename(path)
    return path, name[:-3], attr


def _import_file(module_name: str, path: str) -> ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise ImportError(f"cannot import {path!r}", path=path)
    return exec_spec(module_name, spec)


def _file_of(module: ModuleType) -> str:
    return os.path.abspath(getattr(module, "__file__", None) or "")


def _import_path(module_name: str, path: str) -> ModuleType:
    """Import the file *path* as *module_name*: through the import system when that name
    finds this file (its finders, an import hook of a test tool, see it), else from the file
    itself, whatever else is on ``sys.path``."""
    sys.modules.pop(module_name, None)
    importlib.invalidate_caches()
    from importlib.util import find_spec

    try:
        spec = find_spec(module_name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin is not None and os.path.abspath(spec.origin) == path:
        return importlib.import_module(module_name)
    return _import_file(module_name, path)


def load_handler(target: str, *, reimport: bool = False) -> tuple[Callable[..., Any], ModuleType]:
    """Import the module of *target* and return ``(handler, module)``.

    *target* is ``module:function``, ``path/to/file.py:function`` (the file's
    directory goes first on ``sys.path``, as Lambda puts its task root there),
    ``path/to/file.py`` (function ``lambda_handler``) or ``module.function`` and
    ``folder/module.function`` (the Lambda handler setting, read as :func:`locate`
    says). The function part may be dotted (``module:Handler.handle``). With
    *reimport*, a module imported before is imported again, so its top level (Init)
    runs again.

    Raises:
        ValueError: *target* cannot be read.
        FileNotFoundError: the file does not exist.
        ImportError: the module cannot be imported (anything its import raises
            propagates unchanged).
        AttributeError: the module has no such function.
        TypeError: the attribute is not callable.
    """
    path, module_name, attr = locate(target)
    if path is not None:
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)  # its sibling modules import as on Lambda
        loaded = sys.modules.get(module_name)
        if reimport or loaded is None or _file_of(loaded) != path:
            module = _import_path(module_name, path)
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
