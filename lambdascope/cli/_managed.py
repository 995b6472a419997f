"""``lambdascope invoke --processes N``: a handler under Lambda Managed Instances, locally.

N worker processes (each with its own Init) share one temporary directory as ``/tmp``;
the invocations go to them in turn and run concurrently. The output names the process
that served each invocation, the paths more than one process wrote, and a summary per
process. An invocation that runs past the timeout is reported, not stopped.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from lambdascope._resources import report_entry

from ._output import Printer, RemoteError

if TYPE_CHECKING:
    import argparse

    from lambdascope.testing import (
        ManagedInstances,
        ProcessInvocation,
        TmpCollision,
        WorkerProcess,
    )

__all__ = ["invoke_managed"]

_WIDTH = 120
_MI = "lambda-managed-instances"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def _writers(collision: TmpCollision) -> str:
    parts = []
    for process in collision.processes:
        numbers = [n for p, n in collision.writers if p == process]
        named = ", ".join("Init" if n == 0 else f"invocation {n}" for n in numbers)
        parts.append(f"process {process} ({named})")
    return "; ".join(parts)


class _ManagedPrinter:
    """Text or JSON-lines output of ``invoke --processes``."""

    def __init__(self, as_json: bool, target: str, timeout: float) -> None:
        self.as_json = as_json
        self.target = target
        self.timeout = timeout

    def _emit(self, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def _json(self, **fields: Any) -> None:
        self._emit(json.dumps(fields, default=str))

    def environment(self, env: ManagedInstances) -> None:
        if self.as_json:
            self._json(
                phase="environment",
                handler=self.target,
                init_type=_MI,
                processes=env.processes,
                tmp=env.tmp,
                python=".".join(map(str, sys.version_info[:2])),
            )
        else:
            self._emit(
                f"Lambda Managed Instances: {env.processes} worker process(es), "
                f"one shared /tmp: {env.tmp} (TMPDIR; removed at the end)"
            )
            if sys.version_info < (3, 13):
                self._emit(
                    "  note: on Lambda, Managed Instances run Python 3.13 and later; "
                    f"this is Python {sys.version_info[0]}.{sys.version_info[1]}"
                )
        for worker in env.workers:
            self.init(worker)

    def init(self, worker: WorkerProcess) -> None:
        info = worker.init
        if self.as_json:
            self._json(
                phase="init",
                handler=self.target,
                process=worker.process,
                pid=worker.pid,
                init_type=info.init_type,
                module=info.module,
                import_ms=None if info.import_ms is None else round(info.import_ms, 3),
                resources=[report_entry(r) for r in info.resources],
                tmp_writes=list(worker.init_tmp_writes),
            )
            return
        self._emit(
            f"Init process {worker.process} (pid {worker.pid}, {info.init_type}): "
            f"import {info.module} {_ms(info.import_ms)}"
            + (
                f", of which {len(info.resources)} init resource(s) {_ms(info.resources_ms)}"
                if info.resources
                else ""
            )
        )
        for record in info.resources:
            self._emit(
                f"  + init_resource {record.name}  {_ms(record.duration * 1000)}  "
                "created during this process's Init"
            )

    def invocation(self, sequence: int, inv: ProcessInvocation, differs: bool) -> None:
        if self.as_json:
            self._json(
                phase="invoke",
                sequence=sequence,
                process=inv.process,
                pid=inv.pid,
                invocation=inv.number,
                cold_start=inv.cold_start,
                request_id=inv.request_id,
                duration_ms=round(inv.duration_ms, 3),
                past_timeout=inv.past_timeout,
                result=inv.result,
                error=inv.error,
                differs_from_first=differs,
                resources=[report_entry(r) for r in inv.resources],
                tmp_writes=list(inv.tmp_writes),
            )
            return
        kind = "first" if inv.number == 1 else "warm "
        if inv.error is None:
            outcome = f"ok     {_short(inv.result)}"
        else:
            message = str(inv.error.get("errorMessage", "")).replace("\n", "\n     ")
            outcome = f"ERROR  {inv.error_type}: {message}"
        note = "  <- differs from invocation #1 (same event)" if differs else ""
        self._emit(
            f"#{sequence} process {inv.process} invocation {inv.number} {kind}"
            f"{inv.duration_ms:8.1f} ms  {outcome}{note}"
        )
        for record in inv.resources:
            self._emit(
                f"  + init_resource {record.name}  {_ms(record.duration * 1000)}  "
                f"created in this invocation (process {inv.process})"
            )
        if inv.error is not None:
            for frame in [str(f) for f in inv.error.get("stackTrace") or []][-3:]:
                self._emit("     " + frame.rstrip("\n").replace("\n", "\n     "))
        if inv.past_timeout:
            self._emit(
                f"     PAST TIMEOUT: ran {inv.duration_ms:.1f} ms, the timeout is "
                f"{self.timeout:g} s. Lambda answers the caller with a timeout error; under "
                "Managed Instances the code is not stopped and ran to the end"
            )

    def collisions(self, found: list[TmpCollision]) -> None:
        if self.as_json:
            for collision in found:
                writers = [{"process": p, "invocation": n} for p, n in collision.writers]
                self._json(phase="tmp_collision", path=collision.path, writers=writers)
            return
        if not found:
            return
        self._emit("/tmp paths written by more than one process (invocation 0 is Init):")
        for collision in found:
            self._emit(f"  {collision.path}  {_writers(collision)}")

    def summary(self, env: ManagedInstances, runs: list[ProcessInvocation], differing: int) -> None:
        per_process: list[dict[str, Any]] = []
        for worker in env.workers:
            mine = [inv for inv in runs if inv.process == worker.process]
            created: dict[str, int] = {}
            for inv in mine:
                for record in inv.resources:
                    created[record.name] = created.get(record.name, 0) + 1
            per_process.append(
                {
                    "process": worker.process,
                    "pid": worker.pid,
                    "invocations": len(mine),
                    "errors": sum(1 for inv in mine if inv.error is not None),
                    "past_timeout": sum(1 for inv in mine if inv.past_timeout),
                    "running": worker.alive,
                    "resources_created_during_invocations": created,
                }
            )
        errors = sum(1 for inv in runs if inv.error is not None)
        late = sum(1 for inv in runs if inv.past_timeout)
        collisions = len(env.tmp_collisions())
        if self.as_json:
            self._json(
                phase="summary",
                invocations=len(runs),
                processes=per_process,
                cold=sum(1 for inv in runs if inv.cold_start),
                errors=errors,
                past_timeout=late,
                tmp_collisions=collisions,
                differs_from_first=differing,
            )
            return
        self._emit("Per process:")
        for row in per_process:
            made = ", ".join(
                f"{name} x{count}"
                for name, count in row["resources_created_during_invocations"].items()
            )
            self._emit(
                f"  process {row['process']} (pid {row['pid']}): {row['invocations']} "
                f"invocation(s), {row['errors']} error(s), {row['past_timeout']} past timeout"
                + ("" if row["running"] else ", ended")
                + (f"; init resources created during invocations: {made}" if made else "")
            )
        self._emit(
            f"{len(runs)} invocation(s) across {env.processes} worker process(es) of one "
            "environment: 0 cold (every process ran its own Init before serving), "
            f"{errors} error(s), {late} past the timeout, {collisions} /tmp path(s) written "
            f"by more than one process, {differing} answer(s) different from invocation #1"
        )

    def stopped(self, error: BaseException) -> None:
        if self.as_json:
            self._json(phase="stopped", error=f"{type(error).__name__}: {error}")
        else:
            self._emit(f"Stopped: {type(error).__name__}: {error}")

    def logs(self, env: ManagedInstances) -> None:
        for worker in env.workers:
            lines = [
                line
                for line in worker.logs.splitlines()
                if not line.startswith('{"message": "lambdascope cold start report"')
            ]
            if self.as_json:
                self._json(phase="logs", process=worker.process, pid=worker.pid, lines=lines)
            elif lines:
                self._emit(f"Function output, process {worker.process} (pid {worker.pid}):")
                for line in lines:
                    self._emit("  | " + line)


def invoke_managed(args: argparse.Namespace, parser: argparse.ArgumentParser, event: Any) -> int:
    """Run ``invoke --processes N``; return the exit status (1: Init, an invocation failed
    or ran past its timeout, or answers differed under ``--expect-same``)."""
    import os

    from lambdascope.testing import ManagedInstances, RuntimeExited
    from lambdascope.testing._target import locate

    if args.runtime != "inprocess":
        parser.error(
            "--processes starts its own worker processes; it cannot be combined with "
            "--runtime awslambdaric"
        )
    try:
        locate(args.target)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    sys.path.insert(0, os.getcwd())  # Lambda's task root: `module:function` from here
    printer = _ManagedPrinter(args.json, args.target, args.timeout)
    try:
        env = ManagedInstances(
            args.target,
            processes=args.processes,
            function_name=args.function_name,
            memory_mb=args.memory,
            timeout=args.timeout,
            guard=args.guard,
        )
    except RuntimeExited as exc:
        init_printer = Printer(args.json, args.target)
        init_printer.init_failed(RemoteError(exc.init_error) if exc.init_error else exc)
        init_printer.logs(exc.logs)
        return 1
    with env:
        printer.environment(env)
        stopped: BaseException | None = None
        try:
            env.run_many(event, times=args.times)
        except (TimeoutError, RuntimeExited) as exc:  # the harness gave up, or no worker left
            stopped = exc
        runs = env.invocations  # those that finished
        differing = 0
        for sequence, inv in enumerate(runs, start=1):
            differs = sequence > 1 and not inv.same_outcome(runs[0])
            differing += differs
            printer.invocation(sequence, inv, differs)
        if stopped is not None:
            printer.stopped(stopped)
        printer.collisions(env.tmp_collisions())
        printer.summary(env, runs, differing)
        env.close()
        printer.logs(env)
    failed = stopped is not None or any(inv.error is not None or inv.past_timeout for inv in runs)
    return 1 if failed or (args.expect_same and differing) else 0
