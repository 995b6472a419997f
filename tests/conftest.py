from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope import _lifecycle, _resources

if TYPE_CHECKING:
    from collections.abc import Iterator


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
