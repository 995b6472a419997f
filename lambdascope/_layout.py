"""Which files of a function's tree are the project's own code: one set of rules for the guard
(which loaded modules it watches: ``_guard._project``) and for ``lambdascope check`` (which files
it reads: ``check._project``), so that both call the same code the user's.

Not the project's code: test modules (``test_*.py``, ``*_test.py``, ``conftest.py``, anything
under a ``tests`` folder), folders of tools and environments (hidden ones, ``__pycache__``,
``node_modules``, ``cdk.out``, ``site-packages``, ``dist-packages``, ``venv`` and any folder
holding a ``pyvenv.cfg``), and libraries commonly vendored into a function or a layer without
their ``*.dist-info`` (:data:`VENDORED`). Installed distributions (with a ``*.dist-info``) are
the guard's own rule, since only the running code knows its import path.

Imports nothing beyond :mod:`os`: the guard reads it on the first invocation.
"""

from __future__ import annotations

import os

__all__ = [
    "LIBRARY_DIRS",
    "SKIPPED_DIRS",
    "VENDORED",
    "is_test_file",
    "relative_import",
    "skipped_dir",
]

#: Where installers put libraries.
LIBRARY_DIRS = frozenset({"site-packages", "dist-packages"})

SKIPPED_DIRS = LIBRARY_DIRS | {"__pycache__", "node_modules", "cdk.out", "venv"}

#: Libraries often vendored into a function or layer without their ``*.dist-info``.
VENDORED = frozenset(
    {
        "aws_lambda_powertools",
        "boto3",
        "botocore",
        "certifi",
        "charset_normalizer",
        "dateutil",
        "idna",
        "jmespath",
        "pika",
        "pydantic",
        "pydantic_core",
        "pymysql",
        "psycopg2",
        "redis",
        "requests",
        "s3transfer",
        "urllib3",
        "yaml",
    }
)


def is_test_file(relative: str) -> bool:
    """Whether the ``/``-separated *relative* path (from the project's root) is a test module:
    ``test_*.py``, ``*_test.py``, ``conftest.py``, or a module under a ``tests`` folder."""
    parts = relative.split("/")
    name = parts[-1]
    return (
        name.startswith(("test_", "conftest"))
        or name.endswith("_test.py")
        or ("tests" in parts[:-1])
    )


def skipped_dir(parent: str, name: str) -> bool:
    """Whether folder *name* in *parent* holds no project code: hidden, a tool's or an
    environment's folder, a vendored library."""
    if name.startswith(".") or name in SKIPPED_DIRS or name in VENDORED:
        return True
    return os.path.exists(os.path.join(parent, name, "pyvenv.cfg"))


def relative_import(package: str, level: int, module: str) -> str:
    """The absolute name that ``from <level dots><module> import ...`` names in *package*
    (``""`` and ``module`` alone when *level* is 0)."""
    if not level:
        return module
    base = package.split(".") if package else []
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)
