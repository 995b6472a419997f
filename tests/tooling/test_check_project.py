"""The checker's project model (``lambdascope.check._project``): module discovery, bounded
reading and import resolution, with the small API the runtime core is to take over. It must
stay free of everything else in lambdascope and of anything outside the standard library.
"""

from __future__ import annotations

import ast
import os
import sys
import textwrap
from pathlib import Path

import pytest

from lambdascope import _layout
from lambdascope.check import _project
from lambdascope.check._project import (
    ImportRef,
    ProjectModel,
    Unreadable,
    decode_source,
    discover,
    read_bytes,
)

SOURCE = Path(_project.__file__)
# What the module may import (all standard library, on every supported Python).
ALLOWED = {"__future__", "ast", "collections", "dataclasses", "fnmatch", "io", "os", "stat"}
ALLOWED |= {"tokenize", "typing", "collections.abc"}


def _imported(source: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import: the module must stand alone"
            imported.add(node.module or "")
    return imported


def test_the_project_model_depends_on_the_standard_library_and_the_shared_rules_only() -> None:
    """The checker's model reads files with the standard library alone; which files are the
    project's code it takes from the runtime core's rules, the guard's (``_layout``), which
    themselves depend on ``os`` only."""
    imported = _imported(SOURCE)
    assert "lambdascope._layout" in imported
    imported.discard("lambdascope._layout")
    assert imported <= ALLOWED, imported - ALLOWED
    assert _imported(Path(_layout.__file__)) <= {"__future__", "os"}
    if sys.version_info >= (3, 10):
        assert all(name.split(".")[0] in sys.stdlib_module_names for name in imported)


def model(tmp_path: Path, files: dict[str, str], roots: tuple[str, ...] = ("",)) -> ProjectModel:
    trees = {}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        trees[str(path)] = ast.parse(path.read_text())
    return ProjectModel(trees, [str(tmp_path / r) for r in roots])


def test_imports_relative_imports_and_re_exports(tmp_path: Path) -> None:
    m = model(
        tmp_path,
        {
            "svc/__init__.py": "from .core import start as begin\nfrom . import routes\n",
            "svc/core.py": "def start(): pass\nclass Runner: pass\n",
            "svc/routes/__init__.py": "",
            "svc/routes/orders.py": "from ..core import Runner\nfrom .. import core\n",
            "app.py": "import svc\nimport svc.core as c\nfrom svc import begin, routes\n"
            "from svc.routes import orders\nimport json\n",
        },
    )
    app, orders = str(tmp_path / "app.py"), str(tmp_path / "svc" / "routes" / "orders.py")
    core = str(tmp_path / "svc" / "core.py")
    assert m.imports(app)["c"] == ImportRef(0, "svc.core")
    assert m.imports(orders)["Runner"] == ImportRef(2, "core.Runner")
    assert m.imports(orders)["Runner"].qualified == "..core.Runner"
    assert m.locate(app, "begin") == (core, "start")  # re-exported under another name
    assert m.locate(app, "svc.begin") == (core, "start")
    assert m.locate(app, "c.Runner") == (core, "Runner")
    assert m.locate(app, "svc") == (str(tmp_path / "svc" / "__init__.py"), "")
    assert m.locate(app, "orders.x") == (orders, "x")
    assert m.locate(app, "routes") == (str(tmp_path / "svc" / "routes" / "__init__.py"), "")
    assert m.locate(orders, "Runner") == (core, "Runner")
    assert m.locate(orders, "core.start") == (core, "start")
    assert m.locate(app, "json.dumps") is None  # not the project's
    assert m.locate(app, "unknown") is None
    assert m.imports(str(tmp_path / "elsewhere.py")) == {}
    assert m.relative(orders) == "svc/routes/orders.py"


def test_layers_are_importable_from_functions(tmp_path: Path) -> None:
    m = model(
        tmp_path,
        {
            "layers/common/python/shared.py": "def table(): pass\n",
            "layers/db_layer/dbutil/__init__.py": "def connect(): pass\n",
            "functions/a/app.py": "import shared\nfrom dbutil import connect\n",
        },
    )
    app = str(tmp_path / "functions" / "a" / "app.py")
    assert m.locate(app, "shared.table") == (
        str(tmp_path / "layers" / "common" / "python" / "shared.py"),
        "table",
    )
    assert m.locate(app, "connect") == (
        str(tmp_path / "layers" / "db_layer" / "dbutil" / "__init__.py"),
        "connect",
    )


def test_read_bytes_reads_regular_files_within_bounds(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n" * 10)
    assert read_bytes(str(path), 60) == b"x = 1\n" * 10
    with pytest.raises(Unreadable, match="60 bytes, more than the 59-byte limit") as info:
        read_bytes(str(path), 59)
    assert info.value.too_large
    assert read_bytes(str(path), 6, truncate=True) == b"x = 1\n"
    with pytest.raises(Unreadable, match="a directory, not a regular file"):
        read_bytes(str(tmp_path), 60)
    with pytest.raises(Unreadable, match="cannot read the file: No such file"):
        read_bytes(str(tmp_path / "missing.py"), 60)
    os.symlink(path, tmp_path / "link.py")
    inside = os.path.realpath(tmp_path)
    assert read_bytes(str(tmp_path / "link.py"), 60, root=inside) == path.read_bytes()
    with pytest.raises(Unreadable, match="outside the checked tree"):
        read_bytes(str(tmp_path / "link.py"), 60, root=os.path.join(inside, "sub"))


def test_decode_source_reads_as_python_does() -> None:
    assert decode_source(b"# -*- coding: latin-1 -*-\nx = '\xe9'\r\n") == (
        "# -*- coding: latin-1 -*-\nx = '\u00e9'\n"
    )
    assert decode_source(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"
    with pytest.raises(UnicodeDecodeError):
        decode_source(b"x = 1\ny = 2\nz = '\xe9'\n")
    with pytest.raises(SyntaxError, match="invalid or missing encoding declaration"):
        decode_source(b"x = '\xe9'\n")  # in the first two lines: the declaration is checked
    with pytest.raises(SyntaxError):
        decode_source(b"# coding: no-such-codec\n")


def test_discover_walks_the_project_and_skips_what_is_not_its_code(tmp_path: Path) -> None:
    for name in (
        "app.py",
        "template.yaml",
        "notes.txt",
        ".venv/lib/x.py",
        "node_modules/x.py",
        "requests/api.py",  # vendored without its dist-info
        "package/lib/x.py",
        "env/lib/y.py",
        "scripts/gen.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "package" / "lib-1.0.dist-info").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("")
    found = discover([str(tmp_path)], ["scripts"], lambda name: name.endswith(".yaml"))
    assert [os.path.relpath(p, tmp_path) for p in found.sources] == ["app.py"]
    assert [os.path.relpath(p, tmp_path) for p in found.others] == ["template.yaml"]
    assert found.refused == []
    assert found.root_of[str(tmp_path / "app.py")] == os.path.realpath(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        discover([str(tmp_path / "missing")])
    with pytest.raises(ValueError, match="not a Python file"):
        discover([str(tmp_path / "notes.txt")])
