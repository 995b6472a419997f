"""Connection reuse, counted on real sockets: warm invocations with lambdascope.aws.client open one
TCP connection; a handler that builds its client per invocation opens one per invocation.

moto's HTTP server (werkzeug) closes every connection after each response, so a small HTTP/1.1
keep-alive front stands in front of it, as a load balancer would: it counts the TCP connections
clients open to it and forwards each request to moto.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambdascope import aws as lsaws
from lambdascope import handler

if TYPE_CHECKING:
    from collections.abc import Iterator

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class KeepAliveFront(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.connections = 0
        self.requests = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Forward)


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep connections open between requests
    server: KeepAliveFront

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _forward(self) -> None:
        with self.server.lock:
            self.server.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() not in {"server", "date"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward


@pytest.fixture
def endpoint(aws_credentials: None) -> Iterator[KeepAliveFront]:
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    front = KeepAliveFront(moto.get_host_and_port())
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    try:
        yield front
    finally:
        front.shutdown()
        front.server_close()
        moto.stop()


INVOCATIONS = 6


def test_warm_invocations_reuse_one_connection(endpoint: KeepAliveFront) -> None:
    url = f"http://127.0.0.1:{endpoint.server_address[1]}"

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> int:
        return len(lsaws.client("s3", endpoint_url=url).list_buckets()["Buckets"])

    for _ in range(INVOCATIONS):
        assert lambda_handler({}) == 0
    assert endpoint.requests == INVOCATIONS
    assert endpoint.connections == 1


def test_a_client_per_invocation_opens_a_connection_per_invocation(
    endpoint: KeepAliveFront,
) -> None:
    url = f"http://127.0.0.1:{endpoint.server_address[1]}"
    clients: list[Any] = []  # kept alive, so no connection is closed and reused by chance

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> int:
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        clients.append(s3)
        return len(s3.list_buckets()["Buckets"])

    def invocations() -> None:
        for _ in range(INVOCATIONS):
            lambda_handler({})

    with pytest.warns(lsaws.ClientInInvocationWarning):
        invocations()
    assert endpoint.requests == INVOCATIONS
    assert endpoint.connections == INVOCATIONS
