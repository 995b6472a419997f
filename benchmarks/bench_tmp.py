"""What ``request.tmpdir`` and the /tmp watch cost per invocation.

Run: ``python -m benchmarks.bench_tmp`` (or the whole suite: ``python3 tasks.py bench``).

Every figure is a ratio against a baseline measured in the same run, in a temp dir of
the benchmark's own (``tempfile.tempdir``), so other programs writing to ``/tmp`` do not
trip the watch:

- unused: a ``@handler(guard='off')`` whose code can use ``request.tmpdir`` but does not
  for this event, against the same wrapper around a handler without that code;
- used: creating and removing an empty ``request.tmpdir``, against ``os.mkdir`` +
  ``os.rmdir`` of a directory (the file system's own cost, large on some machines);
- the watch when the invocation leaves nothing (its ``enter`` and ``exit``), against one
  ``os.stat`` of the temp dir: under a runtime
  client (as on Lambda: one ``ioctl`` after the invocation), elsewhere (one before and one
  after), with 10 and with 10,000 files in the temp dir; and without inotify (the scan),
  against the four calls it makes (``os.stat`` and ``os.statvfs``, before and after);
- the default ``@handler`` on a plain handler, and the watch's part of it, against the floor
  wrapper;
- the watch when it finds a file left among 10,000;
- the watch starting (the first invocation: inotify loaded, the temp dir watched), in fresh
  processes, against ``import ctypes`` (which it does not import).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._timing import Row, floor, goal, looped, rounds_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

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


RUNTIME_API = "AWS_LAMBDA_RUNTIME_API"


@contextlib.contextmanager
def _where(where: str) -> Iterator[None]:
    """``lambda``: a runtime client runs the handler (one ``ioctl`` after the invocation);
    ``elsewhere``: tests, scripts (one before and one after); ``scan``: no inotify."""
    from lambdascope._guard import _inotify

    saved_api, saved_unavailable = os.environ.get(RUNTIME_API), _inotify.unavailable
    if where == "lambda":
        os.environ[RUNTIME_API] = "127.0.0.1:9001"
    else:
        os.environ.pop(RUNTIME_API, None)
    if where == "scan":  # as on a system without inotify
        _inotify.unavailable = lambda: "not in this row"
    try:
        yield
    finally:
        _inotify.unavailable = saved_unavailable
        if saved_api is None:
            os.environ.pop(RUNTIME_API, None)
        else:
            os.environ[RUNTIME_API] = saved_api


def _watched_invocation() -> Callable[[], None]:
    """What the watch does around one invocation that leaves nothing: ``enter``, ``exit``."""
    from lambdascope._guard._tmpwatch import TmpWatch

    watch = TmpWatch(_plain, "warn", ())

    def around() -> None:
        watch.enter()
        watch.exit()

    around()  # it starts: inotify loaded, the temp dir watched (or listed, for the scan)
    return around


def _watch(folder: Path, label: str, where: str, number: int, rounds: int) -> Row:
    """The watch's cost when nothing changed, against one ``os.stat`` of the temp dir (the
    scan against the ``stat`` + ``statvfs`` before and after it makes)."""
    stat = functools.partial(os.stat, str(folder))
    statvfs = functools.partial(os.statvfs, str(folder))

    def scan_calls() -> None:
        stat()
        statvfs()
        stat()
        statvfs()

    with _where(where):
        variants = {
            "base": looped(scan_calls if where == "scan" else stat, number),
            "watch": looped(_watched_invocation(), number),
        }
        per = rounds_of(variants, number, rounds)
    ratio = per["watch"] / per["base"]
    if where == "scan":
        name = f"the watch without inotify (the scan), nothing left, {label} files, vs its 4 calls"
        target = goal("≤ 2x 2 os.stat + 2 os.statvfs", ratio <= 2)
    elif where == "lambda":
        name = (
            f"the watch, nothing left, {label} files in the temp dir, under a runtime client "
            "(Lambda: one ioctl), vs one os.stat"
        )
        target = goal("≤ 1.5x one os.stat", ratio <= 1.5)
    else:
        name = (
            f"the watch, nothing left, {label} files in the temp dir, elsewhere (tests: "
            "two ioctls), vs one os.stat"
        )
        target = goal("≤ 2.5x one os.stat", ratio <= 2.5)
    return Row(SECTION, name, per["watch"] * 1e9, "ns/call", ratio, target)


def _share(number: int, rounds: int) -> list[Row]:
    """The default @handler and the watch's part of it, against the floor wrapper (Lambda)."""
    from lambdascope import handler

    with _where("lambda"):
        default = handler(_plain)
        default(EVENT, None)  # the census, and the watch starts
        wrapped = floor(_plain)
        variants = {
            "bare": looped(functools.partial(_plain, EVENT, None), number),
            "floor": looped(functools.partial(wrapped, EVENT, None), number),
            "default": looped(functools.partial(default, EVENT, None), number),
            "watch": looped(_watched_invocation(), number),
        }
        per = rounds_of(variants, number, rounds)
    floor_cost = max(per["floor"] - per["bare"], 1e-9)
    default_cost = per["default"] - per["bare"]
    return [
        Row(
            SECTION,
            "the default @handler (module guard + /tmp watch) on this module's plain handler, "
            "under a runtime client, vs the floor wrapper",
            default_cost * 1e9,
            "ns added",
            default_cost / floor_cost,
        ),
        Row(
            SECTION,
            "the watch's part of it, vs the floor wrapper",
            per["watch"] * 1e9,
            "ns/call",
            per["watch"] / floor_cost,
        ),
    ]


START = """
import os, sys, tempfile, time
import awslambdaric.bootstrap, lambdascope
folder = tempfile.mkdtemp()
for n in range(10):
    open(os.path.join(folder, f"f{n}"), "w").close()
started = time.perf_counter()
if sys.argv[1] == "ctypes":
    import ctypes
else:
    from lambdascope._guard import _inotify
    assert _inotify.unavailable() is None
    assert _inotify.Monitor(lambda name: False).target(folder)
print(time.perf_counter() - started)
"""


def _start(rounds: int) -> Row:
    """The watch starting (first invocation), in fresh processes, against ``import ctypes``."""
    import statistics
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples: dict[str, list[float]] = {"watch": [], "ctypes": []}
    for round_number in range(rounds + 1):  # the first writes the bytecode: not counted
        for what, values in samples.items():
            done = subprocess.run(
                [sys.executable, "-c", START, what],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            if round_number:
                values.append(float(done.stdout))
    ms = {what: statistics.median(values) * 1000 for what, values in samples.items()}
    return Row(
        SECTION,
        "the watch starting (loading inotify, watching a 10-file temp dir), vs import ctypes",
        ms["watch"],
        "ms",
        ms["watch"] / ms["ctypes"],
        goal("≤ 1x import ctypes (not imported)", ms["watch"] <= ms["ctypes"]),
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
        small, scan, large = Path(holder, "small"), Path(holder, "scan"), Path(holder, "large")
        for folder, count in ((small, 10), (scan, 10), (large, many)):
            folder.mkdir()
            _fill(folder, count)
        try:
            tempfile.tempdir = str(small)
            rows = [_unused(number, rounds), _used(small, max(number // 20, 100), rounds)]
            for where in ("lambda", "elsewhere"):
                rows.append(_watch(small, "10", where, number, rounds))
            tempfile.tempdir = str(scan)  # another temp dir: the watch starts again, as a scan
            rows.append(_watch(scan, "10", "scan", number, rounds))
            tempfile.tempdir = str(large)
            rows.append(_watch(large, f"{many:,}", "lambda", number, rounds))
            rows.append(_leak(large, f"{many:,}", rounds))
            tempfile.tempdir = str(small)
            rows.extend(_share(number, rounds))
            rows.append(_start(3 if quick else 11))
        finally:
            tempfile.tempdir = saved
    return rows


if __name__ == "__main__":
    os.environ["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    for row in tmp_rows(quick=False):
        print(f"{row.name}: {row.value:,.1f} {row.unit} {row.ratio or ''} {row.goal}")
