"""The README's demo command keeps showing what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_shows_the_bug_the_fix_and_the_guard() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    ).stdout
    original, rest = out.split("\n1. ")[1].split("\n2. ")
    fixed, guarded = rest.split("\n3. ")
    # the seed's handler: right cold, wrong warm ("only sometimes")
    assert "invocation 1: False  ok" in original
    assert "invocation 2: True   WRONG" in original
    # with lambdascope: always right, one client, no leftovers
    assert "WRONG" not in fixed
    assert fixed.count("[warm]") == 3
    assert fixed.count("s3 clients created: 1") == 4
    assert fixed.count("nothing left over") == 4
    assert "phase 'invoke' (invocation 1)" in fixed
    # the guard: the unchanged seed fails its first invocation, state restored
    assert "invocation 1: ScopeLeakError" in guarded
    assert "list `files` was modified in place" in guarded
    assert "seed_files_leak.py:15" in guarded
    assert "module-level files after the failed invocation: []" in guarded
