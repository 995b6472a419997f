from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope import _lifecycle, _resources

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region for moto: tests never touch real AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(autouse=True)
def _fresh_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in a new execution environment: nothing created, nothing invoked."""
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    _lifecycle.state.reset()
    lambdascope.reset_resources()
    _resources.clear_records()
    yield
    lambdascope.configure()
    lambdascope.reset_resources()
    _lifecycle.state.reset()
