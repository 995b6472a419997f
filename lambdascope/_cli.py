"""The ``lambdascope`` command: ``invoke`` a handler locally, ``check`` handler modules.

``python -m lambdascope`` and the ``lambdascope`` console script both land in
:func:`main`. Exit status: 0 success, 1 a failed Init or invocation (``invoke``)
or a finding (``check``), 2 a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import uuid
from typing import TYPE_CHECKING, Any

from ._resources import report_entry

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .testing import Invocation, LambdaEnvironment

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_RESULT_WIDTH = 120


def _event(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    if args.event_json is not None:
        text, source = args.event_json, "--event-json"
    elif args.event is None:
        return {}
    else:
        source = "standard input" if args.event == "-" else args.event
        try:
            if args.event == "-":
                text = sys.stdin.read()
            else:
                with open(args.event, encoding="utf-8") as file:
                    text = file.read()
        except OSError as exc:
            parser.error(f"cannot read the event file: {exc}")
        except UnicodeDecodeError as exc:
            parser.error(
                f"the event from {source} is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                "Lambda events are JSON documents in UTF-8"
            )
    try:
        return json.loads(text)
    except RecursionError:
        parser.error(
            f"the event from {source} is nested too deeply to decode (too many levels of "
            "arrays or objects for Python's JSON decoder, and so for Lambda's runtime)"
        )
    except ValueError as exc:
        parser.error(f"the event from {source} is not valid JSON: {exc}")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (ValueError, RecursionError):  # circular or very deep structures
        text = f"<{type(value).__name__} that cannot be shown as JSON>"
    return text if len(text) <= _RESULT_WIDTH else text[: _RESULT_WIDTH - 3] + "..."


_PACKAGE = os.path.dirname(os.path.abspath(__file__))
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


class _RemoteError(Exception):
    """An error payload posted by the runtime client, carried where an exception would be."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(str(payload.get("errorMessage", "")))
        self.payload = payload


def _error_name(error: BaseException) -> str:
    if isinstance(error, _RemoteError):
        return str(error.payload.get("errorType", "Error"))
    from .testing import error_type

    return error_type(error)


def _frames(error: BaseException) -> list[str]:
    if isinstance(error, _RemoteError):
        stack = error.payload.get("stackTrace") or []
        return [str(frame) for frame in stack if _PACKAGE + os.sep not in str(frame)]
    return _user_frames(error)


def _indent(text: str, prefix: str) -> str:
    return text.rstrip("\n").replace("\n", "\n" + prefix)


_REPORT_PREFIX = '{"message": "lambdascope cold start report"'


def _error_payload(inv: Invocation) -> dict[str, Any] | None:
    if isinstance(inv.error, _RemoteError):
        return inv.error.payload
    return inv.error_payload


class _Printer:
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

    def remote_init(self, report: dict[str, Any] | None, init_type: str, pid: int | None) -> None:
        """Init under awslambdaric, from lambdascope's cold-start report in the function's logs."""
        resources = [r for r in (report or {}).get("resources", []) if r.get("phase") == "init"]
        if self.as_json:
            self._emit(
                json.dumps(
                    {
                        "phase": "init",
                        "handler": self.target,
                        "runtime": "awslambdaric",
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
                f"Init ({init_type}) under awslambdaric, pid {pid}: no lambdascope cold-start "
                "report in the logs (the handler is not decorated with @handler)"
            )
            return
        self._emit(
            f"Init ({init_type}) under awslambdaric, pid {pid}: "
            f"{_ms(report.get('init_ms'))} from `import lambdascope` to the first invocation"
        )
        for resource in resources:
            self._emit(
                f"  + init_resource {resource['name']}  {_ms(resource['ms'])}  created during Init"
            )

    def logs(self, text: str) -> None:
        """The function's own output under awslambdaric (without lambdascope's report line)."""
        lines = [line for line in text.splitlines() if not line.startswith(_REPORT_PREFIX)]
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


def _invoke(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.times < 1:
        parser.error(f"--times must be at least 1, got {args.times}")
    from .testing import _split_target, check_settings

    try:  # Lambda's limits are usage errors, not a failed Init
        check_settings(memory_mb=args.memory, timeout=args.timeout)
    except ValueError as exc:
        setting, rest = str(exc).split(" ", 1)  # "memory_mb must be ..." / "timeout must be ..."
        parser.error(f"--{'memory' if setting == 'memory_mb' else setting} {rest}")
    event = _event(args, parser)

    try:
        _split_target(args.target)
    except ValueError as exc:
        parser.error(str(exc))
    printer = _Printer(args.json, args.target)
    if args.runtime == "awslambdaric":
        return _invoke_awslambdaric(args, parser, event, printer)
    return _invoke_in_process(args, parser, event, printer)


def _record(printer: _Printer, invocations: list[Invocation], inv: Invocation) -> bool:
    """Print and keep *inv*; return whether it answered differently from the cold start."""
    differs = bool(invocations) and not inv.same_outcome(invocations[0])
    invocations.append(inv)
    printer.invocation(inv, differs)
    return differs


def _finish(
    args: argparse.Namespace, printer: _Printer, invocations: list[Invocation], differing: int
) -> int:
    printer.summary(invocations, differing)
    failed = any(inv.error is not None for inv in invocations)
    return EXIT_FAILED if failed or (args.expect_same and differing) else EXIT_OK


def _invoke_in_process(
    args: argparse.Namespace, parser: argparse.ArgumentParser, event: Any, printer: _Printer
) -> int:
    from . import _lifecycle
    from .testing import LambdaEnvironment

    if "LAMBDASCOPE_COLD_START_REPORT" not in os.environ:
        _lifecycle.config.cold_start_report = False  # the Init breakdown below says the same
    sys.path.insert(0, os.getcwd())  # Lambda's task root: `module:function` from here
    try:
        env = LambdaEnvironment(
            args.target,
            function_name=args.function_name,
            memory_mb=args.memory,
            timeout=args.timeout,
            init_type=args.init_type,
            guard=args.guard,
            reimport=True,  # Init runs the module's top level, even if imported before
        )
    except FileNotFoundError as exc:
        parser.error(str(exc))
    except Exception as exc:  # Init failed: Lambda reports Runtime.ImportModuleError and so on
        printer.init_failed(exc)
        return EXIT_FAILED
    invocations: list[Invocation] = []
    differing = 0
    with env:
        printer.init(env)
        for _ in range(args.times):
            if env.closed:  # the handler ended the process: Lambda starts a new environment
                try:
                    env.restart(reimport=True)
                except Exception as exc:
                    printer.init_failed(exc)
                    return EXIT_FAILED
                printer.init(env)
            differing += _record(printer, invocations, env.run(event))
    return _finish(args, printer, invocations, differing)


def _report(logs: str) -> dict[str, Any] | None:
    for line in logs.splitlines():
        if line.startswith(_REPORT_PREFIX):
            try:
                report: dict[str, Any] = json.loads(line)
            except ValueError:  # pragma: no cover - interleaved output
                return None
            return report
    return None


def _invoke_awslambdaric(
    args: argparse.Namespace, parser: argparse.ArgumentParser, event: Any, printer: _Printer
) -> int:
    from .testing import Invocation, LocalRuntime, RuntimeExited, _locate

    try:
        path, module, attr = _locate(args.target)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    if "." in attr:
        parser.error(
            "--runtime awslambdaric runs `module.function` handlers: "
            f"{args.target!r} names a method; use the in-process runtime for it"
        )
    environ = {
        "LAMBDASCOPE_COLD_START_REPORT": os.environ.get("LAMBDASCOPE_COLD_START_REPORT", "1")
    }
    if args.guard is not None:
        environ["LAMBDASCOPE_GUARD"] = args.guard
    runtime = LocalRuntime(
        f"{module}.{attr}",
        cwd=os.getcwd() if path is None else os.path.dirname(path),  # the task root
        env=environ,
        function_name=args.function_name,
        memory_mb=args.memory,
        timeout=args.timeout,
        init_type=args.init_type,
    )
    try:
        runtime.start()
    except RuntimeExited as exc:
        printer.init_failed(_RemoteError(exc.init_error) if exc.init_error else exc)
        printer.logs(exc.logs)
        return EXIT_FAILED
    invocations: list[Invocation] = []
    differing = 0
    earlier_logs = ""  # output of environments that ended (their process is gone)
    number = 0  # the invocation's number in its environment
    with runtime:
        for count in range(1, args.times + 1):
            number += 1
            if number == 1 and count > 1:  # a new environment: keep the last one's output
                earlier_logs += runtime.logs
            request_id = str(uuid.uuid4())
            try:
                remote = runtime.invoke(
                    event, request_id=request_id, timeout=max(30.0, 2 * args.timeout)
                )
            except RuntimeExited as exc:  # the process ended: so did the environment
                remote, failure = None, _exit_error(request_id, exc)
            except TimeoutError as exc:
                remote, failure = None, exc
            records = _remote_init(printer, runtime, args.init_type) if count == 1 else ()
            cold = number == 1 and args.init_type == "on-demand"
            if remote is None:
                inv = Invocation(number, cold, request_id, 0.0, None, failure, records)
                invocations.append(inv)
                printer.invocation(inv, differs=False)
                if not isinstance(failure, _RemoteError):
                    break  # timed out: stop here
                number = 0  # as on Lambda, the next request gets a new environment
                continue
            inv = Invocation(
                number=number,
                cold_start=cold,
                request_id=remote.request_id,
                duration_ms=remote.duration_ms,
                result=remote.result,
                error=None if remote.ok else _RemoteError(remote.error or {}),
                resources=records,
            )
            differing += _record(printer, invocations, inv)
    status = _finish(args, printer, invocations, differing)
    printer.logs(earlier_logs + runtime.logs)
    return status


def _remote_init(printer: _Printer, runtime: Any, init_type: str) -> tuple[Any, ...]:
    """Print Init from the cold-start report; return the resources its first invocation made."""
    from ._resources import ResourceRecord

    report = _report(runtime.logs)
    printer.remote_init(report, init_type, runtime.pid)
    return tuple(
        ResourceRecord(r["name"], 0.0, r["ms"] / 1000, r["phase"], 1, r["error"])
        for r in (report or {}).get("resources", [])
        if r.get("phase") == "invoke"
    )


def _exit_error(request_id: str, exc: Any) -> BaseException:
    """Lambda's ``Runtime.ExitError`` for a runtime client that exited during an invocation."""
    if exc.returncode is None or exc.returncode < 0:  # killed by a signal, or not an exit
        return exc  # type: ignore[no-any-return]
    reason = (
        "Runtime exited without providing a reason"
        if exc.returncode == 0
        else f"Runtime exited with error: exit status {exc.returncode}"
    )
    payload = {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: {reason}",
        "requestId": request_id,
        "stackTrace": [],
    }
    return _RemoteError(payload)


def _check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .check import run

    status: int = run(args)
    return status


def build_parser() -> argparse.ArgumentParser:
    """The ``lambdascope`` argument parser (exposed for the docs and the tests)."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="lambdascope",
        description="AWS Lambda scope helpers: run a handler like Lambda does, check handler "
        "modules for state that leaks between invocations.",
    )
    parser.add_argument("--version", action="version", version=f"lambdascope {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    invoke = commands.add_parser(
        "invoke",
        help="run a handler in one process like an execution environment: Init once, "
        "then N invocations",
        description="Run a handler like one Lambda execution environment: Init (import the "
        "module) once, then --times invocations of the same event. Prints, per invocation, "
        "cold or warm, the duration and the result or the error, and what Init cost. "
        "Exit 1 if Init or any invocation failed.",
    )
    invoke.add_argument(
        "target",
        metavar="MODULE_OR_FILE:HANDLER",
        help="app.handlers:lambda_handler, src/app.py:lambda_handler, src/app.py "
        "(lambda_handler) or app.lambda_handler",
    )
    source = invoke.add_mutually_exclusive_group()
    source.add_argument("--event", metavar="FILE|-", help="JSON event file, or - for stdin")
    source.add_argument("--event-json", metavar="JSON", help="the JSON event inline")
    invoke.add_argument(
        "--times", type=int, default=3, metavar="N", help="invocations (default 3: 1 cold, 2 warm)"
    )
    invoke.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    invoke.add_argument(
        "--guard",
        choices=("raise", "warn", "off"),
        help="guard mode: sets LAMBDASCOPE_GUARD for @handler functions and wraps an "
        "undecorated handler in @handler(guard=MODE)",
    )
    invoke.add_argument(
        "--expect-same",
        action="store_true",
        help="exit 1 if a warm invocation answers differently from the cold start",
    )
    invoke.add_argument(
        "--function-name", default="local-function", help="AWS_LAMBDA_FUNCTION_NAME"
    )
    invoke.add_argument("--memory", type=int, default=128, metavar="MB", help="memory size (MB)")
    invoke.add_argument(
        "--timeout", type=float, default=3.0, metavar="SECONDS", help="function timeout"
    )
    invoke.add_argument(
        "--runtime",
        choices=("inprocess", "awslambdaric"),
        default="inprocess",
        help="inprocess (default): this process is the execution environment; awslambdaric: "
        "the real runtime interface client in a subprocess, fed by a local Runtime API",
    )
    invoke.add_argument(
        "--init-type",
        choices=("on-demand", "provisioned-concurrency", "snap-start"),
        default="on-demand",
        help="AWS_LAMBDA_INITIALIZATION_TYPE (only on-demand has cold starts)",
    )
    invoke.set_defaults(run=_invoke, parser=invoke)

    check = commands.add_parser(
        "check",
        help="statically find module-level state written by handlers and clients built per "
        "invocation",
    )
    from .check import configure_parser

    configure_parser(check)
    check.set_defaults(run=_check, parser=check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lambdascope`` command with *argv* (default ``sys.argv[1:]``).

    Returns the exit status instead of exiting, so it can be called from code.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on usage errors, 0 for --help / --version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result: int = args.run(args, args.parser)
    except SystemExit as exc:  # parser.error() inside a command
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return result
