"""The former home of the checker: :mod:`lambdascope.check` (names re-exported here).

``python -m lambdascope._check PATH...`` still runs ``lambdascope check``.
"""

from __future__ import annotations

import sys

from .check import (
    RULES,
    CheckError,
    Finding,
    Rule,
    add_arguments,
    check_paths,
    check_source,
    configure_parser,
    main,
    run,
)

__all__ = [
    "RULES",
    "CheckError",
    "Finding",
    "Rule",
    "add_arguments",
    "check_paths",
    "check_source",
    "configure_parser",
    "main",
    "run",
]

if __name__ == "__main__":  # pragma: no cover - run in a subprocess by the tests
    sys.exit(main())
