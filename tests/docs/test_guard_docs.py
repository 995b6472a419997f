"""Every Python example on docs/guard.md runs and its assertions hold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import lambdascope
from lambdascope import _lifecycle

if TYPE_CHECKING:
    import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guard.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_guard_page_examples_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    blocks = BLOCK.findall(PAGE.read_text())
    assert len(blocks) >= 4
    for number, source in enumerate(blocks, start=1):
        _lifecycle.state.reset()
        lambdascope.reset_resources()
        namespace: dict[str, object] = {"__name__": f"docs_guard_{number}"}
        exec(compile(source, f"guard.md[{number}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "list `files` was modified in place (1 item(s) added" in out
    assert "@handler(allow=('files',))" in out
