"""Fixtures of the whole-project guard tests (issue 20); the helpers are in project_support."""

from __future__ import annotations

import asyncio
import os
import warnings
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws
from project_support import ProjectMaker

import lambdascope

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProjectMaker]:
    """Write a project into a fresh root and put that root first on ``sys.path``.

    ``make_project("shop", leaks=(...), options="allow=(...)")`` copies ``fixtures/shop``
    and switches on the planted leaks named (``web_common="app"`` also copies the web apps'
    shared modules into package ``app``); ``make_project(files={"app/handler.py": "..."})``
    writes the files given (dedented). A second call in the same test replaces the first
    project (they use the same package names). The guard's defaults apply (no
    ``LAMBDASCOPE_GUARD``), without the cold-start report.
    """
    saved_environ = dict(os.environ)
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    monkeypatch.delenv("LAMBDASCOPE_WATCH_TMP", raising=False)
    lambdascope.configure(cold_start_report=False)
    maker = ProjectMaker(tmp_path)
    yield maker
    maker.forget()
    os.environ.clear()
    os.environ.update(saved_environ)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, moto's DynamoDB with the orders table, the app's settings."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("ORDERS_TABLE_NAME", "orders-test")
    monkeypatch.setenv("ORDERS_REGION", "eu-west-1")
    with mock_aws():
        boto3.client("dynamodb", region_name="eu-west-1").create_table(
            TableName="orders-test",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


@pytest.fixture(autouse=True)
def _close_the_event_loop_an_adapter_left() -> Iterator[None]:
    """``Mangum()`` sets an event loop on the main thread and never closes it (on Lambda the
    process ends instead). Close it after the test: collected later, during another test, it
    would warn about an unclosed loop and its sockets there."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # none set
            loop = None
    if loop is not None and not loop.is_running():
        loop.close()
    asyncio.set_event_loop_policy(None)  # a fresh policy: no loop set, as before the test
