"""The /tmp watch of @handler, with real files, processes and fork.

Most tests run twice: with inotify events (Linux) and with the scan it falls back to where
inotify cannot be used (turned off here as it is on a system without it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import lambdascope
from lambdascope import (
    ScopeLeakError,
    TmpLeakError,
    TmpLeakWarning,
    handler,
    init_tmpdir,
    request,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the watch's events are Linux's")

ENVIRON = (
    "LAMBDASCOPE_WATCH_TMP",
    "LAMBDASCOPE_GUARD",
    "AWS_LAMBDA_MAX_CONCURRENCY",
    "AWS_LAMBDA_RUNTIME_API",
)


def _private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp dir of the test's own, declared the function's own (as on Lambda)."""
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    monkeypatch.setenv("LAMBDASCOPE_PRIVATE_TMPDIR", str(private))
    for name in ENVIRON:
        monkeypatch.delenv(name, raising=False)
    return private


@pytest.fixture(params=["events", "scan"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How the watch sees changes: inotify events, or the scan (no inotify on this system)."""
    if request.param == "scan":
        monkeypatch.setattr(lambdascope._guard._inotify, "unavailable", lambda: "not in this test")
    return str(request.param)


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> Path:
    return _private(tmp_path, monkeypatch)


@pytest.fixture
def events_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temp dir, watched through inotify events."""
    return _private(tmp_path, monkeypatch)


@pytest.fixture
def shared_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp dir that other programs write too (a development machine's /tmp)."""
    shared = _private(tmp_path, monkeypatch)
    monkeypatch.delenv("LAMBDASCOPE_PRIVATE_TMPDIR")
    return shared


# -- what it reports ---------------------------------------------------------------------------


def test_files_left_in_tmp_raise_with_paths_and_bytes(tmp: Path) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        (tmp / "report.csv").write_bytes(b"r" * 1234)
        return "done"

    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({}, None)
    message = str(caught.value)
    assert isinstance(caught.value, ScopeLeakError)
    assert "left 1 file(s), 1,234 bytes" in message
    assert f"{tmp / 'report.csv'} (created, 1,234 bytes)" in message
    assert "request.tmpdir" in message
    assert "tmp_allow=('report.csv',)" in message
    assert "A warning, not an error" not in message
    # reported once: it is part of the next invocation's baseline
    (tmp / "report.csv").unlink()

    @handler
    def clean(event: Any, context: Any) -> str:
        return "ok"

    assert clean({}, None) == "ok"
    assert clean({}, None) == "ok"


def test_grown_files_and_new_directories_are_reported(tmp: Path, backend: str) -> None:
    (tmp / "app.log").write_text("x" * 10)
    (tmp / "cache").mkdir()

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        with (tmp / "app.log").open("a") as log:
            log.write("y" * 9000)  # past its last block: the scan sees it through free blocks
        (tmp / "cache" / "page.html").write_text("p" * 50)
        (tmp / "unpacked" / "deep").mkdir(parents=True)
        for n in range(12):
            (tmp / "unpacked" / "deep" / f"f{n}").write_text("z" * (n + 1))

    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({}, None)
    message = str(caught.value)
    assert "left 14 file(s)" in message
    assert f"{tmp / 'app.log'} (grew by 9,000 bytes)" in message
    # in a directory that was there: the scan cannot tell a new file from a rewritten one
    how = "created" if backend == "events" else "written"
    assert f"{tmp / 'cache' / 'page.html'} ({how}, 50 bytes)" in message
    assert f"{tmp / 'unpacked' / 'deep' / 'f11'} (created, 12 bytes)" in message
    assert "... and 4 more" in message


def test_a_file_growing_in_a_directory_that_was_there_is_reported(tmp: Path, backend: str) -> None:
    """An application log in /tmp/logs, 64 KiB more per request: every request is told."""
    (tmp / "logs").mkdir()
    (tmp / "logs" / "app.log").write_bytes(b"started\n")

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        with (tmp / "logs" / "app.log").open("ab") as log:
            log.write(b"l" * 65_536)
        return request.invocation

    for number in (1, 2, 3):
        with pytest.raises(TmpLeakError) as caught:
            lambda_handler({}, None)
        message = str(caught.value)
        assert "left 1 file(s)" in message, number
        if backend == "events":
            assert f"{tmp / 'logs' / 'app.log'} (grew by 65,536 bytes)" in message
        else:
            size = 8 + 65_536 * number
            assert f"{tmp / 'logs' / 'app.log'} (written, {size:,} bytes)" in message


def test_a_scratch_file_rewritten_in_place_is_reported_on_every_invocation(
    events_tmp: Path,
) -> None:
    """/tmp/work.json, same name, same size, same inode: each request leaves its data in it."""
    scratch = events_tmp / "work.json"

    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        with open(scratch, "w") as out:  # truncated and written again, in place
            out.write(f'{{"order": "{event["order"]:08d}"}}')
        return scratch.read_text()

    reports = []
    for order in range(1, 11):
        with pytest.raises(TmpLeakError) as caught:
            lambda_handler({"order": order}, None)
        reports.append(str(caught.value))
    assert f"{scratch} (created, 21 bytes)" in reports[0]
    for message in reports[1:]:  # the tenth invocation is told what the first was
        assert f"{scratch} (written, 21 bytes)" in message


def test_a_new_file_among_many_is_found_and_old_ones_are_not_stat_again(
    tmp: Path, backend: str
) -> None:
    for n in range(1_500):  # more than one scan stats of what it has seen before
        (tmp / f"old-{n}").write_text("o")

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        for n in range(0, 1_500, 100):
            with (tmp / f"old-{n}").open("a") as old:
                old.write("grown" * 2000)  # takes blocks: the scan looks at old files again
        (tmp / "new.bin").write_bytes(b"n" * 10)

    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({}, None)
    message = str(caught.value)
    assert "(grew by 10,000 bytes)" in message
    if backend == "events":  # every one of them, the new one last (the smallest)
        assert "left 16 file(s), 150,010 bytes" in message
    else:
        assert f"{tmp / 'new.bin'} (created, 10 bytes)" in message


def test_a_directory_moved_into_the_temp_dir_is_reported_with_its_files(tmp: Path) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        built = request.tmpdir / "site"
        (built / "assets").mkdir(parents=True)
        (built / "index.html").write_text("<html>")
        (built / "assets" / "app.js").write_text("run()")
        os.rename(built, tmp / "site")  # out of request.tmpdir: it stays

    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({}, None)
    message = str(caught.value)
    assert "left 2 file(s), 11 bytes" in message
    assert f"{tmp / 'site' / 'index.html'} (created, 6 bytes)" in message
    assert f"{tmp / 'site' / 'assets' / 'app.js'} (created, 5 bytes)" in message


def test_files_removed_again_and_directories_moved_away_are_not_reported(tmp: Path) -> None:
    (tmp / "old").mkdir()
    (tmp / "old" / "data.bin").write_bytes(b"d" * 100)

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        part = tmp / f"download-{request.invocation}.part"
        part.write_bytes(b"p" * 5000)
        part.unlink()
        if request.invocation == 1:
            shutil.rmtree(tmp / "old")
        return request.invocation

    assert [lambda_handler({}, None) for _ in range(3)] == [1, 2, 3]


def test_warn_mode_warns_and_keeps_the_result(tmp: Path) -> None:
    @handler(guard="warn")
    def lambda_handler(event: Any, context: Any) -> int:
        (tmp / f"out-{request.invocation}").write_text("x")
        return request.invocation

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert lambda_handler({}, None) == 1
    assert [w.category for w in caught] == [TmpLeakWarning]
    assert "out-1" in str(caught[0].message)


def test_sanctioned_places_allow_and_changes_between_invocations_are_not_reported(
    tmp: Path,
) -> None:
    (tmp / "inputs").mkdir()

    @handler(tmp_allow=("scratch", "*.lock"))
    def lambda_handler(event: Any, context: Any) -> int:
        (request.tmpdir / "work").write_text("w" * 100)
        (init_tmpdir("models") / "m.bin").write_bytes(b"m" * 100)
        (tmp / "scratch").mkdir(exist_ok=True)
        (tmp / "scratch" / f"{request.invocation}.txt").write_text("s")
        (tmp / "run.lock").write_text("l")
        return request.invocation

    assert lambda_handler({}, None) == 1
    (tmp / "between.txt").write_text("written by a test, outside any invocation")
    (tmp / "inputs" / "event.json").write_text("{}")
    with (tmp / "between.txt").open("a") as more:
        more.write("x" * 9000)
    assert lambda_handler({}, None) == 2
    assert lambda_handler({}, None) == 3


def test_tmp_allow_takes_absolute_paths_under_the_temp_dir_and_patterns(tmp: Path) -> None:
    (tmp / "data").mkdir()

    @handler(tmp_allow=(tmp / "exports", "data/*.part", "/elsewhere/out"))
    def lambda_handler(event: Any, context: Any) -> None:
        (tmp / "exports").mkdir(exist_ok=True)
        (tmp / "exports" / "a.csv").write_text("a")
        (tmp / "data" / "b.part").write_text("b")
        if event.get("more"):  # a new directory: the top level changes, whatever else runs
            (tmp / "data-2").mkdir()
            (tmp / "data-2" / "c.csv").write_text("c")

    lambda_handler({}, None)
    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({"more": True}, None)
    assert "left 1 file(s), 1 bytes" in str(caught.value)
    assert str(tmp / "data-2" / "c.csv") in str(caught.value)


def test_files_written_just_before_an_invocation_are_not_blamed_on_it(tmp: Path) -> None:
    """File times are coarse: what Init writes just before the first invocation shares its tick."""
    (tmp / "models").mkdir()

    def body(event: Any, context: Any) -> None:
        (tmp / f"scratch-{event}").write_text("s")  # allowed, and the scan has a look around

    for n in range(20):  # each a new environment: Init writes a file, then the first request
        (tmp / "models" / f"m{n}.bin").write_bytes(b"m" * 10)
        handler(tmp_allow=("scratch-*",))(body)(n, None)


SEEN: list[int] = []


def test_the_switch_turns_only_the_watch_off(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def body(event: Any, context: Any) -> None:
        (tmp / f"{event}.txt").write_text("x")

    assert handler(watch_tmp=False)(body)("a", None) is None
    assert handler(guard="off", watch_tmp=True)(body)("b", None) is None  # no guard: no watch
    monkeypatch.setenv("LAMBDASCOPE_WATCH_TMP", "off")
    assert handler(body)("c", None) is None

    @handler
    def leaky(event: Any, context: Any) -> None:
        SEEN.append(1)  # the module guard still runs

    with pytest.raises(ScopeLeakError):
        leaky({}, None)
    monkeypatch.setenv("LAMBDASCOPE_WATCH_TMP", "sometimes")
    with pytest.raises(ValueError, match="LAMBDASCOPE_WATCH_TMP='sometimes'"):
        handler(body)
    monkeypatch.delenv("LAMBDASCOPE_WATCH_TMP")
    with pytest.raises(TypeError, match="watch_tmp=False"):
        handler(watch_tmp="no")(body)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="tmp_allow"):
        handler(tmp_allow="cache")(body)
    with pytest.raises(TypeError, match="tmp_allow"):
        handler(tmp_allow=(3,))(body)  # type: ignore[arg-type]


# -- one error for both kinds of leak ------------------------------------------------------------

ORDERS: list[str] = []


def test_module_state_and_a_file_left_in_one_invocation_fail_with_one_error_naming_both(
    tmp: Path,
) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        ORDERS.append(event["order"])  # module state: the next request would see it
        (tmp / "receipt.txt").write_text(event["order"])  # and a file: so would it
        return "done"

    with pytest.raises(ScopeLeakError) as caught:
        lambda_handler({"order": "o-1"}, None)
    error = caught.value
    # One error, the module guard's: `except TmpLeakError` (for files) must not swallow it.
    assert type(error) is ScopeLeakError
    message = str(error)
    assert "wrote to module-level state" in message
    assert "`ORDERS`" in message
    assert "It also left files in the temp dir" in message
    assert f"{tmp / 'receipt.txt'} (created, 3 bytes)" in message
    assert ORDERS == []  # restored, as for a module-state leak alone
    assert error.__context__ is None


def test_with_a_temp_dir_that_is_not_the_functions_own_the_module_leak_raises_and_files_warn(
    shared_tmp: Path,
) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        ORDERS.append(event["order"])
        (shared_tmp / "receipt.txt").write_text(event["order"])
        return "done"

    with pytest.warns(TmpLeakWarning, match="receipt.txt"), pytest.raises(ScopeLeakError) as caught:
        lambda_handler({"order": "o-2"}, None)
    assert type(caught.value) is ScopeLeakError
    assert "temp dir" not in str(caught.value)
    assert ORDERS == []


def test_a_handler_error_stays_the_context_of_the_leak(tmp: Path) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        ORDERS.append("partial")
        (tmp / "partial.bin").write_bytes(b"p")
        raise KeyError("order")

    with pytest.raises(ScopeLeakError) as caught:
        lambda_handler({}, None)
    assert isinstance(caught.value.__context__, KeyError)
    assert "partial.bin" in str(caught.value)


# -- whose files: never another program's --------------------------------------------------------

WRITER = """
import sys
path = sys.argv[1]
sys.stdin.readline()                # wait until the invocation runs
with open(path, "w") as out:
    out.write("another program's log")
print("written", flush=True)
"""


@contextmanager
def another_program(path: Path) -> Iterator[Callable[[], None]]:
    """A process of its own that writes *path* when told to (during an invocation)."""
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdin is not None
        assert writer.stdout is not None
        to_writer, from_writer = writer.stdin, writer.stdout

        def write() -> None:
            to_writer.write("go\n")
            to_writer.flush()
            assert from_writer.readline() == "written\n"

        yield write


def test_a_file_another_program_writes_into_a_shared_temp_dir_is_never_reported(
    shared_tmp: Path,
) -> None:
    """On a developer machine or a CI runner /tmp is everyone's: a file this process did not
    write during the invocation is never blamed on it, not even with a warning (under
    pytest's `filterwarnings = error` that made tests fail at random on shared runners)."""
    path = shared_tmp / "other-program.log"
    writers: list[Callable[[], None]] = []

    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        writers[-1]()
        if event.get("leave"):
            (shared_tmp / "own.txt").write_text("this invocation's")
        return "handled"

    with another_program(path) as write, warnings.catch_warnings():
        writers.append(write)
        warnings.simplefilter("error")  # no warning at all
        assert lambda_handler({}, None) == "handled"
    assert path.exists()
    path.unlink()
    with another_program(path) as write:
        writers.append(write)
        with pytest.warns(TmpLeakWarning) as caught:
            assert lambda_handler({"leave": True}, None) == "handled"
    message = str(caught[0].message)
    assert "left 1 file(s)" in message
    assert f"{shared_tmp}/own.txt (created, 17 bytes)" in message  # its own file only
    assert "other-program.log" not in message
    assert "A warning, not an error" in message
    assert "only the files this process wrote during the invocation are named" in message


def test_under_a_runtime_client_the_tmp_of_the_function_is_its_own(
    shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Lambda (a runtime client, no marker) /tmp belongs to the function: it raises there."""
    assert str(shared_tmp).startswith("/tmp/")  # pytest's temp dirs are under /tmp here
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        if event.get("leave"):
            (shared_tmp / "left.txt").write_text("x")
        return request.invocation

    assert lambda_handler({}, None) == 1
    with pytest.raises(TmpLeakError):
        lambda_handler({"leave": True}, None)
    # the same handler elsewhere (no runtime client): only a warning
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API")
    (shared_tmp / "left.txt").unlink()

    @handler
    def elsewhere(event: Any, context: Any) -> None:
        (shared_tmp / "left.txt").write_text("x")

    with pytest.warns(TmpLeakWarning, match="A warning, not an error"):
        elsewhere({}, None)


def test_under_a_runtime_client_changes_made_before_the_invocation_are_not_blamed(
    events_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the end of an invocation asks the kernel; what changed earlier is told by its time."""
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        if event.get("leave"):
            (events_tmp / "left.txt").write_text("x")
        return request.invocation

    assert lambda_handler({}, None) == 1
    (events_tmp / "extension.log").write_text("an extension wrote this between invocations")
    time.sleep(0.05)  # a few clock ticks: its change time is before the next invocation
    assert lambda_handler({}, None) == 2
    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({"leave": True}, None)
    assert "extension.log" not in str(caught.value)
    assert "left 1 file(s)" in str(caught.value)


def test_managed_instances_report_without_failing(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "4")

    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        (tmp / "shared.bin").write_bytes(b"x")
        return "ok"

    with pytest.warns(TmpLeakWarning, match="shared.bin"):
        assert lambda_handler({}, None) == "ok"


# -- the events, in the corners ----------------------------------------------------------------


def test_a_handler_called_during_another_invocation_sees_its_own_files_only(
    events_tmp: Path,
) -> None:
    @handler
    def inner(event: Any, context: Any) -> str:
        return "inner"

    @handler
    def outer(event: Any, context: Any) -> str:
        (events_tmp / "outer.txt").write_text("outer's")
        return inner({}, None)  # not told about outer.txt: it was written before it began

    with pytest.raises(TmpLeakError) as caught:
        outer({}, None)
    assert f"{events_tmp / 'outer.txt'} (created, 7 bytes)" in str(caught.value)


def test_the_temp_dir_emptied_and_refilled_during_an_invocation_is_looked_at_again(
    events_tmp: Path,
) -> None:
    (events_tmp / "old.txt").write_text("old")

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        if event.get("wipe"):  # the watched directory itself goes: its events stop
            shutil.rmtree(events_tmp)
            events_tmp.mkdir()
            (events_tmp / "again.txt").write_text("again")
        if event.get("leave"):
            (events_tmp / "later.txt").write_text("later")
        return request.invocation

    assert lambda_handler({}, None) == 1
    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({"wipe": True}, None)
    assert f"{events_tmp / 'again.txt'} (created, 5 bytes)" in str(caught.value)
    assert lambda_handler({}, None) == 3  # watched anew
    with pytest.raises(TmpLeakError, match=r"later\.txt"):
        lambda_handler({"leave": True}, None)


def test_more_events_than_the_kernel_queues_are_looked_for_around(events_tmp: Path) -> None:
    """Past the kernel's queue (fs.inotify.max_queued_events) events are lost: it looks around."""
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    for name in ("a.log", "b.log", "quiet.log"):
        (events_tmp / name).write_text("started\n")
    # Looking around, change times tell: these were written before the invocation's clock tick.
    time.sleep(0.05)

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        with (events_tmp / "a.log").open("a") as a, (events_tmp / "b.log").open("a") as b:
            for _ in range(limit // 2 + 10):  # alternating: the kernel cannot merge them
                a.write("a")
                a.flush()
                b.write("b")
                b.flush()
        return request.invocation

    with pytest.raises(TmpLeakError) as caught:
        lambda_handler({}, None)
    message = str(caught.value)
    assert "left 2 file(s)" in message
    assert "a.log (written," in message
    assert "quiet.log" not in message
    with pytest.raises(TmpLeakError, match=r"left 2 file\(s\)"):  # watched afresh
        lambda_handler({}, None)


def test_a_temp_dir_that_is_not_there_fails_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    _private(tmp_path, monkeypatch)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        return request.invocation

    assert [lambda_handler({}, None) for _ in range(2)] == [1, 2]


def test_more_directories_than_it_watches_leave_the_top_level_watched(events_tmp: Path) -> None:
    from lambdascope._guard._inotify import DIRS

    for n in range(DIRS + 10):
        (events_tmp / f"d{n:04d}").mkdir()

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        (events_tmp / "top.txt").write_text("top")

    with pytest.raises(TmpLeakError, match=r"top\.txt"):
        lambda_handler({}, None)


def test_a_guard_that_cannot_start_leaves_the_watch_as_it_was(events_tmp: Path) -> None:
    @handler(modules=("no_such_module_for_the_guard",))
    def broken(event: Any, context: Any) -> None:
        (events_tmp / "never.txt").write_text("x")

    with pytest.raises(ValueError, match="cannot be imported"):
        broken({}, None)

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        (events_tmp / "left.txt").write_text("x")

    with pytest.raises(TmpLeakError, match=r"left\.txt"):
        lambda_handler({}, None)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# Python 3.12+ warns about fork() in a multi-threaded process; this test forks on purpose.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_forked_process_watches_on_its_own_and_takes_nothing_from_its_parent(
    events_tmp: Path,
) -> None:
    @handler
    def child_handler(event: Any, context: Any) -> str:
        return "child"

    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        (events_tmp / "parent.txt").write_text("parent's")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            try:
                status = 0 if child_handler({}, None) == "child" else 1
            except BaseException:
                status = 2
            os._exit(status)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        return "parent"

    with pytest.raises(TmpLeakError, match=r"parent\.txt"):
        lambda_handler({}, None)
