"""Every Python example in the core docs pages runs and its assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import lambdascope
from lambdascope import _lifecycle

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = [
    "index.md",
    "init_resource.md",
    "request.md",
    "handler.md",
    "lifecycle.md",
    "aws.md",
    "testing.md",
    "managed-instances.md",
]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("page", PAGES)
def test_examples_run(page: str, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = BLOCK.findall((DOCS / page).read_text())
    assert blocks, f"{page} has no Python example"
    for number, source in enumerate(blocks, start=1):
        # each example starts in a new execution environment
        _lifecycle.state.reset()
        lambdascope.reset_resources()
        namespace: dict[str, object] = {"__name__": f"docs_{page[:-3]}_{number}"}
        exec(compile(source, f"{page}[{number}]", "exec"), namespace)
