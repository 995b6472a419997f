"""request.tmpdir and the /tmp watch under the real runtime client and in the simulated
environments: each has a temp dir of its own, as on Lambda, where a file left behind fails
the invocation; a timeout kills the process, the next process removes what it left."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from lambdascope import ScopeLeakError, TmpLeakError, handler, request
from lambdascope.testing import LambdaEnvironment, LocalRuntime

HANDLERS = Path(__file__).resolve().parent / "e2e_handlers"


def test_tmpdir_under_the_runtime_client_and_after_a_timeout(tmp_path: Path) -> None:
    env = {"TMPDIR": str(tmp_path)}
    with LocalRuntime("scratch.lambda_handler", cwd=HANDLERS, env=env, timeout=20) as runtime:
        first, second = runtime.invoke({}), runtime.invoke({"size": 1000})
        assert first.ok, first.error
        assert second.ok, second.error
        assert first.result["tmpdir"] != second.result["tmpdir"]
        assert not Path(first.result["tmpdir"]).exists()
        assert not Path(second.result["tmpdir"]).exists()
        assert second.result["hits"] == 2  # the init-scope file stayed
        leak = runtime.invoke({"leave": "report.csv"})
        assert not leak.ok
        assert leak.error is not None
        assert leak.error["errorType"] == "TmpLeakError"
        # the file's name came with the request: not shown
        assert f"{tmp_path}/* (created, 11 bytes)" in leak.error["errorMessage"]
        assert "report.csv" not in leak.error["errorMessage"]
        killed = runtime.pid
        try:
            runtime.invoke({"sleep": 60}, timeout=2)
        except TimeoutError:
            pass
        else:  # pragma: no cover - the invocation must not finish
            raise AssertionError("the sleeping invocation returned")
    # The killed process could not clean up: its request directory is still there.
    left = [p for p in tmp_path.iterdir() if p.name.startswith(f"lambdascope-{killed}-")]
    assert len(left) == 1
    assert any(left[0].glob("r*/part.bin"))
    with LocalRuntime("scratch.lambda_handler", cwd=HANDLERS, env=env, timeout=20) as runtime:
        fresh = runtime.invoke({})
        assert fresh.ok, fresh.error
        assert fresh.result["hits"] == 1  # a new environment: a new init-scope directory
    assert not left[0].exists()  # swept by the next process


@pytest.fixture
def shared_machine(monkeypatch: pytest.MonkeyPatch) -> str:
    """This process's temp dir, as on a development machine: not declared the function's."""
    monkeypatch.delenv("LAMBDASCOPE_PRIVATE_TMPDIR", raising=False)
    for name in ("LAMBDASCOPE_GUARD", "LAMBDASCOPE_WATCH_TMP", "AWS_LAMBDA_RUNTIME_API"):
        monkeypatch.delenv(name, raising=False)
    return tempfile.gettempdir()


def test_the_runtime_client_gets_a_temp_dir_of_its_own_and_one_error_for_two_leaks(
    shared_machine: str,
) -> None:
    with LocalRuntime("scratch.lambda_handler", cwd=HANDLERS, timeout=20) as runtime:
        first = runtime.invoke({})
        assert first.ok, first.error
        own = Path(first.result["tempdir"])
        assert own != Path(shared_machine)
        assert own.name.startswith("lambdascope-tmp-")
        leak = runtime.invoke({"leave": "report.csv"})  # fails: the temp dir is the function's
        assert leak.error is not None
        assert leak.error["errorType"] == "TmpLeakError"
        both = runtime.invoke({"leave": "receipt.csv", "remember": "o-1"})
        assert both.error is not None
        # Lambda shows one error: its message names the module state and the file.
        assert both.error["errorType"] == "ScopeLeakError"
        assert "SEEN_ORDERS" in both.error["errorMessage"]
        assert f"{own}/* (created, 11 bytes)" in both.error["errorMessage"]
    assert not own.exists()  # gone with the environment


def test_each_lambda_environment_has_a_temp_dir_of_its_own(shared_machine: str) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        if event.get("leave"):
            with open(os.path.join(tempfile.gettempdir(), "left.txt"), "w") as out:
                out.write("left")
        return tempfile.gettempdir()

    saved = os.environ.get("TMPDIR")
    with LambdaEnvironment(lambda_handler) as env:
        first = env.tmp
        assert env.invoke({}) == first != shared_machine
        assert os.environ["TMPDIR"] == first
        failed = env.run({"leave": True})
        assert isinstance(failed.error, TmpLeakError)  # there, it is the function's file
        env.restart()  # a new execution environment: a new, empty /tmp
        assert env.tmp != first
        assert not os.path.exists(first)
        assert env.invoke({}) == env.tmp
        assert os.listdir(env.tmp) == []
    assert not os.path.exists(env.tmp)
    assert tempfile.gettempdir() == shared_machine
    assert os.environ.get("TMPDIR") == saved


def test_a_lambda_environment_can_be_given_its_temp_dir(
    shared_machine: str, tmp_path: Path
) -> None:
    given = tmp_path / "function-tmp"

    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        (request.tmpdir / "work").write_text("w")
        return tempfile.gettempdir()

    with LambdaEnvironment(lambda_handler, tmp=given) as env:
        assert env.invoke({}) == str(given)
    assert given.is_dir()  # given, so kept
    with LambdaEnvironment(lambda_handler, environ={"TMPDIR": str(given / "b")}) as env:
        assert env.invoke({}) == str(given / "b")
    assert tempfile.gettempdir() == shared_machine


def test_a_module_state_leak_and_a_file_in_a_lambda_environment_are_one_error(
    shared_machine: str,
) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        ORDERS.append(event["order"])
        with open(os.path.join(tempfile.gettempdir(), "receipt.txt"), "w") as out:
            out.write(event["order"])
        return "done"

    with LambdaEnvironment(lambda_handler) as env:
        failed = env.run({"order": "o-9"})
    assert type(failed.error) is ScopeLeakError
    payload = failed.error_payload
    assert payload is not None
    assert payload["errorType"] == "ScopeLeakError"
    assert "`ORDERS`" in payload["errorMessage"]
    assert "receipt.txt (created, 3 bytes)" in payload["errorMessage"]


ORDERS: list[str] = []


# -- past the environment's temp dir: the real /tmp, where Lambda's is ---------------------------


def _invoice(event: Any) -> str:
    path = f"/tmp/invoice-{event['id']}.pdf"  # hard-coded: on Lambda, the temp dir
    with open(path, "w") as out:
        out.write("%PDF")
    return path


def test_a_file_written_to_the_real_tmp_fails_as_one_in_the_environment_s_own(
    shared_machine: str,
) -> None:
    """A handler that writes /tmp/... hard-coded bypasses the temp dir of its own that the
    environment gives it; on Lambda that is the same directory. Files this process writes
    there during an invocation are reported as those left in the environment's temp dir."""

    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        _invoice(event)
        os.makedirs(f"/tmp/work-{event['id']}/pages", exist_ok=True)
        with open(f"/tmp/work-{event['id']}/pages/page.txt", "w") as out:
            out.write("1")
        return "filed"

    name = f"lambdascope-test-{os.getpid()}"
    try:
        with LambdaEnvironment(lambda_handler) as env:
            failed = env.run({"id": name})
        assert isinstance(failed.error, TmpLeakError)
        message = str(failed.error)
        assert "left 2 file(s), 5 bytes" in message
        assert "/tmp/invoice-*.pdf (created, 4 bytes)" in message
        assert "/tmp/work-*/pages/page.txt (created, 1 bytes)" in message
        assert name not in message  # the request's id: not shown
    finally:
        Path(f"/tmp/invoice-{name}.pdf").unlink(missing_ok=True)
        import shutil

        shutil.rmtree(f"/tmp/work-{name}", ignore_errors=True)


def test_tmp_allow_names_a_file_of_the_real_tmp_as_on_lambda(shared_machine: str) -> None:
    @handler(tmp_allow=("invoice-*.pdf",))
    def lambda_handler(event: Any, context: Any) -> str:
        return _invoice(event)

    with LambdaEnvironment(lambda_handler) as env:
        path = env.invoke({"id": f"lambdascope-test-{os.getpid()}"})
    Path(path).unlink()


def test_lambdascope_invoke_reports_a_file_of_the_real_tmp(
    shared_machine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdascope.cli import main

    name = f"lambdascope-test-{os.getpid()}"
    (tmp_path / "app.py").write_text(
        "from lambdascope import handler\n"
        "\n"
        "@handler\n"
        "def lambda_handler(event, context):\n"
        "    with open('/tmp/report-' + event['id'] + '.csv', 'w') as out:\n"
        "        out.write('id,total')\n"
        "    return 'ok'\n"
    )
    try:
        code = main(
            [
                "invoke",
                f"{tmp_path / 'app.py'}:lambda_handler",
                "--event-json",
                f'{{"id": "{name}"}}',
                "--times",
                "1",
            ]
        )
        out = capsys.readouterr().out
        assert code == 1
        assert "TmpLeakError" in out
        assert "/tmp/report-*.csv (created, 8 bytes)" in out
    finally:
        Path(f"/tmp/report-{name}.csv").unlink(missing_ok=True)
