"""The S3 prefix check, written with lambdascope.

Lambda should answer ``True`` only when the bucket holds one object for *each*
prefix. The original kept ``files = []`` at module level, so warm invocations
saw the keys of earlier ones and answered ``True`` "only sometimes". Here the
per-invocation list lives on ``request`` (gone when the invocation ends) and
the S3 client is an init resource (created once per environment, not on every
invocation).
"""

from __future__ import annotations

import os
from typing import Any

import boto3

from lambdascope import handler, init_resource, request

PREFIXES = ("invoice_", "receipt_")  # a tuple: module-level constants stay immutable


@init_resource
def s3() -> Any:
    """One S3 client per execution environment."""
    return boto3.client("s3", region_name=os.environ.get("AWS_REGION", "us-east-1"))


def collect(bucket: str) -> None:
    """Append the keys that match a prefix to this invocation's list."""
    listing = s3().list_objects_v2(Bucket=bucket)
    for obj in listing.get("Contents", []):
        if obj["Key"].startswith(PREFIXES):
            request.files.append(obj["Key"])


@handler
def lambda_handler(event: dict[str, Any], context: Any) -> bool:
    request.files = []
    collect(event.get("bucket") or os.environ.get("BUCKET", "incoming"))
    found = {prefix for prefix in PREFIXES for key in request.files if key.startswith(prefix)}
    return len(found) == len(PREFIXES)
