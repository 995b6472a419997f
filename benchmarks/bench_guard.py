"""Cost of the module-state guard per invocation: guard="raise" vs guard="off" vs a bare call.

Run: ``python benchmarks/bench_guard.py``. The handler module is shaped like a real one:
a few dozen module-level names, a ~1k-entry config dict, a boto3-like client object, a
logger, a compiled regex and a small nested structure. Figures are ratios to the bare call
measured in the same run (absolute numbers depend on the machine).
"""

from __future__ import annotations

import sys
import timeit
import types
from typing import Any

SOURCE = """
import logging
import re
import threading

logger = logging.getLogger("bench.handler")
PATTERN = re.compile(r"^[a-z]+_[0-9]+$")
LOCK = threading.Lock()
CONFIG = {f"setting_{i}": f"value_{i}" for i in range({size})}
TABLES = {"orders": "orders-prod", "users": "users-prod"}
FEATURES = {"beta": ["a", "b"], "limits": {"rps": 100, "burst": [1, 2, 3]}}
REGIONS = ["eu-west-1", "us-east-1"]
ALLOWED = {"GET", "POST"}
TIMEOUT = 3.5
{constants}


class Settings:
    retries = 3

    def __init__(self):
        self.stage = "prod"


settings = Settings()


def helper(event):
    return CONFIG.get("setting_1"), TABLES["orders"], settings.stage


def lambda_handler(event, context):
    item = CLIENT.get_item(event["id"])
    return {"item": item, "cfg": helper(event), "ok": bool(PATTERN.match("a_1"))}
"""


class Client:
    """Stands in for a boto3 client (a third-party class): mutates its internals on every call."""

    def __init__(self) -> None:
        self._endpoint_cache: dict[str, str] = {}
        self._calls = 0

    def get_item(self, key: str) -> dict[str, Any]:
        self._calls += 1
        self._endpoint_cache.setdefault("endpoint", "https://dynamodb")
        return {"Item": {"id": key}}


def make_module(name: str, size: int) -> types.ModuleType:
    constants = "\n".join(f"CONST_{i} = {i}" for i in range(30))
    module = types.ModuleType(name)
    sys.modules[name] = module
    source = SOURCE.replace("{size}", str(size)).replace("{constants}", constants)
    exec(compile(source, f"<{name}>", "exec"), vars(module))
    vars(module)["CLIENT"] = Client()
    return module


def per_call(func: Any, event: dict[str, str], number: int) -> float:
    timer = timeit.Timer(lambda: func(event, None))
    return min(timer.repeat(repeat=7, number=number)) / number


def measure(size: int, number: int) -> dict[str, float]:
    from lambdascope import handler

    module = make_module(f"bench_handler_{size}", size)
    bare = module.lambda_handler
    off = handler(guard="off")(bare)
    guarded = handler(guard="raise")(bare)
    warned = handler(guard="warn")(bare)
    event = {"id": "42"}
    for func in (off, guarded, warned):
        func(event, None)  # the first invocation takes the snapshot
    return {
        "bare": per_call(bare, event, number),
        "off": per_call(off, event, number),
        "raise": per_call(guarded, event, number),
        "warn": per_call(warned, event, number),
    }


def main() -> None:
    print(f"python {sys.version.split()[0]}; min of 7 repeats; ns per invocation")
    print(f"{'config entries':>15} {'bare':>9} {'off':>9} {'raise':>9} {'warn':>9}  ratios")
    for size, number in ((1000, 2000), (10, 5000), (10_000, 300)):
        r = measure(size, number)
        ns = {k: v * 1e9 for k, v in r.items()}
        print(
            f"{size:>15} {ns['bare']:>9.0f} {ns['off']:>9.0f} {ns['raise']:>9.0f} "
            f"{ns['warn']:>9.0f}  off/bare={r['off'] / r['bare']:.1f}x "
            f"raise/bare={r['raise'] / r['bare']:.1f}x raise/off={r['raise'] / r['off']:.1f}x "
            f"raise-off={ns['raise'] - ns['off']:.0f} ns"
        )


if __name__ == "__main__":
    main()
