"""The ``lambdascope`` console script: the command line of the lambdascope installed here.

A folder on ``PYTHONPATH`` that holds another ``lambdascope`` package shadows the installed
one: the layer's trimmed copy, unpacked to try it locally, has no command line
(``PYTHONPATH=/tmp/opt/python lambdascope invoke ... --runtime awslambdaric`` died with ``No
module named 'lambdascope.cli'``). This module is installed beside the ``lambdascope`` package
(in the wheel, and in the project folder for an editable install) and loads that one first,
whatever ``PYTHONPATH`` says. Only this process's ``lambdascope`` is chosen so: the handler's
modules, and the runtime client's process with its ``PYTHONPATH`` as given, are untouched, so
the function runs under the layer's copy.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]

_PACKAGE = "lambdascope"


def _load_the_installed_package() -> None:
    """Import the ``lambdascope`` package beside this file as ``lambdascope``: this folder
    first on ``sys.path`` for that one import (its submodules then come from the package)."""
    if _PACKAGE in sys.modules:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.isdir(os.path.join(here, _PACKAGE, "cli")):  # pragma: no cover - not beside
        return
    sys.path.insert(0, here)
    try:
        __import__(_PACKAGE)
    finally:
        sys.path.remove(here)


def main() -> int:
    """Run ``lambdascope`` with ``sys.argv``; return its exit status."""
    _load_the_installed_package()
    from lambdascope.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
