"""``python -m lambdascope.check``: the same as ``lambdascope check``."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":  # pragma: no cover - run in a subprocess by the tests
    sys.exit(main())
