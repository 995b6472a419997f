"""``[tool.lambdascope]`` in the user's ``pyproject.toml``."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

__all__ = ["KEYS", "find_pyproject", "load"]

KEYS = {
    "paths": "files and directories checked when none are given",
    "exclude": "glob patterns of paths not checked",
    "handlers": "more handler names (function, Class.method or module.function)",
    "select": "rule codes reported (prefixes allowed)",
    "ignore": "rule codes not reported",
    "fail-on": "lowest severity that makes the exit status 1: error, warning, info or never",
}


def find_pyproject(start: str) -> str | None:
    """The nearest ``pyproject.toml`` at or above *start*."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _toml() -> Any:
    name = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def load(path: str) -> tuple[dict[str, Any], list[str]]:
    """(the ``[tool.lambdascope]`` table of *path*, warnings about it)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return {}, [f"{path}: cannot read: {exc.strerror or exc}"]
    if b"[tool.lambdascope" not in data:
        return {}, []
    toml = _toml()
    if toml is None:
        return {}, [
            f"{path}: [tool.lambdascope] is not read: Python "
            f"{sys.version_info[0]}.{sys.version_info[1]} has no tomllib; pip install tomli "
            "(or use Python 3.11+) to use it"
        ]
    try:
        table = toml.loads(data.decode("utf-8")).get("tool", {}).get("lambdascope", {})
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: invalid TOML, [tool.lambdascope] not read: {exc}"]
    warnings = []
    config: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            warnings.append(
                f"{path}: [tool.lambdascope] {key!r} is not a setting; known: " + ", ".join(KEYS)
            )
        elif key == "fail-on":
            if value in ("error", "warning", "info", "never"):
                config[key] = value
            else:
                warnings.append(
                    f"{path}: [tool.lambdascope] fail-on must be error, warning, info or never"
                )
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            config[key] = value
        else:
            warnings.append(f"{path}: [tool.lambdascope] {key} must be a list of strings")
    return config, warnings
