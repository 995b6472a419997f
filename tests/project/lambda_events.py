"""Events as API Gateway and Lambda function URLs send them (field for field, as in AWS's
documentation of the proxy integration payloads 1.0 and 2.0)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

ACCOUNT = "123456789012"
SOURCE_IP = "203.0.113.7"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) shop-client/2.3"


def _body(body: Any) -> str | None:
    if body is None or isinstance(body, str):
        return body
    return json.dumps(body)


def _headers(headers: dict[str, str] | None, body: Any, host: str) -> dict[str, str]:
    merged = {
        "accept": "application/json",
        "host": host,
        "user-agent": USER_AGENT,
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        merged["content-type"] = "application/json"
    merged.update(headers or {})
    return merged


def rest_v1(
    method: str,
    path: str,
    *,
    body: Any = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str = SOURCE_IP,
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload format 1.0)."""
    host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
    request_id = str(uuid.uuid4())
    merged = _headers(headers, body, host)
    merged["X-Amzn-Trace-Id"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": merged,
        "multiValueHeaders": {name: [value] for name, value in merged.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in query.items()} if query else None
        ),
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "a1b2c3d4e5",
            "domainName": host,
            "domainPrefix": "a1b2c3d4e5",
            "extendedRequestId": request_id[:16],
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoIdentityId": None,
                "sourceIp": source_ip,
                "user": None,
                "userAgent": USER_AGENT,
                "userArn": None,
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "requestTimeEpoch": int(time.time() * 1000),
            "resourceId": "abc123",
            "resourcePath": resource or path,
            "stage": stage,
        },
        "body": _body(body),
        "isBase64Encoded": False,
    }


def _v2(
    method: str,
    path: str,
    *,
    host: str,
    api_id: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str = SOURCE_IP,
    route_key: str = "$default",
) -> dict[str, Any]:
    raw_query = "&".join(f"{name}={value}" for name, value in (query or {}).items())
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "cookies": ["session=s-42"],
        "headers": _headers(headers, body, host),
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": USER_AGENT,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": _body(body),
        "isBase64Encoded": False,
    }


def http_v2(method: str, path: str, **request: Any) -> dict[str, Any]:
    """An API Gateway HTTP API event (payload format 2.0) through a `$default` route;
    *request*: ``body``, ``query``, ``headers``, ``source_ip``."""
    api_id = "f6g7h8i9j0"
    host = f"{api_id}.execute-api.eu-west-1.amazonaws.com"
    return _v2(method, path, host=host, api_id=api_id, **request)


def function_url(method: str, path: str, **request: Any) -> dict[str, Any]:
    """A Lambda function URL event (payload format 2.0, auth type NONE); *request* as for
    :func:`http_v2`."""
    url_id = "k2l3m4n5o6p7q8r9s0t1u2v3w4x5y6z7"
    host = f"{url_id}.lambda-url.eu-west-1.on.aws"
    return _v2(method, path, host=host, api_id=url_id, **request)
