"""Fixtures of the whole-project guard tests (issue 20); the helpers are in project_support."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
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
