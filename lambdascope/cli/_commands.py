"""The ``lambdascope`` command: ``invoke`` a handler locally, ``check`` handler modules.

``python -m lambdascope`` and the ``lambdascope`` console script both land in
:func:`main`. Exit status: 0 success, 1 a failed Init or invocation (``invoke``)
or a finding (``check``), 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from typing import TYPE_CHECKING, Any

from ._output import REPORT_PREFIX, Printer, RemoteError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lambdascope.testing import Invocation

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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


def _located(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[str | None, str, str]:
    """The target's file (None for a module), module and handler: a target that cannot be read
    or names a file that does not exist is a usage error, in every subcommand."""
    from lambdascope.testing._target import locate

    try:
        return locate(args.target)
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))


def _invoke(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.processes is not None:  # Lambda Managed Instances: several worker processes
        from lambdascope.testing._processes import MANAGED_INSTANCES, check_processes

        try:
            check_processes(args.processes)
        except ValueError as exc:
            parser.error(f"--{exc}")
        if args.init_type not in (None, MANAGED_INSTANCES):
            parser.error(
                f"--processes runs worker processes of Lambda Managed Instances, whose "
                f"initialization type is {MANAGED_INSTANCES}: drop --init-type {args.init_type}"
            )
        args.init_type = MANAGED_INSTANCES
    if args.times is None:
        args.times = 3 if args.processes is None else 2 * args.processes
    if args.init_type is None:
        args.init_type = "on-demand"
    if args.times < 1:
        parser.error(f"--times must be at least 1, got {args.times}")
    from lambdascope.testing import check_settings

    try:  # Lambda's limits are usage errors, not a failed Init
        check_settings(memory_mb=args.memory, timeout=args.timeout)
    except ValueError as exc:
        setting, rest = str(exc).split(" ", 1)  # "memory_mb must be ..." / "timeout must be ..."
        parser.error(f"--{'memory' if setting == 'memory_mb' else setting} {rest}")
    event = _event(args, parser)
    _located(args, parser)
    if os.environ.get("AWS_LAMBDA_EXEC_WRAPPER") and args.runtime != "awslambdaric":
        parser.error(
            f"AWS_LAMBDA_EXEC_WRAPPER={os.environ['AWS_LAMBDA_EXEC_WRAPPER']} is set: an exec "
            "wrapper runs before the runtime starts, as under --runtime awslambdaric (add it, "
            "or unset the variable)"
        )
    if args.processes is not None:
        from ._managed import invoke_managed

        return invoke_managed(args, parser, event)
    printer = Printer(args.json, args.target)
    if args.runtime == "awslambdaric":
        return _invoke_awslambdaric(args, parser, event, printer)
    return _invoke_in_process(args, parser, event, printer)


def _record(printer: Printer, invocations: list[Invocation], inv: Invocation) -> bool:
    """Print and keep *inv*; return whether it answered differently from the cold start."""
    differs = bool(invocations) and not inv.same_outcome(invocations[0])
    invocations.append(inv)
    printer.invocation(inv, differs)
    return differs


def _finish(
    args: argparse.Namespace, printer: Printer, invocations: list[Invocation], differing: int
) -> int:
    printer.summary(invocations, differing)
    failed = any(inv.error is not None for inv in invocations)
    return EXIT_FAILED if failed or (args.expect_same and differing) else EXIT_OK


def _invoke_in_process(
    args: argparse.Namespace, parser: argparse.ArgumentParser, event: Any, printer: Printer
) -> int:
    from lambdascope.testing import LambdaEnvironment

    environ = {}
    if "LAMBDASCOPE_COLD_START_REPORT" not in os.environ:
        environ["LAMBDASCOPE_COLD_START_REPORT"] = "0"  # the Init breakdown below says the same
    sys.path.insert(0, os.getcwd())  # Lambda's task root: `module:function` from here
    try:
        env = LambdaEnvironment(
            args.target,
            function_name=args.function_name,
            memory_mb=args.memory,
            timeout=args.timeout,
            init_type=args.init_type,
            guard=args.guard,
            environ=environ,
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
        if line.startswith(REPORT_PREFIX):
            try:
                report: dict[str, Any] = json.loads(line)
            except ValueError:  # pragma: no cover - interleaved output
                return None
            return report
    return None


def _invoke_awslambdaric(
    args: argparse.Namespace, parser: argparse.ArgumentParser, event: Any, printer: Printer
) -> int:
    from importlib.util import find_spec

    from lambdascope.testing import Invocation, LocalRuntime, RuntimeExited

    if find_spec("awslambdaric") is None:  # the client runs with this interpreter
        parser.error(
            "--runtime awslambdaric runs the handler under AWS's runtime interface client, "
            f"which is not installed for {sys.executable}: pip install awslambdaric "
            "(or pip install 'lambdascope[awslambdaric]')"
        )
    path, module, attr = _located(args, parser)
    if "." in attr:
        parser.error(
            "--runtime awslambdaric runs `module.function` handlers: "
            f"{args.target!r} names a method; use the in-process runtime for it"
        )
    environ = {
        "LAMBDASCOPE_COLD_START_REPORT": os.environ.get("LAMBDASCOPE_COLD_START_REPORT", "1")
    }
    setting = f"{module}.{attr}"
    if args.guard is not None:
        environ["LAMBDASCOPE_GUARD"] = args.guard
        # An undecorated handler runs under @handler(guard=MODE), as in process: the
        # redirect imports it and wraps it (a decorated one it serves as it is).
        from lambdascope._redirect import ENV, HANDLER

        environ[ENV], setting = setting, HANDLER
    runtime = LocalRuntime(
        setting,
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
        printer.init_failed(RemoteError(exc.init_error) if exc.init_error else exc)
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
                if not isinstance(failure, RemoteError):
                    break  # timed out: stop here
                number = 0  # as on Lambda, the next request gets a new environment
                continue
            inv = Invocation(
                number=number,
                cold_start=cold,
                request_id=remote.request_id,
                duration_ms=remote.duration_ms,
                result=remote.result,
                error=None if remote.ok else RemoteError(remote.error or {}),
                resources=records,
            )
            differing += _record(printer, invocations, inv)
    status = _finish(args, printer, invocations, differing)
    printer.logs(earlier_logs + runtime.logs)
    return status


def _remote_init(printer: Printer, runtime: Any, init_type: str) -> tuple[Any, ...]:
    """Print Init from the cold-start report; return the resources its first invocation made."""
    from lambdascope._resources import record_from_entry

    report = _report(runtime.logs)
    printer.remote_init(
        report, init_type, runtime.pid, os.environ.get("AWS_LAMBDA_EXEC_WRAPPER") or None
    )
    return tuple(
        record_from_entry(r, 1)
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
    return RemoteError(payload)


def _analyse(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from lambdascope._guard._ahead import FILE_NAME

    _located(args, parser)
    if args.python is not None:
        from ._python import check_version, this_version

        try:
            check_version(args.python)
        except ValueError as exc:
            parser.error(str(exc))
        if args.python != this_version():
            return _analyse_under(args, parser)
    sys.path.insert(0, os.getcwd())  # Lambda's task root: `module:function` from here
    try:
        path, found, left = _analysed(args.target, args.output, args.check)
    except Exception as exc:  # Init failed, or no guard: say so, as `invoke` does
        print(f"lambdascope analyse: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.check:
        if found:
            print(f"{path} is out of date for {len(found)} module(s): {', '.join(found)}")
            reasons: dict[str, list[str]] = {}
            for name, why in found.items():
                reasons.setdefault(why, []).append(name)
            for why, names in reasons.items():
                print(f"  {', '.join(names)}: {why}")
            print(f"run lambdascope analyse {args.target} again and ship the file it writes")
            return EXIT_FAILED
        print(f"{path} is current")
        return EXIT_OK
    print(f"wrote {path}: the guard's write analysis of {len(found)} module(s)")
    if left:
        print(
            f"analysed on the first invocation instead ({len(left)}: the analysis cannot vouch "
            f"for them ahead of time): {', '.join(left)}"
        )
    print(f"ship {FILE_NAME} with the code; it is used while each module's source is unchanged")
    return EXIT_OK


def _analysed(
    target: str, output: str | None, check: bool
) -> tuple[str, dict[str, str], list[str]]:
    """Load the handler as the runtime does and analyse ahead what its guard watches: an
    ``@handler`` one's own guard, any other wrapped as the redirect wraps it (whatever the
    target is, a library's adapter object included, the project is the handler module's)."""
    from lambdascope._handler import guard_of
    from lambdascope._redirect import as_served
    from lambdascope.testing._target import load_handler

    func, module = load_handler(target)
    guard = guard_of(as_served(module, func))
    if guard is None:
        raise ValueError("the handler's guard is off: there is nothing to analyse")
    return guard.analyse_ahead(output, check=check)  # type: ignore[no-any-return]


def _analyse_under(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``analyse --python X.Y`` for another version than this interpreter's: the same command
    run by an interpreter of that version (its imports, its bytecode, its analysis)."""
    import subprocess
    import tempfile

    from ._python import find_python

    python = find_python(args.python)
    if python is None:
        parser.error(
            f"no Python {args.python} found (python{args.python} on PATH, or pyenv's) to run "
            f"the analysis under: install it, or run `python{args.python} -m lambdascope "
            "analyse` where the function is built for that runtime"
        )
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    argv = [args.target] + (["--output", args.output] if args.output else [])
    argv += ["--check"] if args.check else []
    with tempfile.TemporaryDirectory(prefix="lambdascope-analyse-") as folder:
        # lambdascope alone (it needs nothing else) from this installation: not the other
        # packages beside it, built for this interpreter
        os.symlink(package, os.path.join(folder, "lambdascope"))
        paths = [folder, os.environ.get("PYTHONPATH", "")]
        environ = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        done = subprocess.run(
            [python, "-m", "lambdascope", "analyse", *argv], env=environ, check=False
        )
    return done.returncode


def _check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from lambdascope.check import run

    status: int = run(args)
    return status


def build_parser() -> argparse.ArgumentParser:
    """The ``lambdascope`` argument parser (exposed for the docs and the tests)."""
    from lambdascope import __version__

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
        "--times",
        type=int,
        default=None,
        metavar="N",
        help="invocations (default 3: 1 cold, 2 warm; with --processes, 2 per process)",
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
        choices=("on-demand", "provisioned-concurrency", "snap-start", "lambda-managed-instances"),
        default=None,
        help="AWS_LAMBDA_INITIALIZATION_TYPE (only on-demand has cold starts; default "
        "on-demand, or lambda-managed-instances with --processes)",
    )
    invoke.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="Lambda Managed Instances: N worker processes, each with its own Init, sharing "
        "one temporary /tmp; the invocations go to them in turn and run concurrently, and "
        "an invocation past --timeout is reported, not stopped",
    )
    invoke.set_defaults(run=_invoke, parser=invoke)

    analyse = commands.add_parser(
        "analyse",
        help="make the guard's write analysis ahead of time, to ship beside the code (a "
        "shorter cold start)",
        description="Import the handler's module (Init), analyse every module its guard "
        "watches as the first invocation would, and write lambdascope-analysis.json at the "
        "root of the project. On Lambda the guard uses it for each module whose source, "
        "Python and lambdascope versions are unchanged, instead of parsing the module.",
    )
    analyse.add_argument(
        "target",
        metavar="MODULE_OR_FILE:HANDLER",
        help="app.handlers:lambda_handler, src/app.py:lambda_handler, src/app.py "
        "(lambda_handler) or app.lambda_handler",
    )
    analyse.add_argument(
        "--output",
        metavar="FILE",
        default=None,
        help="where to write it (default: lambdascope-analysis.json at the project's root, "
        "the folder of the handler's top-level package or module)",
    )
    analyse.add_argument(
        "--python",
        metavar="X.Y",
        default=None,
        help="the Python version of the function's runtime (python3.12 -> 3.12): the analysis "
        "runs under an interpreter of that version (python3.12 on PATH, or pyenv's); the file "
        "is used on that version only (default: this interpreter's)",
    )
    analyse.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the file is missing or out of date for any module "
        "(a CI step before deploying)",
    )
    analyse.set_defaults(run=_analyse, parser=analyse)

    layer = commands.add_parser(
        "layer",
        help="build a Lambda layer that runs an existing function under the guard, its code "
        "unchanged",
    )
    from ._layer import configure_parser as configure_layer

    configure_layer(layer)

    check = commands.add_parser(
        "check",
        help="statically find module-level state written by handlers and clients built per "
        "invocation",
    )
    from lambdascope.check import configure_parser

    configure_parser(check)
    check.set_defaults(run=_check, parser=check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lambdascope`` command with *argv* (default ``sys.argv[1:]``).

    Returns the exit status instead of exiting, so it can be called from code.
    """
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # said by the subcommand's parser, under its own usage, not the top level's
            getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
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
