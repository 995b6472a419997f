from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import textwrap
from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope.testing import new_environment

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# A temp dir of this test session's own (subprocesses inherit it through TMPDIR), declared
# private: the /tmp watch of @handler sees this session's files only, not those other
# programs on the machine write to /tmp, so it fails an invocation there as it would on Lambda.
_SESSION_TMP = tempfile.mkdtemp(prefix="lambdascope-tests-")
tempfile.tempdir = _SESSION_TMP
os.environ["TMPDIR"] = _SESSION_TMP
os.environ["LAMBDASCOPE_PRIVATE_TMPDIR"] = _SESSION_TMP
atexit.register(shutil.rmtree, _SESSION_TMP, ignore_errors=True)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region for moto: tests never touch real AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class _GuardErrors(logging.Handler):
    """Collects the guard's internal-error lines: in production they let the invocation
    through (logged); in this suite they are bugs and fail the test that met them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "lambdascope guard: internal error" in record.getMessage():
            self.lines.append(record.getMessage())


@pytest.fixture(autouse=True)
def _fresh_environment(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Every test starts in a new execution environment: nothing created, nothing invoked;
    an internal error of the guard fails the test (unless it is marked as expecting one)."""
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    new_environment()
    errors = _GuardErrors()
    logger = logging.getLogger("lambdascope")
    logger.addHandler(errors)
    try:
        yield
    finally:
        logger.removeHandler(errors)
    lambdascope.configure()
    new_environment()
    if errors.lines and request.node.get_closest_marker("guard_internal_error") is None:
        pytest.fail("the guard met an internal error:\n" + "\n".join(errors.lines))


class HandlerDir:
    """A temporary folder of handler modules, first on ``sys.path`` and the working directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, name: str, source: str) -> Path:
        """Write ``name.py`` with *source* (dedented) and return its path."""
        target = self.path / f"{name}.py"
        target.write_text(textwrap.dedent(source), encoding="utf-8")
        return target


@pytest.fixture
def handler_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HandlerDir]:
    """A folder for handler modules written by the test, importable by name.

    ``sys.path``, the imported modules, the working directory and the Lambda
    environment variables are restored afterwards, so handler modules do not
    leak between tests.
    """
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_environ = dict(os.environ)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield HandlerDir(tmp_path)
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:  # only the test's own modules
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]
    os.environ.clear()
    os.environ.update(saved_environ)
