"""The /tmp watch: files an invocation left in the temp dir outside the sanctioned places.

The watch (``@handler`` in the guard's modes) compares the temp dir's top level before
and after each invocation; its cost model is in ``docs/guard.md``. A trip-wire decides
whether to look at all: ``stat`` of the temp dir (its mtime) and ``statvfs`` (free
blocks and free inodes), two system calls before and two after. Only when one changed
does the watch list the top
level: names and inodes come with the listing; it ``stat``-s new entries, and at most
:data:`_STATS` of the others (directories, and files only when blocks were taken); then
it looks at most :data:`_BUDGET` entries deep into directories that are new or whose
list of entries changed.
"""

from __future__ import annotations

import os
import time

from ._errors import TmpLeakError, TmpLeakWarning
from ._guard import innermost
from ._leaklog import tmp_leaks
from ._tmp import finish_request_dir, is_process_dir, tempdir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TmpWatch", "resolve_watch", "tmp_paths", "with_watch"]

ENV = "LAMBDASCOPE_WATCH_TMP"
_ON = frozenset({"on", "1", "true", "yes"})
_OFF = frozenset({"off", "0", "false", "no"})
_BUDGET = 2_000  # entries below the top level that one check may stat
_STATS = 1_000  # entries of the top level seen before that one check may stat again
_MAX_PATHS = 10  # paths named in one report


# -- the watch --------------------------------------------------------------------------------


def resolve_watch(option: object) -> bool:
    """Validate ``watch_tmp=`` (``None`` reads ``LAMBDASCOPE_WATCH_TMP``, default on)."""
    if option is None:
        raw = os.environ.get(ENV, "")
        value = raw.strip().lower()
        if not value or value in _ON:
            return True
        if value in _OFF:
            return False
        raise ValueError(
            f"environment variable {ENV}={raw!r} is not a switch. Set it to 'on' or 'off' "
            "(or unset it: the /tmp watch then follows the guard)."
        )
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


_CLOCK = getattr(time, "CLOCK_REALTIME_COARSE", None)


def _now_ns() -> int:
    """The clock file timestamps are taken from (coarse on Linux): no false 'older'."""
    if _CLOCK is not None:
        return time.clock_gettime_ns(_CLOCK)
    return time.time_ns() - 10_000_000  # pragma: no cover - not Linux: allow 10 ms


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


def _grew(before: tuple[int, ...], now: tuple[int, ...]) -> bool:
    """Did the free blocks change between two trip-wire readings (or can it not say)?

    Any change, not only a decrease: on a file system other programs write too, blocks
    they free can hide blocks the invocation took.
    """
    return len(before) < 4 or len(now) < 4 or now[2] != before[2]


class _Leak:
    __slots__ = ("how", "path", "size")

    def __init__(self, path: str, size: int, how: str) -> None:
        self.path, self.size, self.how = path, size, how  # "created", "grew by", "written"


class TmpWatch:
    """Around each invocation: what it left in the temp dir outside the sanctioned places."""

    __slots__ = ("_allow", "_base", "_before", "_dir", "_func", "_started", "_trip", "mode")

    def __init__(self, func: Any, mode: str, allow: tuple[str, ...]) -> None:
        self.mode = mode
        self._func = func
        self._allow = allow
        self._dir: str | None = None
        self._trip: tuple[int, ...] = ()
        self._base: dict[str, tuple[int, int, int, bool]] = {}
        self._started = 0
        self._before: frozenset[tuple[str, int]] = frozenset()

    def _tripwire(self) -> tuple[int, ...]:
        """The temp dir's mtime and its file system's free blocks and inodes: two calls.

        Creating, renaming or removing a top-level entry changes the directory's mtime
        (exact, whatever else writes to the file system); creating anything deeper takes
        an inode and growing a file past its last block takes blocks. Only when one of
        them changed is the top level listed.
        """
        assert self._dir is not None
        try:
            st = os.stat(self._dir)
            vfs = os.statvfs(self._dir)
        except (OSError, AttributeError):  # pragma: no cover - no statvfs: always look
            return (-1,)
        return st.st_mtime_ns, st.st_ino, vfs.f_bfree, vfs.f_ffree

    def _scan(
        self, old: dict[str, tuple[int, int, int, bool]], grew: bool
    ) -> dict[str, tuple[int, int, int, bool]]:
        """The top level: ``name -> (inode, size, mtime_ns, is_dir)``; ours left out.

        Names, inodes and types come with the listing. An entry is ``stat``-ed when it
        is new (or another inode under an old name); an entry of *old* only when it is a
        directory or when blocks were taken (*grew*: a file may have grown), and then at
        most :data:`_STATS` of them. An entry not looked at keeps what *old* says of it
        (size and mtime ``-1`` when never looked at).
        """
        found = {}
        budget = _STATS
        assert self._dir is not None
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
        rescanned = True
        if self._dir is None:
            self._dir = tempdir()
            self._allow = _relative(self._allow, self._dir)
            self._trip = self._tripwire()
            self._base = self._scan({}, grew=True)
        else:
            trip = self._tripwire()
            rescanned = trip != self._trip
            if rescanned:
                self._base = self._scan(self._base, _grew(self._trip, trip))
                self._trip = trip
        self._started = _now_ns()
        self._before = self._written_this_tick() if rescanned else frozenset()

    def _written_this_tick(self) -> frozenset[tuple[str, int]]:
        """Files written in directories just before the invocation, in its first clock tick.

        File times are coarse (a tick of a few ms): a file written just before the
        invocation started (by Init, say) has the same mtime as one the invocation writes.
        Those seen now are not the invocation's. Looked for only after a rescan, when
        something changed since the last invocation.
        """
        found: list[_Leak] = []
        budget = [_BUDGET]
        for name, (_ino, _size, mtime, is_dir) in self._base.items():
            if is_dir and mtime >= self._started and not self._allowed(name):
                self._look(name, False, found, budget)
        return frozenset((leak.path, leak.size) for leak in found)

    def exit(self) -> None:
        """After the handler: report files it created or grew and left behind."""
        finish_request_dir()
        trip = self._tripwire()
        if trip == self._trip and trip != (-1,):
            return
        before = self._base
        now = self._scan(before, _grew(self._trip, trip))
        self._base, self._trip = now, trip
        leaks = self._leaks(before, now)
        if not leaks:
            return
        message = self._message(leaks)
        if self.mode == "raise":
            raise TmpLeakError(message)
        tmp_leaks(self._func, [(leak.path, leak.how) for leak in leaks])
        import warnings

        warnings.warn(TmpLeakWarning(message), stacklevel=4)

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

    def _leaks(
        self,
        before: dict[str, tuple[int, int, int, bool]],
        now: dict[str, tuple[int, int, int, bool]],
    ) -> list[_Leak]:
        """New or grown top-level files; files in new directories or in directories
        whose list of entries changed (at most :data:`_BUDGET` entries looked at)."""
        leaks: list[_Leak] = []
        budget = [_BUDGET]
        for name, entry in now.items():
            old = before.get(name)
            if old is entry:  # not looked at again, or the very same reading
                continue
            ino, size, mtime, is_dir = entry
            if old is None or old[0] != ino:
                if self._allowed(name):
                    continue
                if is_dir:
                    self._look(name, True, leaks, budget)
                else:
                    leaks.append(_Leak(name, size, "created"))
            elif is_dir:
                # Its list of entries changed: another mtime, or one in this invocation's
                # clock tick (file times are coarse: two changes a few ms apart can share one).
                changed = old[2] != mtime or mtime >= self._started
                if changed and not self._allowed(name):
                    self._look(name, False, leaks, budget)
            elif size > old[1] >= 0 and not self._allowed(name):
                leaks.append(_Leak(name, size - old[1], "grew by"))
        return leaks

    def _look(self, top: str, new: bool, leaks: list[_Leak], budget: list[int]) -> None:
        """Files under the directory *top* that are new (or written since the start)."""
        assert self._dir is not None
        stack = [top]
        while stack and budget[0] > 0:
            relative = stack.pop()
            try:
                with os.scandir(os.path.join(self._dir, relative)) as entries:
                    children = list(entries)
            except OSError:
                continue
            for entry in children:
                budget[0] -= 1
                if budget[0] < 0:
                    break
                path = f"{relative}/{entry.name}"
                if self._allowed(path):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(path)
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if new or (
                    st.st_mtime_ns >= self._started and (path, st.st_size) not in self._before
                ):
                    leaks.append(_Leak(path, st.st_size, "created" if new else "written"))

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
            lines.append(f"  - {os.path.join(self._dir, leak.path)} ({how} {leak.size:,} bytes)")
        if len(leaks) > _MAX_PATHS:
            lines.append(f"  - ... and {len(leaks) - _MAX_PATHS} more")
        top = leaks[0].path.partition("/")[0]
        lines.append(
            "Fix: write per-invocation files under lambdascope.request.tmpdir (removed when the "
            "invocation ends); keep files meant to persist (models, caches) under "
            "lambdascope.init_tmpdir('name'); or, if they are deliberate, allow them: "
            f"@handler(tmp_allow=({top!r},)). @handler(watch_tmp=False) or "
            f"{ENV}=off turns this check off."
        )
        return "\n".join(lines)


class Watched:
    """The guard and the /tmp watch as one ``enter``/``exit`` pair."""

    __slots__ = ("_guard", "_watch", "mode")

    def __init__(self, guard: Any, watch: TmpWatch) -> None:
        self._guard, self._watch, self.mode = guard, watch, guard.mode

    def enter(self) -> None:
        self._watch.enter()
        self._guard.enter()

    def exit(self) -> None:
        try:
            self._guard.exit()
        finally:
            self._watch.exit()


def with_watch(guard: Any, func: Any, watch: bool, allow: tuple[str, ...]) -> Any:
    """*guard*, watching the temp dir too when *watch* is on."""
    if not watch:
        return guard
    mode = guard.mode
    if os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY"):
        # Lambda Managed Instances: other worker processes write the same /tmp at the same
        # time, and a file cannot say which process wrote it. Report, never fail a request.
        mode = "warn"
    return Watched(guard, TmpWatch(innermost(func), mode, allow))
