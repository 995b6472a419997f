"""Shutdown: SIGTERM closes init resources (newest first), then the previous behaviour applies."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import lambdascope
from lambdascope import init_resource

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX"
)

PRELUDE = """
import sys, time
import lambdascope

def closer(name):
    def close(value):
        if name == "broken":
            raise OSError("close failed")
        print("closed", name, flush=True)
    return close

made = {}
for name in NAMES:
    made[name] = lambdascope.init_resource(lambda name=name: name, close=closer(name))
"""


def run_until_sigterm(
    body: str, names: list[str], env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    script = (
        f"NAMES = {names!r}\n"
        + textwrap.dedent(PRELUDE)
        + textwrap.dedent(body)
        + ("\nprint('ready', flush=True)\ntime.sleep(30)\nprint('not terminated', flush=True)\n")
    )
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full_env["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    full_env.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", line + (proc.stderr.read() if proc.stderr else "")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def test_sigterm_closes_resources_newest_first_then_terminates_as_before() -> None:
    code, out, err = run_until_sigterm(
        """
        for name in NAMES:
            made[name]()
        made["never_created"] = lambdascope.init_resource(lambda: 1, close=closer("never"))
        assert lambdascope.install_shutdown_handler() is True
        assert lambdascope.install_shutdown_handler() is False  # once
        """,
        ["a", "broken", "c"],
    )
    assert out.splitlines() == ["closed c", "closed a"]
    assert "closing init resource" in err
    assert "close failed" in err
    assert code == -signal.SIGTERM


def test_a_previous_python_handler_runs_after_the_resources_are_closed() -> None:
    code, out, _ = run_until_sigterm(
        """
        import signal
        def previous(signum, frame):
            print("previous handler", flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, previous)
        made["a"]()
        lambdascope.install_shutdown_handler()
        """,
        ["a"],
    )
    assert out.splitlines() == ["closed a", "previous handler"]
    assert code == 0


def test_an_ignored_sigterm_stays_ignored() -> None:
    script = textwrap.dedent(
        """
        import os, signal, lambdascope
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        r = lambdascope.init_resource(lambda: 1, close=lambda v: print("closed", flush=True))
        r()
        lambdascope.install_shutdown_handler()
        os.kill(os.getpid(), signal.SIGTERM)
        print("still running", flush=True)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert out.splitlines() == ["closed", "still running"]


@pytest.mark.parametrize(
    ("execution_env", "installed"),
    [
        ("AWS_Lambda_python3.12", True),
        ("AWS_Lambda_python3.13", True),
        ("AWS_Lambda_python3.11", False),
    ],
)
def test_handler_installs_it_during_init_on_runtimes_that_deliver_sigterm(
    execution_env: str, installed: bool
) -> None:
    code, out, _ = run_until_sigterm(
        """
        @lambdascope.handler
        def lambda_handler(event, context):
            return made["a"]()
        lambda_handler({}, None)
        """,
        ["a"],
        env={"AWS_EXECUTION_ENV": execution_env},
    )
    assert code == -signal.SIGTERM
    assert out.splitlines() == (["closed a"] if installed else [])


def test_shutdown_is_idempotent_and_bounded(caplog: pytest.LogCaptureFixture) -> None:
    closed: list[str] = []

    def slow_close(value: str) -> None:
        time.sleep(0.05)
        closed.append(value)

    first = init_resource(lambda: "first", close=slow_close)
    second = init_resource(lambda: "second", close=slow_close)
    first()
    second()
    with caplog.at_level(logging.WARNING, logger="lambdascope"):
        names = lambdascope.shutdown(timeout=0.01)
    assert names == [second.name, first.name]
    assert closed == ["second"]  # the budget ran out before "first" could be closed
    assert "dropping" in caplog.text
    assert first.name in caplog.text
    assert not first.initialized
    assert not second.initialized
    assert lambdascope.shutdown() == []
    with pytest.raises(ValueError, match="positive, finite number of seconds"):
        lambdascope.shutdown(timeout=0)


@pytest.mark.parametrize(
    ("timeout", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (10**400, ValueError),
        ("0.3", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_time_budgets_are_rejected_when_given(timeout: object, error: type) -> None:
    first = init_resource(lambda: "first")
    first()
    with pytest.raises(error, match=r"shutdown\(timeout=\.\.\.\) must be"):
        lambdascope.shutdown(timeout=timeout)  # type: ignore[arg-type]
    assert first.initialized  # nothing was closed
    with pytest.raises(error, match=r"install_shutdown_handler\(timeout=\.\.\.\) must be"):
        lambdascope.install_shutdown_handler(timeout=timeout)  # type: ignore[arg-type]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # nothing was installed


def test_install_shutdown_handler_timeout_zero_is_refused_before_sigterm() -> None:
    # Before: accepted; on SIGTERM it raised inside the running code, closed nothing and
    # the process survived. Now the call fails and the default disposition stays.
    code, out, err = run_until_sigterm(
        """
        made["a"]()
        try:
            lambdascope.install_shutdown_handler(timeout=0)
        except ValueError as exc:
            print("refused:", exc, file=sys.stderr, flush=True)
        """,
        ["a"],
    )
    assert code == -signal.SIGTERM  # terminated by the signal, as without lambdascope
    assert err.startswith("refused: install_shutdown_handler(timeout=...) must be a positive")
    assert "not terminated" not in out
