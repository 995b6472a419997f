"""Which files of a function's tree are the project's own code: one set of rules for the guard
(which loaded modules it watches: ``_guard._project``) and for ``lambdascope check`` (which files
it reads: ``check._project``), so that both call the same code the user's.

Not the project's code: test modules (``test_*.py``, ``*_test.py``, ``conftest.py``, anything
under a ``tests`` folder), folders of tools and environments (hidden ones, ``__pycache__``,
``node_modules``, ``cdk.out``, ``site-packages``, ``dist-packages``, ``venv`` and any folder
holding a ``pyvenv.cfg``), and libraries commonly vendored into a function or a layer without
their ``*.dist-info`` (:data:`VENDORED`: a top-level folder of the tree, never a subpackage of
the project's that happens to share the name). Installed distributions (with a
``*.dist-info``), library folders told by what they hold (:func:`library_folder`) and test
modules told by what uses them are the guard's own rules, since only the running code knows
its import path and its imports.

Imports nothing beyond :mod:`os`: the guard reads it on the first invocation.
"""

from __future__ import annotations

import os

__all__ = [
    "LIBRARY_DIRS",
    "SKIPPED_DIRS",
    "VENDORED",
    "import_root",
    "is_test_file",
    "library_folder",
    "relative_import",
    "skipped_dir",
    "test_location",
    "test_name",
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
    named as one (:func:`test_name`) or where tests are (:func:`test_location`)."""
    return test_location(relative) or test_name(relative.rpartition("/")[2])


def test_location(relative: str) -> bool:
    """Whether the ``/``-separated *relative* path is where tests are, whatever its name:
    ``conftest.py`` or a module under a ``tests`` folder."""
    parts = relative.split("/")
    return parts[-1].startswith("conftest") or "tests" in parts[:-1]


def test_name(name: str) -> bool:
    """Whether file *name* is named as pytest collects test modules: ``test_*.py``,
    ``*_test.py``. (A name alone: production code is named so too, ``ab_test.py``.)"""
    return name.startswith("test_") or name.endswith("_test.py")


def skipped_dir(parent: str, name: str, *, top: bool) -> bool:
    """Whether folder *name* in *parent* holds no project code: hidden, a tool's or an
    environment's folder, or (*top*: a folder at the top of the tree) a vendored library."""
    if name.startswith(".") or name in SKIPPED_DIRS or (top and name in VENDORED):
        return True
    return os.path.exists(os.path.join(parent, name, "pyvenv.cfg"))


def import_root(folder: str, tree: str) -> bool:
    """Whether *folder*, walked from the top of the tree *tree*, is where imports start on
    Lambda: the tree's top (the task root) or a layer's ``python`` folder."""
    return folder == tree or os.path.basename(folder.rstrip(os.sep)) == "python"


#: What only a library's folder holds: the PEP 561 marker, compiled extension modules, stubs,
#: its licence.
LIBRARY_FILES = ("py.typed",)
LIBRARY_SUFFIXES = (".so", ".pyd", ".pyi")
LICENSE_NAMES = ("license", "licence", "copying")


def library_folder(path: str) -> bool:
    """Whether the package folder *path* is a library's by what it holds, with or without its
    ``*.dist-info``: a ``py.typed`` marker, compiled extension modules (``*.so``, ``*.pyd``),
    stub files (``*.pyi``) or a licence file (``LICENSE``, ``COPYING``...). (Read with one
    directory listing.)"""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return any(
        name in LIBRARY_FILES
        or name.endswith(LIBRARY_SUFFIXES)
        or name.lower().startswith(LICENSE_NAMES)
        for name in names
    )


def relative_import(package: str, level: int, module: str) -> str:
    """The absolute name that ``from <level dots><module> import ...`` names in *package*
    (``""`` and ``module`` alone when *level* is 0)."""
    if not level:
        return module
    base = package.split(".") if package else []
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)
