"""End to end under the real runtime interface client: `python -m awslambdaric module.function`
in a subprocess, fed by lambdascope's local Runtime API (lambdascope.testing.LocalRuntime)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lambdascope.testing import LocalRuntime, RuntimeExited

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lambdascope.testing import RuntimeInvocation

HANDLERS = Path(__file__).resolve().parent / "e2e_handlers"


@pytest.fixture(scope="module")
def basics() -> Iterator[tuple[LocalRuntime, list[RuntimeInvocation]]]:
    with LocalRuntime(
        "basics.lambda_handler", cwd=HANDLERS, function_name="orders", memory_mb=512, timeout=20
    ) as runtime:
        runs = [runtime.invoke({"n": n}) for n in range(1, 4)]
        yield runtime, runs


def test_the_module_is_imported_once(basics: tuple[LocalRuntime, list[RuntimeInvocation]]) -> None:
    runtime, runs = basics
    assert all(run.ok for run in runs), [run.error for run in runs]
    assert runtime.logs.count("e2e: module basics imported") == 1
    assert len({run.result["pid"] for run in runs}) == 1  # one process: one environment
    assert runtime.pid == runs[0].result["pid"]


def test_init_resources_are_created_once(
    basics: tuple[LocalRuntime, list[RuntimeInvocation]],
) -> None:
    runtime, runs = basics
    assert runtime.logs.count("e2e: client created") == 1
    assert len({run.result["client"] for run in runs}) == 1


def test_request_is_fresh_and_cold_start_only_first(
    basics: tuple[LocalRuntime, list[RuntimeInvocation]],
) -> None:
    _, runs = basics
    results = [run.result for run in runs]
    assert [r["cold_start"] for r in results] == [True, False, False]
    assert [r["invocation"] for r in results] == [1, 2, 3]
    assert all(r["fresh_request"] for r in results)
    assert [r["event"] for r in results] == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_the_real_context_reaches_request(
    basics: tuple[LocalRuntime, list[RuntimeInvocation]],
) -> None:
    _, runs = basics
    for run in runs:
        assert run.result["request_id"] == run.result["context_request_id"] == run.request_id
        assert run.result["function_name"] == "orders"
        assert run.result["memory"] == "512"  # a string on Lambda too
        assert 15_000 < run.result["remaining_ms"] <= 20_000


def test_the_cold_start_report_is_written_once(
    basics: tuple[LocalRuntime, list[RuntimeInvocation]],
) -> None:
    runtime, _ = basics
    reports = [
        json.loads(line)
        for line in runtime.logs.splitlines()
        if line.startswith('{"message": "lambdascope cold start report"')
    ]
    assert len(reports) == 1
    assert reports[0]["function_name"] == "orders"
    assert reports[0]["init_type"] == "on-demand"
    assert [r["name"] for r in reports[0]["resources"]] == ["basics.client"]


def test_a_handler_exception_is_the_lambda_error_payload() -> None:
    with LocalRuntime("basics.failing", cwd=HANDLERS) as runtime:
        first = runtime.invoke({"key": "a"})
        second = runtime.invoke({})
    for run in (first, second):
        assert not run.ok
        assert run.result is None
        assert run.error is not None
        assert run.error["errorType"] == "ValueError"
        assert run.error["requestId"] == run.request_id
        assert (
            run.error["stackTrace"][-1]
            .strip()
            .endswith('raise ValueError(f"no bucket in {sorted(event)}")')
        )
        assert any(
            "basics.py" in frame and "in failing" in frame for frame in run.error["stackTrace"]
        )
    assert first.error is not None
    assert first.error["errorMessage"] == "no bucket in ['key']"
    assert second.error is not None
    assert second.error["errorMessage"] == "no bucket in []"


def test_a_scope_leak_is_the_lambda_error_payload_and_nothing_leaks() -> None:
    with LocalRuntime("leaky.lambda_handler", cwd=HANDLERS) as runtime:
        leaks = [runtime.invoke({"key": key}) for key in ("a", "b")]
        after = runtime.invoke({})
    for run in leaks:
        assert not run.ok
        assert run.error is not None
        assert run.error["errorType"] == "ScopeLeakError"
        assert "list `files` was modified in place" in run.error["errorMessage"]
        assert "1 item(s) added" in run.error["errorMessage"]
    assert after.ok
    assert after.result == 0  # the guard restored `files` after each failed invocation


@pytest.mark.parametrize("init_type", ["provisioned-concurrency", "snap-start"])
def test_init_ahead_of_traffic_has_no_cold_start(init_type: str) -> None:
    with LocalRuntime("basics.lambda_handler", cwd=HANDLERS, init_type=init_type) as runtime:
        first, second = runtime.invoke({}), runtime.invoke({})
    assert first.ok, first.error
    assert first.result["init_type"] == init_type
    assert [first.result["cold_start"], second.result["cold_start"]] == [False, False]
    # snap-start: awslambdaric ran the before-snapshot hooks, asked /restore/next, then ran
    # the after-restore hooks, which lambdascope registered at import: a restored environment.
    assert first.result["restored"] is (init_type == "snap-start")
    assert first.result["invocation"] == 1


def test_invoking_after_close_starts_a_new_environment() -> None:
    runtime = LocalRuntime("basics.lambda_handler", cwd=HANDLERS)
    first = runtime.invoke({})  # starts the client on demand
    runtime.close()
    assert runtime.pid is None
    again = runtime.invoke({})
    runtime.close()
    assert first.result["cold_start"] is True
    assert again.result["cold_start"] is True
    assert first.result["pid"] != again.result["pid"]
    assert len(runtime.invocations) == 2


def test_a_timed_out_invocation_ends_the_environment() -> None:
    with LocalRuntime("basics.lambda_handler", cwd=HANDLERS) as runtime:
        first_pid = runtime.invoke({}).result["pid"]
        with pytest.raises(TimeoutError, match="the runtime client was stopped"):
            runtime.invoke({"sleep": 5}, timeout=0.3)
        assert runtime.pid is None
        again = runtime.invoke({})  # a new environment: Init again, a cold start
    assert again.result["cold_start"] is True
    assert again.result["pid"] != first_pid


def test_a_runtime_left_open_is_stopped_when_python_exits(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from lambdascope.testing import LocalRuntime\n"
        f"runtime = LocalRuntime('basics.lambda_handler', cwd={str(HANDLERS)!r})\n"
        "runtime.invoke({})\n"
        "print(runtime.pid)\n"  # no close(): the atexit hook must stop it
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    pid = int(done.stdout.strip())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_async_handler_runs_under_the_real_client() -> None:
    with LocalRuntime("basics.async_handler", cwd=HANDLERS) as runtime:
        runs = [runtime.invoke({}) for _ in range(3)]
    assert [run.result for run in runs] == [
        {"cold_start": True, "invocation": 1},
        {"cold_start": False, "invocation": 2},
        {"cold_start": False, "invocation": 3},
    ]


def test_an_init_error_is_posted_to_init_error() -> None:
    runtime = LocalRuntime("broken.lambda_handler", cwd=HANDLERS)
    with pytest.raises(RuntimeExited, match="Init failed") as info:
        runtime.start()
    error = info.value.init_error
    assert error is not None
    assert error["errorMessage"] == "missing configuration: TABLE_NAME"
    assert "RuntimeError" in error["errorType"]
    assert info.value.returncode == 1
    assert "missing configuration" in info.value.logs
    assert runtime.pid is None  # stopped and cleaned up


def test_a_missing_handler_module_is_an_import_error() -> None:
    with pytest.raises(RuntimeExited) as info, LocalRuntime("nowhere.lambda_handler", cwd=HANDLERS):
        pass
    assert info.value.init_error is not None
    assert info.value.init_error["errorType"] == "Runtime.ImportModuleError"


def test_sigterm_closes_init_resources_on_python_312_runtimes() -> None:
    # AWS_EXECUTION_ENV=AWS_Lambda_python3.12 makes awslambdaric poll in a thread, so Python's
    # SIGTERM handler runs; @handler installs lambdascope's, which closes init resources.
    runtime = LocalRuntime(
        "basics.lambda_handler", cwd=HANDLERS, env={"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}
    )
    with runtime:
        assert runtime.invoke({}).ok
    assert "e2e: client closed" in runtime.logs


def test_bad_handler_settings_fail_early() -> None:
    with pytest.raises(ValueError, match=r"module\.function"):
        LocalRuntime("no_dot_here")


def test_a_runtime_that_never_asks_for_events_times_out(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text("import time\ntime.sleep(30)\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(RuntimeExited, match=r"did not ask for an event within 1\.0 s"):
        LocalRuntime("slow.lambda_handler", cwd=tmp_path, ready_timeout=1.0).start()
    assert time.monotonic() - started < 10
    assert os.environ.get("AWS_LAMBDA_RUNTIME_API") is None  # nothing leaked into this process


def test_real_handler_shapes_under_the_runtime_client() -> None:
    """Powertools under @handler, lazy init by hand and a read-only table pass every
    invocation; a leak in the same module still fails each one and is undone."""
    with LocalRuntime("stacked.lambda_handler", cwd=HANDLERS, timeout=20) as runtime:
        runs = [runtime.invoke({"sku": f"sku-{n}"}) for n in range(1, 4)]
    assert all(run.ok for run in runs), [run.error for run in runs]
    results = [run.result for run in runs]
    assert [(r["price"], r["cold_start"]) for r in results] == [
        (100, True),
        (200, False),
        (300, False),
    ]
    assert len({r["client"] for r in results}) == 1  # created by the first invocation, kept
    with LocalRuntime("stacked.leaky", cwd=HANDLERS, timeout=20) as runtime:
        leaks = [runtime.invoke({"sku": "a"}) for _ in range(2)]
    for run in leaks:
        assert run.error is not None
        assert run.error["errorType"] == "ScopeLeakError"
        assert "module 'stacked': list `seen` was modified in place" in run.error["errorMessage"]


def _json_logs(runtime: LocalRuntime) -> list[dict[str, object]]:
    lines = []
    for line in runtime.logs.splitlines():
        if line.startswith("{") and '"logger"' in line:
            lines.append(json.loads(line))
    return lines


def test_log_context_fields_in_lambdas_json_log_format() -> None:
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "LAMBDASCOPE_COLD_START_REPORT": "0"}
    with LocalRuntime("logctx.lambda_handler", cwd=HANDLERS, env=env, timeout=20) as runtime:
        first = runtime.invoke({"order": "A-1"})
        second = runtime.invoke({})
        logs = _json_logs(runtime)
    assert first.ok, first.error
    assert second.ok, second.error
    assert 15 < first.result["remaining"] <= 20  # request.remaining() from the real context
    by_message = {(line["message"], line.get("requestId") or None): line for line in logs}
    init = by_message[("e2e: Init", None)]
    assert "invocation" not in init
    assert "order_id" not in init
    start = by_message[("start", first.request_id)]
    assert start["cold_start"] is True
    assert start["invocation"] == 1
    assert "order_id" not in start
    processing = by_message[("processing", first.request_id)]
    assert processing["order_id"] == "A-1"
    assert processing["logger"] == "orders"
    assert processing["level"] == "INFO"
    after = by_message[("processing", second.request_id)]
    assert after["invocation"] == 2
    assert after["cold_start"] is False
    assert "order_id" not in after  # the first invocation's field did not reach the next


def test_an_async_handler_past_its_deadline_margin_fails_and_the_environment_stays() -> None:
    env = {"LAMBDASCOPE_COLD_START_REPORT": "0"}
    with LocalRuntime("logctx.slow", cwd=HANDLERS, env=env, timeout=2) as runtime:
        first = runtime.invoke({})
        pid = runtime.pid
        second = runtime.invoke({})
        assert runtime.pid == pid  # no Lambda timeout: the environment was not ended
    for run in (first, second):
        assert not run.ok
        assert run.error is not None
        assert run.error["errorType"] == "DeadlineExceededError"
        assert "deadline_margin (1 s)" in run.error["errorMessage"]
