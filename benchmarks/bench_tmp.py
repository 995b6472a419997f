"""What ``request.tmpdir`` and the /tmp watch cost per invocation.

Run: ``python -m benchmarks.bench_tmp`` (or the whole suite: ``python3 tasks.py bench``).

Every figure is a ratio against a baseline measured in the same run, in a temp dir of
the benchmark's own (``tempfile.tempdir``), so other programs writing to ``/tmp`` do not
trip the watch:

- unused: a ``@handler(guard='off')`` whose code can use ``request.tmpdir`` but does not
  for this event, against the same wrapper around a handler without that code;
- used: creating and removing an empty ``request.tmpdir``, against ``os.mkdir`` +
  ``os.rmdir`` of a directory (the file system's own cost, large on some machines);
- the watch when the invocation leaves nothing: ``@handler()`` minus
  ``@handler(watch_tmp=False)``, against the system calls it is built on (``os.stat``
  and ``os.statvfs`` of the temp dir, before and after),
  with 10 and with 10,000 files at the top level of the temp dir;
- the watch when it finds a file left among 10,000: one listing of the top level.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._timing import Row, goal, looped, rounds_of

SECTION = "request.tmpdir and the /tmp watch, per invocation"


def _fill(folder: Path, count: int) -> None:
    for n in range(count):
        (folder / f"file-{n:05d}.dat").write_bytes(b"x" * 16)


def _plain(event: Any, context: Any) -> Any:
    return event


EVENT = {"id": 1}


def _unused(number: int, rounds: int) -> Row:
    from lambdascope import handler, request

    def maybe(event: Any, context: Any) -> Any:
        if event.get("files"):
            return request.tmpdir
        return event

    off, unused = handler(guard="off")(_plain), handler(guard="off")(maybe)
    variants = {
        "off": looped(functools.partial(off, EVENT, None), number),
        "unused": looped(functools.partial(unused, EVENT, None), number),
    }
    per = rounds_of(variants, number, rounds)
    ratio = per["unused"] / per["off"]
    return Row(
        SECTION,
        "request.tmpdir unused, @handler(guard='off'), vs the same without it",
        per["unused"] * 1e9,
        "ns/call",
        ratio,
        goal("≤ 1.2x (the same code path: the rest is noise)", ratio <= 1.2),
    )


def _used(folder: Path, number: int, rounds: int) -> Row:
    from lambdascope import handler, request

    def used(event: Any, context: Any) -> Any:
        return request.tmpdir

    scratch = str(folder / "scratch")

    def mkdir_rmdir() -> None:
        os.mkdir(scratch, 0o700)
        os.rmdir(scratch)

    variants = {
        "mkdir": looped(mkdir_rmdir, number),
        "tmpdir": looped(functools.partial(handler(guard="off")(used), EVENT, None), number),
        "off": looped(functools.partial(handler(guard="off")(_plain), EVENT, None), number),
    }
    per = rounds_of(variants, number, rounds)
    cost = per["tmpdir"] - per["off"]
    ratio = cost / per["mkdir"]
    return Row(
        SECTION,
        "an empty request.tmpdir created and removed, vs os.mkdir + os.rmdir",
        cost * 1e9,
        "ns added",
        ratio,
        goal("≤ 2x os.mkdir + os.rmdir", ratio <= 2),
    )


def _watch(folder: Path, label: str, number: int, rounds: int) -> Row:
    from lambdascope import handler

    stat = functools.partial(os.stat, str(folder))
    statvfs = functools.partial(os.statvfs, str(folder))

    def its_calls() -> None:  # what the watch asks the kernel when nothing changed
        stat()
        statvfs()
        stat()
        statvfs()

    watched, unwatched = handler(_plain), handler(watch_tmp=False)(_plain)
    watched(EVENT, None)  # the census: the write analysis and the first listing
    unwatched(EVENT, None)
    variants = {
        "calls": looped(its_calls, number),
        "watched": looped(functools.partial(watched, EVENT, None), number),
        "unwatched": looped(functools.partial(unwatched, EVENT, None), number),
    }
    per = rounds_of(variants, number, rounds)
    cost = max(per["watched"] - per["unwatched"], 0.0)
    ratio = cost / per["calls"]
    return Row(
        SECTION,
        f"the watch, nothing left, {label} files in the temp dir, vs its 4 system calls",
        cost * 1e9,
        "ns added",
        ratio,
        goal("≤ 2x 2 os.stat + 2 os.statvfs", ratio <= 2),
    )


def _leak(folder: Path, label: str, rounds: int) -> Row:
    import warnings

    from lambdascope import handler

    leftover = folder / "left.bin"

    def leaves(event: Any, context: Any) -> Any:
        leftover.write_bytes(b"y")
        return event

    leaky = handler(guard="warn")(leaves)

    def one_leak() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            leaky(EVENT, None)
        leftover.unlink()

    one_leak()
    per = rounds_of({"leak": looped(one_leak, 20)}, 20, rounds)
    return Row(
        SECTION,
        f"the watch reporting a file left among {label} files (warn mode)",
        per["leak"] * 1e6,
        "µs/call",
        None,
    )


def tmp_rows(quick: bool) -> list[Row]:
    """The rows of this section, each in a temp dir of the benchmark's own."""
    saved = tempfile.tempdir
    number = 2_000 if quick else 20_000
    rounds = 3 if quick else 7
    many = 1_000 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="bench-tmp-") as holder:
        small, large = Path(holder, "small"), Path(holder, "large")
        small.mkdir()
        large.mkdir()
        _fill(small, 10)
        _fill(large, many)
        try:
            tempfile.tempdir = str(small)
            rows = [_unused(number, rounds), _used(small, max(number // 20, 100), rounds)]
            rows.append(_watch(small, "10", number, rounds))
            tempfile.tempdir = str(large)
            rows.append(_watch(large, f"{many:,}", number, rounds))
            rows.append(_leak(large, f"{many:,}", rounds))
        finally:
            tempfile.tempdir = saved
    return rows


if __name__ == "__main__":
    os.environ["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    for row in tmp_rows(quick=False):
        print(f"{row.name}: {row.value:,.1f} {row.unit} {row.ratio or ''} {row.goal}")
