"""What the handler redirect costs over ``@handler`` written in the code.

Run: ``python -m benchmarks.bench_redirect`` (or the whole suite: ``python -m benchmarks``).

- Init: in fresh processes with the runtime client's bootstrap already loaded (as when
  Lambda imports a handler module), the time to get the handler the runtime will call:
  ``import app`` of a module whose handler is decorated with ``@handler``, against
  ``import lambdascope.redirect`` with ``LAMBDASCOPE_HANDLER`` naming the same module
  without the decorator (which imports it and wraps the handler). The difference is the
  redirect's own cost; the goal is at most 1 ms. The module alone, without lambdascope,
  is shown for scale.
- Per invocation: the handler the redirect serves against the decorated one, in this
  process, with the module guard on (the /tmp watch off: its system calls are the noisiest
  part of a call, and the same for both) and with the guard off. The served handler is
  the ``@handler`` wrapper itself, so the goal is parity, with a margin for noise.
"""

from __future__ import annotations

import functools
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from benchmarks._timing import Row, goal, looped, rounds_of

SECTION_INIT = "handler redirect: Init (fresh processes, on top of awslambdaric.bootstrap)"
SECTION_INVOKE = "handler redirect: per invocation"

# A handler module of the usual shape: a client-like object made at Init, a handler that
# reads the event and answers. `{decorator}` is `@handler` or nothing.
MODULE = """
import json
{imports}

TABLE = {{"name": "orders", "region": "eu-west-1"}}


{decorator}
def lambda_handler(event, context):
    order = event.get("order", {{}})
    body = {{"id": order.get("id"), "table": TABLE["name"]}}
    return {{"statusCode": 200, "body": json.dumps(body)}}
"""

PROBE = (
    "import time, awslambdaric.bootstrap\n"
    "t = time.perf_counter()\n"
    "import {module}\n"
    "served = {module}.{attribute}\n"
    "print(time.perf_counter() - t)"
)


def _write_modules(folder: Path) -> None:
    (folder / "app_decorated.py").write_text(
        MODULE.format(imports="from lambdascope import handler", decorator="@handler")
    )
    (folder / "app_plain.py").write_text(MODULE.format(imports="", decorator=""))


def _init_rows(quick: bool) -> list[Row]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    env["LAMBDASCOPE_HANDLER"] = "app_plain.lambda_handler"
    root = Path(__file__).resolve().parents[1]
    variants = {
        "the module alone, no lambdascope (scale)": ("app_plain", "lambda_handler"),
        "import a module decorated with @handler (baseline)": ("app_decorated", "lambda_handler"),
        "import lambdascope.redirect, LAMBDASCOPE_HANDLER=app_plain.lambda_handler": (
            "lambdascope.redirect",
            "handler",
        ),
    }
    with tempfile.TemporaryDirectory(prefix="bench-redirect-") as folder:
        _write_modules(Path(folder))
        env["PYTHONPATH"] = os.pathsep.join([folder, str(root)])
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", folder, str(root / "lambdascope")],
            check=True,
            env=env,
        )

        def once(module: str, attribute: str) -> float:
            out = subprocess.run(
                [sys.executable, "-c", PROBE.format(module=module, attribute=attribute)],
                env=env,
                cwd=folder,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            return float(out)

        for module, attribute in variants.values():  # warm the file cache once
            once(module, attribute)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(5 if quick else 25):
            for name, (module, attribute) in variants.items():
                samples[name].append(once(module, attribute))
    ms = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    base = ms["import a module decorated with @handler (baseline)"]
    rows = []
    for name, value in ms.items():
        target = ""
        if name.startswith("import lambdascope.redirect"):
            target = goal("≤ baseline + 1 ms", value - base <= 1.0)
        ratio = None if name.endswith("(scale)") else value / base  # a tiny one would print 0.00x
        rows.append(Row(SECTION_INIT, name, value, "ms", ratio, target))
    return rows


def _served(folder: Path, guard: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The decorated handler and the one the redirect serves, both made under *guard*."""
    os.environ["LAMBDASCOPE_GUARD"] = guard
    os.environ["LAMBDASCOPE_WATCH_TMP"] = "off"
    os.environ["LAMBDASCOPE_HANDLER"] = "app_plain.lambda_handler"
    for name in ("app_decorated", "app_plain", "lambdascope.redirect"):
        sys.modules.pop(name, None)
    decorated = importlib.import_module("app_decorated").lambda_handler
    served = importlib.import_module("lambdascope.redirect").handler
    return decorated, served


def _invoke_rows(quick: bool) -> list[Row]:
    from lambdascope.testing import LambdaContext

    names = ("LAMBDASCOPE_GUARD", "LAMBDASCOPE_HANDLER", "LAMBDASCOPE_WATCH_TMP")
    saved = {k: os.environ.get(k) for k in names}
    rows = []
    number = 2_000 if quick else 20_000
    event = {"order": {"id": "o-1"}}
    context = LambdaContext(timeout=900)
    with tempfile.TemporaryDirectory(prefix="bench-redirect-") as folder:
        _write_modules(Path(folder))
        sys.path.insert(0, folder)
        try:
            for guard in ("raise", "off"):
                decorated, served = _served(Path(folder), guard)
                for func in (decorated, served):  # the first invocation takes the census
                    func(event, context)
                label = "module guard on" if guard == "raise" else "guard='off'"
                variants = {
                    f"decorated @handler, {label} (baseline)": looped(
                        functools.partial(decorated, event, context), number
                    ),
                    f"served by lambdascope.redirect, {label}": looped(
                        functools.partial(served, event, context), number
                    ),
                }
                per = rounds_of(variants, number, 3 if quick else 15)
                base = per[f"decorated @handler, {label} (baseline)"]
                for name, value in per.items():
                    target = ""
                    if name.startswith("served"):
                        target = goal("≤ 1.1x the decorated handler", value <= 1.1 * base)
                    rows.append(
                        Row(SECTION_INVOKE, name, value * 1e9, "ns/call", value / base, target)
                    )
        finally:
            sys.path.remove(folder)
            for name in ("app_decorated", "app_plain", "lambdascope.redirect"):
                sys.modules.pop(name, None)
            for key, before in saved.items():
                if before is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = before
    return rows


def redirect_rows(quick: bool) -> list[Row]:
    """Every row of this benchmark."""
    return _init_rows(quick) + _invoke_rows(quick)


if __name__ == "__main__":
    for row in redirect_rows("--quick" in sys.argv):
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        print(f"{row.section} | {row.name} | {row.value:,.1f} {row.unit} | {ratio} | {row.goal}")
