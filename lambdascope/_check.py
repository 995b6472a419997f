"""The former home of the checker: :mod:`lambdascope.check` (its public names re-exported here).

``python -m lambdascope._check PATH...`` still runs ``lambdascope check``.
"""

from __future__ import annotations

import sys

from . import check as _check
from .check import *  # noqa: F403 - the same public names, on purpose

__all__ = _check.__all__

if __name__ == "__main__":  # pragma: no cover - run in a subprocess by the tests
    sys.exit(_check.main())
