"""Constructs of known holes of the guard that are still open (issues 19 and 27).

The suite's bounded fuzz run leaves these out, so it stays green while they are open and
fails on anything new; each has a named, strict-xfail regression test in
tests/runtime/test_guard_fuzz_regressions.py. When a hole is closed, remove its entry here
(and the xfail mark there): the bounded run then covers the construct again. A layout is
matched as ``layout/<name>`` (see guard_fuzz/layouts.py): the generator then picks another.
"""

from __future__ import annotations

import re

# construct pattern (a regular expression searched in the construct name) -> the issue item
KNOWN_HOLES: dict[str, str] = {}


def known_hole(construct: str) -> bool:
    return any(re.search(pattern, construct) for pattern in KNOWN_HOLES)
