"""request.tmpdir and the /tmp watch under the real runtime client, in a subprocess with a
temp dir of its own: a timeout kills the process, the next process removes what it left."""

from __future__ import annotations

from pathlib import Path

from lambdascope.testing import LocalRuntime

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
        assert f"{tmp_path / 'report.csv'} (created, 11 bytes)" in leak.error["errorMessage"]
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
