"""Lambda Managed Instances locally: several worker processes, each with its own Init, one /tmp.

Under Lambda Managed Instances the Python runtime serves concurrent requests with several
worker processes in one execution environment: each process imports the handler module
itself (its own Init, its own init resources, its own invocation counter), handles one
request at a time, and all of them share the environment's ``/tmp``. Timeouts are not
enforced: an invocation that runs past its timeout fails for the caller, but its code
keeps running. :class:`ManagedInstances` runs a handler that way on this machine.

Worker processes are fresh interpreters (``python -m lambdascope.testing._worker``), not
forks of this one. The real runtime forks its workers from a parent that has not imported
the handler yet, so every worker starts without the handler's module state; a fork of a
test process would instead inherit whatever that process imported, created and cached
(and forking a process that runs threads is unsafe). A fresh interpreter starts from the
same clean slate the real worker has, on every platform.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

from lambdascope import ResourceRecord
from lambdascope._tmp import PRIVATE_ENV

from ._context import Closing, lambda_seconds, lambda_variables, memory_size
from ._environment import InitInfo
from ._runtime import RuntimeExited
from ._target import split_target

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from multiprocessing.connection import Connection


__all__ = [
    "MANAGED_INSTANCES",
    "MAX_PROCESSES",
    "ManagedInstances",
    "ProcessInvocation",
    "TmpCollision",
    "WorkerProcess",
    "check_processes",
]

#: ``AWS_LAMBDA_INITIALIZATION_TYPE`` under Lambda Managed Instances.
MANAGED_INSTANCES = "lambda-managed-instances"
#: Lambda's upper limit of ``PerExecutionEnvironmentMaxConcurrency``.
MAX_PROCESSES = 1600


def check_processes(value: object) -> int:
    """Return *value* if it is a valid number of worker processes, else raise.

    Raises:
        TypeError: not an int.
        ValueError: outside 1 to 1600 (Lambda's range for the per-environment concurrency).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"processes must be an int (worker processes), got {value!r}")
    if not 1 <= value <= MAX_PROCESSES:
        raise ValueError(
            f"processes must be between 1 and {MAX_PROCESSES} (Lambda's range for "
            f"PerExecutionEnvironmentMaxConcurrency), got {value}"
        )
    return value


def _records(entries: Iterable[dict[str, Any]]) -> tuple[ResourceRecord, ...]:
    return tuple(ResourceRecord(**entry) for entry in entries)


@dataclass(frozen=True)
class ProcessInvocation:
    """One invocation served by one worker process of a :class:`ManagedInstances`.

    Attributes:
        process: the worker that served it, 1 to ``processes``.
        pid: that worker's process id.
        number: the invocation's number *in its process* (``request.invocation``):
            every worker counts from 1.
        cold_start: ``request.cold_start``: always ``False`` under Managed Instances,
            where every worker's Init ran before it asked for a request.
        request_id: the context's ``aws_request_id``.
        duration_ms: milliseconds the handler took.
        result: what the handler returned, as the runtime sends it (decoded from
            JSON: a tuple comes back as a list); ``None`` on an error.
        error: the error payload (``errorType``, ``errorMessage``, ``stackTrace``,
            ``requestId``), or ``None``.
        timeout: the function timeout in seconds.
        resources: init resources this invocation created (lazily, in its process).
        tmp_writes: files under the watched temporary directories it opened for writing.
        started, ended: wall-clock times (seconds since the epoch) around the handler.
    """

    process: int
    pid: int
    number: int
    cold_start: bool
    request_id: str
    duration_ms: float
    result: Any
    error: dict[str, Any] | None
    timeout: float
    resources: tuple[ResourceRecord, ...] = ()
    tmp_writes: tuple[str, ...] = ()
    started: float = 0.0
    ended: float = 0.0

    @property
    def ok(self) -> bool:
        """``True`` when the handler returned a result that could be sent as JSON."""
        return self.error is None

    @property
    def past_timeout(self) -> bool:
        """Whether it ran longer than the function timeout.

        On Lambda the caller then gets a timeout error, but under Managed Instances the
        code is not stopped: it ran to the end, as it did here.
        """
        return self.duration_ms > self.timeout * 1000

    @property
    def error_type(self) -> str | None:
        """The error payload's ``errorType``, or ``None``."""
        return None if self.error is None else str(self.error.get("errorType"))

    def outcome(self) -> tuple[str, Any]:
        """``("result", value)`` or ``("error", "Type: message")``, for comparisons."""
        if self.error is None:
            return ("result", self.result)
        return ("error", f"{self.error_type}: {self.error.get('errorMessage')}")

    def same_outcome(self, other: ProcessInvocation) -> bool:
        """Whether *other* ended the same way (results by their JSON, errors by type and
        message with the request ids left out)."""
        mine, theirs = self.outcome(), other.outcome()
        if mine[0] != theirs[0]:
            return False
        if mine[0] == "error":
            return bool(
                mine[1].replace(self.request_id, "") == theirs[1].replace(other.request_id, "")
            )
        return json.dumps(mine[1], sort_keys=True) == json.dumps(theirs[1], sort_keys=True)


@dataclass(frozen=True)
class TmpCollision:
    """A path in the shared ``/tmp`` written by more than one worker process.

    Attributes:
        path: the file's absolute path.
        writers: ``(process, invocation number)`` pairs, invocation ``0`` for a write
            during that process's Init; sorted.
    """

    path: str
    writers: tuple[tuple[int, int], ...]

    @property
    def processes(self) -> tuple[int, ...]:
        """The worker processes that wrote it."""
        return tuple(sorted({process for process, _ in self.writers}))


@dataclass(eq=False)  # a running process: equal only to itself
class WorkerProcess:
    """One worker process of a :class:`ManagedInstances` environment.

    Attributes:
        process: its number, 1 to ``processes``.
        pid: its process id.
        init: what its own Init did (the handler import, the init resources it created).
        init_tmp_writes: files under the watched temporary directories written during Init.
        invocations: the invocations it served, in order (its own counter).
    """

    process: int
    pid: int
    init: InitInfo
    init_tmp_writes: tuple[str, ...] = ()
    invocations: list[ProcessInvocation] = field(default_factory=list)
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _conn: Connection | None = field(default=None, repr=False)
    _log: Any = field(default=None, repr=False)
    _kept_logs: str = field(default="", repr=False)

    @property
    def alive(self) -> bool:
        """Whether the process still runs (a handler that calls ``sys.exit`` ends it)."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """Its exit status once it has ended, else ``None``."""
        return None if self._popen is None else self._popen.poll()

    @property
    def logs(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        if self._log is None:
            return self._kept_logs
        self._log.flush()
        self._log.seek(0)
        return str(self._log.read().decode("utf-8", "replace"))


def _handler_target(handler: Callable[..., Any] | str) -> str:
    if isinstance(handler, str):
        split_target(handler)  # raises ValueError for what cannot be read
        return handler
    module = getattr(handler, "__module__", None)
    qualname = getattr(handler, "__qualname__", "")
    if not callable(handler) or not module or module == "__main__" or "<" in qualname:
        raise TypeError(
            "ManagedInstances starts new worker processes that import the handler themselves: "
            "pass a 'module:function' or 'path/file.py:function' string, or a function "
            f"defined at the top level of an importable module, got {handler!r}"
        )
    return f"{module}:{qualname}"


class ManagedInstances(Closing):
    """Run a handler as Lambda Managed Instances do: N worker processes over one shared /tmp.

    Starting it starts *processes* fresh Python processes; each runs its own Init (imports
    the handler module, creates its eager init resources) with
    ``AWS_LAMBDA_INITIALIZATION_TYPE=lambda-managed-instances`` and ``TMPDIR`` pointing at
    one temporary directory that all of them share (:attr:`tmp`). Invocations go to the
    workers in turn (round robin) and run concurrently, one at a time per worker::

        with ManagedInstances("app.py:lambda_handler", processes=2) as env:
            runs = env.run_many({"order": 1}, times=4)
        assert [r.process for r in runs] == [1, 2, 1, 2]
        assert [r.number for r in runs] == [1, 1, 2, 2]  # each process counts on its own
        print(env.tmp_collisions())  # paths two processes both wrote

    An invocation that runs past *timeout* is not stopped (Managed Instances do not stop
    it either): it is reported with :attr:`ProcessInvocation.past_timeout`. A worker whose
    handler calls ``sys.exit`` ends; the others go on serving, as on Lambda.

    Args:
        handler: ``module:function`` or ``path/file.py:function`` (or a top-level function
            of an importable module); each worker imports it.
        processes: worker processes, 1 to 1600 (``AWS_LAMBDA_MAX_CONCURRENCY``).
        function_name: the function's name (``AWS_LAMBDA_FUNCTION_NAME``).
        memory_mb: the function's memory size, 128 to 10240.
        timeout: the function's timeout in seconds; an invocation past it is reported.
        region: the AWS region of the function.
        environ: extra environment variables for the function.
        guard: ``LAMBDASCOPE_GUARD`` for the workers (see :class:`LambdaEnvironment`).
        tmp: the shared directory to use as ``/tmp`` (``TMPDIR``); default a new
            temporary directory, removed by :meth:`close` (one you pass is kept).
        python: the interpreter for the workers (it must be able to import lambdascope).
        wait_limit: seconds to wait for a batch of invocations before giving up (the
            harness's own safety net, not a Lambda timeout; the workers are then stopped);
            default ``max(60, 10 * timeout)``.
        ready_timeout: seconds to wait for the workers' Init.

    Raises:
        TypeError, ValueError: a bad option, at construction.
        RuntimeExited: a worker's Init failed (``init_error`` holds its error payload).
    """

    def __init__(
        self,
        handler: Callable[..., Any] | str,
        *,
        processes: int = 2,
        function_name: str = "test-function",
        memory_mb: int = 128,
        timeout: float = 3.0,
        region: str = "us-east-1",
        environ: Mapping[str, str] | None = None,
        guard: Literal["raise", "warn", "off"] | None = None,
        tmp: str | os.PathLike[str] | None = None,
        python: str = sys.executable,
        wait_limit: float | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        self.handler = _handler_target(handler)
        self.processes = check_processes(processes)
        self.function_name = function_name
        self.memory_mb = memory_size(memory_mb)
        self.timeout = lambda_seconds("timeout", timeout)
        self.region = region
        if guard is not None:
            from lambdascope._guard import resolve_mode

            resolve_mode(guard)
        self.guard = guard
        self.python = python
        self.wait_limit = max(60.0, 10 * self.timeout) if wait_limit is None else wait_limit
        self.ready_timeout = ready_timeout
        self._environ = dict(environ or {})
        self._own_tmp = tmp is None
        self.tmp: str = (
            tempfile.mkdtemp(prefix="lambdascope-tmp-") if tmp is None else os.fspath(tmp)
        )
        self.workers: list[WorkerProcess] = []
        self.invocations: list[ProcessInvocation] = []
        self._turn = 0
        self._closed = False
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # -- starting ---------------------------------------------------------------------------

    def _worker_environ(self) -> dict[str, str]:
        variables = lambda_variables(
            function_name=self.function_name,
            memory_mb=self.memory_mb,
            init_type=MANAGED_INSTANCES,
            region=self.region,
            handler=self.handler,
        )
        return {
            **os.environ,
            **variables,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(self.timeout)),
            "AWS_LAMBDA_MAX_CONCURRENCY": str(self.processes),
            "TMPDIR": self.tmp,
            PRIVATE_ENV: self.tmp,  # the environment's own /tmp, shared by its workers
            **({"LAMBDASCOPE_GUARD": self.guard} if self.guard else {}),
            **self._environ,
        }

    def _config(self) -> dict[str, Any]:
        watched = {os.path.abspath(self.tmp), os.path.realpath(self.tmp)}
        if os.path.isdir("/tmp"):  # code that hard-codes /tmp: shared on this machine too
            watched |= {"/tmp", os.path.realpath("/tmp")}
        return {
            "handler": self.handler,
            "sys_path": [os.getcwd(), *sys.path],
            "watch": sorted(watched),
            "options": {
                "function_name": self.function_name,
                "memory_mb": self.memory_mb,
                "timeout": self.timeout,
                "region": self.region,
                "init_type": MANAGED_INSTANCES,
                "environ": {"AWS_LAMBDA_MAX_CONCURRENCY": str(self.processes), **self._environ},
                "guard": self.guard,
                "tmp": self.tmp,
            },
        }

    def _start(self) -> None:
        from multiprocessing.connection import Pipe

        env = self._worker_environ()
        config = self._config()
        for number in range(1, self.processes + 1):  # all start at once, then Init in parallel
            mine, theirs = Pipe()
            log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            try:
                popen = subprocess.Popen(
                    [self.python, "-m", "lambdascope.testing._worker", str(theirs.fileno())],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,
                )
            except BaseException:
                mine.close()
                log.close()
                raise
            finally:
                theirs.close()
            worker = WorkerProcess(number, popen.pid, InitInfo(None, None, (), MANAGED_INSTANCES))
            worker._popen, worker._conn, worker._log = popen, mine, log
            self.workers.append(worker)  # from here on, close() stops it
            mine.send(config)
        for worker in self.workers:
            self._await_ready(worker)

    def _await_ready(self, worker: WorkerProcess) -> None:
        conn = worker._conn
        assert conn is not None
        try:
            if not conn.poll(self.ready_timeout):
                raise RuntimeExited(
                    f"worker process {worker.process} did not finish its Init within "
                    f"{self.ready_timeout} s",
                    None,
                    None,
                    worker.logs,
                )
            kind, data = conn.recv()
        except (EOFError, OSError):
            kind, data = "exited", None
        if kind != "ready":
            if worker._popen is not None:
                worker._popen.wait(timeout=10)
            error = data if kind == "init_error" else None
            what = (
                f"its Init failed: {error.get('errorType')}: {error.get('errorMessage')}"
                if isinstance(error, dict)
                else f"it exited with status {worker.returncode}"
            )
            raise RuntimeExited(
                f"worker process {worker.process} stopped before serving: {what}",
                error,
                worker.returncode,
                worker.logs,
            )
        worker.init = InitInfo(
            module=data["module"],
            import_ms=data["import_ms"],
            resources=_records(data["resources"]),
            init_type=data["init_type"],
        )
        worker.init_tmp_writes = tuple(data["tmp_writes"])

    # -- invoking ---------------------------------------------------------------------------

    def run(self, event: Any = None, *, process: int | None = None) -> ProcessInvocation:
        """Invoke once, on the next worker in turn (or on worker *process*); wait for it.

        Raises:
            ValueError: *process* is not one of the workers, or has ended.
            RuntimeExited: every worker has ended.
        """
        if process is not None:
            if process not in range(1, len(self.workers) + 1):
                raise ValueError(f"process must be 1 to {len(self.workers)}, got {process!r}")
            worker = self.workers[process - 1]
            if not worker.alive:
                raise ValueError(f"worker process {process} has ended (exit {worker.returncode})")
            return self._dispatch([event], pinned=worker)[0]
        return self._dispatch([event])[0]

    def run_many(self, event: Any = None, *, times: int | None = None) -> list[ProcessInvocation]:
        """Invoke *times* times (default: twice per process) with the same event, concurrently.

        Invocation *i* goes to the next worker in turn; every worker serves its share one
        at a time, all workers at once. Returns the invocations in the order they were
        sent (see :attr:`ProcessInvocation.started` for when each ran).

        Raises:
            RuntimeExited: every worker ended before the batch was done (the invocations
                that finished are in :attr:`invocations`).
            TimeoutError: the batch took longer than *wait_limit*; the workers were stopped.
        """
        if times is None:
            times = 2 * self.processes
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive int, got {times!r}")
        return self._dispatch([event] * times)

    def run_concurrently(self, events: Iterable[Any]) -> list[ProcessInvocation]:
        """Invoke once per event, spread over the workers in turn and run concurrently."""
        batch = list(events)
        if not batch:
            raise ValueError("run_concurrently needs at least one event")
        return self._dispatch(batch)

    def _live(self) -> list[WorkerProcess]:
        if self._closed:
            raise RuntimeError("this ManagedInstances environment is closed")
        live = [w for w in self.workers if w.alive and w._conn is not None]
        if not live:
            raise RuntimeExited(
                "every worker process has ended: on Lambda this execution environment is "
                "replaced by a new one",
                None,
                self.workers[-1].returncode if self.workers else None,
                "".join(w.logs for w in self.workers),
            )
        return live

    def _dispatch(
        self, events: list[Any], pinned: WorkerProcess | None = None
    ) -> list[ProcessInvocation]:
        from multiprocessing.connection import wait

        try:
            bodies = [json.dumps({} if event is None else event) for event in events]
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"events must be JSON serialisable (Lambda delivers them as JSON): {exc}"
            ) from None
        queues: dict[int, deque[int]] = {}
        for index in range(len(bodies)):
            worker = pinned or self._next_worker()
            queues.setdefault(worker.process, deque()).append(index)
        results: dict[int, ProcessInvocation] = {}
        in_flight: dict[Any, tuple[int, WorkerProcess, str]] = {}

        def send_next(worker: WorkerProcess) -> None:
            queue = queues.get(worker.process)
            if not queue:
                return
            if worker.alive and worker._conn is not None:
                request_id = str(uuid.uuid4())
                deadline_ms = int(time.time() * 1000) + int(self.timeout * 1000)
                try:
                    worker._conn.send(("invoke", request_id, bodies[queue[0]], deadline_ms))
                except OSError:  # it ended while idle
                    self._forget(worker)
                else:
                    in_flight[worker._conn] = (queue.popleft(), worker, request_id)
                    return
            moved = list(queue)  # its share goes to the workers still serving
            queue.clear()
            for index in moved:
                target = self._next_worker()
                queues.setdefault(target.process, deque()).append(index)
                if target._conn not in in_flight:
                    send_next(target)

        try:
            for worker in list(self.workers):
                if worker.process in queues:
                    send_next(worker)
            give_up = time.monotonic() + self.wait_limit
            while in_flight:
                ready = wait(list(in_flight), timeout=max(give_up - time.monotonic(), 0))
                if not ready:
                    self.close()
                    raise TimeoutError(
                        f"{len(in_flight)} invocation(s) still running after {self.wait_limit} s "
                        "(wait_limit, the harness's own limit: Managed Instances would let them "
                        "run on); the worker processes were stopped"
                    )
                for conn in ready:
                    index, worker, request_id = in_flight.pop(conn)
                    results[index] = self._receive(worker, request_id)
                    send_next(worker)
        finally:  # what finished is kept, also when the batch could not be completed
            self.invocations.extend(results[index] for index in sorted(results))
        return [results[index] for index in range(len(bodies))]

    def _next_worker(self) -> WorkerProcess:
        live = self._live()
        for _ in range(len(self.workers)):
            worker = self.workers[self._turn % len(self.workers)]
            self._turn += 1
            if worker in live:
                return worker
        return live[0]  # pragma: no cover - the loop always finds a live worker

    def _receive(self, worker: WorkerProcess, request_id: str) -> ProcessInvocation:
        assert worker._conn is not None
        try:
            _, data = worker._conn.recv()
        except (EOFError, OSError):  # the process died mid-invocation (os._exit, a signal)
            self._forget(worker)
            _stop(worker._popen, 10.0)
            status = worker.returncode
            message = f"RequestId: {request_id} Error: Runtime exited with status {status}"
            error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": message,
                "requestId": request_id,
                "stackTrace": [],
            }
            inv = ProcessInvocation(
                worker.process, worker.pid, len(worker.invocations) + 1, False, request_id,
                0.0, None, error, self.timeout,
            )  # fmt: skip
            worker.invocations.append(inv)
            return inv
        result = data["result"]
        inv = ProcessInvocation(
            process=worker.process,
            pid=worker.pid,
            number=data["number"],
            cold_start=data["cold_start"],
            request_id=data["request_id"],
            duration_ms=data["duration_ms"],
            result=None if result is None else json.loads(result),
            error=data["error"],
            timeout=self.timeout,
            resources=_records(data["resources"]),
            tmp_writes=tuple(data["tmp_writes"]),
            started=data["started"],
            ended=data["ended"],
        )
        worker.invocations.append(inv)
        if inv.error_type == "Runtime.ExitError":  # the handler called sys.exit: the worker ends
            self._forget(worker)
            _stop(worker._popen, 30.0)
        return inv

    def _forget(self, worker: WorkerProcess) -> None:
        if worker._conn is not None:
            worker._conn.close()
            worker._conn = None

    # -- what happened ----------------------------------------------------------------------

    def tmp_collisions(self) -> list[TmpCollision]:
        """Paths in the watched temporary directories written by more than one process.

        Writes are seen when they go through Python's ``open``/``os.open`` (an audit hook
        in each worker): C libraries that open files themselves are not seen.
        """
        writers: dict[str, set[tuple[int, int]]] = {}
        for worker in self.workers:
            for path in worker.init_tmp_writes:
                writers.setdefault(path, set()).add((worker.process, 0))
            for inv in worker.invocations:
                for path in inv.tmp_writes:
                    writers.setdefault(path, set()).add((worker.process, inv.number))
        return [
            TmpCollision(path, tuple(sorted(who)))
            for path, who in sorted(writers.items())
            if len({process for process, _ in who}) > 1
        ]

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    def close(self, grace: float = 2.0) -> None:
        """Stop every worker (they get ``None``, then SIGTERM, then SIGKILL) and remove the
        shared directory if this object created it."""
        if self._closed:
            return
        self._closed = True
        for worker in self.workers:
            if worker._conn is not None:
                with contextlib.suppress(OSError):  # it has ended already
                    worker._conn.send(None)
        for worker in self.workers:
            _stop(worker._popen, grace)
            self._forget(worker)
            if worker._log is not None:
                worker._kept_logs = worker.logs
                worker._log.close()
                worker._log = None
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self.invocations)} invocations"
        return f"<ManagedInstances {self.handler} processes={self.processes} {state}>"


def _stop(popen: subprocess.Popen[bytes] | None, grace: float) -> None:
    if popen is None or popen.poll() is not None:
        return
    try:
        popen.wait(timeout=grace)  # it was asked to stop: it ends after its invocation
        return
    except subprocess.TimeoutExpired:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(popen.pid, sig)
            popen.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:  # pragma: no cover - it ended in between
            popen.wait()
            return
