"""The ``lambdascope`` command: ``invoke`` a handler locally, ``check`` handler modules.

``python -m lambdascope``, ``python -m lambdascope.cli`` and the ``lambdascope`` console
script all land in :func:`main`. Exit status: 0 success, 1 a failed Init or invocation
(``invoke``) or a finding (``check``), 2 a usage error.
"""

from __future__ import annotations

from ._commands import build_parser, main

__all__ = ["build_parser", "main"]
