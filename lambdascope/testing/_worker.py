"""One worker process of :class:`lambdascope.testing.ManagedInstances`.

Run as ``python -m lambdascope.testing._worker FD``: a fresh interpreter started with
the function's environment variables (``AWS_LAMBDA_INITIALIZATION_TYPE`` is
``lambda-managed-instances``, ``TMPDIR`` the environment's shared ``/tmp``), talking to
its parent over the connection on file descriptor *FD*. It runs its own Init (a
:class:`~lambdascope.testing.LambdaEnvironment` imports the handler module) and then
serves one invocation at a time, as a worker of the Python runtime does under Lambda
Managed Instances. Writes under the watched temporary directories are recorded with
an audit hook, so the parent can show which process wrote which path.

Messages (pickled): the parent sends the configuration, then ``("invoke", request_id,
event_json, deadline_ms)`` for each invocation and ``None`` to stop; the worker answers
``("ready", info)`` or ``("init_error", payload)``, then ``("done", outcome)`` per
invocation.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from ._environment import Invocation

__all__ = ["main"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class _TmpWatch:
    """Paths under the watched directories opened for writing, per phase."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = tuple(root.rstrip(os.sep) + os.sep for root in roots)
        self.written: set[str] = set()

    def take(self) -> list[str]:
        written = sorted(self.written)
        self.written = set()
        return written

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or len(args) < 3:
            return
        try:
            path, mode, flags = args[:3]
            if isinstance(path, int) or path is None:
                return
            if isinstance(mode, str):
                writes = any(c in mode for c in "wax+")
            else:
                writes = bool(flags & _WRITE_FLAGS)
            if not writes:
                return
            full = os.path.abspath(os.fsdecode(os.fspath(path)))
            if full.startswith(self.roots) and f"{os.sep}__pycache__{os.sep}" not in full:
                self.written.add(full)
        except Exception:  # an audit hook must never break the code that opens a file
            return


def _number(value: Any) -> Any:
    import decimal

    if isinstance(value, decimal.Decimal):  # the runtime encodes Decimals as numbers
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _outcome(inv: Invocation, started: float, ended: float, writes: list[str]) -> dict[str, Any]:
    return {
        "number": inv.number,
        "cold_start": inv.cold_start,
        "request_id": inv.request_id,
        "duration_ms": inv.duration_ms,
        "result": None if inv.error is not None else json.dumps(inv.result, default=_number),
        "error": inv.error_payload,
        "resources": [record.as_dict() for record in inv.resources],
        "tmp_writes": writes,
        "started": started,
        "ended": ended,
    }


def serve(conn: Connection) -> int:
    """Init, then answer invocations until the parent says stop; return the exit status."""
    config: dict[str, Any] = conn.recv()
    sys.path[:0] = [p for p in config["sys_path"] if p not in sys.path]
    import tempfile

    tempfile.gettempdir()  # its writability probe (a file created and removed) is not the handler's
    watch = _TmpWatch(config["watch"])
    sys.addaudithook(watch.hook)  # only this worker process: it ends with the environment

    from . import LambdaEnvironment

    try:
        env = LambdaEnvironment(config["handler"], reimport=True, **config["options"])
    except BaseException as exc:
        import traceback

        frames = traceback.format_list(traceback.extract_tb(exc.__traceback__))
        payload = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": [f for f in frames if f"{os.sep}lambdascope{os.sep}" not in f],
        }
        conn.send(("init_error", payload))
        return 1
    info = env.init
    conn.send(
        (
            "ready",
            {
                "pid": os.getpid(),
                "module": info.module,
                "import_ms": info.import_ms,
                "resources": [record.as_dict() for record in info.resources],
                "init_type": info.init_type,
                "tmp_writes": watch.take(),
            },
        )
    )
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent went away
            return 0
        if message is None:
            env.close()
            return 0
        _, request_id, event_json, deadline_ms = message
        context = env.new_context(aws_request_id=request_id, deadline_ms=deadline_ms)
        started = time.time()
        inv = env.run(json.loads(event_json), context=context)
        ended = time.time()
        conn.send(("done", _outcome(inv, started, ended, watch.take())))
        if env.closed:  # the handler called sys.exit: this worker process ends
            return int(getattr(inv.error, "status", 1))


def main() -> None:
    """Entry point of the worker process."""
    from multiprocessing.connection import Connection

    conn = Connection(int(sys.argv[1]))
    try:
        status = serve(conn)
    finally:
        conn.close()
    sys.exit(status)


if __name__ == "__main__":
    main()
