"""What a memo cache is, said the same way by ``lambdascope check`` and by the run-time guard.

A memo cache is a mapping whose value is a function of its key alone (``PRICES[sku] =
load_price(sku)``), filled when the key is missing. Everything else written into module state
per request is a leak, whatever it looks like: a running total (a read-modify-write of an
entry), request data under a constant key, request data deduplicated then appended, metadata
filled from the request, an entry that grows on every call. On each shape (the modules of
tests/fixtures/projects/cache_shapes/) the checker reports an error at the exact line and the
guard, running the handler through ``@handler``, fails the invocation naming the same variable.
A real cache is not an error for the checker (a warning or a note that names ``allow=``), and
once declared with ``allow=`` neither the checker nor the guard says anything.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lambdascope import ScopeLeakError
from lambdascope.check import check_paths, main

if TYPE_CHECKING:
    from types import ModuleType

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "projects" / "cache_shapes"

# module → (line, code, variable) of every finding; the guard must name the same variables
LEAKS = {
    "running_total.py": [
        (12, "LS102", "totals"),  # totals[c] = totals.get(c, 0) + amount
        (15, "LS102", "orders"),  # orders[c] += 1 (its fill on line 14 is not called a cache)
    ],
    "last_request.py": [(11, "LS102", "last_request")],  # a constant key holding request data
    "seen_tools.py": [
        (10, "LS101", "CALLS"),  # CALLS.setdefault(tool, []).append(tool): the entry grows
        (17, "LS101", "SEEN"),  # if tool not in SEEN: SEEN.append(tool)
    ],
    "forwarder.py": [  # metadata[...] = event[...]; its configuration entry is not a cache
        (13, "LS102", "metadata"),
        (14, "LS102", "metadata"),
        (15, "LS101", "metadata"),
    ],
}
EVENTS = [
    {"customer": "c-1", "amount": 5, "user": "ana", "tool_id": "search", "host": "web-1"},
    {"customer": "c-1", "amount": 5, "user": "bo", "tool_id": "fetch", "host": "web-2"},
]


def load(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import a fixture once, as Lambda's Init would, with the guard on."""
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    name = f"cache_shapes_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def checked(path: Path) -> list[tuple[int, str, str]]:
    return [(f.line, f.code, f.severity) for f in check_paths([str(path)])]


def test_every_shape_has_an_expectation() -> None:
    assert sorted(p.name for p in SHAPES.glob("*.py")) == sorted([*LEAKS, "prices.py"])


@pytest.mark.parametrize(("name", "expected"), LEAKS.items())
def test_state_written_per_request_is_an_error_for_both(
    name: str, expected: list[tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = SHAPES / name
    findings = check_paths([str(path)])
    assert [(f.line, f.code, f.severity) for f in findings] == [
        (line, code, "error") for line, code, _ in expected
    ]
    for finding, (_, _, variable) in zip(findings, expected):
        assert f"`{variable}`" in finding.message
        assert "memo cache," not in finding.message  # never "kept on purpose"
    assert main(["--no-config", str(path)]) == 1
    module = load(path, monkeypatch)
    for event in EVENTS:
        with pytest.raises(ScopeLeakError) as caught:
            module.lambda_handler(event, None)
        assert all(f"`{variable}`" in str(caught.value) for _, _, variable in expected)


def test_a_real_cache_is_no_error_and_once_declared_neither_says_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (SHAPES / "prices.py").read_text()
    assert checked(SHAPES / "prices.py") == [
        (17, "LS109", "info"),  # SETTINGS["currency"]: a constant key, the function's config
        (25, "LS107", "warning"),  # PRICES[sku] = load_price(sku): keyed by the event, unbounded
    ]
    assert main(["--no-config", str(SHAPES / "prices.py")]) == 0
    module = load(SHAPES / "prices.py", monkeypatch)
    with pytest.raises(ScopeLeakError, match="allow="):  # the guard wants it declared
        module.lambda_handler({"sku": "sku-1"}, None)

    declared = tmp_path / "prices.py"
    marked = source.replace("@handler\n", '@handler(allow=("PRICES", "SETTINGS"))\n')
    assert marked != source
    declared.write_text(marked)
    assert checked(declared) == []
    module = load(declared, monkeypatch)
    answers: list[Any] = [module.lambda_handler({"sku": sku}, None) for sku in ("a", "bc", "a")]
    assert [a["price"]["cents"] for a in answers] == [100, 200, 100]
