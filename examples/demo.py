"""The first seed's scenario, invoked cold then warm in one process (one execution environment).

An S3 bucket (moto, in-process) holds ``invoice_2026-11.pdf`` but no ``receipt_`` file, so the
right answer is ``False`` on every invocation. Run with ``python3 tasks.py demo``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")  # moto: never real credentials
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["BUCKET"] = "incoming"

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

import lambdascope  # noqa: E402
from lambdascope import OutsideInvocationError, ScopeLeakError, handler  # noqa: E402

if TYPE_CHECKING:
    from types import ModuleType

INVOCATIONS = 4
EVENT = {"bucket": "incoming"}


def load(path: Path, name: str) -> ModuleType:
    """Import a handler module the way the Lambda runtime does: once (Init)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func()
    return result, (time.perf_counter() - started) * 1000


def main() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="incoming")
        s3.put_object(Bucket="incoming", Key="invoice_2026-11.pdf", Body=b"%PDF")
        print("Bucket 'incoming' holds invoice_2026-11.pdf and no receipt_ file:")
        print("the right answer is False on every invocation.\n")

        print("1. The original handler (module-level `files = []`, client built per call)")
        leaky = load(ROOT / "tests/fixtures/antipatterns/seed_files_leak.py", "seed_leaky")
        for n in range(1, INVOCATIONS + 1):
            result, ms = timed(lambda: leaky.lambda_handler(EVENT, None))
            verdict = "ok" if result is False else "WRONG"
            print(
                f"   invocation {n}: {result!s:5}  {verdict:5}  {ms:6.1f} ms  "
                f"module-level files = {leaky.files}"
            )
        print("   -> warm invocations see the keys of earlier ones: wrong 'only sometimes'.\n")

        print("2. The same check with lambdascope (examples/s3_prefix_check.py)")
        fixed = load(ROOT / "examples/s3_prefix_check.py", "s3_prefix_check")
        print("   (the JSON line is lambdascope's cold-start report, written once per environment)")
        for n in range(1, INVOCATIONS + 1):
            result, ms = timed(lambda: fixed.lambda_handler(EVENT, None))
            verdict = "ok" if result is False else "WRONG"
            phase = "cold" if n == 1 else "warm"
            try:
                leftover: object = lambdascope.request.files
            except OutsideInvocationError:
                leftover = "(scope closed: nothing left over)"
            print(
                f"   invocation {n} [{phase}]: {result!s:5}  {verdict:5}  {ms:6.1f} ms  "
                f"s3 clients created: {fixed.s3.creations}  request.files after: {leftover}"
            )
        print()
        print("   Where the time went (lambdascope.resource_records()):")
        for record in lambdascope.resource_records():
            print(
                f"   - {record.name}: {record.duration * 1000:.1f} ms, "
                f"created in phase {record.phase!r} (invocation {record.invocation})"
            )
        print("   -> one client per environment, a fresh request scope per invocation.")

        print("\n3. The original handler, unchanged, just wrapped with @handler (the guard)")
        leaky.files.clear()
        guarded = handler(leaky.lambda_handler)
        for n in range(1, 2):
            try:
                guarded(EVENT, None)
            except ScopeLeakError as exc:
                message = str(exc).replace(str(ROOT) + os.sep, "").replace("\n", "\n      ")
                print(f"   invocation {n}: ScopeLeakError: {message}")
                print(f"   module-level files after the failed invocation: {leaky.files}")
        print("   -> the bug fails the FIRST invocation (in a plain test run too), and the")
        print("      state it wrote is restored, so nothing crosses into the next invocation.")


if __name__ == "__main__":
    main()
