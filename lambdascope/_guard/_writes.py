"""Which files this process writes while an invocation runs: an audit hook, off Lambda only.

A file does not say which process wrote it. On Lambda that does not matter: ``/tmp`` is the
execution environment's own, and the /tmp watch reports every file left there. Off Lambda
(tests, scripts, lambdascope's testing tools), two things do: a handler that hard-codes
``/tmp/...`` writes past the temp dir of its own that a testing tool gave it, and a temp dir
shared with other programs holds their files too. There, where cost does not matter, the
/tmp watch asks this module which paths this process wrote during the invocation.

:func:`recorder` installs one audit hook per process (:func:`sys.addaudithook`; it cannot be
removed, and costs a few microseconds per audited call) the first time a watched invocation
runs where no runtime client runs. Under a runtime client (``AWS_LAMBDA_RUNTIME_API`` set: on
Lambda, or under the runtime interface emulator) it is never installed: there the hook would
cost every ``logging`` call of the process, for its whole life (docs/guard.md, the /tmp
watch). It notes, while at least one invocation runs, the paths under the temp dir and under
``/tmp`` that this process opens for writing (``open``, ``os.open``), renames or moves to,
links to, truncates, copies a tree to or unpacks into, and the directories it creates
(``os.mkdir``, ``tempfile.mkdtemp``), but not the bytecode the import system caches in
``__pycache__`` when a module is imported lazily. What C code or a child process writes is not
seen.
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["ROOTS", "Writes", "recorder"]

#: The real ``/tmp``: what Lambda's ``/tmp`` is, whatever the temp dir is here.
ROOTS = tuple(dict.fromkeys(("/tmp", os.path.realpath("/tmp"))))

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_MAX_ENTRIES = 100_000  # paths kept for the invocations running now
_BYTECODE = f"{os.sep}__pycache__{os.sep}"


class Writes:
    """The paths written while invocations run: ``(path, size before or None, is_dir)``.

    :meth:`begin` when an invocation starts returns its place in :attr:`log`; :meth:`end`
    returns what was written since. The log is kept while any invocation runs (a handler
    called by another sees its own writes, the outer one sees them too).
    """

    __slots__ = ("base", "log", "roots", "running")

    def __init__(self) -> None:
        self.log: list[tuple[str, int | None, bool]] = []
        self.running = 0
        self.base = ""
        self.roots: tuple[str, ...] = ROOTS

    def begin(self, base: str) -> int:
        """An invocation starts, with the temp dir *base*: its mark in the log."""
        if not self.running:
            if self.log:
                self.log = []
            if base != self.base:  # a new temp dir (realpath costs a stat per part)
                self.roots = tuple(dict.fromkeys((*ROOTS, base, os.path.realpath(base))))
                self.base = base
        self.running += 1
        return len(self.log)

    def end(self, mark: int) -> list[tuple[str, int | None, bool]]:
        """The invocation that began at *mark* ends: what it wrote."""
        self.running = max(0, self.running - 1)
        return self.log[mark:]

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.running:
            return
        note = _EVENTS.get(event)
        if note is None:
            return
        with suppress(Exception):  # an audit hook must never break the code that writes
            note(self, args)

    def note(self, path: object, is_dir: bool = False) -> None:
        """Note *path* (a ``str`` or ``bytes`` path; descriptors are not paths) if it lies
        under one of the roots."""
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        elif isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str) or len(self.log) > _MAX_ENTRIES:
            return
        path = os.path.abspath(path)
        if not any(path.startswith(root + os.sep) for root in self.roots) or _BYTECODE in path:
            return  # elsewhere, or the import system caching a module's bytecode
        size = None
        if not is_dir:
            try:
                size = os.stat(path).st_size
            except OSError:
                size = None  # created now
        self.log.append((path, size, is_dir))


def _open(writes: Writes, args: tuple[Any, ...]) -> None:
    path, mode, flags = args[:3]
    if (isinstance(flags, int) and flags & _WRITE_FLAGS) or (
        isinstance(mode, str) and any(c in mode for c in "wax+")
    ):
        writes.note(path)


def _second(writes: Writes, args: tuple[Any, ...]) -> None:  # (src, dst, ...): dst is written
    writes.note(args[1])


def _first(writes: Writes, args: tuple[Any, ...]) -> None:
    writes.note(args[0])


def _first_dir(writes: Writes, args: tuple[Any, ...]) -> None:
    writes.note(args[0], is_dir=True)


def _second_dir(writes: Writes, args: tuple[Any, ...]) -> None:
    writes.note(args[1], is_dir=True)


def _move(writes: Writes, args: tuple[Any, ...]) -> None:  # a file or a directory
    writes.note(args[1], is_dir=os.path.isdir(args[1]))


def _database(writes: Writes, args: tuple[Any, ...]) -> None:
    if args and args[0] != ":memory:":
        writes.note(args[0])


_EVENTS: dict[str, Callable[[Writes, tuple[Any, ...]], None]] = {
    "open": _open,
    "os.rename": _second,  # os.rename and os.replace
    "os.link": _second,
    "os.symlink": _second,
    "os.truncate": _first,
    "os.mkdir": _first_dir,
    "tempfile.mkdtemp": _first_dir,
    "tempfile.mkstemp": _first,
    "shutil.copytree": _second_dir,
    "shutil.unpack_archive": _second_dir,
    "shutil.move": _move,
    "sqlite3.connect": _database,
}

_recorder: list[Writes] = []


def recorder() -> Writes:
    """This process's recorder, its audit hook installed on first use (never call this
    under a runtime client: see the module's docstring)."""
    if not _recorder:
        writes = Writes()
        sys.addaudithook(writes.hook)
        _recorder.append(writes)
    return _recorder[0]
