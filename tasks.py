#!/usr/bin/env python3
"""Project tasks. Needs only Python 3.9+; creates (or reuses) .venv on its own.

python3 tasks.py demo    # the seed scenario, invoked cold then warm
python3 tasks.py test    # lint, format check, types, tests with coverage, docs build
python3 tasks.py bench   # the benchmark suite (figures as ratios to in-run baselines)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".lambdascope-installed"


def _requirements_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the project with its dev extras, unless already done."""
    digest = _requirements_digest()
    if PY.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PY.exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("installing lambdascope[dev] into .venv (about a minute the first time) ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as on Lambda
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(*cmd: str) -> int:
    print(f"\n$ {' '.join(cmd)}", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=_env(), check=False).returncode


def demo(args: list[str]) -> int:
    ensure_venv()
    return run(str(PY), "examples/demo.py", *args)


def test(args: list[str]) -> int:
    ensure_venv()
    started = time.monotonic()
    steps = [
        ("ruff check", [str(PY), "-m", "ruff", "check", "."]),
        ("ruff format", [str(PY), "-m", "ruff", "format", "--check", "."]),
        ("mypy --strict", [str(PY), "-m", "mypy"]),
        (
            "pytest",
            [
                str(PY),
                "-m",
                "pytest",
                "--cov",
                "--cov-report=term",
                "-p",
                "no:cacheprovider",
                *args,
            ],
        ),
        (
            "mkdocs --strict",
            [str(PY), "-m", "mkdocs", "build", "--strict", "--site-dir", str(VENV / "site")],
        ),
    ]
    failed = [name for name, cmd in steps if run(*cmd) != 0]
    took = time.monotonic() - started
    print(f"\n{len(steps) - len(failed)} of {len(steps)} checks passed in {took:.0f} s")
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


def bench(args: list[str]) -> int:
    ensure_venv()
    return run(str(PY), "-m", "benchmarks", *args)


TASKS = {"demo": demo, "test": test, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    sys.exit(TASKS[sys.argv[1]](sys.argv[2:]))
