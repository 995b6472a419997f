"""Temp-file rule LS111: handler code writing to a hard-coded temp path.

``open("/tmp/work.json", "w")``, ``Path("/tmp/x").write_text(...)``, ``os.path.join("/tmp",
name)`` or ``tempfile.gettempdir()`` joined to a fixed name, then written (opened for writing,
downloaded to, extracted into, copied to, saved to): the file outlives the invocation (the
next one in the environment finds it) and a hard-coded ``/tmp`` bypasses a private ``TMPDIR``
(the run-time /tmp watch cannot attribute it). Reading such a file, and the ``tempfile``
functions that make unique names (``mkstemp``, ``NamedTemporaryFile``,
``TemporaryDirectory``), are not findings; neither is anything module-level code (Init) does.
"""

from __future__ import annotations

import ast

from . import _catalogue as cat
from ._facts import relative_path, temp_path
from ._syntax import show

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._facts import Frame, Visit

__all__ = ["check_call"]

_PATH_KEYWORDS = ("file", "name", "filename", "Filename", "path", "dst", "path_or_buf", "fname")


def _argument(call: ast.Call, index: int, keywords: tuple[str, ...]) -> ast.expr | None:
    if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg in keywords), None)


def _writes(mode: ast.expr | None) -> bool:
    """Whether an ``open()`` mode (a constant) writes: ``w``, ``a``, ``x`` or ``+``."""
    return (
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and any(c in mode.value for c in "wax+")
    )


def _destination(visit: Visit, call: ast.Call, frame: Frame) -> ast.expr | None:
    """The path *call* writes to, when it is a call that writes to a path."""
    qualified = visit.module.qualify(call.func) or ""
    if qualified in cat.WRITE_MODES:
        mode = _argument(call, cat.WRITE_MODES[qualified], ("mode",))
        return _argument(call, 0, _PATH_KEYWORDS) if _writes(mode) else None
    if qualified in cat.WRITE_DESTINATIONS:
        return _argument(call, cat.WRITE_DESTINATIONS[qualified], _PATH_KEYWORDS)
    if not isinstance(call.func, ast.Attribute):
        return None
    method, receiver = call.func.attr, call.func.value
    if method in cat.PATH_WRITE_METHODS or (
        method == "open" and _writes(_argument(call, 0, ("mode",)))
    ):
        return receiver
    if method in cat.WRITE_METHODS:
        values = [*call.args, *(k.value for k in call.keywords)]
        found = next((v for v in values if temp_path(visit, v, frame) in ("dir", "path")), None)
        return found or _argument(call, cat.WRITE_METHODS[method], _PATH_KEYWORDS)
    return None


def check_call(visit: Visit, call: ast.Call, frame: Frame) -> None:
    """LS111 for a call that writes to a hard-coded temp path, or to a relative path once the
    code made the temp dir its working directory (``os.chdir("/tmp")``)."""
    destination = _destination(visit, call, frame)
    if destination is None:
        return
    if temp_path(visit, destination, frame) in ("dir", "path"):
        where = f"under a hard-coded temp path (`{show(destination)}`)"
    elif (
        visit.in_temp or (frame.in_temp is not None and call.lineno > frame.in_temp)
    ) and relative_path(visit, destination, frame):
        where = (
            f"to a relative path (`{show(destination)}`) after os.chdir() to the temp dir, "
            "so under a hard-coded temp path"
        )
    else:
        return
    visit.report(
        call,
        "LS111",
        f"`{show(call)}` {visit.where} writes {where}: the file outlives the invocation, so the "
        "next one in this execution environment finds it, and a fixed /tmp bypasses a private "
        "TMPDIR. Write per-invocation files under `request.tmpdir` (removed when the "
        "invocation ends), or files meant to last under `lambdascope.init_tmpdir('name')`",
    )
