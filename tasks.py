#!/usr/bin/env python3
"""Project tasks. Needs only Python 3.9+; creates (or reuses) its virtual environments on its own.

python3 tasks.py demo    # the S3 prefix check, invoked cold then warm
python3 tasks.py test    # every Lambda Python present: lint, types, coverage and docs on this one
python3 tasks.py bench   # the benchmark suite (figures as ratios to in-run baselines)
python3 tasks.py fuzz    # the guard's differential fuzzer, long run (--help for its options)

`test` runs the full checks (ruff, ruff format, mypy --strict, pytest with branch coverage,
mkdocs --strict) with the interpreter running this script (in .venv), and the test suite with
every other Lambda Python version it finds (3.9-3.13: pyenv's versions, then python3.X on
PATH), each in its own .venv-3.X, three at a time (TASKS_JOBS=N); the full checks' ruff, mypy
and mkdocs run beside its pytest. Versions that are not found are named loudly; a failure on
any version that is present fails the command. The summary gives each version's wall time and
the CPU time (user + system) of its checks' processes, and the total. `--py 3.11,3.12` limits
the run to those versions; other arguments go to pytest (`python3 tasks.py test
tests/runtime/test_aws.py -x`).
Packages are installed with uv (from PyPI, into .venv) and come from uv's cache after the
first run.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LAMBDA_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
THIS = "{}.{}".format(*sys.version_info[:2])
BIN_DIR = "Scripts" if os.name == "nt" else "bin"
EXE = "python.exe" if os.name == "nt" else "python"
VENV = ROOT / ".venv"
PY = VENV / BIN_DIR / EXE
UV = VENV / BIN_DIR / ("uv.exe" if os.name == "nt" else "uv")
STAMP_NAME = ".lambdascope-installed"
PRINT_LOCK = threading.Lock()


def say(text: str) -> None:
    with PRINT_LOCK:
        print(text, flush=True)


def _stamp(python_version: str, extra: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"{digest} {python_version} {extra}"


def _installed(venv_dir: Path, stamp: str) -> bool:
    mark = venv_dir / STAMP_NAME
    return (venv_dir / BIN_DIR / EXE).exists() and mark.exists() and mark.read_text() == stamp


def ensure_venv() -> None:
    """Create .venv with this interpreter, put uv in it, install lambdascope[dev]; once."""
    stamp = _stamp(sys.version.split()[0], "dev")
    if _installed(VENV, stamp):
        return
    if not PY.exists():
        print(f"creating {VENV.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print(f"installing lambdascope[dev] into {VENV.name} ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "uv>=0.5"], check=True)
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(PY), "-e", f"{ROOT}[dev]"], check=True
    )
    (VENV / STAMP_NAME).write_text(stamp)


def _env(bin_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as on Lambda
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(*cmd: str) -> int:
    print(f"\n$ {' '.join(cmd)}", flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=_env(PY.parent), check=False).returncode


def demo(args: list[str]) -> int:
    ensure_venv()
    return run(str(PY), "examples/demo.py", *args)


def bench(args: list[str]) -> int:
    ensure_venv()
    return run(str(PY), "-m", "benchmarks", *args)


# ---------------------------------------------------------------------------------------------
# test: every Lambda Python version present


class Version:
    """One Lambda Python version: its interpreter (None when missing) and its venv."""

    def __init__(self, minor: str) -> None:
        self.minor = minor
        self.full = minor == THIS
        self.venv = VENV if self.full else ROOT / f".venv-{minor}"
        self.python = self.venv / BIN_DIR / EXE
        self.base: str | None = None  # the interpreter the venv is made from
        self.version = ""  # e.g. 3.9.18
        self.setup_error = ""
        self.result = ""  # "passed" | "FAILED"
        self.detail = ""
        self.counts: dict[str, int] = {}
        self.seconds = 0.0  # wall time of its checks
        self.cpu: float | None = None  # CPU time (user + system) of its checks' processes

    @property
    def label(self) -> str:
        return f"Python {self.version or self.minor}"


def _patch_key(path: Path) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", path.parent.parent.name)
    return tuple(int(n) for n in numbers)


def _candidates(minor: str) -> list[str]:
    if minor == THIS:
        return [sys.executable]
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob(f"{minor}.*/bin/python"), key=_patch_key, reverse=True)
    # a pyenv version is named 3.X.Y; skip variants such as 3.13.0t (free-threaded)
    names = [
        str(p) for p in found if re.fullmatch(rf"{re.escape(minor)}\.\d+", p.parent.parent.name)
    ]
    on_path = shutil.which(f"python{minor}")
    return [*names, *([on_path] if on_path else [])]


def locate(version: Version) -> None:
    """Find an interpreter for version.minor that really is that version."""
    for candidate in _candidates(version.minor):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            check=False,
        )
        reported = probe.stdout.strip()
        if probe.returncode == 0 and reported.startswith(version.minor + "."):
            version.base, version.version = candidate, reported
            return


def prepare(version: Version) -> None:
    """Create version.venv with uv and install lambdascope[test] (plus Powertools) into it."""
    assert version.base is not None
    stamp = _stamp(version.version, "test")
    if _installed(version.venv, stamp):
        return
    say(f"installing lambdascope[test] into {version.venv.name} ({version.label}) ...")
    steps = [
        [str(UV), "venv", "-q", "--clear", "--python", version.base, str(version.venv)],
        [str(UV), "pip", "install", "-q", "--python", str(version.python), "-e", f"{ROOT}[test]"],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            version.setup_error = f"$ {' '.join(step)}\n{done.stdout}{done.stderr}"
            return
    (version.venv / STAMP_NAME).write_text(stamp)


SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


def _pytest_counts(output: str) -> dict[str, int]:
    for line in reversed(output.splitlines()):
        found = SUMMARY.findall(line)
        if found and re.search(r" in [\d.]+s\b", line):
            counts: dict[str, int] = {}
            for number, word in found:
                key = "failed" if word.startswith("error") else word
                counts[key] = counts.get(key, 0) + int(number)
            return counts
    return {}


class Step:
    """One check: a command, run with its output captured, and what it cost."""

    def __init__(self, name: str, cmd: list[str]) -> None:
        self.name, self.cmd = name, cmd
        self.code = -1
        self.output = ""
        self.cpu: float | None = None  # user + system seconds of it and its children

    def run(self, env: dict[str, str]) -> Step:
        with tempfile.TemporaryFile() as out:  # a file: the process never blocks on a pipe
            process = subprocess.Popen(
                self.cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            if hasattr(os, "wait4"):  # its resource use, and that of what it waited for
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
                self.cpu = usage.ru_utime + usage.ru_stime
            self.code = process.wait()
            out.seek(0)
            text = out.read().decode(errors="replace")
        self.output = f"\n$ {' '.join(self.cmd)}\n{text}"
        return self


def check(version: Version, pytest_args: list[str]) -> None:
    """Run the checks of one version, then print its whole output as one block.

    The full checks (lint, format, types, docs) run beside pytest, not after it: they take a
    fraction of its time, and on a machine with cores to spare they then cost no time at all.
    """
    started = time.monotonic()
    env = _env(version.python.parent)
    # separate pytest temp roots: concurrent sessions never clean up each other's directories
    temp_root = Path(tempfile.gettempdir()) / f"lambdascope-tests-{version.minor}"
    temp_root.mkdir(exist_ok=True)
    env["PYTEST_DEBUG_TEMPROOT"] = str(temp_root)
    py = str(version.python)
    pytest = [py, "-m", "pytest", "-p", "no:cacheprovider"]
    if version.full:
        steps = [
            Step("pytest", [*pytest, "--cov", "--cov-report=term", *pytest_args]),
            Step("ruff check", [py, "-m", "ruff", "check", "."]),
            Step("ruff format", [py, "-m", "ruff", "format", "--check", "."]),
            Step("mypy --strict", [py, "-m", "mypy"]),
            Step(
                "mkdocs --strict",
                [py, "-m", "mkdocs", "build", "--strict", "--site-dir", str(VENV / "site")],
            ),
        ]
    else:
        steps = [Step("pytest", [*pytest, *pytest_args])]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(steps)) as pool:
        list(pool.map(lambda step: step.run(env), steps))
    version.seconds = time.monotonic() - started
    cpus = [step.cpu for step in steps]
    version.cpu = None if None in cpus else sum(c for c in cpus if c is not None)
    version.counts = _pytest_counts(steps[0].output)
    failed = [step.name for step in steps if step.code != 0]
    version.result = "FAILED" if failed else "passed"
    version.detail = f"{len(steps) - len(failed)} of {len(steps)} checks passed" + (
        f" (failed: {', '.join(failed)})" if failed else ""
    )
    banner = f"{version.label} ({version.venv.name}): {version.result} in {_cost(version)}"
    say(f"\n{'=' * 20} {banner} {'=' * 20}{''.join(step.output for step in steps)}")


def _cost(version: Version) -> str:
    """``312 s (CPU 140 s)``: the wall time of a version's checks and the CPU time they used."""
    cpu = "" if version.cpu is None else f" (CPU {version.cpu:.0f} s)"
    return f"{version.seconds:.0f} s{cpu}"


def _parse(args: list[str]) -> tuple[list[str] | None, list[str]]:
    """Split `--py 3.11,3.12` (or `--py=...`) off the pytest arguments."""
    if args and args[0].startswith("--py"):
        value, rest = (args[0][5:], args[1:]) if "=" in args[0] else (args[1], args[2:])
        wanted = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [v for v in wanted if v not in LAMBDA_PYTHONS]
        if unknown:
            raise SystemExit(
                f"--py: {', '.join(unknown)} is not a Lambda Python ({', '.join(LAMBDA_PYTHONS)})"
            )
        return wanted, rest
    return None, args


def test(args: list[str]) -> int:
    started = time.monotonic()
    wanted, pytest_args = _parse(args)
    if THIS not in LAMBDA_PYTHONS:
        print(f"tasks.py test needs a Lambda Python ({', '.join(LAMBDA_PYTHONS)}), not {THIS}")
        return 2
    versions = [Version(minor) for minor in LAMBDA_PYTHONS if wanted is None or minor in wanted]
    with concurrent.futures.ThreadPoolExecutor() as pool:
        list(pool.map(locate, versions))
    present = [v for v in versions if v.base]
    missing = [v for v in versions if not v.base]
    print("Lambda Python versions to test:")
    for v in present:
        role = "full checks" if v.full else "test suite"
        print(f"  {v.label:<16} {role:<12} {v.base}")
    for v in missing:
        print(f"  !!! MISSING Python {v.minor}: not in pyenv nor on PATH: NOT TESTED !!!")
    if wanted is not None:
        print(f"  (--py: only {', '.join(wanted)})")
    sys.stdout.flush()

    ensure_venv()  # the full version's venv, which also provides uv
    others = [v for v in present if not v.full]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(prepare, others))
    # the full checks take longest: start them first
    runnable = sorted((v for v in present if not v.setup_error), key=lambda v: not v.full)
    for v in present:
        if v.setup_error:
            v.result, v.detail = "FAILED", "could not install"
            say(f"\n{'=' * 20} {v.label}: installation failed {'=' * 20}\n{v.setup_error}")
    # three at a time on 2 cores (TASKS_JOBS): the suites wait on subprocesses and sockets as
    # much as they compute (measured here: 134 s for all five against 166 s two at a time)
    jobs = int(os.environ.get("TASKS_JOBS", "3"))
    setup = time.monotonic() - started
    print(f"setup done in {setup:.0f} s; {len(runnable)} version(s), {jobs} at a time", flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda v: check(v, pytest_args), runnable))

    took = time.monotonic() - started
    print(f"\n{'=' * 30} summary {'=' * 30}")
    for v in present:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(v.counts.items()))
        counts = counts or "no result"
        print(f"  {v.label:<16} {v.result:<7} {v.detail}; pytest: {counts}; {_cost(v)}")
    for v in missing:
        print(f"  !!! MISSING Python {v.minor}: its tests did NOT run !!!")
    bad = [v.label for v in present if v.result != "passed"]
    passed = len(present) - len(bad)
    cpus = [v.cpu for v in present if v.cpu is not None]
    cpu = f" (checks' CPU time: {sum(cpus):.0f} s)" if cpus else ""
    print(f"{passed} of {len(versions)} Lambda Python versions passed in {took:.0f} s{cpu}")
    if bad:
        print("FAILED on: " + ", ".join(bad))
    total = {k: sum(v.counts.get(k, 0) for v in present) for k in ("passed", "failed", "skipped")}
    print(f"pytest: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if bad or not present else 0


# ---------------------------------------------------------------------------------------------
# fuzz: the guard's differential fuzzer (tests/runtime/guard_fuzz), many programs


def fuzz(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tasks.py fuzz",
        description="Generate handler programs and check the default @handler guard against "
        "an independent oracle: prints programs tried, invocations, failures by class and by "
        "fault (static analysis or runtime walk), the write analysis' fallback reasons, and "
        "writes the minimised program of each distinct failure to a folder.",
    )
    parser.add_argument("--programs", type=int, help="how many programs (default: a time budget)")
    parser.add_argument(
        "--seconds", type=float, help="time budget (default 300 s without --programs)"
    )
    parser.add_argument("--first", type=int, default=0, help="number of the first program")
    parser.add_argument("--py", default=THIS, choices=LAMBDA_PYTHONS, help="Python version")
    parser.add_argument("--out", help="folder for the minimised programs (default: in the venv)")
    parser.add_argument("--skip-known", action="store_true", help="leave out known open holes")
    options = parser.parse_args(args)
    version = Version(options.py)
    locate(version)
    if version.base is None:
        print(f"Python {options.py} not found (pyenv or python{options.py} on PATH)")
        return 2
    ensure_venv()
    if not version.full:
        prepare(version)
        if version.setup_error:
            print(version.setup_error)
            return 2
    out = options.out or str(version.venv / "fuzz-findings")
    command = [str(version.python), "-m", "guard_fuzz", "--first", str(options.first), "--out", out]
    for flag, value in (("--programs", options.programs), ("--seconds", options.seconds)):
        if value is not None:
            command += [flag, str(value)]
    if options.skip_known:
        command.append("--skip-known")
    print(f"$ {' '.join(command)}   (in tests/runtime)", flush=True)
    env = _env(version.python.parent)
    return subprocess.run(command, cwd=ROOT / "tests" / "runtime", env=env, check=False).returncode


TASKS = {"demo": demo, "test": test, "bench": bench, "fuzz": fuzz}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    sys.exit(TASKS[sys.argv[1]](sys.argv[2:]))
