"""Lambda Managed Instances locally: real worker processes, each with its own Init, one shared /tmp.

Every test here starts real Python processes (ManagedInstances, the CLI, awslambdaric).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from lambdascope.cli import main
from lambdascope.testing import (
    LambdaEnvironment,
    LocalRuntime,
    ManagedInstances,
    RuntimeExited,
    new_environment,
)

if TYPE_CHECKING:
    from conftest import HandlerDir

MI = "lambda-managed-instances"

APP = """
import os
import sys
import tempfile
import time

from lambdascope import handler, init_resource, request

INIT_PID = os.getpid()
with open(os.path.join(tempfile.gettempdir(), f"init-{INIT_PID}.txt"), "w") as marker:
    marker.write("Init ran in this process")


@init_resource(eager=True)
def settings():
    return {"pid": os.getpid()}


@init_resource
def client():
    return object()


def _arrive_and_wait(expected):
    # a barrier through the shared /tmp: it only opens if `expected` invocations run at once
    folder = tempfile.gettempdir()
    open(os.path.join(folder, f"arrived-{request.request_id}"), "w").close()
    for _ in range(3000):
        seen = [name for name in os.listdir(folder) if name.startswith("arrived-")]
        if len(seen) >= expected:
            return len(seen)
        time.sleep(0.01)
    return len(seen)


@handler
def lambda_handler(event, context):
    client()
    if event.get("exit"):
        sys.exit(3)
    if event.get("hard_exit"):
        os._exit(5)
    if event.get("constant"):
        return {"ok": True}
    if event.get("fail"):
        raise ValueError(f"bad order {event['fail']}")
    if event.get("fixed"):  # a fixed path: every process writes the same file
        with open(os.path.join(tempfile.gettempdir(), "cache.json"), "w") as f:
            f.write(str(os.getpid()))
    if event.get("own"):  # a path per process: no collision
        with open(os.path.join(tempfile.gettempdir(), f"cache-{os.getpid()}.json"), "w") as f:
            f.write(str(os.getpid()))
    seen = _arrive_and_wait(event["barrier"]) if event.get("barrier") else None
    if event.get("sleep"):
        time.sleep(event["sleep"])
        remaining = context.get_remaining_time_in_millis()
        with open(os.path.join(tempfile.gettempdir(), f"finished-{request.request_id}"), "w"):
            pass
        return {"remaining": remaining}
    print(f"served {request.invocation} in {os.getpid()}")
    return {
        "pid": os.getpid(),
        "init_pid": INIT_PID,
        "invocation": request.invocation,
        "cold": request.cold_start,
        "init_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
        "max_concurrency": os.environ["AWS_LAMBDA_MAX_CONCURRENCY"],
        "tmp": tempfile.gettempdir(),
        "seen": seen,
    }
"""


@pytest.fixture
def app(handler_dir: HandlerDir) -> HandlerDir:
    handler_dir.write("app", APP)
    return handler_dir


def test_each_process_runs_its_own_init_over_one_shared_tmp(app: HandlerDir) -> None:
    with ManagedInstances("app:lambda_handler", processes=3) as env:
        pids = [worker.pid for worker in env.workers]
        assert len(set(pids)) == 3
        assert os.getpid() not in pids
        # every worker imported the module itself (its top level wrote a marker into the
        # one shared directory) and created its eager resource during its own Init
        assert sorted(os.listdir(env.tmp)) == sorted(f"init-{pid}.txt" for pid in pids)
        for worker in env.workers:
            assert worker.init.module == "app"
            assert worker.init.init_type == MI
            assert [r.name for r in worker.init.resources] == ["app.settings"]
            assert [r.phase for r in worker.init.resources] == ["init"]
            assert worker.init_tmp_writes == (os.path.join(env.tmp, f"init-{worker.pid}.txt"),)
        runs = env.run_many({}, times=3)
        assert all(run.result["tmp"] == env.tmp for run in runs)
        assert all(run.result["pid"] == run.result["init_pid"] == run.pid for run in runs)
        assert all(run.result["init_type"] == MI for run in runs)
        assert all(run.result["max_concurrency"] == "3" for run in runs)
        # the Init markers were written by three different processes, each its own path
        assert env.tmp_collisions() == []
        tmp = env.tmp
    assert not os.path.exists(tmp)  # a directory it created is removed at close


def test_invocations_go_round_robin_and_every_process_counts_its_own(app: HandlerDir) -> None:
    with ManagedInstances("app:lambda_handler", processes=3) as env:
        runs = env.run_many({}, times=7)
        assert [run.process for run in runs] == [1, 2, 3, 1, 2, 3, 1]
        assert [run.number for run in runs] == [1, 1, 1, 2, 2, 2, 3]
        assert [run.result["invocation"] for run in runs] == [run.number for run in runs]
        # Init ran before each process asked for work: no invocation is a cold start
        assert not any(run.cold_start or run.result["cold"] for run in runs)
        # the lazy init resource is created once per process, by its first invocation
        assert [len(run.resources) for run in runs] == [1, 1, 1, 0, 0, 0, 0]
        assert {run.resources[0].name for run in runs[:3]} == {"app.client"}
        assert len({run.request_id for run in runs}) == 7
        assert [len(worker.invocations) for worker in env.workers] == [3, 2, 2]
        assert env.invocations == runs
        single = env.run({})
        assert (single.process, single.number) == (2, 3)  # the turn goes on
        pinned = env.run({}, process=1)
        assert (pinned.process, pinned.number) == (1, 4)
        assert "served 1 in" in env.workers[0].logs
        assert "processes=3" in repr(env)
    assert "closed" in repr(env)
    assert env.closed
    assert all(not worker.alive for worker in env.workers)
    assert "served 4 in" in env.workers[0].logs  # kept after the process ended


def test_processes_serve_requests_concurrently(app: HandlerDir) -> None:
    with ManagedInstances("app:lambda_handler", processes=2, timeout=60) as env:
        # each invocation waits until two have arrived: only concurrent ones get past
        first, second = env.run_concurrently([{"barrier": 2}, {"barrier": 2}])
    assert first.result["seen"] == second.result["seen"] == 2
    assert first.process != second.process
    assert max(first.started, second.started) < min(first.ended, second.ended)


def test_a_fixed_tmp_path_written_by_two_processes_is_a_collision(app: HandlerDir) -> None:
    with ManagedInstances("app:lambda_handler", processes=2) as env:
        runs = env.run_many({"fixed": True, "own": True}, times=4)
        fixed = os.path.join(env.tmp, "cache.json")
        assert all(fixed in run.tmp_writes for run in runs)
        [collision] = env.tmp_collisions()
        assert collision.path == fixed
        assert collision.processes == (1, 2)
        assert collision.writers == ((1, 1), (1, 2), (2, 1), (2, 2))
        # the file is real and one process's write replaced the other's
        with open(fixed) as written:
            assert int(written.read()) in {worker.pid for worker in env.workers}
        own = sorted(name for name in os.listdir(env.tmp) if name.startswith("cache-"))
        assert own == sorted(f"cache-{worker.pid}.json" for worker in env.workers)


def test_a_tmp_directory_passed_in_is_used_and_kept(app: HandlerDir) -> None:
    shared = app.path / "shared-tmp"
    shared.mkdir()
    with ManagedInstances("app:lambda_handler", processes=2, tmp=shared) as env:
        env.run_many({"fixed": True}, times=2)
    assert (shared / "cache.json").exists()


def test_an_invocation_past_its_timeout_is_reported_not_stopped(app: HandlerDir) -> None:
    with ManagedInstances("app:lambda_handler", processes=1, timeout=1) as env:
        late = env.run({"sleep": 1.2})
        on_time = env.run({})
        finished = os.path.exists(os.path.join(env.tmp, f"finished-{late.request_id}"))
    assert finished  # the code ran to its end after the deadline
    assert late.ok
    assert late.past_timeout
    assert late.result == {"remaining": 0}  # the context said the time was up
    assert not on_time.past_timeout
    assert on_time.number == 2  # the same process went on serving


def test_a_worker_that_exits_ends_and_the_others_go_on(app: HandlerDir) -> None:
    with ManagedInstances("app:lambda_handler", processes=2) as env:
        exited = env.run({"exit": True}, process=1)
        assert exited.error_type == "Runtime.ExitError"
        assert not exited.ok
        assert not env.workers[0].alive
        assert env.workers[0].returncode == 3
        rest = env.run_many({}, times=3)
        assert [run.process for run in rest] == [2, 2, 2]
        assert [run.number for run in rest] == [1, 2, 3]
        with pytest.raises(ValueError, match="has ended"):
            env.run({}, process=1)
        last = env.run({"exit": True})
        assert last.error_type == "Runtime.ExitError"
        with pytest.raises(RuntimeExited, match="every worker process has ended"):
            env.run({})


def test_a_worker_killed_mid_invocation_fails_that_invocation(app: HandlerDir) -> None:
    with ManagedInstances("app:lambda_handler", processes=2) as env:
        gone, served = env.run_concurrently([{"hard_exit": True}, {}])
        assert gone.error_type == "Runtime.ExitError"
        assert gone.error is not None
        assert "exited with status 5" in gone.error["errorMessage"]
        assert env.workers[0].returncode == 5
        assert served.ok
        # the worker that is left takes every later request
        assert [run.process for run in env.run_many({}, times=2)] == [2, 2]


def test_the_harness_gives_up_after_wait_limit(app: HandlerDir) -> None:
    env = ManagedInstances("app:lambda_handler", processes=1, timeout=60, wait_limit=0.5)
    with pytest.raises(TimeoutError, match=r"still running after 0\.5 s"):
        env.run({"barrier": 2})  # waits for a second request that never comes
    assert env.closed
    assert not env.workers[0].alive
    assert env.invocations == []


def test_the_pytest_fixture_stops_the_workers(app: HandlerDir, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixture=f"""
        import os
        import sys

        sys.path.insert(0, {str(app.path)!r})
        seen = []


        def test_processes(lambda_managed_instances):
            env = lambda_managed_instances("app:lambda_handler", processes=2)
            runs = env.run_many({{}}, times=4)
            assert [run.number for run in runs] == [1, 1, 2, 2]
            seen.append(env)


        def test_stopped_at_teardown():
            [env] = seen
            assert env.closed
            assert not any(worker.alive for worker in env.workers)
            assert not os.path.exists(env.tmp)
        """
    )
    result = pytester.runpytest_subprocess("-p", "lambdascope", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_errors_come_back_as_lambda_error_payloads(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "failing",
        """
        from lambdascope import handler

        @handler
        def lambda_handler(event, context):
            raise ValueError(f"bad order {event['order']}")
        """,
    )
    with ManagedInstances("failing:lambda_handler", processes=2) as env:
        one, two = env.run_many({"order": 7}, times=2)
    assert one.error is not None
    assert one.error["errorType"] == "ValueError"
    assert one.error["errorMessage"] == "bad order 7"
    assert any("failing.py" in frame for frame in one.error["stackTrace"])
    assert one.outcome() == ("error", "ValueError: bad order 7")
    assert one.same_outcome(two)
    assert one.result is None


def test_the_guard_runs_in_every_worker(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "leaky",
        """
        seen = []

        def lambda_handler(event, context):
            seen.append(event["order"])
            return len(seen)
        """,
    )
    with ManagedInstances("leaky:lambda_handler", processes=2, guard="raise") as env:
        runs = env.run_many({"order": 1}, times=2)
    assert [run.error_type for run in runs] == ["ScopeLeakError", "ScopeLeakError"]
    with ManagedInstances("leaky:lambda_handler", processes=2) as env:
        runs = env.run_many({"order": 1}, times=4)
    assert [run.result for run in runs] == [1, 1, 2, 2]  # module state is per process


def test_a_missing_interpreter_fails_at_once(app: HandlerDir) -> None:
    with pytest.raises(FileNotFoundError):
        ManagedInstances("app:lambda_handler", python=str(app.path / "no-python"))


def test_a_failed_init_raises_runtime_exited(handler_dir: HandlerDir) -> None:
    handler_dir.write("broken", "import no_such_dependency_xyz\n")
    with pytest.raises(RuntimeExited, match="Init failed: ModuleNotFoundError") as failed:
        ManagedInstances("broken:lambda_handler", processes=2)
    assert failed.value.init_error is not None
    assert failed.value.init_error["errorType"] == "ModuleNotFoundError"
    assert failed.value.returncode == 1


def test_a_file_target_and_a_module_level_function(app: HandlerDir) -> None:
    with ManagedInstances(str(app.path / "app.py") + ":lambda_handler", processes=1) as env:
        assert env.run({}).ok
    import app as module  # type: ignore[import-not-found]

    with ManagedInstances(module.lambda_handler, processes=1) as env:
        assert env.handler == "app:lambda_handler"
        assert env.run({}).result["invocation"] == 1


@pytest.mark.parametrize(
    ("processes", "error", "message"),
    [
        (0, ValueError, "between 1 and 1600"),
        (1601, ValueError, "between 1 and 1600"),
        (-2, ValueError, "between 1 and 1600"),
        ("2", TypeError, "must be an int"),
        (True, TypeError, "must be an int"),
        (2.0, TypeError, "must be an int"),
    ],
)
def test_bad_process_counts_are_refused(
    processes: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ManagedInstances("app:lambda_handler", processes=processes)


def test_bad_options_are_refused_before_any_process_starts(app: HandlerDir) -> None:
    with pytest.raises(TypeError, match="top level of an importable module"):
        ManagedInstances(lambda event, context: None)
    with pytest.raises(ValueError, match="cannot read handler"):
        ManagedInstances("no_function_here")
    with pytest.raises(ValueError, match="timeout"):
        ManagedInstances("app:lambda_handler", timeout=0)
    with pytest.raises(ValueError, match="guard"):
        ManagedInstances("app:lambda_handler", guard="loud")  # type: ignore[arg-type]
    with ManagedInstances("app:lambda_handler", processes=1) as env:
        with pytest.raises(ValueError, match="times must be a positive int"):
            env.run_many({}, times=0)
        with pytest.raises(ValueError, match="process must be 1 to 1"):
            env.run({}, process=2)
        with pytest.raises(ValueError, match="at least one event"):
            env.run_concurrently([])
        with pytest.raises(TypeError, match="events must be JSON serialisable"):
            env.run({"when": object()})
        assert env.run({}).number == 1  # nothing was sent
    with pytest.raises(RuntimeError, match="closed"):
        env.run({})


# --- the init type everywhere ------------------------------------------------------------


def test_managed_instances_is_an_init_type_everywhere(app: HandlerDir) -> None:
    with LambdaEnvironment("app:lambda_handler", init_type=MI) as env:
        first, second = env.run_many({}, times=2)
        assert env.init.init_type == MI
    assert not first.cold_start
    assert not first.result["cold"]
    assert first.result["max_concurrency"] == "1"  # one worker process
    assert second.result["invocation"] == 2
    from lambdascope import handler, init_report, request

    @handler
    def direct(event: Any, context: Any) -> bool:
        return request.cold_start

    new_environment(init_type=MI)
    assert direct({}, None) is False  # the first invocation of a new environment, not cold
    assert init_report()["init_type"] == MI
    new_environment(init_type="on-demand")
    assert direct({}, None) is True
    with pytest.raises(ValueError, match="lambda-managed-instances"):
        new_environment(init_type="managed")  # the message lists the accepted types


def test_the_real_runtime_forks_its_workers_under_managed_instances(app: HandlerDir) -> None:
    runtime = LocalRuntime(
        "app.lambda_handler",
        cwd=app.path,
        init_type=MI,
        env={"AWS_LAMBDA_MAX_CONCURRENCY": "2", "TMPDIR": str(app.path)},
        timeout=60,
    )
    with runtime, concurrent.futures.ThreadPoolExecutor(2) as pool:
        # awslambdaric forks two workers; two requests that wait for each other can only
        # both finish if the two workers serve them at once
        runs = list(pool.map(lambda _: runtime.invoke({"barrier": 2}, timeout=60), range(2)))
    assert all(run.ok for run in runs), runs
    pids = {run.result["pid"] for run in runs}
    assert len(pids) == 2
    assert runtime.pid not in pids  # the workers are children of the runtime's process
    assert all(run.result["invocation"] == 1 for run in runs)
    assert all(run.result["init_pid"] == run.result["pid"] for run in runs)  # Init per worker
    assert all(run.result["cold"] is False for run in runs)


# --- the command line ----------------------------------------------------------------------


def _cli(app: HandlerDir, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdascope", "invoke", "app:lambda_handler", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(app.path)},
        cwd=app.path,
        check=False,
        timeout=120,
    )


class _Done(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> _Done:
    """The command in this process (its worker processes are real all the same)."""
    code = main(["invoke", "app:lambda_handler", *argv])
    out = capsys.readouterr()
    return _Done(code, out.out, out.err)


def test_cli_processes_shows_who_served_what(app: HandlerDir) -> None:
    done = _cli(app, "--processes", "2", "--event-json", '{"fixed": true}')
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Lambda Managed Instances: 2 worker process(es), one shared /tmp: ")
    inits = [line for line in lines if line.startswith("Init process ")]
    assert [line.split(" (")[0] for line in inits] == ["Init process 1", "Init process 2"]
    assert all(f"{MI}): import app" in line for line in inits)
    invocations = [line for line in lines if line.startswith("#")]
    assert [line.split()[:5] for line in invocations] == [
        ["#1", "process", "1", "invocation", "1"],
        ["#2", "process", "2", "invocation", "1"],
        ["#3", "process", "1", "invocation", "2"],
        ["#4", "process", "2", "invocation", "2"],
    ]
    both = "process 1 (invocation 1, invocation 2); process 2 (invocation 1, invocation 2)"
    assert any(line.endswith(f"cache.json  {both}") for line in lines)
    assert "Per process:" in lines
    per_process = [line for line in lines if line.startswith("  process ")]
    assert len(per_process) == 2
    assert all("2 invocation(s), 0 error(s), 0 past timeout" in line for line in per_process)
    summary = next(line for line in lines if line.startswith("4 invocation(s) across 2 worker"))
    assert "0 cold" in summary
    assert "1 /tmp path(s) written by more than one process" in summary
    assert any(line.startswith("Function output, process 1 (pid ") for line in lines)


def test_cli_processes_json_and_the_timeout_report(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _main(
        capsys, "--processes", "2", "--times", "3", "--timeout", "1", "--json",
        "--event-json", '{"sleep": 1.2}',
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # past the timeout: a failure
    records = [json.loads(line) for line in done.stdout.splitlines()]
    phases = [record["phase"] for record in records]
    assert phases[:3] == ["environment", "init", "init"]
    assert records[0]["processes"] == 2
    assert records[0]["init_type"] == MI
    invokes = [record for record in records if record["phase"] == "invoke"]
    assert [(r["sequence"], r["process"], r["invocation"]) for r in invokes] == [
        (1, 1, 1),
        (2, 2, 1),
        (3, 1, 2),
    ]
    assert all(r["past_timeout"] and r["result"] == {"remaining": 0} for r in invokes)
    assert all(r["error"] is None and r["cold_start"] is False for r in invokes)
    summary = next(record for record in records if record["phase"] == "summary")
    assert summary["past_timeout"] == 3
    assert [(p["process"], p["invocations"]) for p in summary["processes"]] == [(1, 2), (2, 1)]
    assert [record["process"] for record in records if record["phase"] == "logs"] == [1, 2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--processes", "0"], "--processes must be between 1 and 1600"),
        (["--processes", "1601"], "--processes must be between 1 and 1600"),
        (["--processes", "two"], "invalid int value: 'two'"),
        (["--processes", "2", "--init-type", "on-demand"], "drop --init-type on-demand"),
        (["--processes", "2", "--runtime", "awslambdaric"], "cannot be combined with --runtime"),
    ],
)
def test_cli_refuses_bad_processes_values(
    app: HandlerDir, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _main(capsys, *argv)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_cli_init_type_managed_instances_in_process(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _main(capsys, "--init-type", MI, "--times", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Init ({MI})")
    assert "0 cold, 2 warm" in done.stdout


def test_cli_init_type_managed_instances_under_awslambdaric(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _main(capsys, "--init-type", MI, "--runtime", "awslambdaric", "--times", "2")
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith(f"Init ({MI}) under awslambdaric, pid ")
    assert "0 cold, 2 warm" in done.stdout
    runtime_pid = done.stdout.split(", pid ", 1)[1].split(":", 1)[0]
    served = [line for line in done.stdout.splitlines() if line.startswith("  | served ")]
    worker_pids = {line.rsplit(" ", 1)[1] for line in served}
    assert len(served) == 2
    assert len(worker_pids) == 1  # the real client forked one worker, which served both
    assert runtime_pid not in worker_pids


def test_cli_an_error_and_a_worker_that_exits(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _main(capsys, "--processes", "2", "--times", "2", "--event-json", '{"fail": 7}')
    assert done.returncode == 1
    errors = [line for line in done.stdout.splitlines() if line.startswith("#")]
    assert len(errors) == 2
    assert all("ERROR  ValueError: bad order 7" in line for line in errors)
    assert "app.py" in done.stdout  # the handler's frames
    done = _main(capsys, "--processes", "1", "--times", "3", "--event-json", '{"exit": true}')
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any(
        line.startswith("#1 process 1 invocation 1") and "Runtime.ExitError" in line
        for line in lines
    )
    assert any(
        line.startswith("Stopped: RuntimeExited: every worker process has ended") for line in lines
    )
    assert any("1 invocation(s), 1 error(s), 0 past timeout, ended" in line for line in lines)


def test_cli_expect_same_compares_with_the_first_answer(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _main(capsys, "--processes", "2", "--expect-same")
    assert done.returncode == 1  # the answers carry the pid and the invocation number
    assert "<- differs from invocation #1 (same event)" in done.stdout
    done = _main(capsys, "--processes", "2", "--expect-same", "--event-json", '{"constant": 1}')
    assert done.returncode == 0, done.stdout


def test_cli_a_failed_init_under_processes(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    handler_dir.write("app", "import no_such_dependency_xyz\n")
    done = _main(capsys, "--processes", "2")
    assert done.returncode == 1
    assert done.stdout.startswith("Init failed: ModuleNotFoundError: No module named")


def test_cli_usage_errors_from_the_command(app: HandlerDir) -> None:
    done = _cli(app, "--processes", "0")
    assert done.returncode == 2
    assert "--processes must be between 1 and 1600" in done.stderr
    assert "Traceback" not in done.stderr
