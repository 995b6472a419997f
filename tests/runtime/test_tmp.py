"""request.tmpdir and init_tmpdir, with real files, threads, asyncio and fork.

The /tmp watch is tested in test_tmp_watch.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lambdascope
from lambdascope import (
    OutsideInvocationError,
    handler,
    init_tmpdir,
    request,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp dir of the test's own: what tempfile.gettempdir() returns during the test."""
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    monkeypatch.delenv("LAMBDASCOPE_WATCH_TMP", raising=False)
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_MAX_CONCURRENCY", raising=False)
    return private


def roots(tmp: Path) -> list[Path]:
    return [p for p in tmp.iterdir() if p.name.startswith("lambdascope-")]


# -- request.tmpdir ----------------------------------------------------------------------------


def test_tmpdir_is_private_per_invocation_and_removed_when_it_ends(tmp: Path) -> None:
    seen: list[tuple[Path, int, bool]] = []

    @handler
    def lambda_handler(event: Any, context: Any) -> str:
        path = request.tmpdir
        assert request.tmpdir == path  # the same directory all through the invocation
        (path / "out.csv").write_text(event["rows"])
        seen.append((path, stat.S_IMODE(path.stat().st_mode), path.is_dir()))
        return (path / "out.csv").read_text()

    assert lambda_handler({"rows": "a,b"}, None) == "a,b"
    assert lambda_handler({"rows": "c,d"}, None) == "c,d"
    (first, mode, existed), (second, _, _) = seen
    assert existed
    assert mode == 0o700
    assert first != second
    assert isinstance(first, Path)
    assert first.is_relative_to(tmp)
    assert not first.exists()
    assert not second.exists()


def test_tmpdir_is_removed_after_an_exception(tmp: Path) -> None:
    made: list[Path] = []

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        made.append(request.tmpdir)
        (request.tmpdir / "partial").write_bytes(b"x" * 1000)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        lambda_handler({}, None)
    assert not made[0].exists()


def test_tmpdir_is_removed_when_an_async_handler_is_cancelled(tmp: Path) -> None:
    made: list[Path] = []

    @handler
    async def lambda_handler(event: Any, context: Any) -> None:
        made.append(request.tmpdir)
        (request.tmpdir / "download.part").write_bytes(b"x" * 100)
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_later(0.01, task.cancel)
        await asyncio.sleep(10)

    with pytest.raises(asyncio.CancelledError):
        lambda_handler({}, None)
    assert not made[0].exists()


def test_threads_of_one_invocation_share_one_tmpdir(tmp: Path) -> None:
    barrier = threading.Barrier(8)

    def worker(results: list[Path]) -> None:
        barrier.wait()
        path = request.tmpdir  # first use from eight threads at once
        (path / f"{threading.get_ident()}").write_text("x")
        results.append(path)

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        results: list[Path] = []
        threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(worker, results))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(results)) == 1
        return len(list(results[0].iterdir()))

    assert lambda_handler({}, None) == 8
    assert all(not any(root.glob("r*")) for root in roots(tmp))


def test_removal_survives_read_only_files_symlinks_and_open_files(tmp: Path) -> None:
    outside = tmp.parent / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    made: list[Path] = []
    handles: list[Any] = []

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        path = request.tmpdir
        made.append(path)
        locked = path / "locked"
        locked.mkdir()
        (locked / "ro.txt").write_text("read-only")
        (locked / "ro.txt").chmod(0o400)
        locked.chmod(0o500)  # a read-only directory: its files cannot be unlinked as is
        (path / "link").symlink_to(outside, target_is_directory=True)
        (path / "dangling").symlink_to(path / "nowhere")
        handle = (path / "open.log").open("w")
        handle.write("still open")
        handles.append(handle)  # a thread or a library may keep a file open

    lambda_handler({}, None)
    assert not made[0].exists()
    handles[0].write("the open file still works; it has no name any more")
    handles[0].close()
    assert (outside / "keep.txt").read_text() == "keep"  # the symlink was not followed


def test_an_invocation_that_never_uses_tmpdir_creates_nothing(tmp: Path) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        return request.invocation

    assert [lambda_handler({}, None) for _ in range(3)] == [1, 2, 3]
    assert list(tmp.iterdir()) == []


def test_tmpdir_outside_an_invocation_and_read_only() -> None:
    with pytest.raises(OutsideInvocationError, match=r"request\.tmpdir"):
        request.tmpdir

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        request.tmpdir = Path("/elsewhere")

    with pytest.raises(AttributeError, match="read-only"):
        lambda_handler({}, None)


# -- init_tmpdir -------------------------------------------------------------------------------


def test_init_tmpdir_persists_across_invocations_and_is_not_reported(tmp: Path) -> None:
    @lambdascope.init_resource
    def model() -> Path:
        path = init_tmpdir("models") / "model.bin"
        path.write_bytes(b"w" * 4096)  # downloaded once, during the first invocation
        return path

    @handler
    def lambda_handler(event: Any, context: Any) -> int:
        return len(model().read_bytes())

    assert lambda_handler({}, None) == 4096
    assert lambda_handler({}, None) == 4096
    path = model()
    assert path.exists()
    assert path.parent == init_tmpdir("models")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.is_relative_to(tmp)


def test_init_tmpdir_rejects_names_that_are_not_one_directory() -> None:
    with pytest.raises(TypeError, match="init_tmpdir\\('models'\\)"):
        init_tmpdir(Path("models"))  # type: ignore[arg-type]
    for bad in ("", ".", "..", "a/b"):
        with pytest.raises(ValueError, match="one directory name"):
            init_tmpdir(bad)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# Python 3.12+ warns about fork() in a multi-threaded process; this test forks on purpose.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_forked_worker_gets_its_own_directories(tmp: Path) -> None:
    parent = init_tmpdir("cache")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, str(init_tmpdir("cache")).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = Path(os.read(read, 4096).decode())
    os.close(read)
    os.waitpid(pid, 0)
    assert child != parent
    assert child.parent.parent.name == f"lambdascope-{pid}-{child.parent.parent.name[-8:]}"
    # the child has exited: the next process's directory sweeps it, never a live one's
    (tmp / f"lambdascope-{os.getpid()}-00000000").mkdir()
    lambdascope._tmp._root = None
    fresh = init_tmpdir("cache")
    assert not child.exists()
    assert not (tmp / f"lambdascope-{os.getpid()}-00000000").exists()
    assert fresh.exists()


# -- the property ------------------------------------------------------------------------------

NAMES = st.text(alphabet="abcdefgh._-", min_size=1, max_size=8).filter(
    lambda n: n not in (".", "..")
)
TREE: st.SearchStrategy[Any] = st.deferred(
    lambda: st.one_of(st.binary(max_size=300), st.dictionaries(NAMES, TREE, max_size=3))
)


def _write(path: Path, tree: Any, lock: bool) -> None:
    if isinstance(tree, bytes):
        path.write_bytes(tree)
        if lock:
            path.chmod(0o400)
        return
    path.mkdir()
    for name, child in tree.items():
        _write(path / name, child, lock)
    if lock:
        path.chmod(0o500)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=st.dictionaries(NAMES, TREE, max_size=5), lock=st.booleans(), fail=st.booleans())
def test_whatever_is_written_in_tmpdir_never_survives(
    tmp: Path, tree: dict[str, Any], lock: bool, fail: bool
) -> None:
    made: list[Path] = []

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        made.append(request.tmpdir)
        for name, child in tree.items():
            _write(request.tmpdir / name, child, lock)
        if fail:
            raise RuntimeError("failed after writing")

    try:
        lambda_handler({}, None)
    except RuntimeError:
        assert fail
    assert not made[0].exists()
    for root in roots(tmp):
        assert [p.name for p in root.iterdir() if p.name != "init"] == []
