"""The S3 prefix check whose module-level list leaks, run the way Lambda runs it: Init
once, then warm invocations.

An S3 bucket (moto's server, on localhost) holds ``invoice_2026-11.pdf`` but no ``receipt_``
file, so the right answer is ``false`` on every invocation. Each step runs the ``lambdascope``
command a reader would type (``lambdascope invoke`` executes a handler like one execution
environment; ``lambdascope check`` reads handler modules without running them).
Run with ``python3 tasks.py demo``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL = "tests/fixtures/antipatterns/files_leak.py"
CLIENT_PER_CALL = "tests/fixtures/antipatterns/client_per_invocation.py"
FIXED = "examples/s3_prefix_check.py"
EVENT = '{"bucket": "incoming"}'


def lambdascope(env: dict[str, str], *args: str) -> int:
    """Print and run one ``lambdascope`` command from the project root; return its status."""
    print(f"$ lambdascope {' '.join(a if ' ' not in a else repr(a) for a in args)}")
    done = subprocess.run(
        [sys.executable, "-m", "lambdascope", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (done.stdout + done.stderr).replace(str(ROOT) + os.sep, "")
    print("  " + output.rstrip().replace("\n", "\n  "))
    print(f"  (exit status {done.returncode})\n")
    return done.returncode


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log from moto's server
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",  # moto: never real credentials
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",  # every boto3 client goes to moto
            "BUCKET": "incoming",
        }
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="incoming")
        s3.put_object(Bucket="incoming", Key="invoice_2026-11.pdf", Body=b"%PDF")
        print("Bucket 'incoming' holds invoice_2026-11.pdf and no receipt_ file:")
        print("the right answer is false on every invocation.\n")

        print("1. The original handler (module-level `files = []`, a client per call),")
        print("   invoked like one execution environment: Init once, then 4 invocations.\n")
        lambdascope(env, "invoke", ORIGINAL, "--event-json", EVENT, "--times", "4")
        print("-> warm invocations see the keys of earlier ones: wrong 'only sometimes'.\n")

        print("2. The static check reads handler modules without running them: this handler,")
        print("   the DynamoDB client built per call and the examples.\n")
        lambdascope(env, "check", ORIGINAL, CLIENT_PER_CALL, "examples")
        print("-> the leak (LS101) and the clients built per invocation (LS104), by line;")
        print("   the examples, written with lambdascope, are clean.\n")

        print("3. The same check written with lambdascope (request scope, an init resource).\n")
        lambdascope(env, "invoke", FIXED, "--event-json", EVENT, "--times", "4")
        print("-> always right; the S3 client is created once, by the cold start,")
        print("   and the warm invocations reuse it.\n")

        print("4. The original handler, unchanged, run under the guard (@handler).\n")
        lambdascope(
            env, "invoke", ORIGINAL, "--event-json", EVENT, "--times", "1", "--guard", "raise"
        )
        print("-> the bug fails the FIRST invocation (in a plain test run too), and the state")
        print("   it wrote is restored, so nothing crosses into the next invocation.")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
