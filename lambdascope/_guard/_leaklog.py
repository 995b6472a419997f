"""Leak reports production can alarm on: one JSON log line per leak, and an optional metric.

In ``warn`` mode the guard and the /tmp watch hand every leak of an invocation to this
module, as plain records: the handler's name, and per leak the module, the variable (or
the path under the temp dir), the kind of change and the ``file:line`` sites. Each leak
becomes one JSON line on stdout (CloudWatch Logs keeps one event per line)::

    {"message": "lambdascope scope leak", "level": "WARNING", "leak": "module state",
     "function": "orders", "handler": "app.lambda_handler", "module": "app",
     "variable": "files", "change": "list modified in place",
     "sites": ["/var/task/app.py:14"], "aws_request_id": "8f5e..."}

Values are never written: not the variable's contents, not the keys added, not a file's
bytes. With ``LAMBDASCOPE_LEAK_METRICS=on`` the report ends with one record in CloudWatch
Embedded Metric Format (a JSON line whose ``_aws`` key tells CloudWatch to extract a
metric, no agent and no dependency): ``ScopeLeaks``, the number of leaks, with the
dimension ``FunctionName``, in the namespace ``LAMBDASCOPE_METRICS_NAMESPACE`` (default
``lambdascope``).

Writing a report never fails an invocation.
"""

from __future__ import annotations

import os
import sys

from lambdascope._scope import CONTEXT, current_scope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

__all__ = [
    "MESSAGE",
    "METRIC",
    "METRICS_ENV",
    "NAMESPACE_ENV",
    "change_of",
    "handler_name",
    "module_leaks",
    "tmp_leaks",
    "write_leaks",
]

MESSAGE = "lambdascope scope leak"
METRIC = "ScopeLeaks"
METRICS_ENV = "LAMBDASCOPE_LEAK_METRICS"
NAMESPACE_ENV = "LAMBDASCOPE_METRICS_NAMESPACE"
_DEFAULT_NAMESPACE = "lambdascope"
_ON = frozenset({"on", "1", "true", "yes"})
_NAME_CHANGES = ("deleted", "created", "set from None", "rebound")

#: ``file:line`` sites per (handler, module, variable, rebinding): the code does not change.
_sites_cache: dict[tuple[int, str, str, bool], list[str]] = {}


def handler_name(func: Any) -> str:
    """``module.qualname`` of a handler function, as a handler setting reads."""
    module = getattr(func, "__module__", None)
    name = getattr(func, "__qualname__", None) or type(func).__name__
    return f"{module}.{name}" if module else str(name)


def _request_id() -> str | None:
    scope = current_scope()
    if scope is None:
        return None
    request_id = getattr(scope[CONTEXT], "aws_request_id", None)
    return request_id if isinstance(request_id, str) else None


def write_leaks(
    handler: str, leak: str, records: Iterable[tuple[str | None, str, str, Sequence[str]]]
) -> None:
    """Write one JSON line per record, then the metric record when it is enabled.

    Args:
        handler: the handler's name (``app.lambda_handler``).
        leak: what leaked: ``"module state"`` or ``"tmp"``.
        records: ``(module, variable, change, sites)`` per leak: the module (``None``
            for a file), the variable or the path under the temp dir, the kind of
            change in a few words, and ``file:line`` places.
    """
    try:
        import json

        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        request_id = _request_id()
        lines = [
            json.dumps(
                {
                    "message": MESSAGE,
                    "level": "WARNING",
                    "leak": leak,
                    "function": function,
                    "handler": handler,
                    "module": module,
                    "variable": variable,
                    "change": change,
                    "sites": list(sites),
                    "aws_request_id": request_id,
                }
            )
            for module, variable, change, sites in records
        ]
        if lines and os.environ.get(METRICS_ENV, "").strip().lower() in _ON:
            lines.append(json.dumps(_metric(function or handler, len(lines))))
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
    except Exception:  # a report must never fail an invocation
        import logging

        logging.getLogger("lambdascope").exception("could not write the leak report")


def _metric(function: str, count: int) -> dict[str, Any]:
    """A CloudWatch Embedded Metric Format record: *count* ``ScopeLeaks`` of *function*."""
    import time

    namespace = os.environ.get(NAMESPACE_ENV, "").strip() or _DEFAULT_NAMESPACE
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": METRIC, "Unit": "Count"}],
                }
            ],
        },
        "FunctionName": function,
        METRIC: count,
    }


def change_of(what: str) -> str:
    """The kind of change in the guard's description of a leak, without names or values.

    ``name `x` was rebound (...)`` reads ``name rebound``; ``list `x` was modified in
    place (...)`` reads ``list modified in place``; attributes of an instance or a
    class read ``attributes changed`` and ``class attributes changed``.
    """
    if what.startswith("name `"):
        verb = what.partition("` was ")[2]
        return "name " + next((w for w in _NAME_CHANGES if verb.startswith(w)), "changed")
    if what.startswith("class attribute"):
        return "class attributes changed"
    if what.startswith("attribute"):
        return "attributes changed"
    return f"{what.partition(' `')[0]} modified in place"


def module_leaks(
    func: Any,
    leaks: Iterable[tuple[str, str, str, str]],
    sites: Callable[[str, str, str], list[str]],
) -> None:
    """Report the guard's leaks: ``(module, path, what, allow_as)`` each.

    *sites* gives the ``file:line`` places of ``(module, allow_as, what)``; it is asked
    once per variable and rebinding-or-not, and may fail (no places then).
    """
    records = []
    for module, _path, what, allow_as in leaks:
        rebinding = what.startswith("name `")
        key = (id(func), module, allow_as, rebinding)
        found = _sites_cache.get(key)
        if found is None:
            try:
                found = list(sites(module, allow_as, what))
            except Exception:  # the report must never fail
                found = []
            _sites_cache[key] = found
        records.append((module, allow_as, change_of(what), found))
    write_leaks(handler_name(func), "module state", records)


_TMP_CHANGES = {"created": "file created", "grew by": "file grew", "written": "file written"}


def tmp_leaks(func: Any, leaks: Iterable[tuple[str, str]]) -> None:
    """Report the /tmp watch's leaks: ``(path under the temp dir, how)`` each."""
    records = [(None, path, _TMP_CHANGES.get(how, "file changed"), ()) for path, how in leaks]
    write_leaks(handler_name(func), "tmp", records)
