"""Files in the temp dir: ``request.tmpdir``, :func:`init_tmpdir` and the /tmp watch.

Lambda's ``/tmp`` (512 MB to 10 GB) outlives the invocation like module state does, and
under Lambda Managed Instances every worker process of an environment shares it.

Layout: each process owns one directory at the top level of the temp dir,
``lambdascope-<pid>-<token>`` (mode 0700, created on first use), holding ``init/<name>``
(:func:`init_tmpdir`) and one ``r<invocation>-<n>`` per invocation that used
``request.tmpdir`` (removed when the invocation ends). A directory of a process that no
longer runs (killed at a timeout, say) is removed when the next process creates its own.

The watch over the rest of the temp dir is :mod:`lambdascope._guard._tmpwatch`. It fails an
invocation only in a temp dir that belongs to the function (:func:`is_private`): on Lambda,
and in the private temp dir lambdascope's testing tools give each simulated environment.
"""

from __future__ import annotations

import os
import threading
from contextlib import suppress

from ._config import PRIVATE_TMPDIR, private_tmpdir
from ._scope import CLEANUPS, INVOCATION, current_scope, on_invocation_end

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

__all__ = [
    "PREFIX",
    "PRIVATE_ENV",
    "finish_request_dir",
    "init_tmpdir",
    "is_private",
    "is_process_dir",
    "remove_tree",
    "request_dir",
    "tempdir",
]

PREFIX = "lambdascope-"
#: The environment variable naming a temp dir that belongs to this function alone.
PRIVATE_ENV = PRIVATE_TMPDIR

_lock = threading.Lock()
_request_lock = threading.Lock()
_root: str | None = None
_token = ""
_counter = 0


def _after_fork_in_child() -> None:
    # A forked worker is another process: it gets its own directory, never the parent's.
    global _root, _token, _lock, _request_lock, _counter
    _root, _token, _counter = None, "", 0
    _lock, _request_lock = threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX Python has it
    os.register_at_fork(after_in_child=_after_fork_in_child)


_tempfile: Any = None


def tempdir() -> str:
    """The system temp dir: ``tempfile.gettempdir()`` (``TMPDIR``, else ``/tmp`` on Lambda).

    Read on every watched invocation: ``tempfile.tempdir`` once it is known (50 ns, where
    ``gettempdir()`` takes 280).
    """
    global _tempfile
    if _tempfile is None:
        import tempfile

        _tempfile = tempfile
    known = _tempfile.tempdir
    if type(known) is str:
        return known
    return str(_tempfile.gettempdir())


def is_private(path: str) -> bool:
    """Whether the temp dir *path* belongs to this function's execution environment alone.

    True under (or at) the directory named by ``LAMBDASCOPE_PRIVATE_TMPDIR``, which
    lambdascope's testing tools set for the temp dir they give each simulated environment
    (and a test run can set for a temp dir of its own). Without that variable: true for
    ``/tmp`` where a Lambda runtime client runs the function (``AWS_LAMBDA_RUNTIME_API``
    set: on Lambda, or in a container image under the runtime interface emulator), whose
    ``/tmp`` is the environment's own. Anywhere else (a development machine, a CI runner)
    other programs write to the same temp dir.
    """
    marked = private_tmpdir()
    if marked:
        mine, there = os.path.realpath(marked), os.path.realpath(path)
        return there == mine or there.startswith(mine.rstrip(os.sep) + os.sep)
    if "AWS_LAMBDA_RUNTIME_API" not in os.environ:
        return False
    return path == "/tmp" or path.startswith("/tmp/")


def _process_root() -> str:
    """This process's directory in the temp dir, created (and stale ones swept) on first use.

    Follows the temp dir: when ``tempfile.tempdir`` (or ``TMPDIR`` before its first use)
    names another place, the next directory is made there.
    """
    global _root, _token
    base = tempdir()
    root = _root
    if root is not None and os.path.dirname(root) == base and os.path.isdir(root):
        return root
    with _lock:
        if _root is not None and os.path.dirname(_root) == base and os.path.isdir(_root):
            return _root
        pid = os.getpid()
        while True:
            token = os.urandom(4).hex()
            path = os.path.join(base, f"{PREFIX}{pid}-{token}")
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:  # pragma: no cover - 32 random bits collided
                continue
            break
        os.chmod(path, 0o700)  # exactly 0700, whatever the umask
        _token = token
        _sweep(base, pid, token)
        _root = path
        return path


def is_process_dir(name: str) -> bool:
    """Whether *name* (at the top level of the temp dir) is a lambdascope process directory."""
    return name.startswith(PREFIX) and _owner(name) is not None


def _owner(name: str) -> tuple[int, str] | None:
    """``(pid, token)`` when *name* is a process directory of lambdascope."""
    if not name.startswith(PREFIX):
        return None
    pid, _, token = name[len(PREFIX) :].partition("-")
    if not pid.isdigit() or len(token) != 8 or any(c not in "0123456789abcdef" for c in token):
        return None
    return int(pid), token


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _sweep(base: str, pid: int, token: str) -> None:
    """Remove the directories of processes that ended without removing theirs."""
    try:
        names = os.listdir(base)
    except OSError:  # pragma: no cover - the temp dir vanished
        return
    for name in names:
        owner = _owner(name)
        if owner is None or owner == (pid, token):
            continue
        # The same pid with another token: an earlier process that had our pid (Lambda
        # restarts the runtime after a timeout, often with the same pid).
        if owner[0] == pid or not _alive(owner[0]):
            path = os.path.join(base, name)
            try:  # only our user's real directories: never another user's, never a symlink
                st = os.lstat(path)
            except OSError:
                continue
            if st.st_uid == os.getuid() and os.path.isdir(path) and not os.path.islink(path):
                remove_tree(path)


def remove_tree(path: str) -> None:
    """Remove *path* and everything under it; never follows a symlink, never raises.

    Read-only files and directories are made writable first (only real directories are
    ``chmod``-ed: a symlink inside is removed, not followed). Files still open elsewhere
    are unlinked all the same (POSIX).
    """
    try:
        _remove(path)
    except (OSError, RecursionError):
        import logging

        logging.getLogger("lambdascope").warning("could not remove %s entirely", path)


def _remove(path: str) -> None:
    try:
        if not os.path.isdir(path) or os.path.islink(path):
            os.unlink(path)
            return
        os.chmod(path, 0o700)
        with os.scandir(path) as entries:
            children = list(entries)
    except FileNotFoundError:
        return
    for entry in children:
        if entry.is_dir(follow_symlinks=False):
            _remove(entry.path)
        else:
            with suppress(FileNotFoundError):
                os.unlink(entry.path)
    os.rmdir(path)


# -- request.tmpdir ---------------------------------------------------------------------------


class _RequestDir:
    """The cleanup that removes one invocation's directory; it carries the path."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> None:
        remove_tree(str(self.path))


def _find(scope: list[Any]) -> _RequestDir | None:
    for cleanup in scope[CLEANUPS] or ():
        if type(cleanup) is _RequestDir:
            return cleanup
    return None


def request_dir(scope: list[Any]) -> Path:
    """The private directory of the invocation of *scope*, created on first use."""
    found = _find(scope)
    if found is not None:
        return found.path
    global _counter
    from pathlib import Path

    root = _process_root()
    with _request_lock:  # threads of one invocation share the scope: create it once
        found = _find(scope)
        if found is not None:
            return found.path
        _counter += 1
        path = os.path.join(root, f"r{scope[INVOCATION]}-{_counter}")
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)
        cleanup = _RequestDir(Path(path))
        on_invocation_end(scope, cleanup)
    return cleanup.path


def finish_request_dir() -> None:
    """Remove the running invocation's directory now (the watch looks after it)."""
    scope = current_scope()
    if scope is None:
        return
    found = _find(scope)
    if found is not None:
        scope[CLEANUPS].remove(found)
        found()


# -- init_tmpdir ------------------------------------------------------------------------------


def init_tmpdir(name: str) -> Path:
    """A directory for init-scope files of this process: kept across invocations.

    For what an ``@init_resource`` downloads or builds once and reuses (a model, a
    cache, an unpacked archive). The directory is
    ``<temp dir>/lambdascope-<pid>-<token>/init/<name>``, mode 0700, created on the first
    call and returned again by later calls; each process gets its own, so worker
    processes sharing ``/tmp`` (Lambda Managed Instances) never collide. The /tmp watch
    does not report files under it. It is removed when a later process of the same
    environment finds this one gone::

        @init_resource
        def model_path():
            path = init_tmpdir("models") / "model.onnx"
            if not path.exists():
                download(path)
            return path

    Args:
        name: one directory name (no ``/``, not ``.`` or ``..``).

    Raises:
        TypeError: *name* is not a string.
        ValueError: *name* is empty or not a single path component.
    """
    if not isinstance(name, str):
        raise TypeError(
            f"init_tmpdir(name) takes a directory name (a str), got {name!r}; "
            "write init_tmpdir('models')"
        )
    if name in ("", ".", "..") or "/" in name or "\0" in name or os.sep in name:
        raise ValueError(
            f"init_tmpdir(name) takes one directory name without '/', got {name!r}; "
            "write init_tmpdir('models') and build paths below it with '/'"
        )
    from pathlib import Path

    path = os.path.join(_process_root(), "init", name)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return Path(path)
