"""What the whole-project guard tests share (issue 20): projects written into a root of their own.

A test copies a project from ``fixtures/`` (or writes one) into a fresh project root,
switches on the planted leaks it wants and imports it as Lambda would: the root first on
``sys.path``, bytecode compiled beforehand (as ``pip install`` and ``sam build`` leave it).
Every planted leak is a comment in the fixture's source::

    # LEAK(orders-append): RECENT.append(order.order_id)

which ``leaks=("orders-append",)`` turns into code. The project's modules, its root on
``sys.path`` and the environment are removed again after the test, so no project leaks into
the next one (they all call their package ``app``).
"""

from __future__ import annotations

import base64
import compileall
import functools
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import lambdascope

if TYPE_CHECKING:
    from collections.abc import Iterable

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LEAK_LINE = re.compile(r"^(?P<indent>[ \t]*)# LEAK\((?P<id>[\w-]+)\): (?P<code>.*)$", re.MULTILINE)


def planted_leaks(fixture: str) -> dict[str, str]:
    """Every planted leak of a fixture project: its id and the module it is written in."""
    found = {}
    for path in sorted((FIXTURES / fixture).rglob("*.py")):
        parts = path.relative_to(FIXTURES / fixture).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for match in LEAK_LINE.finditer(path.read_text(encoding="utf-8")):
            found[match["id"]] = module
    return found


@functools.cache
def _real_path(file: str) -> str:
    """A module file's real path (asked for every module in ``sys.modules``, again and again)."""
    return os.path.realpath(file)


def _inside(module: object, root: Path) -> bool:
    file = getattr(module, "__file__", None)
    return bool(file) and _real_path(file).startswith(os.path.join(root, ""))


def _describe(value: Any, root: Path) -> object:
    """What a module-level value holds, for comparing a module before and after an invocation."""
    if isinstance(value, (types.ModuleType, lambdascope.InitResource)):
        return None  # a lazy import and a resource created on first use are Init work
    if isinstance(value, types.FunctionType):
        return repr((value.__defaults__, value.__kwdefaults__))
    if isinstance(value, type):
        if not _inside(sys.modules.get(value.__module__), root):
            return None
        return repr(sorted(vars(value).items()))
    if _inside(sys.modules.get(type(value).__module__), root) and hasattr(value, "__dict__"):
        return repr(sorted(vars(value).items()))
    return repr(value)


class Project:
    """A project written into a root of its own and importable from there."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def import_module(self, name: str) -> Any:
        """Import *name* from the project (Init)."""
        return importlib.import_module(name)

    def loaded(self) -> dict[str, types.ModuleType]:
        """The project's modules imported so far, by name."""
        return {
            name: module
            for name, module in list(sys.modules.items())
            if module is not None and _inside(module, self.root)
        }

    def file(self, name: str) -> str:
        """The file module *name* was loaded from."""
        return str(sys.modules[name].__file__)

    def state(self) -> dict[str, dict[str, object]]:
        """Every module-level binding of every loaded project module: identity and contents."""
        return {
            name: {
                key: (id(value), _describe(value, self.root))
                for key, value in vars(module).items()
                if not key.startswith("__") and not isinstance(value, types.ModuleType)
            }
            for name, module in self.loaded().items()
        }

    def state_of(self, names: Iterable[str]) -> dict[str, dict[str, object]]:
        """:meth:`state` of the modules *names* only."""
        state = self.state()
        return {name: state[name] for name in names}


def _switch_on(root: Path, leaks: tuple[str, ...]) -> None:
    found: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")

        def activate(match: re.Match[str]) -> str:
            if match["id"] not in leaks:
                return match[0]
            found.add(match["id"])
            return f"{match['indent']}{match['code']}"

        path.write_text(LEAK_LINE.sub(activate, text), encoding="utf-8")
    missing = set(leaks) - found
    if missing:
        raise ValueError(f"no planted leak {sorted(missing)} in {root}")


def _set_options(root: Path, handler_file: str, options: str) -> None:
    path = root / handler_file
    text = path.read_text(encoding="utf-8")
    if text.count("\n@handler\n") != 1:
        raise ValueError(f"{handler_file} needs exactly one bare `@handler` line")
    path.write_text(text.replace("\n@handler\n", f"\n@handler({options})\n"), encoding="utf-8")


class ProjectMaker:
    """Writes projects into fresh roots under *base*; see the ``make_project`` fixture."""

    def __init__(self, base: Path) -> None:
        self.base = base.resolve()
        self.roots: list[Path] = []
        self.saved_path = list(sys.path)
        self.saved_modules = set(sys.modules)

    def forget(self) -> None:
        """Take every project written so far off ``sys.path`` and out of ``sys.modules``."""
        sys.path[:] = self.saved_path
        for name, module in list(sys.modules.items()):
            if name not in self.saved_modules and _inside(module, self.base):
                del sys.modules[name]
        importlib.invalidate_caches()

    def __call__(
        self,
        fixture: str | None = None,
        *,
        files: dict[str, str] | None = None,
        leaks: tuple[str, ...] = (),
        options: str | None = None,
        handler_file: str = "app/handler.py",
        web_common: str | None = None,
    ) -> Project:
        self.forget()
        root = self.base / f"project-{len(self.roots)}"
        self.roots.append(root)
        ignore = shutil.ignore_patterns("__pycache__")
        if fixture is not None:
            shutil.copytree(FIXTURES / fixture, root, ignore=ignore)
        if web_common is not None:  # the web apps' models, settings and clients, into a package
            shutil.copytree(
                FIXTURES / "web_common", root / web_common, ignore=ignore, dirs_exist_ok=True
            )
        root.mkdir(exist_ok=True)
        for name, source in (files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
        _switch_on(root, leaks)
        if options is not None:
            _set_options(root, handler_file, options)
        compileall.compile_dir(root, quiet=1)
        sys.path.insert(0, str(root))
        return Project(root)


def allow_suggested(message: str, owner: str, variable: str, names: Iterable[str]) -> str:
    """Check that a ScopeLeakError's *message* names the leak; return its ``allow=(...)``.

    The message must name the module *owner*, the file it was loaded from, the variable and
    suggest ``allow=`` with one of *names* (a working suggestion is checked by the caller).
    """
    assert f"module '{owner}'" in message, message
    assert str(sys.modules[owner].__file__) in message, message
    assert f"`{variable}" in message, message
    found = re.search(r"allow=\((?P<names>'[^)]*',)\)", message)
    assert found is not None, message
    assert any(found["names"] == f"{name!r}," for name in names), message
    return found[0]


def guarded(lambda_handler: Any) -> dict[str, Any]:
    """``lambdascope.guarded_modules(lambda_handler)`` by module name."""
    records = lambdascope.guarded_modules(lambda_handler)  # type: ignore[attr-defined]
    return {record.name: record for record in records}


def pip_install(target: Path, *arguments: str) -> None:
    """``pip install --target target arguments`` from the package index; the test is skipped
    when there is none."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--target", str(target), *arguments],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.skip(f"pip install {' '.join(arguments)} failed: {done.stderr[-800:]}")


def write_dist_info(
    root: Path, name: str, version: str, files: list[str], *, top_level: bool = True
) -> Path:
    """Write ``<name>-<version>.dist-info`` for *files* (relative to *root*) as ``pip install
    -t`` leaves it: METADATA, WHEEL, INSTALLER, a RECORD with sha256 and size of every file,
    and ``top_level.txt`` (which wheels built by setuptools carry, others not).
    """
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name}\n"
    )
    (info / "WHEEL").write_text(
        "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )
    (info / "INSTALLER").write_text("pip\n")
    if top_level:
        tops = sorted({Path(file).parts[0].removesuffix(".py") for file in files})
        (info / "top_level.txt").write_text("\n".join(tops) + "\n")
    lines = []
    for file in [*files, *sorted(f"{info.name}/{p.name}" for p in info.iterdir())]:
        data = (root / file).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{file},sha256={digest},{len(data)}")
    lines.append(f"{info.name}/RECORD,,")
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return info


_COLD_START = """
import json, sys
from lambdascope.redirect import handler
try:
    handler(json.loads(sys.stdin.read()), None)
except Exception as exc:
    print("FAILED", type(exc).__name__)
"""


def cold_start(
    root: Path,
    setting: str,
    event: dict[str, Any],
    *,
    python: str = sys.executable,
    environ: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The cold-start report of one invocation in a fresh process, as on Lambda: the
    function's code in task root *root*, its handler setting *setting* served through the
    redirect (``LAMBDASCOPE_HANDLER``), as the layer's exec wrapper does. Under another
    interpreter *python*, lambdascope comes from this checkout."""
    lambdascope_folder = str(Path(lambdascope.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "LAMBDA_TASK_ROOT": str(root),
        "LAMBDASCOPE_HANDLER": setting,
        "LAMBDASCOPE_COLD_START_REPORT": "1",
        "PYTHONPATH": os.pathsep.join([str(root), lambdascope_folder]),
        **(environ or {}),
    }
    done = subprocess.run(
        [python, "-c", _COLD_START],
        input=json.dumps(event),
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    reports = [line for line in done.stdout.splitlines() if "lambdascope cold start report" in line]
    assert reports, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(reports[0])
    return report


def handler_project(
    make_project: ProjectMaker,
    modules: dict[str, str],
    body: str,
    imports: str,
    decorator: str = "@handler",
) -> tuple[Project, Any]:
    """Write package ``app``: its *modules* (``{"app/models.py": source}``) and the handler
    module ``app/handler.py`` that runs *body* (dedented, one level in) after *imports*;
    import it and return the project and its ``lambda_handler``."""
    lines = "\n".join(f"    {line}" for line in textwrap.dedent(body).strip().splitlines())
    handler = f"from lambdascope import handler\n\n{imports}\n\n\n{decorator}\n"
    handler += f"def lambda_handler(event, context):\n{lines}\n"
    project = make_project(files={"app/__init__.py": "", **modules, "app/handler.py": handler})
    return project, project.import_module("app.handler").lambda_handler
