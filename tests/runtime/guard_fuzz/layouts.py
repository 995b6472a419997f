"""Where a program's files go, and how it is imported: the layouts functions are deployed in.

Each layout is a folder written as a deployment would leave it, imported from there as Lambda
imports a function (its code folder first on ``sys.path``, the handler's module by name):

- ``module``: one handler module, ``fuzz_app.py``, alone in the folder;
- ``explicit``: the package ``fuzz_pkg/`` with ``@handler(modules=(__package__,))``;
- ``root``: the package in the folder, the guarded set chosen automatically (no ``modules=``);
- ``lambda``: the same with ``LAMBDA_TASK_ROOT`` set to the folder, as on Lambda;
- ``src``: ``src/fuzz_pkg/`` with a ``pyproject.toml`` above, ``src`` on ``sys.path``;
- ``layer``: a SAM tree: ``template.yaml``, the function's code in ``functions/orders/`` and a
  layer's code in ``layers/common/python/``, both on ``sys.path``;
- ``own_dist_info``: the function's own package installed with its ``*.dist-info`` (what
  ``pip install --target build/ .`` of a pyproject-based function leaves), with
  ``top_level.txt`` (setuptools) or, ``own_dist_info_record``, without (``RECORD`` only).

The project's files are every module the generator wrote except a library's (a fragment says
which files are a library's): that, not the guard's rules, is what the oracle watches.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .program import HANDLER_MODULE, MODULE, PACKAGE, PACKAGE_MODULES, Case, Tree

if TYPE_CHECKING:
    from .program import Program


@dataclass(frozen=True)
class Layout:
    name: str
    code: str = ""  # the folder on sys.path that holds the package (from the program's folder)
    layer: str = ""  # a layer's python folder, also on sys.path ("": none)
    markers: tuple[tuple[str, str], ...] = ()  # other files of the tree
    task_root: bool = False  # LAMBDA_TASK_ROOT is the code folder
    dist_info: str = ""  # "top_level": the package's own dist-info, with top_level.txt; "record"

    @property
    def automatic(self) -> bool:
        """The guarded set is chosen by the guard (no ``modules=``)."""
        return self.name != "explicit"


_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  CommonLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/common
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/orders
      Handler: fuzz_pkg.app.lambda_handler
      Runtime: python3.12
      Layers:
        - !Ref CommonLayer
"""
_PYPROJECT = '[project]\nname = "orders"\nversion = "1.0"\n'

LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout("module"),
        Layout("explicit"),
        Layout("root"),
        Layout("lambda", task_root=True),
        Layout("src", code="src", markers=(("pyproject.toml", _PYPROJECT),)),
        Layout(
            "layer",
            code="functions/orders",
            layer="layers/common/python",
            markers=(("template.yaml", _TEMPLATE),),
        ),
        Layout("own_dist_info", dist_info="top_level"),
        Layout("own_dist_info_record", dist_info="record"),
    )
}
#: The layouts of package programs, with how often the generator picks each.
PACKAGE_LAYOUTS = {
    "explicit": 3,
    "root": 3,
    "lambda": 1,
    "src": 1,
    "layer": 2,
    "own_dist_info": 1,
    "own_dist_info_record": 1,
}


def module_path(key: str, package: bool) -> str:
    """The path (from the code folder) of a fragment's module key."""
    if key == HANDLER_MODULE and not package:
        return f"{MODULE}.py"
    if key in PACKAGE_MODULES:
        return f"{PACKAGE}/{key}.py"
    return key.replace("$PKG", PACKAGE)


def dotted(path: str) -> str:
    """The module name of a ``.py`` path from a folder on ``sys.path``."""
    name = path[: -len(".py")].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def place(program: Program) -> Case:
    """*program* as files of its layout."""
    layout = LAYOUTS[program.layout]
    rendered = program.render()
    library: set[str] = set()
    extra: dict[str, str] = {}
    tables: list[tuple[str, str]] = []
    for fragment in program.fragments:
        library.update(fragment.library)
        extra.update(fragment.files)
        tables += [
            (dotted(module_path(key, program.package)), name) for key, name in fragment.tables
        ]
    code_files: dict[str, str] = {}
    for key, text in rendered.items():
        code_files[module_path(key, program.package)] = text
    for path, text in extra.items():
        code_files.setdefault(path.replace("$PKG", PACKAGE), text)
    _add_package_inits(code_files)
    files: dict[str, str] = {}
    project: set[str] = set()
    for path, text in code_files.items():
        where = _located(path, layout)
        files[where] = text
        if path.endswith(".py") and not any(path.startswith(lib) for lib in library):
            project.add(where)
    files.update(dict(layout.markers))
    if layout.dist_info:
        files.update(_own_dist_info(code_files, layout))
    paths = (layout.code,) + ((layout.layer,) if layout.layer else ())
    main = f"{PACKAGE}.{HANDLER_MODULE}" if program.package else MODULE
    env = (("LAMBDA_TASK_ROOT", _join("$ROOT", layout.code)),) if layout.task_root else ()
    tree = Tree(main, paths, frozenset(project), env, layout.name, tuple(tables))
    return Case(files, list(program.events), tree, program.constructs)


def _located(path: str, layout: Layout) -> str:
    if path.startswith("$LAYER/"):
        return _join(layout.layer or layout.code, path[len("$LAYER/") :])
    return _join(layout.code, path)


def _join(folder: str, path: str) -> str:
    return f"{folder}/{path}" if folder else path


def _add_package_inits(files: dict[str, str]) -> None:
    """Every folder under the package is a package too (``__init__.py``, empty)."""
    for path in list(files):
        parts = path.split("/")
        if parts[0] != PACKAGE:
            continue
        for depth in range(1, len(parts)):
            files.setdefault("/".join([*parts[:depth], "__init__.py"]), "")


def _own_dist_info(files: dict[str, str], layout: Layout) -> dict[str, str]:
    """The ``*.dist-info`` that ``pip install --target`` writes for the function's package."""
    folder = f"{PACKAGE}-1.0.dist-info"
    meta = {
        "METADATA": f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 1.0\n",
        "WHEEL": "Wheel-Version: 1.0\nGenerator: setuptools\nRoot-Is-Purelib: true\n",
        "INSTALLER": "pip\n",
        "direct_url.json": '{"dir_info": {}, "url": "file:///build/orders"}\n',
    }
    if layout.dist_info == "top_level":
        meta["top_level.txt"] = f"{PACKAGE}\n"
    lines = [
        f"{path},sha256={_digest(text)},{len(text.encode())}"
        for path, text in sorted(files.items())
        if path.startswith(f"{PACKAGE}/")
    ]
    lines += [f"{folder}/{name},," for name in sorted(meta)]
    lines.append(f"{folder}/RECORD,,")
    out = {_join(layout.code, f"{folder}/{name}"): text for name, text in meta.items()}
    out[_join(layout.code, f"{folder}/RECORD")] = "\n".join(lines) + "\n"
    return out


def _digest(text: str) -> str:
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
