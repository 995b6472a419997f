"""A differential fuzzer for the module-state guard (issue 19).

`generator` makes random handler programs, `oracle` says what an invocation changed (written
from docs/guard.md, sharing nothing with the guard), `runner` runs a program under the default
``@handler`` and judges each invocation, `reduce` shrinks a failing program, `campaign` runs
many programs and tallies what it found (``python3 tasks.py fuzz``).
"""
