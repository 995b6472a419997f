"""A smoke-check function written the way public samples write them (a module-level client,
a module-level dict of results filled by each request, a JSON report uploaded to S3), not
decorated with anything: lambdascope reaches it through the redirect only.

The dict is per-request data kept at module level: an optional check one request ran is
still in the next request's report."""

import json
import os

import boto3

print("Loading function")
s3 = boto3.client("s3")
bucket = os.environ.get("REPORT_BUCKET", "reports")
results = {}


def lambda_handler(event, context):
    results["users"] = len(event.get("users", []))
    results["status"] = event.get("status", "ok")
    if "latency_ms" in event:  # an optional check, run by some requests only
        results["latency_ms"] = event["latency_ms"]
    key = f"reports/{context.aws_request_id}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(results, sort_keys=True).encode())
    return {"checks": sorted(results)}
