"""A local Lambda Runtime API, and the real runtime interface client running a handler against it.

:class:`LocalRuntime` serves the Runtime API (``/2018-06-01/runtime/...``) on 127.0.0.1
and starts ``python -m awslambdaric module.function`` — the runtime interface client AWS
uses in Python container images — as a subprocess pointed at it, with the environment
variables Lambda sets. Each :meth:`LocalRuntime.invoke` queues an event, the client fetches
it from ``/invocation/next``, runs the handler and posts the response or the error payload
back. Under ``init_type="snap-start"`` the client runs its before-snapshot hooks, asks
``/restore/next`` (answered at once: there is no snapshot) and runs its after-restore hooks.
So handler code runs exactly as it does on Lambda: imported once by the real bootstrap,
then invoked warm, with the real context object and error marshalling.

Re-exported as :class:`lambdascope.testing.LocalRuntime`, with which it shares the
Lambda environment variables. ``import lambdascope`` does not import this module.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from lambdascope._errors import LambdascopeError
from lambdascope._tmp import PRIVATE_ENV, remove_tree

from ._context import Closing, function_arn, lambda_variables

if TYPE_CHECKING:
    from collections.abc import Mapping

    from typing_extensions import Self

__all__ = ["LocalRuntime", "RuntimeExited", "RuntimeInvocation"]

_PREFIX = "/2018-06-01/runtime"
_NEXT = f"{_PREFIX}/invocation/next"
_RESTORE_NEXT = f"{_PREFIX}/restore/next"
_POLL = 0.05  # seconds between checks while waiting
EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"

# What a managed Python runtime's bootstrap does with AWS_LAMBDA_EXEC_WRAPPER: check that it
# is an executable file (exit 127 or 126 with these words if not), then run it with the
# runtime's start command as its arguments. The wrapper may change the environment (the
# handler setting, _HANDLER, above all) before it execs that command.
_WRAPPER_BOOTSTRAP = """
wrapper="$AWS_LAMBDA_EXEC_WRAPPER"
if [ ! -f "$wrapper" ]; then echo "$wrapper: does not exist"; exit 127; fi
if [ ! -x "$wrapper" ]; then echo "$wrapper: is not an executable"; exit 126; fi
exec "$wrapper" "$@"
"""
# The runtime's start command: like the managed runtime, it reads the handler from _HANDLER
# (`python -m awslambdaric HANDLER` takes it from its argument, which a wrapper cannot change).
_START_FROM_HANDLER_VARIABLE = (
    "import os, sys; from awslambdaric.__main__ import main; "
    "main([sys.argv[0], os.environ['_HANDLER']])"
)


class RuntimeExited(LambdascopeError, RuntimeError):
    """The runtime client process ended (or never got ready): its Init failed or it crashed.

    Attributes:
        init_error: the ``/init/error`` payload it posted (``errorType``,
            ``errorMessage``, ``stackTrace``), or ``None``.
        returncode: the process's exit status, or ``None`` if it is still running.
        logs: everything it wrote to stdout and stderr.
    """

    def __init__(
        self, message: str, init_error: dict[str, Any] | None, returncode: int | None, logs: str
    ) -> None:
        super().__init__(message)
        self.init_error = init_error
        self.returncode = returncode
        self.logs = logs


@dataclass(frozen=True)
class RuntimeInvocation:
    """One invocation served through the local Runtime API.

    Attributes:
        request_id: the ``Lambda-Runtime-Aws-Request-Id`` it was sent with.
        ok: ``True`` when the client posted a response, ``False`` for an error.
        result: the response, decoded from JSON (``None`` for an error).
        error: the error payload (``errorType``, ``errorMessage``, ``stackTrace``,
            ``requestId``), as the client posts it to ``/invocation/{id}/error``.
        duration_ms: from queueing the event to receiving the outcome.
    """

    request_id: str
    ok: bool
    result: Any
    error: dict[str, Any] | None
    duration_ms: float


class _Pending:
    __slots__ = ("done", "event", "ok", "payload", "request_id", "started")

    def __init__(self, request_id: str, event: bytes) -> None:
        self.request_id = request_id
        self.event = event
        self.started = time.perf_counter()
        self.done = threading.Event()
        self.ok = False
        self.payload: Any = None


class _RuntimeAPI(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: LocalRuntime) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self.events: queue.Queue[_Pending] = queue.Queue()
        self.pending: dict[str, _Pending] = {}
        self.init_error: dict[str, Any] | None = None
        self.init_failed = threading.Event()
        self.next_calls = 0
        self.closing = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """The client hanging up (it exits, or we stop it) is not an error worth printing."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _RuntimeAPI

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
        # and delayed ACKs hold every keep-alive response back by about 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log."""

    def _reply(
        self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Type" not in (headers or {}):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path == _RESTORE_NEXT:  # SnapStart: no snapshot to take, restored at once
            self._reply(200, b"")
            return
        if self.path != _NEXT:
            self._reply(404, b'{"errorMessage": "unknown path"}')
            return
        server = self.server
        server.next_calls += 1
        while True:
            if server.closing:
                self._reply(503, b'{"errorMessage": "shutting down"}')
                return
            try:
                pending = server.events.get(timeout=_POLL)
            except queue.Empty:
                continue
            break
        owner = server.owner
        deadline = int(time.time() * 1000) + int(owner.timeout * 1000)
        # Content-Type is required: without it the native client crashes (see DESIGN.md).
        self._reply(
            200,
            pending.event,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": pending.request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline),
                "Lambda-Runtime-Invoked-Function-Arn": owner.function_arn,
                "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
            },
        )

    def do_POST(self) -> None:
        body = self._body()
        parts = self.path[len(_PREFIX) :].strip("/").split("/")
        server = self.server
        if parts in (["init", "error"], ["restore", "error"]):
            server.init_error = _decode(body)
            server.init_failed.set()
            self._reply(202, b'{"status": "OK"}')
            return
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            pending = server.pending.get(parts[1])
            if pending is None:
                self._reply(400, b'{"errorMessage": "unknown request id"}')
                return
            pending.ok = parts[2] == "response"
            pending.payload = _decode(body)
            self._reply(202, b'{"status": "OK"}')
            pending.done.set()
            return
        self._reply(404, b'{"errorMessage": "unknown path"}')


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode("utf-8", "replace")


_running: weakref.WeakSet[LocalRuntime] = weakref.WeakSet()


def _stop_all() -> None:
    """At interpreter exit: stop every client a test forgot to close."""
    for runtime in list(_running):
        runtime.close(grace=0.5)


atexit.register(_stop_all)


class LocalRuntime(Closing):
    """Run a handler under the real Lambda runtime interface client, fed by a local Runtime API.

    ::

        with LocalRuntime("app.lambda_handler", cwd="src") as runtime:
            first = runtime.invoke({"bucket": "incoming"})
            second = runtime.invoke({"bucket": "incoming"})
        assert first.ok and second.ok
        print(runtime.logs)  # what the function printed, as CloudWatch would show it

    The subprocess is ``python -m awslambdaric HANDLER`` in *cwd* (the task root: it is
    also put on ``PYTHONPATH``), in a new session so that :meth:`close` can stop it and
    anything it started. It gets the variables Lambda sets (``AWS_LAMBDA_FUNCTION_NAME``,
    ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, ``AWS_LAMBDA_INITIALIZATION_TYPE``, ``_HANDLER``,
    ``LAMBDA_TASK_ROOT``, ``AWS_REGION``, ...) on top of this process's environment and *env*,
    and a temp dir of its own as ``TMPDIR`` (removed by :meth:`close`), unless *env* gives
    one: the /tmp watch fails an invocation that leaves a file there, as on Lambda.

    When ``AWS_LAMBDA_EXEC_WRAPPER`` is set (in *env* or this process's environment), the
    client starts the way a managed runtime starts it: the wrapper script runs first, with
    the runtime's start command as its arguments, and the runtime reads the handler from
    ``_HANDLER`` as the wrapper left it. A wrapper that is not an executable file ends the
    process before Init, with the managed runtime's words and exit status (127, 126).

    Args:
        handler: the Lambda handler setting, ``module.function``.
        cwd: the task root (default: the current directory).
        env: extra environment variables for the function.
        python: the interpreter to run (it must have ``awslambdaric`` installed).
        function_name: the function's name.
        memory_mb: the function's memory size in MB.
        region: the function's AWS region.
        timeout: the function timeout in seconds, used for each invocation's deadline
            (``context.get_remaining_time_in_millis()``); it is not enforced.
        init_type: ``AWS_LAMBDA_INITIALIZATION_TYPE``. With ``lambda-managed-instances``
            the client also gets ``AWS_LAMBDA_MAX_CONCURRENCY`` (``"1"`` unless *env*
            sets it), so the real runtime forks its worker processes as on Lambda; each
            imports the handler and polls for events.
        ready_timeout: seconds to wait for the client to ask for its first event.

    Raises:
        RuntimeExited: when entering, the client failed its Init (posted
            ``/init/error``) or exited before asking for an event.
    """

    def __init__(
        self,
        handler: str,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        function_name: str = "local-function",
        memory_mb: int = 128,
        timeout: float = 3.0,
        region: str = "us-east-1",
        init_type: str = "on-demand",
        ready_timeout: float = 30.0,
    ) -> None:
        if not isinstance(handler, str) or "." not in handler:
            raise ValueError(
                f"handler must be the Lambda handler setting 'module.function', got {handler!r}"
            )
        self.handler = handler
        self.cwd = os.fspath(cwd) if cwd is not None else os.getcwd()
        self.python = python
        self.function_name = function_name
        self.memory_mb = memory_mb
        self.timeout = timeout
        self.region = region
        self.init_type = init_type
        self.ready_timeout = ready_timeout
        self.function_arn = function_arn(region, function_name)
        self._extra_env = dict(env or {})
        self._server: _RuntimeAPI | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._kept_logs = ""
        self._tmp: str | None = None
        self.invocations: list[RuntimeInvocation] = []

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the Runtime API server and the client; wait until it asks for an event."""
        if self._process is not None:
            return
        server = self._server = _RuntimeAPI(self)
        threading.Thread(target=server.serve_forever, args=(_POLL,), daemon=True).start()
        port = server.server_port
        env = {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            **lambda_variables(
                function_name=self.function_name,
                memory_mb=self.memory_mb,
                init_type=self.init_type,
                region=self.region,
                handler=self.handler,
            ),
            "LAMBDA_TASK_ROOT": self.cwd,
            "PYTHONPATH": os.pathsep.join(
                p for p in (self.cwd, os.environ.get("PYTHONPATH", "")) if p
            ),
            "PYTHONUNBUFFERED": "1",
            **(
                {"AWS_LAMBDA_MAX_CONCURRENCY": "1"}
                if self.init_type == "lambda-managed-instances"
                else {}
            ),
            **self._extra_env,
        }
        # The environment's own /tmp, as on Lambda (the one given in env=, or a new one).
        if "TMPDIR" not in self._extra_env:
            self._tmp = env["TMPDIR"] = tempfile.mkdtemp(prefix="lambdascope-tmp-")
        env[PRIVATE_ENV] = env["TMPDIR"]
        # A file, not a pipe: the child never blocks on a full pipe. Closed in close().
        self._log_file = tempfile.TemporaryFile()  # noqa: SIM115
        command = [self.python, "-m", "awslambdaric", self.handler]
        if env.get(EXEC_WRAPPER):
            start = [self.python, "-c", _START_FROM_HANDLER_VARIABLE]
            command = ["/bin/sh", "-c", _WRAPPER_BOOTSTRAP, "bootstrap", *start]
        self._process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _running.add(self)
        deadline = time.monotonic() + self.ready_timeout
        while server.next_calls == 0:
            self._raise_if_gone("before asking for its first event")
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeExited(
                    f"the runtime client did not ask for an event within {self.ready_timeout} s",
                    None,
                    None,
                    self.logs,
                )
            time.sleep(_POLL / 5)

    def _raise_if_gone(self, when: str) -> None:
        server, process = self._server, self._process
        assert server is not None
        assert process is not None
        failed = server.init_failed.is_set()
        if not failed and process.poll() is None:
            return
        if failed:
            process.wait(timeout=10)  # it exits right after posting /init/error
        error = server.init_error
        logs = self.logs
        returncode = process.poll()
        self.close()
        what = (
            f"its Init failed: {error.get('errorType')}: {error.get('errorMessage')}"
            if isinstance(error, dict)
            else f"it exited with status {returncode}"
        )
        raise RuntimeExited(f"the runtime client stopped {when}: {what}", error, returncode, logs)

    def invoke(
        self, event: Any = None, *, request_id: str | None = None, timeout: float = 30.0
    ) -> RuntimeInvocation:
        """Send one event (default ``{}``) and wait for the response or the error payload.

        Starts the client first if it is not running: after :meth:`close`, the next
        ``invoke`` runs in a new process, that is a new execution environment (Init
        again, then a cold start).

        Raises:
            RuntimeExited: the client is gone (its Init failed, or it crashed).
            TimeoutError: no outcome within *timeout* seconds; the client is stopped
                then, as Lambda ends an environment whose invocation timed out.
        """
        self.start()
        server = self._server
        assert server is not None
        pending = _Pending(
            request_id or str(uuid.uuid4()), json.dumps({} if event is None else event).encode()
        )
        server.pending[pending.request_id] = pending
        server.events.put(pending)
        deadline = time.monotonic() + timeout
        while not pending.done.wait(_POLL):
            self._raise_if_gone(f"during invocation {pending.request_id}")
            if time.monotonic() > deadline:
                logs = self.logs
                self.close()  # as Lambda does after a timeout: this environment is done
                raise TimeoutError(
                    f"no response for invocation {pending.request_id} within {timeout} s; the "
                    "runtime client was stopped (the next invoke starts a new environment). "
                    f"Its output:\n{logs}"
                )
        del server.pending[pending.request_id]
        invocation = RuntimeInvocation(
            request_id=pending.request_id,
            ok=pending.ok,
            result=pending.payload if pending.ok else None,
            error=None if pending.ok else pending.payload,
            duration_ms=(time.perf_counter() - pending.started) * 1000,
        )
        self.invocations.append(invocation)
        return invocation

    @property
    def logs(self) -> str:
        """Everything the client process wrote to stdout and stderr so far."""
        if self._log_file is None:
            return self._kept_logs
        self._log_file.flush()
        self._log_file.seek(0)
        return str(self._log_file.read().decode("utf-8", "replace"))

    @property
    def pid(self) -> int | None:
        """The client process id, while it runs."""
        return None if self._process is None else self._process.pid

    def close(self, grace: float = 2.0) -> None:
        """Stop the client (SIGTERM to its process group, SIGKILL after *grace*) and the server."""
        process, self._process = self._process, None
        _running.discard(self)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:  # pragma: no cover - it ended in between
                process.wait()
        server, self._server = self._server, None
        if server is not None:
            server.closing = True
            server.shutdown()
            server.server_close()
        if self._log_file is not None:
            self._kept_logs = self.logs
            self._log_file.close()
            self._log_file = None
        if self._tmp is not None:
            remove_tree(self._tmp)
            self._tmp = None

    def __enter__(self) -> Self:
        self.start()
        return self
