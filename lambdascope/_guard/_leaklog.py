"""Leak reports production can alarm on: one JSON log line per leak, and an optional metric.

In ``warn`` mode the guard and the /tmp watch hand every leak of an invocation to this
module, as plain records: the handler's name, and per leak the module, the variable (or
the path under the temp dir), the kind of change and the ``file:line`` sites. Each leak
becomes one JSON line on stdout (CloudWatch Logs keeps one event per line)::

    {"message": "lambdascope scope leak", "level": "WARNING",
     "timestamp": "2026-01-31 12:00:00,123+0000", "service": "orders",
     "function_name": "orders", "function_request_id": "8f5e...", "xray_trace_id": "1-...",
     "leak": "module state", "handler": "app.lambda_handler", "module": "app",
     "variable": "files", "change": "list modified in place",
     "sites": ["/var/task/app.py:14"]}

The fields it shares with Powertools' ``Logger`` lines have Powertools' names
(:func:`lambdascope._logging.line_fields`). Values are never written: not the variable's
contents, not the keys added, not a file's bytes. With ``LAMBDASCOPE_LEAK_METRICS=on`` the
report ends with one record in CloudWatch Embedded Metric Format (a JSON line whose ``_aws``
key tells CloudWatch to extract a metric, no agent and no dependency): ``ScopeLeaks``, the
number of leaks, with the dimension ``FunctionName``, in the namespace
``LAMBDASCOPE_METRICS_NAMESPACE`` (default ``lambdascope``).

Writing a report never fails an invocation.
"""

from __future__ import annotations

import sys

from lambdascope._config import DEFAULT_NAMESPACE, LEAK_METRICS, metrics_namespace, switch
from lambdascope._logging import line_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

__all__ = [
    "MESSAGE",
    "METRIC",
    "change_of",
    "handler_name",
    "module_leaks",
    "tmp_leaks",
    "write_leaks",
]

MESSAGE = "lambdascope scope leak"
METRIC = "ScopeLeaks"
_NAME_CHANGES = ("deleted", "created", "set from None", "rebound")

#: ``file:line`` sites per (handler, module, variable, rebinding): the code does not change.
_sites_cache: dict[tuple[int, str, str, bool], list[str]] = {}


def handler_name(func: Any) -> str:
    """``module.qualname`` of a handler function, as a handler setting reads."""
    module = getattr(func, "__module__", None)
    name = getattr(func, "__qualname__", None) or type(func).__name__
    return f"{module}.{name}" if module else str(name)


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

        fields = line_fields("WARNING")
        lines = [
            json.dumps(
                {
                    "message": MESSAGE,
                    **fields,
                    "leak": leak,
                    "handler": handler,
                    "module": module,
                    "variable": variable,
                    "change": change,
                    "sites": list(sites),
                }
            )
            for module, variable, change, sites in records
        ]
        if lines and switch(LEAK_METRICS, False):
            lines.append(json.dumps(_metric(fields["function_name"] or handler, len(lines))))
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
    except Exception:  # a report must never fail an invocation
        import logging

        logging.getLogger("lambdascope").exception("could not write the leak report")


def _metric(function: str, count: int) -> dict[str, Any]:
    """A CloudWatch Embedded Metric Format record: *count* ``ScopeLeaks`` of *function*."""
    import time

    namespace = metrics_namespace(DEFAULT_NAMESPACE)
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
