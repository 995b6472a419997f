"""The module-state guard: handler code must not write module-level state.

Around every invocation ``@handler`` checks that the handler did not write what outlives
it: module-level state of the guarded modules (this package) and files in the temp dir
(:mod:`._tmpwatch`). One idea per file:

``_watch``
    :class:`Guard`, the check around each invocation: the census on the first one, a fast
    check before and after every one, the report and the restore; its options.
``_census``
    what of each guarded module is watched (:class:`~._census.Space`) and the walk that
    snapshots it; lazy init one level down.
``_scan``
    the census' scan of what the code reads, for objects whose use can write them.
``_nodes``
    one watched object: its copy, comparison, description and restore.
``_kinds``
    what the guard knows about Python's types, as data and small predicates.
``_messages``
    the words of a leak message and the lines it points at.
``_leaklog``
    leak reports as structured log lines and metrics (``warn`` mode).
``_project``
    the project a handler belongs to: which modules are guarded, and why.
``_analysis``, ``_facts``, ``_visit``, ``_calls``, ``_tables``, ``_source``
    the static write analysis: which module-level names handler-time code can write
    (imported on the first invocation: it costs ``import ast``).
``_tmpwatch``, ``_inotify``, ``_writes``
    the /tmp watch; off Lambda, the paths this process writes (an audit hook).
``_redact``
    what a report may show of a key, a name or a file path: what the source writes.
"""

from __future__ import annotations

from ._kinds import innermost
from ._project import GuardedModule, caller_module
from ._tmpwatch import resolve_watch, tmp_paths, with_watch
from ._watch import MODES, Guard, resolve_mode

__all__ = [
    "MODES",
    "Guard",
    "GuardedModule",
    "caller_module",
    "innermost",
    "resolve_mode",
    "resolve_watch",
    "tmp_paths",
    "with_watch",
]
