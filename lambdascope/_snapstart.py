"""SnapStart: hooks run before the snapshot and after each restore.

With SnapStart, Init runs once, the memory is snapshotted, and many execution
environments are restored from that snapshot. Network connections made during
Init are not valid after a restore, and random state made during Init is the
same in every restored environment. Resources say what to do with
``init_resource(on_restore="keep" | "recreate" | callable)``.
"""

from __future__ import annotations

from . import _resources
from ._state import state

__all__ = ["after_restore", "before_snapshot", "register_snapstart_hooks"]

_registered = False


def before_snapshot() -> None:
    """Close and drop every resource declared ``on_restore="recreate"``, newest first.

    Newest first, as :func:`lambdascope.shutdown` does: a resource built from
    another is closed before the one it depends on.
    """
    _resources.before_snapshot()


def after_restore() -> None:
    """Start a new environment: fresh counters, then re-create or notify resources."""
    state.after_restore()
    _resources.after_restore()


def register_snapstart_hooks() -> bool:
    """Register lambdascope's hooks with ``snapshot_restore_py``.

    Done automatically at import when ``AWS_LAMBDA_INITIALIZATION_TYPE`` is
    ``snap-start``. Off Lambda, tests can call it and then run the recorded
    hooks (``snapshot_restore_py.get_before_snapshot()`` /
    ``get_after_restore()``) to simulate a snapshot and a restore. Returns
    ``False`` when already registered or when ``snapshot_restore_py`` is not
    installed.
    """
    global _registered
    if _registered:
        return False
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    _registered = True
    return True
