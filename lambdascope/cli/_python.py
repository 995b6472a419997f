"""Python interpreters of a Lambda runtime's version, for ``--python X.Y`` (``layer build``
compiles the layer's bytecode with one, ``analyse`` runs the analysis under one): this
interpreter, ``pythonX.Y`` on ``PATH``, or one installed by pyenv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

__all__ = ["check_version", "find_python", "this_version"]

_VERSION = re.compile(r"3\.(\d+)")


def this_version() -> str:
    """This interpreter's version, ``3.12``."""
    return "{}.{}".format(*sys.version_info[:2])


def check_version(version: str) -> str:
    """*version* (``3.12``) when it is a Python version Lambda runs (3.9 and later).

    Raises:
        ValueError: it is not: a message for ``--python``.
    """
    match = _VERSION.fullmatch(version)
    if match is None or int(match.group(1)) < 9:
        raise ValueError(
            f"--python {version!r} is not a Python version Lambda runs: give 3.9 or later, "
            "as in the function's runtime (python3.12 -> --python 3.12)"
        )
    return version


def _is_version(python: str, version: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def find_python(version: str) -> str | None:
    """An interpreter of *version* (``3.12``): this one, ``python3.12`` on ``PATH``, or
    pyenv's (the newest patch release first); None when there is none."""
    if version == this_version():
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    versions = os.path.join(pyenv, "versions")
    if os.path.isdir(versions):
        installed = [
            v for v in os.listdir(versions) if re.fullmatch(rf"{re.escape(version)}\.\d+", v)
        ]
        for name in sorted(installed, key=lambda v: int(v.rsplit(".", 1)[1]), reverse=True):
            candidates.append(os.path.join(versions, name, "bin", "python"))
    for candidate in candidates:
        if candidate is not None and _is_version(candidate, version):
            return candidate
    return None
