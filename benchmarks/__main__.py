"""Side-by-side benchmarks. Every figure is a ratio against a baseline measured in the same run.

    python -m benchmarks [--quick] [--output FILE]

The machine this runs on may be shared and noisy: variants are measured in interleaved
rounds, each round takes the best of several repeats, and the median round is reported.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from benchmarks._timing import Row, floor, goal, looped, render, rounds_of

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# -- 1. per-invocation overhead --------------------------------------------------------------


def handler_overhead(quick: bool) -> list[Row]:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.middleware_factory import lambda_handler_decorator

    import lambdascope

    @lambda_handler_decorator
    def noop_middleware(handler: Any, event: Any, context: Any) -> Any:
        return handler(event, context)

    def bare(event: Any, context: Any) -> Any:
        return event

    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
    logger = Logger(level="ERROR")
    context = SimpleNamespace(
        function_name="bench",
        memory_limit_in_mb=128,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
        aws_request_id="req",
        function_version="$LATEST",
    )
    variants_funcs: dict[str, Callable[[Any, Any], Any]] = {
        "bare call": bare,
        "minimal try/finally + ContextVar": floor(bare),
        "lambdascope @handler(guard='off')": lambdascope.handler(guard="off")(bare),
        "Powertools no-op middleware": noop_middleware(bare),
        "Powertools inject_lambda_context(clear_state=True)": logger.inject_lambda_context(
            clear_state=True
        )(bare),
    }
    number = 2_000 if quick else 20_000
    event = {"id": "42"}
    variants = {
        name: looped(functools.partial(func, event, context), number)
        for name, func in variants_funcs.items()
    }
    per_call = rounds_of(variants, number, 3 if quick else 7)
    base = per_call["bare call"]
    minimal_overhead = per_call["minimal try/finally + ContextVar"] - base
    rows = []
    for name in variants_funcs:
        if name == "bare call":
            rows.append(Row("handler overhead", name, base * 1e9, "ns/call", None))
            continue
        overhead = per_call[name] - base
        target = ""
        if name == "lambdascope @handler(guard='off')":
            target = goal("≤ 1.5x minimal", overhead <= 1.5 * minimal_overhead)
        rows.append(
            Row(
                "handler overhead",
                name,
                overhead * 1e9,
                "ns added",
                overhead / minimal_overhead,
                target,
            )
        )
    return rows


# -- 2. warm resource access ---------------------------------------------------------------


def warm_access(quick: bool) -> list[Row]:
    import boto3
    from aws_lambda_powertools.utilities.parameters import get_parameter
    from moto import mock_aws

    import lambdascope

    @functools.cache
    def cached() -> object:
        return object()

    resource = lambdascope.init_resource(object)
    cached()
    resource()
    number = 20_000 if quick else 200_000
    with mock_aws():
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/bench/param", Value="v", Type="String"
        )
        get_parameter("/bench/param", max_age=3600)  # warm the cache
        variants = {
            "functools.cache": looped(cached, number),
            "lambdascope init_resource()": looped(resource, number),
            "Powertools get_parameter (warm cache)": looped(
                functools.partial(get_parameter, "/bench/param", max_age=3600), number // 10
            ),
        }
        per = rounds_of(variants, 1, 3 if quick else 7)
    per = {k: v / (number // 10 if k.startswith("Powertools") else number) for k, v in per.items()}
    base = per["functools.cache"]
    ratio = per["lambdascope init_resource()"] / base
    return [
        Row("warm access", "functools.cache", base * 1e9, "ns/call", 1.0),
        Row(
            "warm access",
            "lambdascope init_resource()",
            per["lambdascope init_resource()"] * 1e9,
            "ns/call",
            ratio,
            goal("≤ 2x functools.cache", ratio <= 2),
        ),
        Row(
            "warm access",
            "Powertools get_parameter (warm cache)",
            per["Powertools get_parameter (warm cache)"] * 1e9,
            "ns/call",
            per["Powertools get_parameter (warm cache)"] / base,
        ),
    ]


# -- 2b. cached JSON values: a fresh copy per access ------------------------------------------


SECRET = {
    "username": "orders_app",
    "password": "not-a-real-password",
    "engine": "postgres",
    "host": "orders.cluster-abc.eu-west-1.rds.amazonaws.com",
    "port": 5432,
    "dbname": "orders",
    "replicas": ["orders-ro-1", "orders-ro-2"],
}


def cached_values(quick: bool) -> list[Row]:
    """What handing every access its own copy of a cached JSON secret costs (docs/aws.md)."""
    import copy
    import json
    import types

    import boto3
    from moto import mock_aws

    from lambdascope import aws as lsaws

    text = json.dumps(SECRET)
    shared = json.loads(text)
    number = 20_000 if quick else 200_000
    section = "cached JSON value (7-key secret), per access"
    kept = {
        "return the cached dict (shared; before)": looped(lambda: shared, number),
        "json.loads of the cached text (lambdascope)": looped(
            functools.partial(json.loads, text), number
        ),
        "copy.deepcopy of the cached dict": looped(
            functools.partial(copy.deepcopy, shared), number
        ),
        "types.MappingProxyType (shallow, not JSON-serialisable)": looped(
            functools.partial(types.MappingProxyType, shared), number
        ),
    }
    per = {k: v / number for k, v in rounds_of(kept, 1, 3 if quick else 7).items()}
    base = per["return the cached dict (shared; before)"]
    rows = [Row(section, name, value * 1e9, "ns/call", value / base) for name, value in per.items()]
    with mock_aws():
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="bench/db", SecretString=text
        )
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/bench/table", Value="orders", Type="String"
        )
        lsaws.get_secret("bench/db", transform="json", max_age=3600)  # warm the caches
        lsaws.get_parameter("/bench/table", max_age=3600)
        calls = {
            "get_parameter(), a string (warm)": functools.partial(
                lsaws.get_parameter, "/bench/table", max_age=3600
            ),
            "get_secret(transform='json'), a fresh dict (warm)": functools.partial(
                lsaws.get_secret, "bench/db", transform="json", max_age=3600
            ),
        }
        warm = rounds_of(
            {k: looped(f, number // 10) for k, f in calls.items()}, 1, 3 if quick else 7
        )
    warm = {k: v / (number // 10) for k, v in warm.items()}
    string = warm["get_parameter(), a string (warm)"]
    for name, value in warm.items():
        rows.append(Row("lambdascope.aws warm reads", name, value * 1e9, "ns/call", value / string))
    lsaws.clear_caches()
    return rows


# -- 3. import cost on top of the runtime client ---------------------------------------------


def import_cost(quick: bool) -> list[Row]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "lambdascope")], check=True, env=env
    )
    targets = {
        "typing (reference)": "import typing",
        "lambdascope": "import lambdascope",
        "Powertools middleware_factory": "import aws_lambda_powertools.middleware_factory",
        "Powertools Logger": "from aws_lambda_powertools import Logger",
    }
    probe = (
        "import time, awslambdaric.bootstrap\n"
        "t = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)"
    )
    for stmt in targets.values():  # warm the file cache and compile bytecode once
        subprocess.run(
            [sys.executable, "-c", probe.format(stmt=stmt)],
            env=env,
            check=True,
            capture_output=True,
        )
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(3 if quick else 15):
        for name, stmt in targets.items():
            out = subprocess.run(
                [sys.executable, "-c", probe.format(stmt=stmt)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
            samples[name].append(float(out))
    ms = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    base = ms["Powertools middleware_factory"]
    rows = []
    for name, value in ms.items():
        target = ""
        if name == "lambdascope":
            target = goal("≤ 10 % of middleware_factory", value <= 0.1 * base)
        rows.append(
            Row("import on top of awslambdaric.bootstrap", name, value, "ms", value / base, target)
        )
    return rows


# -- 4. memory -----------------------------------------------------------------------------


def memory_growth(quick: bool) -> list[Row]:
    import lambdascope
    from lambdascope import request

    @lambdascope.handler(guard="off")
    def lambda_handler(event: dict[str, Any], context: Any) -> int:
        request.user = event["user"]
        request.items = [1, 2, 3]
        return request.invocation

    os.environ["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    event = {"user": "alice"}
    for _ in range(1000):
        lambda_handler(event, None)
    count = 10_000 if quick else 100_000
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(count):
        lambda_handler(event, None)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    kib = max(growth, 0) / 1024
    return [
        Row(
            "memory",
            f"growth over {count:,} invocations (tracemalloc)",
            kib,
            "KiB",
            kib / 64,
            goal("≤ 64 KiB", kib <= 64),
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke test)")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "latest.md", help="Markdown file to write"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    rows: list[Row] = []
    from benchmarks.bench_guard import guard_rows
    from benchmarks.bench_logging import logging_rows
    from benchmarks.bench_project import project_rows
    from benchmarks.bench_redirect import redirect_rows
    from benchmarks.bench_tmp import tmp_rows

    for bench in (
        handler_overhead,
        guard_rows,
        project_rows,
        tmp_rows,
        warm_access,
        cached_values,
        import_cost,
        memory_growth,
        logging_rows,
        redirect_rows,
    ):
        rows += bench(args.quick)
    text = render(rows, args.quick)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
