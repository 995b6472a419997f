"""Linux inotify for the /tmp watch: which paths under the temp dir changed, one ``ioctl`` to ask.

Imported only when the watch starts (the first watched invocation), and only on Linux. The
three inotify calls come from ctypes' C half, ``_ctypes``, without ctypes' Python half (whose
import costs ~1.4 ms more here, several times that on a small Lambda); ``fcntl`` asks how
many bytes of events wait (``FIONREAD``) without reading them: one system call, no
exception, when nothing happened.

A :class:`Monitor` watches the temp dir and its directories (at most :data:`DIRS`,
breadth first), not lambdascope's own process directories. Events name a path relative to
the temp dir; a directory created or moved in is watched at once and the files already in
it are reported as created, so nothing written before its watch existed is missed.
"""

from __future__ import annotations

import os
import sys
from collections import deque

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["CREATED", "DIRS", "Monitor", "unavailable"]

IN_MODIFY = 0x2
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_ISDIR = 0x40000000

#: A new name: created, or moved in.
CREATED = IN_CREATE | IN_MOVED_TO
#: What a directory's watch reports: data written (also a truncation), names added or
#: removed, and the directory itself going away.
_MASK = (
    IN_MODIFY
    | IN_CREATE
    | IN_MOVED_TO
    | IN_MOVED_FROM
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
)
#: Directories watched at most, per process: the limit of watches is per user
#: (``fs.inotify.max_user_watches``, 8,192 on older kernels), shared with everything else
#: the user runs (on Lambda: the function's extensions; under Lambda Managed Instances:
#: every worker process).
DIRS = 256
#: Files of the tree sized when the watch starts (so that growth can be told in bytes).
_SIZED = 2_000

_calls: tuple[Callable[..., int], Callable[..., int], Callable[..., int], Callable[[], int]]


def _load() -> None:
    global _calls, _ioctl, _FIONREAD
    import _ctypes
    import fcntl
    import termios

    class _Int(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_int, without ctypes
        _type_ = "i"

    class _Function(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _restype_ = _Int

    class _Process:  # the running program: its C library's symbols
        _handle = _ctypes.dlopen(None, os.RTLD_NOW)  # type: ignore[arg-type]

    process: Any = _Process()  # what ctypes.CDLL would be: an object with a _handle
    init1, add, remove = (
        _Function((name, process))
        for name in ("inotify_init1", "inotify_add_watch", "inotify_rm_watch")
    )
    _calls = (init1, add, remove, _ctypes.get_errno)
    _ioctl, _FIONREAD = fcntl.ioctl, termios.FIONREAD


_ioctl: Callable[..., object] | None = None
_FIONREAD = 0
_NONE = bytes(4)  # FIONREAD's answer when no event waits


def unavailable() -> str | None:
    """Why inotify cannot be used in this process (``None`` when it can)."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if _ioctl is None:
        try:
            _load()
        except (ImportError, OSError, AttributeError) as exc:
            return f"inotify cannot be called ({exc})"
    return None


class Monitor:
    """An inotify instance over a temp dir and (at most :data:`DIRS` of) its directories.

    :meth:`target` points it at a temp dir (*skip* says which top-level names not to
    watch); the instance lives as long as the process: closing the last descriptor of an
    inotify instance waits for the kernel (~20 ms here), removing watches does not.
    :meth:`pending` is the hot path: one ``ioctl``. :meth:`take` reads what waits and
    returns ``(relative path, mask)`` pairs; :attr:`lost` turns true when the kernel's
    queue overflowed or the temp dir itself went away (events were lost: look around).
    :attr:`sizes` holds the sizes of files seen (when the watch started, and since).
    """

    __slots__ = ("_count", "_fd", "_paths", "_skip", "base", "lost", "partial", "sizes")

    def __init__(self, skip: Callable[[str], bool]) -> None:
        fd = _calls[0](os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            errno = _calls[3]()
            raise OSError(errno, f"inotify_init1: {os.strerror(errno)}")
        self._fd = fd
        self._count = bytearray(4)
        self._skip = skip
        self._paths: dict[int, str] = {}  # watch descriptor -> directory, relative to base
        self.base = ""
        self.lost = False
        self.partial = False  # a directory was left unwatched (the budget, or the limit)
        self.sizes: dict[str, int] = {}

    def target(self, base: str) -> bool:
        """Watch the temp dir *base* (and no other): whether it could be watched."""
        remove = _calls[2]
        for wd in self._paths:
            remove(self._fd, wd)
        self._paths.clear()
        self.take()  # what waits is about the old watches: nobody's
        self.base, self.lost, self.partial, self.sizes = base, False, False, {}
        self._watch_tree("", [], sized=True)
        if "" in self._paths.values():
            return True
        self.base = ""  # not watched: the next target tries again
        return False

    # -- the hot path ---------------------------------------------------------------------
    def pending(self) -> bool:
        """Whether events wait: one ``ioctl(FIONREAD)``, nothing read."""
        _ioctl(self._fd, _FIONREAD, self._count, True)  # type: ignore[misc]
        return self._count != _NONE

    # -- events -----------------------------------------------------------------------------
    def take(self) -> list[tuple[str, int]]:
        """Read every waiting event: ``(path relative to base, mask)``, in order."""
        import struct

        found: list[tuple[str, int]] = []
        while True:
            try:
                data = os.read(self._fd, 65_536)
            except BlockingIOError:
                return found
            except OSError:  # pragma: no cover - the descriptor is gone
                self.lost = True
                return found
            offset, end = 0, len(data)
            while offset + 16 <= end:
                wd, mask, _cookie, size = struct.unpack_from("iIII", data, offset)
                name = os.fsdecode(data[offset + 16 : offset + 16 + size].rstrip(b"\0"))
                offset += 16 + size
                self._event(wd, mask, name, found)

    def _event(self, wd: int, mask: int, name: str, found: list[tuple[str, int]]) -> None:
        if mask & IN_Q_OVERFLOW:
            self.lost = True
            return
        where = self._paths.get(wd)
        if where is None:  # a watch already dropped
            return
        if mask & IN_IGNORED:
            del self._paths[wd]
            if where == "":
                self.lost = True
            return
        if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
            if where == "":  # the temp dir itself was removed or renamed
                self.lost = True
            return
        path = f"{where}/{name}" if where else name
        if where == "" and self._skip(name):
            return
        if mask & IN_ISDIR:
            if mask & CREATED:
                self._watch_tree(path, found, sized=False)
            elif mask & (IN_MOVED_FROM | IN_DELETE):
                self._unwatch(path)
            return
        found.append((path, mask))

    # -- watches ----------------------------------------------------------------------------
    def _watch_tree(self, top: str, created: list[tuple[str, int]], sized: bool) -> None:
        """Watch *top* and the directories under it, breadth first, within the budget.

        Files found are reported in *created* (a directory that just appeared: they are
        new) or, when the watch starts (*sized*), only sized.
        """
        add = _calls[1]
        queue = deque([top])
        stat_budget = _SIZED
        while queue:
            relative = queue.popleft()
            if len(self._paths) >= DIRS:
                self.partial = True
                return
            full = os.path.join(self.base, relative) if relative else self.base
            wd = add(self._fd, os.fsencode(full), _MASK)
            if wd < 0:
                if _calls[3]() == 28:  # ENOSPC: the user's limit of watches is reached
                    self.partial = True
                continue  # gone already, or not a directory
            self._paths[wd] = relative
            try:
                with os.scandir(full) as entries:
                    children = list(entries)
            except OSError:
                continue
            for entry in children:
                if not relative and self._skip(entry.name):
                    continue
                path = f"{relative}/{entry.name}" if relative else entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        queue.append(path)
                        continue
                    if not sized:
                        created.append((path, IN_CREATE))
                    elif stat_budget > 0:
                        stat_budget -= 1
                        self.sizes[path] = entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue

    def _unwatch(self, top: str) -> None:
        """Stop watching *top* and everything under it (it was moved away or removed)."""
        remove = _calls[2]
        prefix = top + "/"
        for wd, path in list(self._paths.items()):
            if path == top or path.startswith(prefix):
                del self._paths[wd]
                remove(self._fd, wd)

    def close(self) -> None:
        """Close the inotify instance (its watches go with it)."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)
