"""What the /tmp watch asks the kernel per invocation when nothing changed, counted by strace.

A count, not a time: the same on any machine. Under a runtime client (Lambda) one ``ioctl``;
elsewhere two (before and after: any code can write between two calls of the handler).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("strace") is None, reason="needs Linux and strace"
)

N = 200

SCRIPT = textwrap.dedent(
    f"""
    import os, sys, tempfile

    private = tempfile.mkdtemp()
    tempfile.tempdir = private
    os.environ["LAMBDASCOPE_PRIVATE_TMPDIR"] = private
    if sys.argv[1] == "runtime":
        os.environ["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
    else:
        os.environ.pop("AWS_LAMBDA_RUNTIME_API", None)
    os.environ["LAMBDASCOPE_COLD_START_REPORT"] = "0"

    from lambdascope import handler

    def body(event, context):
        return event

    variants = (("watched", handler(body)), ("unwatched", handler(watch_tmp=False)(body)))
    for name, wrapped in variants:
        wrapped({{}}, None)  # the first invocation: the census, the watch starts
        wrapped({{}}, None)
        for mark in ("start", "end"):
            try:
                os.stat(f"/lambdascope-mark-{{mark}}-{{name}}")  # a line in the trace
            except OSError:
                pass
            if mark == "start":
                for _ in range({N}):
                    wrapped({{}}, None)
    """
)


def _calls(trace: str, name: str) -> Counter[str]:
    lines = trace.splitlines()
    start = next(i for i, line in enumerate(lines) if f"mark-start-{name}" in line)
    end = next(i for i, line in enumerate(lines) if f"mark-end-{name}" in line)
    return Counter(re.sub(r"^\d+\s+", "", line).split("(")[0] for line in lines[start + 1 : end])


def _count(tmp_path: Path, mode: str) -> tuple[Counter[str], Counter[str]]:
    script, trace = tmp_path / "run.py", tmp_path / f"trace-{mode}"
    script.write_text(SCRIPT)
    done = subprocess.run(
        ["strace", "-f", "-o", str(trace), sys.executable, str(script), mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "ptrace" in done.stderr and done.returncode != 0:  # pragma: no cover - a locked-down host
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    text = trace.read_text()
    return _calls(text, "watched"), _calls(text, "unwatched")


def test_under_a_runtime_client_one_system_call_per_invocation(tmp_path: Path) -> None:
    watched, unwatched = _count(tmp_path, "runtime")
    extra = watched - unwatched
    assert sum(extra.values()) == N, extra
    assert extra == Counter({"ioctl": N})


def test_elsewhere_two_system_calls_per_invocation(tmp_path: Path) -> None:
    watched, unwatched = _count(tmp_path, "elsewhere")
    extra = watched - unwatched
    assert extra == Counter({"ioctl": 2 * N})
