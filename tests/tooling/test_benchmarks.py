"""The benchmark suite runs and reports every row (figures are not asserted: timing is noisy)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = [
    "bare call",
    "minimal try/finally + ContextVar",
    "lambdascope @handler(guard='off')",
    "Powertools no-op middleware",
    "Powertools inject_lambda_context(clear_state=True)",
    "floor wrapper (try/finally + ContextVar)",
    "default @handler (module guard + /tmp watch) on the S3 prefix-check module",
    "@handler(watch_tmp=False) on the S3 prefix-check module",
    "@handler(watch_tmp=False) on a realistic module",
    "default @handler (module guard + /tmp watch) on that realistic module",
    "its guard part",
    "nested table, vs 1,000 entries",
    "each module-level name",
    "memory kept for a read-only",
    "nested entries the handler can write",
    "write analysis of a 1,000-line module",
    "written at its top level only",
    "modules guarded of the project's 32",
    "single-module guard part, S3 prefix check",
    "project guard part per invocation, vs the single-module one",
    "memory the guard keeps after the first invocation",
    "cold start: the guard's share of Init + first invocation",
    "cold start: the guard's share per 1,000 source lines",
    "read-only table entries vs 1,800",
    "request.tmpdir unused, @handler(guard='off')",
    "an empty request.tmpdir created and removed",
    "the watch, nothing left, 10 files in the temp dir",
    "the watch, nothing left, 1,000 files in the temp dir",
    "the watch reporting a file left among 1,000 files",
    "the watch, nothing left, 10 files in the temp dir, elsewhere",
    "the watch without inotify (the scan)",
    "the default @handler (module guard + /tmp watch) on this module's plain handler",
    "the watch's part of it, vs the floor wrapper",
    "the watch starting (loading inotify",
    "functools.cache",
    "lambdascope init_resource()",
    "Powertools get_parameter (warm cache)",
    "return the cached dict (shared; before)",
    "json.loads of the cached text (lambdascope)",
    "copy.deepcopy of the cached dict",
    "types.MappingProxyType",
    "get_secret(transform='json'), a fresh dict (warm)",
    "typing (reference)",
    "| lambdascope |",
    "Powertools middleware_factory",
    "Powertools Logger",
    "growth over 10,000 invocations",
    "@handler(guard='off') (baseline)",
    "log context installed, request.log unused",
    "request.log.update(order_id=...) once per invocation",
    "@handler(guard='off', deadline_margin=1), sync",
    "log.info, no filter (baseline)",
    "log.info, filter installed, 3 built-in + 2 fields",
    "log.info, filter installed, outside an invocation",
    "request.check_deadline()",
    "import a module decorated with @handler (baseline)",
    "import lambdascope.redirect, LAMBDASCOPE_HANDLER=app_plain.lambda_handler",
    "served by lambdascope.redirect, module guard on",
    "served by lambdascope.redirect, guard='off'",
    "cold start, analysis made ahead of time (lambdascope analyse): the guard's share",
]


def test_quick_suite_reports_every_row_with_finite_ratios(tmp_path: Path) -> None:
    output = tmp_path / "latest.md"
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    text = output.read_text()
    for row in EXPECTED:
        assert row in text, row
    ratios = [float(r) for r in re.findall(r"\| ([0-9.]+)x \|", text)]
    assert len(ratios) >= 12
    # 0 where nothing is measurable: a name the code only reads costs nothing per invocation
    assert all(math.isfinite(r) and r >= 0 for r in ratios)
    assert text.count(": met") + text.count(": MISSED") == 37
