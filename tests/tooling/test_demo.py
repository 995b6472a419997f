"""The README's demo command keeps showing what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_shows_the_bug_the_check_the_fix_and_the_guard() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONWARNINGS"] = "ignore:Boto3 will no longer support Python"  # boto3's notice on 3.9
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert done.stderr == ""
    out = done.stdout
    original, rest = out.split("\n1. ")[1].split("\n2. ")
    checked, rest = rest.split("\n3. ")
    fixed, guarded = rest.split("\n4. ")
    # the leaking handler under `lambdascope invoke`: right cold, wrong warm ("only sometimes")
    assert "$ lambdascope invoke tests/fixtures/antipatterns/files_leak.py" in original
    assert "#1 cold" in original
    assert "ok     false" in original.split("#1 cold")[1].splitlines()[0]
    assert "ok     true  <- differs from the cold start" in original.split("#2 warm")[1]
    # `lambdascope check`: both anti-patterns, by line; the examples are clean
    assert "files_leak.py:11: LS104" in checked
    assert "files_leak.py:15: LS101" in checked
    assert "client_per_invocation.py:9: LS104" in checked
    assert "examples/" not in checked.split("$ lambdascope check")[1].split("\n", 1)[1]
    assert "(exit status 1)" in checked
    # with lambdascope: always right, the client created once by the cold start
    assert "true" not in fixed
    assert [line.split()[0] for line in fixed.splitlines() if " ok  " in line] == [
        "#1",
        "#2",
        "#3",
        "#4",
    ]
    assert fixed.count("ms  ok     false") == 4
    assert fixed.count("+ init_resource s3_prefix_check.s3") == 1
    assert "created in this invocation" in fixed.split("#1 cold")[1].split("#2 warm")[0]
    assert "s3_prefix_check.s3 x1" in fixed
    assert "(exit status 0)" in fixed
    # the guard: the unchanged leaking handler fails its first invocation
    assert "#1 cold" in guarded
    assert "ERROR  ScopeLeakError" in guarded
    assert "list `files` was modified in place" in guarded
    assert "files_leak.py:15" in guarded
    assert "(exit status 1)" in guarded
