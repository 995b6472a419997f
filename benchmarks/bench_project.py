"""What the guard costs on a whole project (issue 20): a generated package of 30 modules.

Run: ``python -m benchmarks.bench_project`` (or the whole suite: ``python3 tasks.py bench``).

The package is written to a temporary project root and imported as Lambda imports a
function: 30 modules of 40 module-level names each (imports, constants, read-only lookup
tables, tuples, helpers, a class), about 5,000 lines, and a handler module that calls into
every one of them and only reads. The same code is generated twice, with small and with
100 times larger tables. Every figure is a ratio against a baseline of the same run:

- per invocation, the guard's part (``@handler(watch_tmp=False)`` minus ``guard='off'``,
  both decorated inside the project) against the same on the single-module S3 prefix check
  of the guard section;
- the memory the guard keeps after the first invocation of the large-table project;
- the guard's share of a cold start: Init plus the first invocation, in a fresh process,
  with the guard on minus with ``LAMBDASCOPE_GUARD=off`` (``import ast`` included), in all
  and per 1,000 source lines;
- a guarded invocation of the large-table project against one of the small-table project;
- deciding which loaded modules are the project's (the first ``guarded_modules()`` in a fresh
  process, what the first invocation does before its census), against the Init it follows.

A goal counts as met only when ``lambdascope.guarded_modules()`` reports every module of
the project as guarded: a guard that watches one module is cheap and proves nothing.
"""

from __future__ import annotations

import compileall
import functools
import gc
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import lambdascope
from benchmarks._timing import Row, goal, looped, render, rounds_of
from benchmarks.bench_guard import PREFIX_CHECK

SECTION = "guard on a 30-module project (whole-project guard)"
MODULES = 30
DECORATED = """

from lambdascope import handler

lambda_handler = handler(watch_tmp=False)(work)
lambda_handler_off = handler(guard="off")(work)
"""


def _module_source(index: int, size: int) -> str:
    """One generated module of 40 module-level names; the handler reads them through entry().

    Its helpers are as long as real ones, but the path an invocation takes is short, so the
    guard's cost is not lost in the handler's own.
    """
    previous = f"from . import m{index - 1:02d} as previous" if index else "previous = None"
    lines = [
        f'"""Generated module {index}: lookup tables and the helpers that read them."""',
        "",
        "import json",
        "from decimal import Decimal",
        "",
        previous,
        "",
    ]
    lines += [f"LIMIT_{n} = {index * 13 + n}" for n in range(13)]  # 13 constants
    lines.append("")
    for n in range(6):  # 6 read-only tables of *size* nested entries
        lines.append(
            f"TABLE_{n} = {{f'key-{{k}}': {{'price': k + {n}, 'tags': (str(k), 'm{index}')}}"
            f" for k in range({size})}}"
        )
    lines.append("")
    lines += [f"CODES_{n} = tuple(f'code-{{k}}' for k in range({n + 3}))" for n in range(4)]
    for n in range(12):  # 12 helpers that read the tables
        lines += [
            "",
            "",
            f"def helper_{n}(event, default=None):",
            f'    """The price of the key in TABLE_{n % 6}, or LIMIT_{n}."""',
            f"    key = event.get('key', 'key-{n}')",
            f"    row = TABLE_{n % 6}.get(key, default)",
            "    if row is None or 'detail' not in event:",
            f"        return LIMIT_{n} if row is None else row['price']",
            f"    tags = [tag for tag in row['tags'] if tag in CODES_{n % 4} or tag]",
            f"    return row['price'] + len(tags) + LIMIT_{n}",
        ]
    lines += [
        "",
        "",
        "class Record:",
        '    """A read-only view of one row."""',
        "",
        "    def __init__(self, key, row):",
        "        self.key = key",
        "        self.row = row",
        "",
        "    def to_json(self):",
        "        return json.dumps({'key': self.key, 'price': str(Decimal(self.row['price']))})",
        "",
        "",
        "def entry(event):",
        '    """What the handler calls: reads only."""',
        f"    total = helper_{index % 12}(event)",
        "    if 'record' in event:",
        "        total += len(Record(event['key'], TABLE_0[event['key']]).to_json())",
        "    return total",
        "",
    ]
    return "\n".join(lines)


def _handler_source() -> str:
    names = ", ".join(f"m{index:02d}" for index in range(MODULES))
    return (
        textwrap.dedent(
            f'''
        """The function: calls into every module of the project, reads only."""

        from . import {names}

        MODULES = ({names},)


        def work(event, context):
            return sum(module.entry(event) for module in MODULES)
        '''
        ).lstrip()
        + DECORATED
    )


def generate(root: Path, package: str, size: int) -> int:
    """Write *package* (30 modules, tables of *size* entries) into *root*; its source lines."""
    folder = root / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text('"""A generated project for the benchmark."""\n')
    (folder / "handler.py").write_text(_handler_source())
    for index in range(MODULES):
        (folder / f"m{index:02d}.py").write_text(_module_source(index, size))
    compileall.compile_dir(folder, quiet=1)  # as `pip install` and `sam build` leave it
    return sum(len(path.read_text().splitlines()) for path in folder.glob("*.py"))


def _guarded_count(lambda_handler: Callable[..., Any], package: str) -> int:
    """How many of the project's modules the guard reports as guarded (0 without the API)."""
    guarded_modules = getattr(lambdascope, "guarded_modules", None)
    if guarded_modules is None:
        return 0
    names = {record.name for record in guarded_modules(lambda_handler)}
    return sum(1 for name in names if name == package or name.startswith(f"{package}."))


class Roots:
    """Temporary project roots, each first on ``sys.path`` while it lives."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="lambdascope-bench-project-")
        self.path = Path(self._dir.name).resolve()
        self.added: list[str] = []

    def root(self, name: str) -> Path:
        root = self.path / name
        root.mkdir()
        sys.path.insert(0, str(root))
        self.added.append(str(root))
        importlib.invalidate_caches()
        return root

    def close(self) -> None:
        for entry in self.added:
            sys.path.remove(entry)
        for name in [n for n, m in sys.modules.items() if _inside(m, self.path)]:
            del sys.modules[name]
        self._dir.cleanup()


def _inside(module: Any, folder: Path) -> bool:
    return str(getattr(module, "__file__", "") or "").startswith(str(folder))


_COLD_START = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
from {package} import handler
initialised = time.perf_counter()
handler.lambda_handler({{"key": "key-3"}}, None)
done = time.perf_counter()
print(json.dumps({{"init": initialised - started, "first": done - initialised}}))
"""


def _fresh_process(script: str, root: Path, env: dict[str, str]) -> dict[str, float]:
    """Run *script* (with the project root as its argument) in a fresh interpreter; the
    figures it prints."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(root)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def _cold_start_share(root: Path, package: str, runs: int) -> float:
    """Seconds the guard adds to Init + the first invocation, in fresh processes."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    env.pop("LAMBDASCOPE_WATCH_TMP", None)
    script = _COLD_START.format(package=package)
    samples: dict[str, list[float]] = {"raise": [], "off": []}
    for _ in range(runs):
        for mode, seconds in samples.items():
            figures = _fresh_process(script, root, dict(env, LAMBDASCOPE_GUARD=mode))
            seconds.append(figures["init"] + figures["first"])
    return statistics.median(samples["raise"]) - statistics.median(samples["off"])


_MEMBERSHIP = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
from {package} import handler
initialised = time.perf_counter()
import lambdascope
lambdascope.guarded_modules(handler.lambda_handler)
print(json.dumps({{"init": initialised - started, "members": time.perf_counter() - initialised}}))
"""


def _membership_cost(root: Path, package: str, runs: int) -> tuple[float, float]:
    """Seconds the first ``guarded_modules()`` takes in a fresh process (deciding which loaded
    modules are the project's, as the first invocation does), and the Init it follows."""
    env = dict(os.environ, LAMBDASCOPE_COLD_START_REPORT="0")
    script = _MEMBERSHIP.format(package=package)
    members: list[float] = []
    init: list[float] = []
    for _ in range(runs):
        figures = _fresh_process(script, root, env)
        members.append(figures["members"])
        init.append(figures["init"])
    return statistics.median(members), statistics.median(init)


def _analyse_ahead(root: Path, package: str) -> None:
    """``lambdascope analyse``: the analysis written beside the code, as a build step would."""
    env = dict(os.environ, LAMBDASCOPE_COLD_START_REPORT="0", PYTHONPATH=str(root))
    subprocess.run(
        [sys.executable, "-m", "lambdascope", "analyse", f"{package}.handler.lambda_handler"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


def _kept_after_first_call(func: Callable[[Any, Any], Any], event: Any) -> int:
    """Bytes still allocated after the first invocation (the guard's analysis and snapshot)."""
    gc.collect()
    tracemalloc.start()
    try:
        func(event, None)
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return kept


def project_rows(quick: bool) -> list[Row]:
    big = 200 if quick else 1000
    small = 10
    event = {"key": "key-3"}
    roots = Roots()
    try:
        single_root = roots.root("single")
        (single_root / "bench_single.py").write_text(textwrap.dedent(PREFIX_CHECK) + DECORATED)
        single = importlib.import_module("bench_single")
        lines = generate(roots.root("small"), "proj_small", small)
        generate(roots.root("big"), "proj_big", big)
        small_project = importlib.import_module("proj_small.handler")
        big_project = importlib.import_module("proj_big.handler")

        single.lambda_handler({}, None)  # first invocations: the guard's lazy imports, analysis
        small_project.lambda_handler(event, None)
        kept = _kept_after_first_call(big_project.lambda_handler, event)
        guarded = _guarded_count(big_project.lambda_handler, "proj_big")
        total = MODULES + 2  # the package, its handler module and the 30 modules

        number = 2000 if quick else 5000  # a few microseconds out of ~20: many calls
        calls = {
            "single": single.lambda_handler,
            "single off": single.lambda_handler_off,
            "small": small_project.lambda_handler,
            "small off": small_project.lambda_handler_off,
            "big": big_project.lambda_handler,
        }
        variants = {
            name: looped(functools.partial(func, {} if "single" in name else event, None), number)
            for name, func in calls.items()
        }
        per = rounds_of(variants, number, 5 if quick else 9)
        share = _cold_start_share(roots.path / "small", "proj_small", 3 if quick else 9)
        members, init = _membership_cost(roots.path / "small", "proj_small", 5 if quick else 15)
        _analyse_ahead(roots.path / "small", "proj_small")
        ahead = _cold_start_share(roots.path / "small", "proj_small", 3 if quick else 9)
    finally:
        roots.close()

    covered = guarded == total
    single_cost = per["single"] - per["single off"]
    project_cost = per["small"] - per["small off"]
    ratio = project_cost / single_cost
    growth = per["big"] / per["small"]
    share_ms = share * 1000
    per_kloc = share_ms / (lines / 1000)
    ahead_ms = ahead * 1000
    ahead_kloc = ahead_ms / (lines / 1000)
    kib = kept / 1024
    note = "" if covered else f" ({guarded} of {total} modules guarded)"
    return [
        Row(
            SECTION,
            f"modules guarded of the project's {total} ({lines:,} lines)",
            guarded,
            "modules",
            None,
            goal(f"all {total}", covered),
        ),
        Row(
            SECTION,
            "single-module guard part, S3 prefix check (guard='raise' minus 'off')",
            single_cost * 1e9,
            "ns added",
            1.0,
        ),
        Row(
            SECTION,
            "project guard part per invocation, vs the single-module one",
            project_cost * 1e9,
            "ns added",
            ratio,
            goal(f"≤ 2x{note}", covered and ratio <= 2),
        ),
        Row(
            SECTION,
            "memory the guard keeps after the first invocation",
            kib,
            "KiB",
            None,
            goal(f"≤ 1 MiB{note}", covered and kib <= 1024),
        ),
        Row(
            SECTION,
            "cold start: the guard's share of Init + first invocation (import ast included)",
            share_ms,
            "ms",
            share_ms / 60,
            goal(f"≤ 60 ms{note}", covered and share_ms <= 60),
        ),
        Row(
            SECTION,
            "cold start: the guard's share per 1,000 source lines",
            per_kloc,
            "ms",
            per_kloc / 20,
            goal(f"≤ 20 ms{note}", covered and per_kloc <= 20),
        ),
        Row(
            SECTION,
            "cold start: deciding the guarded modules (first guarded_modules()), vs Init",
            members * 1000,
            "ms",
            members / init,
            goal(f"≤ 5% of Init{note}", covered and members <= init * 0.05),
        ),
        Row(
            SECTION,
            "cold start, analysis made ahead of time (lambdascope analyse): the guard's share",
            ahead_ms,
            "ms",
            ahead_ms / 60,
            goal(f"≤ 60 ms{note}", covered and ahead_ms <= 60),
        ),
        Row(
            SECTION,
            "cold start, analysis made ahead of time: the guard's share per 1,000 source lines",
            ahead_kloc,
            "ms",
            ahead_kloc / 20,
            goal(f"≤ 20 ms{note}", covered and ahead_kloc <= 20),
        ),
        Row(
            SECTION,
            f"guarded invocation, {MODULES * 6 * big:,} read-only table entries vs "
            f"{MODULES * 6 * small:,}",
            per["big"] * 1e9,
            "ns/call",
            growth,
            goal(f"≤ 1.2x{note}", covered and growth <= 1.2),
        ),
    ]


def main() -> None:
    quick = "--quick" in sys.argv
    os.environ.setdefault("LAMBDASCOPE_COLD_START_REPORT", "0")
    print(render(project_rows(quick), quick))


if __name__ == "__main__":
    main()
