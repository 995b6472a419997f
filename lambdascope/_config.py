"""The ``LAMBDASCOPE_*`` environment variables: each one, the values it accepts, and one rule
for a value it does not know.

A variable that decides what an invocation does (``LAMBDASCOPE_GUARD``,
``LAMBDASCOPE_WATCH_TMP``) fails with :class:`~lambdascope.ConfigurationError` when
``@handler`` is applied (on Lambda: Init), naming the variable and the values it accepts. A
variable whose wrong value should not take the function down (a report, a metric, a
warning) falls back to its default with one :class:`~lambdascope.ConfigurationWarning` per
variable and value. A ``LAMBDASCOPE_*`` name it does not read (a misspelt one) is warned
about once too. :func:`check_environment` runs every check; ``@handler`` calls it.
"""

from __future__ import annotations

import os

from ._errors import ConfigurationError, ConfigurationWarning
from ._state import state
from ._util import outside_stacklevel

__all__ = [
    "CHECK_PYTHON",
    "COLD_START_REPORT",
    "DEFAULT_NAMESPACE",
    "GUARD",
    "HANDLER",
    "LEAK_METRICS",
    "METRICS_NAMESPACE",
    "PRIVATE_TMPDIR",
    "VARIABLES",
    "WARN_CLIENTS",
    "WATCH_TMP",
    "check_environment",
    "check_python",
    "choice",
    "metrics_namespace",
    "private_tmpdir",
    "switch",
]

GUARD = "LAMBDASCOPE_GUARD"
WATCH_TMP = "LAMBDASCOPE_WATCH_TMP"
COLD_START_REPORT = "LAMBDASCOPE_COLD_START_REPORT"
LEAK_METRICS = "LAMBDASCOPE_LEAK_METRICS"
METRICS_NAMESPACE = "LAMBDASCOPE_METRICS_NAMESPACE"
WARN_CLIENTS = "LAMBDASCOPE_WARN_CLIENTS"
PRIVATE_TMPDIR = "LAMBDASCOPE_PRIVATE_TMPDIR"
HANDLER = "LAMBDASCOPE_HANDLER"
CHECK_PYTHON = "LAMBDASCOPE_CHECK_PYTHON"
DEFAULT_NAMESPACE = "lambdascope"

#: Every variable lambdascope reads, and what it accepts (for the unknown-name warning).
VARIABLES = {
    GUARD: "raise, warn or off",
    WATCH_TMP: "on or off",
    COLD_START_REPORT: "on or off",
    LEAK_METRICS: "on or off",
    METRICS_NAMESPACE: "a CloudWatch namespace",
    WARN_CLIENTS: "on or off",
    PRIVATE_TMPDIR: "an absolute path",
    HANDLER: "a handler setting, read by lambdascope.redirect",
    CHECK_PYTHON: "a Python interpreter, read by lambdascope check",
}

_ON = frozenset({"on", "1", "true", "yes"})
_OFF = frozenset({"off", "0", "false", "no"})
_SWITCH = "'on' or 'off' (also 1/0, true/false, yes/no)"
_NAMESPACE_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_/#: "
)
_MAX_NAMESPACE = 255


def _warn_once(name: str, value: str, message: str) -> None:
    warned = state.config_warned
    if (name, value) in warned:
        return
    warned.add((name, value))
    import warnings

    warnings.warn(ConfigurationWarning(message), stacklevel=outside_stacklevel())


def _raw(name: str) -> tuple[str, str]:
    """``(value as set, value stripped and lowercased)``; ``("", "")`` when unset."""
    raw = os.environ.get(name, "")
    return raw, raw.strip().lower()


def switch(name: str, default: bool, *, strict: bool = False) -> bool:
    """An on/off variable: unset or empty is *default*; a value it does not know is a
    :class:`ConfigurationError` (*strict*) or a warning and *default*."""
    raw, value = _raw(name)
    if not value:
        return default
    if value in _ON:
        return True
    if value in _OFF:
        return False
    problem = (
        f"environment variable {name}={raw!r} is not a switch: set it to {_SWITCH}, or unset "
        f"it for the default ({'on' if default else 'off'})"
    )
    if strict:
        raise ConfigurationError(problem + ".")
    _warn_once(name, raw, f"{problem}; the default applies.")
    return default


def choice(name: str, accepted: tuple[str, ...], default: str, what: str) -> str:
    """A variable with a few values: unset or empty is *default*; a value it does not know
    is a :class:`ConfigurationError` saying *what* it should be."""
    raw, value = _raw(name)
    if not value:
        return default
    if value in accepted:
        return value
    listed = ", ".join(repr(v) for v in accepted[:-1]) + f" or {accepted[-1]!r}"
    raise ConfigurationError(
        f"environment variable {name}={raw!r} is not {what}. Set it to one of {listed} "
        f"(or unset it for the default {default!r})."
    )


def metrics_namespace(default: str) -> str:
    """``LAMBDASCOPE_METRICS_NAMESPACE``: a CloudWatch namespace (1-255 letters, digits and
    ``. - _ / # :`` or spaces, not starting with ``AWS/``), else *default* with a warning:
    CloudWatch would drop the metric without a word."""
    raw = os.environ.get(METRICS_NAMESPACE, "")
    value = raw.strip()
    if not value:
        return default
    if (
        len(value) <= _MAX_NAMESPACE
        and set(value) <= _NAMESPACE_CHARACTERS
        and not value.startswith("AWS/")
    ):
        return value
    _warn_once(
        METRICS_NAMESPACE,
        raw,
        f"environment variable {METRICS_NAMESPACE}={raw!r} is not a CloudWatch namespace "
        "(1-255 letters, digits, spaces and . - _ / # :, not starting with 'AWS/'): CloudWatch "
        f"would drop the metric; the default {default!r} applies.",
    )
    return default


def private_tmpdir() -> str | None:
    """``LAMBDASCOPE_PRIVATE_TMPDIR``: an absolute path, else ``None`` with a warning."""
    raw = os.environ.get(PRIVATE_TMPDIR, "")
    if not raw:
        return None
    if os.path.isabs(raw):
        return raw
    _warn_once(
        PRIVATE_TMPDIR,
        raw,
        f"environment variable {PRIVATE_TMPDIR}={raw!r} is not an absolute path: set it to "
        "the temp dir that belongs to this function alone (e.g. the TMPDIR of a test run), or "
        "unset it; it is ignored.",
    )
    return None


def check_python() -> str | None:
    """``LAMBDASCOPE_CHECK_PYTHON``: an interpreter (a path or a name on ``PATH``), else
    ``None`` with a warning (``lambdascope check`` goes on with the Pythons it finds)."""
    raw = os.environ.get(CHECK_PYTHON, "")
    if not raw:
        return None
    import shutil

    found = shutil.which(raw)
    if found:
        return found
    _warn_once(
        CHECK_PYTHON,
        raw,
        f"environment variable {CHECK_PYTHON}={raw!r} is not an executable Python: set it to "
        "the path of a newer interpreter (e.g. ~/.pyenv/versions/3.13.1/bin/python3) for "
        "lambdascope check to parse newer syntax with, or unset it; it is ignored.",
    )
    return None


def check_environment() -> None:
    """Check the variables whose wrong value is only warned about, now (``@handler`` calls it
    when it is applied, beside the guard's own checks), and warn about unknown names."""
    switch(COLD_START_REPORT, True)
    switch(LEAK_METRICS, False)
    switch(WARN_CLIENTS, True)
    metrics_namespace(DEFAULT_NAMESPACE)
    private_tmpdir()
    for name in os.environ:
        if name.startswith("LAMBDASCOPE_") and name not in VARIABLES:
            from difflib import get_close_matches

            close = get_close_matches(name, list(VARIABLES), n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            _warn_once(
                name,
                "",
                f"environment variable {name} is not one lambdascope reads; it is ignored.{hint}"
                f" lambdascope reads {', '.join(VARIABLES)}.",
            )
