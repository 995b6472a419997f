"""What ``lambdascope invoke`` prints: each invocation, the Init breakdown, errors and a summary."""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from lambdascope._resources import report_entry

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lambdascope.testing import Invocation, LambdaEnvironment

__all__ = ["REPORT_PREFIX", "Printer", "RemoteError"]

_RESULT_WIDTH = 120


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (ValueError, RecursionError):  # circular or very deep structures
        text = f"<{type(value).__name__} that cannot be shown as JSON>"
    return text if len(text) <= _RESULT_WIDTH else text[: _RESULT_WIDTH - 3] + "..."


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_IMPORTLIB = os.path.dirname(os.path.abspath(importlib.__file__))


def _user_frames(exc: BaseException) -> list[str]:
    """The traceback of *exc* without lambdascope's and importlib's frames."""
    import traceback

    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith((_PACKAGE + os.sep, _IMPORTLIB + os.sep, "<frozen "))
    ]
    return traceback.format_list(frames)


class RemoteError(Exception):
    """An error payload posted by the runtime client, carried where an exception would be."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(str(payload.get("errorMessage", "")))
        self.payload = payload


def _error_name(error: BaseException) -> str:
    if isinstance(error, RemoteError):
        return str(error.payload.get("errorType", "Error"))
    from lambdascope.testing import error_type

    return error_type(error)


def _frames(error: BaseException) -> list[str]:
    if isinstance(error, RemoteError):
        stack = error.payload.get("stackTrace") or []
        return [str(frame) for frame in stack if _PACKAGE + os.sep not in str(frame)]
    return _user_frames(error)


def _indent(text: str, prefix: str) -> str:
    return text.rstrip("\n").replace("\n", "\n" + prefix)


REPORT_PREFIX = '{"message": "lambdascope cold start report"'


def _error_payload(inv: Invocation) -> dict[str, Any] | None:
    if isinstance(inv.error, RemoteError):
        return inv.error.payload
    return inv.error_payload


class Printer:
    """Text or JSON-lines output of an ``invoke`` run."""

    def __init__(self, as_json: bool, target: str) -> None:
        self.as_json = as_json
        self.target = target

    def _emit(self, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def init(self, env: LambdaEnvironment) -> None:
        info = env.init
        if self.as_json:
            self._emit(
                json.dumps(
                    {
                        "phase": "init",
                        "handler": self.target,
                        "init_type": info.init_type,
                        "module": info.module,
                        "import_ms": None if info.import_ms is None else round(info.import_ms, 3),
                        "resources": [report_entry(r) for r in info.resources],
                    }
                )
            )
            return
        self._emit(
            f"Init ({info.init_type}): import {info.module} {_ms(info.import_ms)}"
            + (
                f", of which {len(info.resources)} init resource(s) {_ms(info.resources_ms)}"
                if info.resources
                else ""
            )
        )
        for record in info.resources:
            self._resource(record, "created during Init")
        if not info.resources:
            self._emit("  no init resource created during Init (they are created on first use)")

    def _resource(self, record: Any, when: str) -> None:
        failed = "" if record.error is None else f"  FAILED {record.error}"
        self._emit(
            f"  + init_resource {record.name}  {_ms(record.duration * 1000)}  {when}{failed}"
        )

    def init_failed(self, error: BaseException) -> None:
        stack = _frames(error)
        name = _error_name(error)
        if self.as_json:
            payload = {"errorType": name, "errorMessage": str(error), "stackTrace": stack}
            self._emit(json.dumps({"phase": "init", "handler": self.target, "error": payload}))
            return
        self._emit(f"Init failed: {name}: {_indent(str(error), '  ')}")
        for frame in stack:
            self._emit("  " + _indent(frame, "  "))

    def remote_init(
        self,
        report: dict[str, Any] | None,
        init_type: str,
        pid: int | None,
        wrapper: str | None = None,
    ) -> None:
        """Init under awslambdaric, from lambdascope's cold-start report in the function's logs.

        *wrapper* is the exec wrapper the runtime ran first (``AWS_LAMBDA_EXEC_WRAPPER``).
        """
        resources = [r for r in (report or {}).get("resources", []) if r.get("phase") == "init"]
        where = "awslambdaric" + (f" (exec wrapper {wrapper})" if wrapper else "")
        if self.as_json:
            self._emit(
                json.dumps(
                    {
                        "phase": "init",
                        "handler": self.target,
                        "runtime": "awslambdaric",
                        "exec_wrapper": wrapper,
                        "pid": pid,
                        "init_type": init_type,
                        "init_ms": None if report is None else report.get("init_ms"),
                        "resources": resources,
                    }
                )
            )
            return
        if report is None:
            self._emit(
                f"Init ({init_type}) under {where}, pid {pid}: no lambdascope cold-start "
                "report in the logs (the handler is not decorated with @handler)"
            )
            return
        self._emit(
            f"Init ({init_type}) under {where}, pid {pid}: "
            f"{_ms(report.get('init_ms'))} from `import lambdascope` to the first invocation"
        )
        for resource in resources:
            self._emit(
                f"  + init_resource {resource['name']}  {_ms(resource['ms'])}  created during Init"
            )

    def logs(self, text: str) -> None:
        """The function's own output under awslambdaric (without lambdascope's report line)."""
        lines = [line for line in text.splitlines() if not line.startswith(REPORT_PREFIX)]
        if self.as_json:
            self._emit(json.dumps({"phase": "logs", "lines": lines}))
        elif lines:
            self._emit("Function output:")
            for line in lines:
                self._emit("  | " + line)

    def invocation(self, inv: Invocation, differs: bool) -> None:
        if self.as_json:
            self._emit(
                json.dumps(
                    {
                        "phase": "invoke",
                        "invocation": inv.number,
                        "cold_start": inv.cold_start,
                        "request_id": inv.request_id,
                        "duration_ms": round(inv.duration_ms, 3),
                        "result": inv.result,
                        "error": _error_payload(inv),
                        "differs_from_cold": differs,
                        "resources": [report_entry(r) for r in inv.resources],
                    },
                    default=str,
                )
            )
            return
        kind = "cold" if inv.cold_start else "warm"
        if inv.error is None:
            outcome = f"ok     {_short(inv.result)}"
        else:
            outcome = f"ERROR  {_error_name(inv.error)}: {_indent(str(inv.error), '     ')}"
        note = "  <- differs from the cold start (same event)" if differs else ""
        self._emit(f"#{inv.number} {kind}  {inv.duration_ms:8.1f} ms  {outcome}{note}")
        for record in inv.resources:
            self._resource(record, "created in this invocation")
        if inv.error is not None:
            for frame in _frames(inv.error)[-3:]:
                self._emit("     " + _indent(frame, "     "))

    def summary(self, invocations: Sequence[Invocation], differing: int) -> None:
        errors = sum(1 for inv in invocations if inv.error is not None)
        cold = sum(1 for inv in invocations if inv.cold_start)
        created: dict[str, int] = {}
        for inv in invocations:
            for record in inv.resources:
                created[record.name] = created.get(record.name, 0) + 1
        if self.as_json:
            self._emit(
                json.dumps(
                    {
                        "phase": "summary",
                        "invocations": len(invocations),
                        "cold": cold,
                        "errors": errors,
                        "differs_from_cold": differing,
                        "resources_created_during_invocations": created,
                    }
                )
            )
            return
        made = ", ".join(f"{name} x{count}" for name, count in created.items()) or "none"
        environments = 1 + sum(1 for inv in invocations[1:] if inv.number == 1)
        where = "one environment" if environments == 1 else f"{environments} environments"
        self._emit(
            f"{len(invocations)} invocation(s) in {where}: {cold} cold, "
            f"{len(invocations) - cold} warm, {errors} error(s), "
            f"{differing} warm answer(s) different from the cold start; "
            f"init resources created during invocations: {made}"
        )
