"""What every benchmark shares: the result row and the interleaved, median-of-rounds timer."""

from __future__ import annotations

import contextvars
import datetime
import os
import platform
import statistics
import timeit
from typing import Any, Callable


class Row:
    """One line of the results table."""

    def __init__(  # noqa: PLR0917 - a plain record
        self, section: str, name: str, value: float, unit: str, ratio: float | None, goal: str = ""
    ) -> None:
        self.section, self.name, self.value, self.unit = section, name, value, unit
        self.ratio, self.goal = ratio, goal


def goal(text: str, met: bool) -> str:
    """``"<text>: met"`` or ``"<text>: MISSED"`` (the tests count these)."""
    return f"{text}: {'met' if met else 'MISSED'}"


def rounds_of(
    variants: dict[str, Callable[[], None]], number: int, rounds: int
) -> dict[str, float]:
    """Seconds per call of each variant: median over rounds of the best of 3 repeats.

    Variants are interleaved round by round, so a noisy neighbour slows all of them alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, func in variants.items():
            samples[name].append(min(timeit.repeat(func, number=1, repeat=3)) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def looped(call: Callable[[], object], number: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(number):
            call()

    return run


def floor(func: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """The least a request scope can cost: ``try/finally`` + ``ContextVar.set/reset``."""
    var: contextvars.ContextVar[object] = contextvars.ContextVar("floor")

    def wrapper(event: Any, context: Any = None) -> Any:
        token = var.set(event)
        try:
            return func(event, context)
        finally:
            var.reset(token)

    return wrapper


def render(rows: list[Row], quick: bool) -> str:
    lines = [
        "# lambdascope benchmarks",
        "",
        f"{datetime.date.today().isoformat()} · Python {platform.python_version()} · "
        f"{platform.machine()} · {os.cpu_count()} cores{' · QUICK MODE' if quick else ''}",
        "",
    ]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines += [
                "",
                f"## {section}",
                "",
                "| variant | value | ratio | goal |",
                "|---|---:|---:|---|",
            ]
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        lines.append(f"| {row.name} | {row.value:,.1f} {row.unit} | {ratio} | {row.goal} |")
    lines += [
        "",
        "Ratios: handler overhead is relative to the minimal wrapper's overhead; the guard's rows "
        "to the floor wrapper, the 1,000-entry table, or their goal; the 30-module project's to "
        "the single-module guard part, the small-table project or their goal; request.tmpdir's "
        "to the wrapper without it and to `os.mkdir` + `os.rmdir`, the /tmp watch's to one "
        "`os.stat` (the scan's to the `os.stat` + `os.statvfs` calls it makes), its start to "
        "`import ctypes`; warm access to "
        "`functools.cache`; import time to Powertools `middleware_factory`; memory to the 64 KiB "
        "budget; the log context and deadline rows to `@handler(guard='off')`, a log call without "
        "the filter, or `get_remaining_time_in_millis()`; the handler redirect's to importing and "
        "calling a handler decorated with `@handler`.",
    ]
    return "\n".join(lines) + "\n"
