"""The /tmp watch: files an invocation left in the temp dir outside the sanctioned places.

The watch (``@handler`` in the guard's modes) reports every file an invocation created,
grew or wrote in the temp dir and left there; its rules and cost model are in
``docs/guard.md`` ("The /tmp watch"). Two ways to see them:

- **events** (Linux): an inotify instance per process (:mod:`lambdascope._guard._inotify`) over the
  temp dir and its directories. When nothing happened, one ``ioctl`` after the invocation
  says so. Under a Lambda runtime client (``AWS_LAMBDA_RUNTIME_API`` set) nothing but the
  runtime runs between two invocations, so that is the only system call; elsewhere (tests,
  scripts) any code can write between two calls of the handler, and one more ``ioctl``
  before the invocation sets those writes aside.
- **scan** (no inotify: not Linux, or the kernel's limits reached): a trip-wire of
  ``stat`` and ``statvfs`` of the temp dir before and after the invocation, and a listing
  when it moved.

It fails an invocation (``TmpLeakError``) only in a temp dir that belongs to the function
(:func:`lambdascope._tmp.is_private`), and never under Lambda Managed Instances, whose
worker processes share ``/tmp``; elsewhere it warns (``TmpLeakWarning``). Off Lambda (no
runtime client) it also asks :mod:`._writes` which paths this process wrote: files under the
real ``/tmp`` past the temp dir are reported too, and in a temp dir shared with other programs
only those files are, never another program's.
"""

from __future__ import annotations

import os
import sys
import time

from lambdascope._errors import ScopeLeakError, TmpLeakError, TmpLeakWarning
from lambdascope._tmp import finish_request_dir, is_private, is_process_dir, tempdir
from lambdascope._util import warn_at

from ._kinds import innermost
from ._leaklog import tmp_leaks
from ._redact import code_words, modules_words, path_pattern
from ._writes import ROOTS, Writes, recorder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from ._inotify import Monitor

__all__ = ["TmpWatch", "resolve_watch", "tmp_paths", "with_watch"]

ENV = "LAMBDASCOPE_WATCH_TMP"
_BUDGET = 2_000  # entries below the top level that one look around may stat
_STATS = 1_000  # entries of the top level seen before that one check may stat again
_MAX_PATHS = 10  # paths named in one report
_MAX_EVENTS = 100_000  # events kept for the invocations running now; past that, look around


# -- options ----------------------------------------------------------------------------------


def resolve_watch(option: object) -> bool:
    """Validate ``watch_tmp=`` (``None`` reads ``LAMBDASCOPE_WATCH_TMP``, default on)."""
    if option is None:
        from lambdascope._config import switch

        return switch(ENV, True, strict=True)
    if not isinstance(option, bool):
        raise TypeError(
            f"@handler(watch_tmp={option!r}) takes True or False (or None for the "
            f"{ENV} environment variable); write @handler(watch_tmp=False) to turn it off"
        )
    return option


def tmp_paths(value: object) -> tuple[str, ...]:
    """Validate ``tmp_allow=``: relative paths or ``fnmatch`` patterns under the temp dir."""
    example = "@handler(tmp_allow=('cache', '*.lock'))"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(
            f"@handler(tmp_allow=...) takes a tuple of paths, got {value!r}. Write {example}."
        )
    names: list[str] = []
    for item in value:  # type: ignore[attr-defined,unused-ignore]
        if isinstance(item, os.PathLike):
            item = os.fspath(item)  # noqa: PLW2901
        if not isinstance(item, str) or not item.strip("/"):
            raise TypeError(
                f"@handler(tmp_allow=...) takes paths (strings), got {item!r}. Write {example}."
            )
        names.append(item)
    return tuple(names)


def _relative(patterns: tuple[str, ...], base: str) -> tuple[str, ...]:
    """Patterns relative to the temp dir *base* (absolute ones outside it never match)."""
    found = []
    for pattern in patterns:
        if os.path.isabs(pattern):
            pattern = os.path.relpath(pattern, base)  # noqa: PLW2901
            if pattern == ".." or pattern.startswith("../"):
                continue
        found.append(pattern.strip("/"))
    return tuple(found)


# -- time -----------------------------------------------------------------------------------

# Linux stamps files from its coarse clock (a tick of 1-4 ms): a file written in the
# invocation's first tick bears that tick's time, which the fine clock puts before the
# invocation began. Start times come from the coarse clock: no file the invocation writes
# looks older than it. (Python < 3.13 does not name it: it is 5 on Linux.)
_COARSE = getattr(time, "CLOCK_REALTIME_COARSE", 5 if sys.platform.startswith("linux") else None)


def _now_ns() -> int:
    """Now, no later than any file timestamp taken from now on (no false 'older')."""
    if _COARSE is not None:
        return time.clock_gettime_ns(_COARSE)
    return time.time_ns() - 10_000_000  # pragma: no cover - not Linux: allow 10 ms


# -- what was left ----------------------------------------------------------------------------


class _Leak:
    __slots__ = ("how", "path", "root", "size")

    def __init__(self, path: str, size: int, how: str, root: str | None = None) -> None:
        self.path, self.size, self.how = path, size, how  # "created", "grew by", "written"
        self.root = root  # what *path* is relative to: None for the temp dir


class _Events:
    """This process's inotify monitor and the events of the invocations running now.

    One monitor per process, shared by every watch, whatever the number of handlers (the
    kernel allows 128 instances per user). Invocations run one at a time, as on Lambda; a
    handler called during another's invocation sees its own events, and the outer one
    sees them too (:attr:`log` is kept until the outermost ends).
    """

    __slots__ = ("log", "monitor", "running")

    def __init__(self) -> None:
        self.monitor: Monitor | None = None
        self.log: list[tuple[str, int]] = []
        self.running: list[TmpWatch] = []

    def bind(self, base: str) -> Monitor | None:
        """The monitor, watching the temp dir *base* (``None``: no inotify, use the scan).

        Started on first use, and kept: pointed at another temp dir (when no invocation
        runs), or at the same one afresh after events were lost.
        """
        monitor = self.monitor
        if monitor is not None and monitor.base == base and not monitor.lost:
            return monitor
        if self.running:  # another temp dir inside an invocation: that one keeps it
            return None
        from . import _inotify

        if _inotify.unavailable() is not None:
            return None
        if monitor is None:
            try:
                monitor = self.monitor = _inotify.Monitor(is_process_dir)
            except OSError:  # the kernel's limit of instances, or of open files
                return None
        self.log = []
        return monitor if monitor.target(base) else None

    def after_fork(self) -> None:
        """In a forked child: the descriptor is the parent's too; reading it would take the
        parent's events. Close this copy (quick: the parent's keeps the instance)."""
        monitor, self.monitor = self.monitor, None
        self.log, self.running = [], []
        if monitor is not None:
            monitor.close()

    def begin(self, watch: TmpWatch, monitor: Monitor, drain: bool) -> int:
        """An invocation starts: its position in :attr:`log`.

        With *drain*, events that wait now happened before it: another invocation's (it
        runs inside one) or nobody's (between invocations: only the sizes are learnt).
        """
        running = self.running
        if drain and monitor.pending():
            events = monitor.take()
            if running:
                self.log.extend(events)
            else:
                _learn_sizes(monitor, events)
        if not running and self.log:
            self.log = []
        running.append(watch)
        return len(self.log)

    def end(self, watch: TmpWatch, monitor: Monitor, mark: int) -> list[tuple[str, int]] | None:
        """An invocation ends: the events since *mark* (``None``: nothing happened)."""
        running, log = self.running, self.log
        if running and running[-1] is watch:
            running.pop()
        elif watch in running:  # pragma: no cover - invocations of threads, ending out of order
            running.remove(watch)
        if monitor.pending():
            log.extend(monitor.take())
            if len(log) > _MAX_EVENTS:
                monitor.lost = True
        elif len(log) == mark and not monitor.lost:
            return None  # the common case: one ioctl, nothing happened
        return log[mark:]


def _learn_sizes(monitor: Monitor, events: list[tuple[str, int]]) -> None:
    """Note the sizes of files changed between invocations (they are nobody's)."""
    sizes = monitor.sizes
    for path in dict.fromkeys(path for path, _ in events[:_BUDGET]):
        try:
            st = os.lstat(os.path.join(monitor.base, path))
        except OSError:
            sizes.pop(path, None)
            continue
        sizes[path] = st.st_size


_events = _Events()
if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX Python has it
    os.register_at_fork(after_in_child=_events.after_fork)


class TmpWatch:
    """Around each invocation: what it left in the temp dir outside the sanctioned places.

    :meth:`enter` before the handler, :meth:`exit` after it; ``exit`` warns itself and
    returns the error to raise (or ``None``), so that :class:`Watched` can join it to the
    module guard's.
    """

    __slots__ = (
        "_allow",
        "_allow_root",
        "_dir",
        "_exit_only",
        "_func",
        "_given",
        "_mark",
        "_modules",
        "_monitor",
        "_own",
        "_raise",
        "_scan",
        "_started",
        "_wmark",
        "_writes",
        "mode",
    )

    def __init__(
        self,
        func: Any,
        mode: str,
        allow: tuple[str, ...],
        modules: Callable[[], Iterable[Any]] = tuple,
    ) -> None:
        self.mode = mode
        self._func = func
        self._given = allow
        self._modules = modules  # the guarded modules: their sources say what may be shown
        self._allow: tuple[str, ...] = ()
        self._allow_root: tuple[str, ...] = ()
        self._dir: str | None = None
        self._own = False  # the temp dir is the function's own
        self._writes: Writes | None = None  # off Lambda: the paths this process writes
        self._wmark = 0
        self._monitor: Monitor | None = None
        self._scan: _Scan | None = None
        self._exit_only = False
        self._raise = False
        self._mark = 0
        self._started = 0

    def _bind(self, base: str) -> None:
        """First invocation, or another temp dir (or a new monitor): start looking at *base*.

        The temp dir is noted last: a thread that sees it sees the rest (tests run
        invocations of one handler in threads at once; Lambda never does).
        """
        self._allow = _relative(self._given, base)
        self._allow_root = _relative(self._given, ROOTS[0])
        self._own = is_private(base)
        self._raise = self.mode == "raise" and self._own
        # Under a runtime client nothing but the runtime runs between two invocations.
        self._exit_only = "AWS_LAMBDA_RUNTIME_API" in os.environ
        # Off Lambda, where cost does not matter, which files this process writes (an audit
        # hook: never installed under a runtime client, see _writes).
        self._writes = None if self._exit_only else recorder()
        monitor = _events.bind(base)
        self._scan = _Scan(self, base) if monitor is None else None
        self._monitor = monitor
        self._dir = base

    def enter(self) -> None:
        """Before the handler: what happens from now on is the invocation's."""
        base = tempdir()
        monitor = self._monitor
        if base != self._dir or (
            monitor is not None and (monitor is not _events.monitor or monitor.base != base)
        ):  # another temp dir, or the monitor is no longer ours (a fork, another temp dir)
            self._bind(base)
            monitor = self._monitor
        self._started = _now_ns()
        if self._writes is not None:
            self._wmark = self._writes.begin(base)
        if monitor is not None:
            self._mark = _events.begin(self, monitor, not self._exit_only)
        elif self._scan is not None:  # pragma: no branch - not while another thread binds
            self._scan.enter()

    def cancel(self) -> None:
        """The invocation did not start after all (the module guard's ``enter`` failed)."""
        if self in _events.running:
            _events.running.remove(self)
        if self._writes is not None:
            self._writes.end(self._wmark)

    def exit(self) -> TmpLeakError | None:
        """After the handler: report files it created, grew or wrote and left behind.

        Warns itself (warn mode, a temp dir that is not the function's own, Lambda Managed
        Instances); returns the error to raise otherwise, ``None`` when nothing was left.
        """
        leaks = self._left()
        writes = self._writes
        if writes is not None:  # off Lambda
            leaks = self._attributed(leaks, writes.end(self._wmark))
        if not leaks:
            return None
        self._redact(leaks)
        message = self._message(leaks)
        if self._raise:
            return TmpLeakError(message)
        tmp_leaks(self._func, [(self._where(leak), leak.how) for leak in leaks])
        warn_at(self._func, TmpLeakWarning(message))  # at the handler, not in lambdascope
        return None

    def _left(self) -> list[_Leak] | None:
        """What the watch saw left in the temp dir (``None``: nothing happened)."""
        monitor, scan = self._monitor, self._scan
        if monitor is None:
            if scan is None:  # pragma: no cover - another thread was binding at its start
                return None
            finish_request_dir()  # its blocks would move the trip-wire (events never see it)
            return scan.leaks()
        events = _events.end(self, monitor, self._mark)
        if events is None:
            return None
        if monitor.lost:
            leaks = self._look_around()
            if not _events.running and self._dir is not None:  # watch it afresh
                self._bind(self._dir)
            return leaks
        return self._from_events(events)

    # -- what this process wrote (off Lambda) ---------------------------------------------------
    def _attributed(
        self, leaks: list[_Leak] | None, written: list[tuple[str, int | None, bool]]
    ) -> list[_Leak]:
        """Off Lambda, the leaks that can be put down to this invocation.

        In a temp dir of the function's own, every file the watch saw left there, and the
        files this process wrote under ``/tmp`` outside it (a hard-coded ``/tmp/...`` is the
        temp dir on Lambda). In a temp dir shared with other programs, only the files this
        process wrote: never another program's.
        """
        base = self._dir
        assert base is not None
        found = list(leaks or ()) if self._own else []
        seen: set[str] = set()
        for path, before, is_dir in written:
            if path in seen:
                continue
            seen.add(path)
            inside = path.startswith(base + os.sep)
            if inside and self._own:
                continue  # the watch saw it
            root = base if inside else next((r for r in ROOTS if path.startswith(r + os.sep)), "")
            relative = path[len(root) + 1 :]
            if not root or is_process_dir(relative.partition("/")[0]):
                continue
            allowed = self._allowed if inside else self._allowed_root
            if is_dir:
                top = relative
                for sub, st in _files_under(root, top, allowed, [_BUDGET]):
                    if st.st_mtime_ns >= self._started:
                        found.append(_Leak(sub, st.st_size, "created", root))
                continue
            if allowed(relative):
                continue
            try:
                size = os.lstat(path).st_size
            except OSError:  # removed again: nothing left
                continue
            if before is None:
                found.append(_Leak(relative, size, "created", root))
            elif size > before:
                found.append(_Leak(relative, size - before, "grew by", root))
            else:
                found.append(_Leak(relative, size, "written", root))
        return _unique(found)

    def _allowed_root(self, relative: str) -> bool:
        """:meth:`_allowed` for a path under ``/tmp`` outside the temp dir: ``tmp_allow=``
        names it as on Lambda, where ``/tmp`` is the temp dir."""
        saved, self._allow = self._allow, self._allow_root
        try:
            return self._allowed(relative)
        finally:
            self._allow = saved

    def _where(self, leak: _Leak) -> str:
        """The path a report names: under the temp dir relative, elsewhere absolute."""
        return leak.path if leak.root is None else os.path.join(leak.root, leak.path)

    # -- from events ------------------------------------------------------------------------
    def _from_events(self, events: list[tuple[str, int]]) -> list[_Leak]:
        """The files named by *events* that are still there, and how they changed."""
        from stat import S_ISDIR

        from ._inotify import CREATED

        assert self._monitor is not None
        assert self._dir is not None
        sizes = self._monitor.sizes
        touched: dict[str, int] = {}
        for path, mask in events:
            touched[path] = touched.get(path, 0) | mask
        leaks: list[_Leak] = []
        for path, mask in touched.items():
            if self._allowed(path):
                continue
            try:
                st = os.lstat(os.path.join(self._dir, path))
            except OSError:  # removed again: nothing left
                sizes.pop(path, None)
                continue
            if S_ISDIR(st.st_mode):  # a directory is reported through its files
                continue
            size, old = st.st_size, sizes.get(path)
            sizes[path] = size
            if self._exit_only and st.st_ctime_ns < self._started:
                continue  # changed between invocations: before this one began
            if old is None and mask & CREATED:
                leaks.append(_Leak(path, size, "created"))
            elif old is not None and size > old:
                leaks.append(_Leak(path, size - old, "grew by"))
            else:  # rewritten in place (or its old size is not known)
                leaks.append(_Leak(path, size, "written"))
        return leaks

    def _look_around(self) -> list[_Leak]:
        """Events were lost: the files under the temp dir changed since the invocation began.

        At most :data:`_BUDGET` entries are looked at; a file's change time tells.
        """
        assert self._dir is not None
        sizes = self._monitor.sizes if self._monitor is not None else {}
        return [
            _Leak(path, st.st_size, "written" if path in sizes else "created")
            for path, st in _files_under(self._dir, "", self._allowed, [_BUDGET])
            if st.st_ctime_ns >= self._started
        ]

    # -- words ------------------------------------------------------------------------------
    def _redact(self, leaks: list[_Leak]) -> None:
        """Each path as it may be shown: the parts the source does not write as globs
        (a file named after request data: ``reports/*.pdf``)."""
        try:
            names = [module.name for module in self._modules()]
        except Exception:  # a report must never fail: show no name then
            names = []
        func = self._func
        words = modules_words([*names, getattr(func, "__module__", None) or ""]) | code_words(func)
        for leak in leaks:
            leak.path = path_pattern(leak.path, words)
            if leak.root == self._dir:
                leak.root = None  # relative to the temp dir, as the watch names its own

    def _allowed(self, relative: str) -> bool:
        if not self._allow:
            return False
        from fnmatch import fnmatchcase

        for pattern in self._allow:
            if (
                fnmatchcase(relative, pattern)
                or relative.startswith(pattern + "/")
                or fnmatchcase(relative.partition("/")[0], pattern)
            ):
                return True
        return False

    def _message(self, leaks: list[_Leak]) -> str:
        assert self._dir is not None
        name = getattr(self._func, "__qualname__", None) or type(self._func).__name__
        total = sum(leak.size for leak in leaks)
        lines = [
            f"handler {name}() left {len(leaks)} file(s), {total:,} bytes, in {self._dir} "
            "after the invocation. The temp dir outlives the invocation: on a warm Lambda "
            "these files fill the ephemeral storage (shared by every worker process under "
            "Lambda Managed Instances) and the next request can read them."
        ]
        for leak in sorted(leaks, key=lambda leak: -leak.size)[:_MAX_PATHS]:
            how = "grew by" if leak.how == "grew by" else f"{leak.how},"
            lines.append(
                f"  - {os.path.join(self._dir, self._where(leak))} ({how} {leak.size:,} bytes)"
            )
        if len(leaks) > _MAX_PATHS:
            lines.append(f"  - ... and {len(leaks) - _MAX_PATHS} more")
        top = leaks[0].path.partition("/")[0]
        allow = f"@handler(tmp_allow=({top!r},))" if top != "*" else "@handler(tmp_allow=...)"
        lines.append(
            "Fix: write per-invocation files under lambdascope.request.tmpdir (removed when the "
            "invocation ends); keep files meant to persist (models, caches) under "
            "lambdascope.init_tmpdir('name'); or, if they are deliberate, allow them: "
            f"{allow}. @handler(watch_tmp=False) or {ENV}=off turns this check off."
        )
        if self.mode == "raise" and not self._raise:
            lines.append(
                f"A warning, not an error: {self._dir} is not this function's own temp dir "
                "(other programs on this machine write there too; only the files this process "
                "wrote during the invocation are named). On Lambda, and in the temp dir of its "
                "own that LambdaEnvironment, `lambdascope invoke` and the pytest plugin give "
                "each environment, this fails the invocation."
            )
        return "\n".join(lines)


def _unique(leaks: list[_Leak]) -> list[_Leak]:
    """One leak per file (a file in a directory written twice is named once)."""
    found: dict[tuple[str | None, str], _Leak] = {}
    for leak in leaks:
        found.setdefault((leak.root, leak.path), leak)
    return list(found.values())


def _grew(before: tuple[int, ...], now: tuple[int, ...]) -> bool:
    """Did the free blocks change between two trip-wire readings (or can it not say)?

    Any change, not only a decrease: on a file system other programs write too, blocks
    they free can hide blocks the invocation took.
    """
    return len(before) < 4 or len(now) < 4 or now[2] != before[2]


class _Scan:
    """The watch without inotify: a trip-wire, and a listing when it moved.

    The trip-wire is ``stat`` of the temp dir (its mtime) and ``statvfs`` (free blocks and
    inodes), before and after the invocation: four system calls. Only when one changed
    does it list the top level: names and inodes come with the listing; it ``stat``-s new
    entries, and at most :data:`_STATS` of the others (directories, and files only when
    blocks were taken); then it looks at most :data:`_BUDGET` entries deep into
    directories that are new, whose list of entries changed, or (when blocks were taken)
    that may hold a file that grew. A file rewritten in place at the same size moves
    nothing it reads: it is not seen.
    """

    __slots__ = ("_base", "_before", "_dir", "_trip", "_watch")

    def __init__(self, watch: TmpWatch, base: str) -> None:
        self._watch = watch
        self._dir = base
        self._trip: tuple[int, ...] = ()  # the first invocation lists the top level
        self._base: dict[str, tuple[int, int, int, bool]] = {}
        self._before: frozenset[tuple[str, int]] = frozenset()

    def _tripwire(self) -> tuple[int, ...]:
        """The temp dir's mtime and its file system's free blocks and inodes: two calls."""
        try:
            st = os.stat(self._dir)
            vfs = os.statvfs(self._dir)
        except (OSError, AttributeError):  # pragma: no cover - no statvfs: always look
            return (-1,)
        return st.st_mtime_ns, st.st_ino, vfs.f_bfree, vfs.f_ffree

    def _list(
        self, old: dict[str, tuple[int, int, int, bool]], grew: bool
    ) -> dict[str, tuple[int, int, int, bool]]:
        """The top level: ``name -> (inode, size, mtime_ns, is_dir)``; ours left out.

        An entry is ``stat``-ed when it is new (or another inode under an old name); an
        entry of *old* only when it is a directory or when blocks were taken (*grew*: a
        file may have grown), and then at most :data:`_STATS` of them. An entry not looked
        at keeps what *old* says of it (size and mtime ``-1`` when never looked at).
        """
        found = {}
        budget = _STATS
        try:
            with os.scandir(self._dir) as entries:
                for entry in entries:
                    name = entry.name
                    if is_process_dir(name):
                        continue
                    try:
                        ino, is_dir = entry.inode(), entry.is_dir(follow_symlinks=False)
                        before = old.get(name)
                        if before is not None and before[0] == ino:
                            if budget <= 0 or not (is_dir or grew):
                                found[name] = before
                                continue
                            budget -= 1
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    found[name] = (ino, st.st_size, st.st_mtime_ns, is_dir)
        except OSError:  # pragma: no cover - the temp dir vanished
            pass
        return found

    def enter(self) -> None:
        """Before the handler: the baseline is current (changes since are not its own)."""
        trip = self._tripwire()
        rescanned = trip != self._trip
        if rescanned:
            self._base = self._list(self._base, _grew(self._trip, trip))
            self._trip = trip
        if rescanned:  # else nothing changed: those seen at the last rescan stand
            self._before = self._written_this_tick()

    def _written_this_tick(self) -> frozenset[tuple[str, int]]:
        """Files written in directories just before the invocation, in its first clock tick.

        File times are coarse (a tick of a few ms): a file written just before the
        invocation started (by Init, say) has the same mtime as one the invocation writes.
        Those seen now are not the invocation's. Looked for (in every directory: a file's
        mtime says nothing of its directory's) only after a rescan, when something changed
        since the last invocation.
        """
        found: list[_Leak] = []
        budget = [_BUDGET]
        for name, (_ino, _size, _mtime, is_dir) in self._base.items():
            if is_dir and not self._watch._allowed(name):
                self._look(name, False, found, budget)
        return frozenset((leak.path, leak.size) for leak in found)

    def leaks(self) -> list[_Leak]:
        """After the handler: files it created or grew and left behind."""
        trip = self._tripwire()
        if trip == self._trip and trip != (-1,):
            return []
        before = self._base
        grew = _grew(self._trip, trip)
        now = self._list(before, grew)
        self._base, self._trip = now, trip
        return self._leaks(before, now, grew)

    def _leaks(
        self,
        before: dict[str, tuple[int, int, int, bool]],
        now: dict[str, tuple[int, int, int, bool]],
        grew: bool,
    ) -> list[_Leak]:
        """New or grown top-level files; files in new directories, in directories whose
        list of entries changed and, when blocks were taken, in the others (at most
        :data:`_BUDGET` entries looked at)."""
        allowed, started = self._watch._allowed, self._watch._started
        leaks: list[_Leak] = []
        budget = [_BUDGET]
        for name, entry in now.items():
            old = before.get(name)
            ino, size, mtime, is_dir = entry
            if old is None or old[0] != ino:
                if allowed(name):
                    continue
                if is_dir:
                    self._look(name, True, leaks, budget)
                else:
                    leaks.append(_Leak(name, size, "created"))
            elif is_dir:
                # Its list of entries changed (another mtime, or one in this invocation's
                # clock tick: two changes a few ms apart can share one), or a file in it
                # may have grown.
                changed = grew or old[2] != mtime or mtime >= started
                if changed and not allowed(name):
                    self._look(name, False, leaks, budget)
            elif old is not entry and size > old[1] >= 0 and not allowed(name):
                leaks.append(_Leak(name, size - old[1], "grew by"))
        return leaks

    def _look(self, top: str, new: bool, leaks: list[_Leak], budget: list[int]) -> None:
        """Files under the directory *top* that are new (or written since the start)."""
        started = self._watch._started
        for path, st in _files_under(self._dir, top, self._watch._allowed, budget):
            if new or (st.st_mtime_ns >= started and (path, st.st_size) not in self._before):
                leaks.append(_Leak(path, st.st_size, "created" if new else "written"))


def _files_under(
    base: str, top: str, allowed: Callable[[str], bool], budget: list[int]
) -> Iterator[tuple[str, os.stat_result]]:
    """``(path relative to base, lstat)`` of the files under *top* (``""``: all of *base*).

    Depth first, at most ``budget[0]`` entries (the budget is shared by the caller's
    calls); lambdascope's process directories and the paths *allowed* left out.
    """
    stack = [top]
    while stack and budget[0] > 0:
        relative = stack.pop()
        try:
            with os.scandir(os.path.join(base, relative)) as entries:
                children = list(entries)
        except OSError:
            continue
        for entry in children:
            budget[0] -= 1
            if budget[0] < 0:
                return
            path = f"{relative}/{entry.name}" if relative else entry.name
            if (not relative and is_process_dir(entry.name)) or allowed(path):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            yield path, st


# -- with the module guard --------------------------------------------------------------------


class Watched:
    """The guard and the /tmp watch as one ``enter``/``exit`` pair.

    An invocation that both wrote module state and left files in the temp dir fails with
    one :class:`~lambdascope.ScopeLeakError` whose message has both parts (Lambda's error
    response shows only the message of the error raised, not its ``__context__``). It is
    the module guard's class, not :class:`~lambdascope.TmpLeakError`: code that catches
    ``TmpLeakError`` to tolerate files left in ``/tmp`` must not swallow a module-state leak.
    """

    __slots__ = ("_guard", "_watch", "mode")

    def __init__(self, guard: Any, watch: TmpWatch) -> None:
        self._guard, self._watch, self.mode = guard, watch, guard.mode

    def enter(self) -> None:
        self._watch.enter()
        try:
            self._guard.enter()
        except BaseException:
            self._watch.cancel()
            raise

    def exit(self) -> None:
        state: ScopeLeakError | None = None
        try:
            self._guard.exit()
        except ScopeLeakError as exc:
            state = exc
        finally:
            files = self._watch.exit()
        if state is None:
            if files is not None:
                raise files
            return
        if files is None:
            raise state
        raise ScopeLeakError(f"{state}\nIt also left files in the temp dir: {files}")


def with_watch(guard: Any, func: Any, watch: bool, allow: tuple[str, ...]) -> Any:
    """*guard*, watching the temp dir too when *watch* is on."""
    if not watch:
        return guard
    mode = guard.mode
    if os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY"):
        # Lambda Managed Instances: other worker processes write the same /tmp at the same
        # time, and a file cannot say which process wrote it. Report, never fail a request.
        mode = "warn"
    return Watched(guard, TmpWatch(innermost(func), mode, allow, guard.guarded_modules))
