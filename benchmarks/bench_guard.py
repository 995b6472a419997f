"""What the module-state guard costs, on handler modules that are real files.

Run: ``python -m benchmarks.bench_guard`` (or the whole suite: ``python3 tasks.py bench``).

Every module is written to a temporary folder and imported, as Lambda imports a handler,
so the guard's write analysis reads its source: the figures are the default configuration's.
Each row is a ratio against a baseline measured in the same run:

- the floor wrapper: a bare ``try/finally`` + ``ContextVar.set/reset`` around the handler,
  the least any request scope can cost;
- a 1,000-entry read-only table, against which the 100,000-entry one is compared;
- a module of a few names, against which a module of 1,000 names is compared.
"""

from __future__ import annotations

import functools
import importlib
import sys
import tempfile
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

from benchmarks._timing import Row, floor, goal, looped, rounds_of

SECTION = "guard (modules imported from files)"

PREFIX_CHECK = """
import logging

from benchmarks.bench_guard import FakeS3
from lambdascope import init_resource

logger = logging.getLogger("bench.prefix_check")
BUCKET = "incoming"
PREFIXES = ("invoice_", "receipt_")


@init_resource
def s3():
    return FakeS3()


def work(event, context):
    listing = s3().list_objects_v2(Bucket=BUCKET)
    files = [o["Key"] for o in listing["Contents"] if o["Key"].startswith(PREFIXES)]
    logger.debug("found %d files", len(files))
    return len(files)
"""

# A realistic handler module: a client, a logger, a compiled regex, a few lookup tables of
# several kinds and about twenty constants; the handler only reads them.
REALISTIC = """
import json
import logging
import os
import re
from collections import Counter
from decimal import Decimal

from benchmarks.bench_guard import FakeS3

logger = logging.getLogger("bench.realistic")
s3 = FakeS3()

SERVICE = "orders"
STAGE = os.environ.get("STAGE", "dev")
TABLE_NAME = os.environ.get("TABLE_NAME", "orders-dev")
BUCKET = "incoming"
REGION = "eu-west-1"
CURRENCY = "EUR"
API_VERSION = "2024-01-01"
DEFAULT_LOCALE = "en_GB"
MAX_ITEMS = 100
PAGE_SIZE = 25
RETRIES = 3
TIMEOUT_SECONDS = 2.5
MIN_ORDER = Decimal("5.00")
FREE_SHIPPING = Decimal("50.00")
PREFIXES = ("invoice_", "receipt_")
DEBUG = STAGE != "prod"
ENCODING = "utf-8"
DATE_FORMAT = "%Y-%m-%d"
CACHE_SECONDS = 300
SCHEMA_VERSION = 3

STATUS_NAMES = {"N": "new", "P": "paid", "S": "shipped", "C": "cancelled"}
TAX_RATES = {"DE": Decimal("0.19"), "FR": Decimal("0.20"), "GB": Decimal("0.20")}
ALLOWED_COUNTRIES = frozenset(TAX_RATES)
SIZE_WEIGHTS = Counter({"small": 1, "medium": 3, "large": 7})
HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}
CARRIERS = [{"name": "post", "max_kg": 20}, {"name": "freight", "max_kg": 1000}]
SKU = re.compile(r"^[A-Z]{3}-[0-9]{4}$")


def carrier_for(weight):
    for carrier in CARRIERS:
        if weight <= carrier["max_kg"]:
            return carrier["name"]
    return None


def work(event, context):
    sku = event["sku"]
    if not SKU.match(sku) or event["country"] not in ALLOWED_COUNTRIES:
        return {"statusCode": 400, "headers": HEADERS}
    weight = SIZE_WEIGHTS[event["size"]] * event["quantity"]
    logger.debug("order %s in %s", sku, STATUS_NAMES.get(event["status"], "unknown"))
    return {
        "statusCode": 200,
        "headers": HEADERS,
        "carrier": carrier_for(weight),
        "tax": TAX_RATES[event["country"]],
        "currency": CURRENCY,
    }
"""

REALISTIC_EVENT = {
    "sku": "ABC-1234",
    "country": "DE",
    "size": "medium",
    "quantity": 2,
    "price": "19.90",
    "status": "P",
}

READ_ONLY = """
TABLE = {{
    f"sku-{{i}}": {{"price": i, "tags": [str(i)], "size": {{"w": i}}}} for i in range({size})
}}


def work(event, context):
    row = TABLE.get(event["sku"])
    return None if row is None else (row["price"], len(row["tags"]), event["sku"] in TABLE)
"""

WRITABLE_TOP = """
CONFIG = {{f"key-{{i}}": {{"value": i, "tags": [str(i)]}} for i in range({size})}}


def work(event, context):
    if "set" in event:
        CONFIG[event["set"]] = event["value"]
    return CONFIG.get(event["key"])
"""

WRITABLE_DEEP = """
GROUPS = {{f"group-{{g}}": {{f"item-{{i}}": i for i in range(100)}} for g in range({size} // 100)}}


def work(event, context):
    if "group" in event:
        GROUPS[event["group"]][event["item"]] = event["value"]
    return len(GROUPS)
"""

NAMES = """
{constants}


def work(event, context):
    return event
"""


class FakeS3:
    """Stands in for a boto3 client: a third-party object that mutates its internals."""

    def __init__(self) -> None:
        self._endpoint_cache: dict[str, str] = {}
        self.calls = 0

    def list_objects_v2(self, Bucket: str) -> dict[str, Any]:
        self.calls += 1
        self._endpoint_cache.setdefault(Bucket, f"https://{Bucket}.s3")
        keys = ("invoice_1.pdf", "receipt_2.pdf", "notes.txt")
        return {"Contents": [{"Key": key} for key in keys]}


class Modules:
    """A temporary folder of handler modules, importable by name for as long as it lives."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="lambdascope-bench-")
        self.path = Path(self._dir.name)
        self._folders: list[str] = []

    def load(self, name: str, source: str) -> Any:
        """Import *source* as module *name*, alone in its folder: a function of its own
        (the guard watches a function's whole project, the folder of a top-level module)."""
        folder = self.path / name
        folder.mkdir()
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        sys.path.insert(0, str(folder))
        self._folders.append(str(folder))
        importlib.invalidate_caches()
        return importlib.import_module(name)

    def close(self) -> None:
        for folder in self._folders:
            sys.path.remove(folder)
        for name in [n for n, m in sys.modules.items() if _inside(m, self.path)]:
            del sys.modules[name]
        self._dir.cleanup()


def _inside(module: Any, folder: Path) -> bool:
    return str(getattr(module, "__file__", "") or "").startswith(str(folder))


def first_call(func: Callable[[Any, Any], Any], event: Any) -> tuple[float, int]:
    """Seconds and peak traced bytes of one call (the first invocation: analysis + census)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        func(event, None)
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return took, peak


def guard_rows(quick: bool) -> list[Row]:
    import lambdascope._guard._analysis  # noqa: F401 - imported once per process (ast, ~5 ms)
    from lambdascope._handler import wrap_in  # applied as in each module: its own project

    big = 20_000 if quick else 100_000
    modules = Modules()
    try:
        prefix_check = modules.load("bench_prefix_check", PREFIX_CHECK)
        realistic = modules.load("bench_realistic", REALISTIC)
        small = modules.load("bench_readonly_small", READ_ONLY.format(size=1000))
        large = modules.load("bench_readonly_large", READ_ONLY.format(size=big))
        few = modules.load("bench_names_few", NAMES.format(constants="A = 1"))
        many = modules.load(
            "bench_names_many",
            NAMES.format(constants="\n".join(f"NAME_{i} = {i}" for i in range(1000))),
        )
        top = modules.load("bench_writable_top", WRITABLE_TOP.format(size=big))
        deep = modules.load("bench_writable_deep", WRITABLE_DEEP.format(size=big))

        # The module-state guard alone: the /tmp watch has rows of its own (bench_tmp).
        guarded = {
            name: wrap_in(mod.__name__, mod.work, watch_tmp=False)
            for name, mod in (
                ("prefix_check", prefix_check),
                ("realistic", realistic),
                ("small", small),
                ("large", large),
                ("few", few),
                ("many", many),
                ("top", top),
                ("deep", deep),
            )
        }
        events: dict[str, Any] = {
            "prefix_check": {},
            "realistic": REALISTIC_EVENT,
            "small": {"sku": "sku-7"},
            "large": {"sku": "sku-7"},
            "few": {},
            "many": {},
            "top": {"key": "key-7"},
            "deep": {},
        }
        default_handler = wrap_in(prefix_check.__name__, prefix_check.work)
        default_handler({}, None)  # the first invocation: analysis, census, the watch's baseline
        realistic_default = wrap_in(realistic.__name__, realistic.work)
        realistic_default(REALISTIC_EVENT, None)
        large_first, large_peak = first_call(guarded["large"], events["large"])
        deep_first, _ = first_call(guarded["deep"], events["deep"])
        for name, func in guarded.items():
            if name not in ("large", "deep"):
                func(events[name], None)  # the first invocation: analysis and census

        number = 300 if quick else 3000
        variants: dict[str, Callable[[], None]] = {
            "bare": looped(functools.partial(prefix_check.work, {}, None), number),
            "floor": looped(functools.partial(floor(prefix_check.work), {}, None), number),
            "off": looped(
                functools.partial(
                    wrap_in(prefix_check.__name__, prefix_check.work, guard="off"), {}, None
                ),
                number,
            ),
            # what users get: the module guard and the /tmp watch
            "default": looped(functools.partial(default_handler, {}, None), number),
            "realistic bare": looped(
                functools.partial(realistic.work, REALISTIC_EVENT, None), number
            ),
            "realistic default": looped(
                functools.partial(realistic_default, REALISTIC_EVENT, None), number
            ),
        }
        for name, func in guarded.items():
            if name not in ("top", "deep"):
                variants[name] = looped(functools.partial(func, events[name], None), number)
        per = rounds_of(variants, number, 3 if quick else 7)
        heavy = rounds_of(
            {
                "top": looped(functools.partial(guarded["top"], events["top"], None), 5),
                "top off": looped(functools.partial(top.work, events["top"], None), 5),
            },
            5,
            3,
        )
        analysis_ms = _analysis_ms(modules)
    finally:
        modules.close()

    floor_cost = per["floor"] - per["bare"]
    guarded_cost = per["prefix_check"] - per["bare"]
    realistic_cost = per["realistic"] - per["realistic bare"]
    realistic_default_cost = per["realistic default"] - per["realistic bare"]
    default_cost = per["default"] - per["bare"]
    guard_cost = per["prefix_check"] - per["off"]
    per_name = (per["many"] - per["few"]) / 999
    growth = per["large"] / per["small"]
    top_cost = heavy["top"] - heavy["top off"]
    return [
        Row(SECTION, "floor wrapper (try/finally + ContextVar)", floor_cost * 1e9, "ns added", 1.0),
        Row(
            SECTION,
            "default @handler (module guard + /tmp watch) on the S3 prefix-check module",
            default_cost * 1e9,
            "ns added",
            default_cost / floor_cost,
        ),
        Row(
            SECTION,
            "@handler(watch_tmp=False) on the S3 prefix-check module (the module guard)",
            guarded_cost * 1e9,
            "ns added",
            guarded_cost / floor_cost,
            goal("≤ 8x the floor wrapper", guarded_cost <= 8 * floor_cost),
        ),
        Row(
            SECTION,
            "@handler(watch_tmp=False) on a realistic module (a client, a logger, a regex, "
            "five lookup tables, twenty constants; the handler reads them)",
            realistic_cost * 1e9,
            "ns added",
            realistic_cost / floor_cost,
            goal("≤ 8x the floor wrapper", realistic_cost <= 8 * floor_cost),
        ),
        Row(
            SECTION,
            "default @handler (module guard + /tmp watch) on that realistic module",
            realistic_default_cost * 1e9,
            "ns added",
            realistic_default_cost / floor_cost,
            goal("≤ 15x the floor wrapper", realistic_default_cost <= 15 * floor_cost),
        ),
        Row(
            SECTION,
            "its guard part (guard='raise' minus guard='off')",
            guard_cost * 1e9,
            "ns added",
            guard_cost / floor_cost,
            goal("≤ 1 µs", guard_cost <= 1e-6),
        ),
        Row(
            SECTION,
            f"handler reading a {big:,}-entry nested table, vs 1,000 entries",
            per["large"] * 1e9,
            "ns/call",
            growth,
            goal("≤ 1.2x", growth <= 1.2),
        ),
        Row(
            SECTION,
            "each module-level name (1,000 names vs 1)",
            per_name * 1e9,
            "ns/name",
            per_name / floor_cost,
            goal("≤ 10 ns", per_name <= 10e-9),
        ),
        Row(
            SECTION,
            f"memory kept for a read-only {big:,}-entry table (first invocation, peak)",
            large_peak / 1024,
            "KiB",
            large_peak / (1024 * 1024),
            goal("≤ 1 MiB", large_peak <= 1024 * 1024),
        ),
        Row(
            SECTION,
            f"first invocation, handler reading a {big:,}-entry table",
            large_first * 1000,
            "ms",
            None,
        ),
        Row(
            SECTION,
            f"first invocation, {big:,} nested entries the handler can write",
            deep_first * 1000,
            "ms",
            deep_first / (big / 100_000 * 0.1),
            goal("≤ 100 ms per 100,000 entries", deep_first <= big / 100_000 * 0.1),
        ),
        Row(
            SECTION,
            "write analysis of a 1,000-line module",
            analysis_ms,
            "ms",
            analysis_ms / 20,
            goal("≤ 20 ms", analysis_ms <= 20),
        ),
        Row(
            SECTION,
            f"a {big:,}-entry table written at its top level only, per invocation",
            top_cost * 1000,
            "ms added",
            top_cost / 0.01,
            goal("≤ 10 ms", top_cost <= 0.01),
        ),
    ]


def _analysis_ms(modules: Modules) -> float:
    """Milliseconds the write analysis takes on a generated 1,000-line handler module."""
    from lambdascope._guard._analysis import analyse

    body = []
    for i in range(100):  # 10 lines a function, alike to real helpers
        body.append(
            f"def helper_{i}(event, items=None):\n"
            f"    key = event.get('k{i}')\n"
            f"    row = TABLE.get(key, {{}})\n"
            f"    out = [x for x in row.get('tags', ()) if x]\n"
            f"    if key in CACHE:\n"
            f"        return CACHE[key]\n"
            f"    total = sum(len(x) for x in out)\n"
            f"    LOG.append(total)\n"
            f"    return {{'key': key, 'total': total}}\n\n"
        )
    source = "TABLE = {}\nCACHE = {}\nLOG = []\n\n\n" + "".join(body)
    module = modules.load("bench_analysis", source)
    best = min(_timed(lambda: analyse(module.__name__, vars(module))) for _ in range(5))
    return best * 1000


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"python {sys.version.split()[0]}")
    for row in guard_rows(quick):
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        print(f"{row.name}: {row.value:,.1f} {row.unit} {ratio} {row.goal}")


if __name__ == "__main__":
    main()
