"""Handlers named by deployment files: SAM/CloudFormation, serverless.yml, CDK, Terraform, Docker.

Each reader returns :class:`Spec` values (``module.function`` relative to a base directory);
:func:`resolve` maps them to the checked ``*.py`` files. Files are only read, never run.
"""

from __future__ import annotations

import ast
import json
import os
import re
from typing import Any

from . import _yaml
from ._project import Unreadable, read_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["Spec", "cdk_specs", "is_deployment_file", "read_specs", "resolve"]

_MAX_BYTES = 2_000_000  # a deployment file is read up to this many bytes, never more

_FUNCTION_TYPES = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
_HANDLER = re.compile(r"^[\w./-]*\w\.[A-Za-z_]\w*$")
_TF_HANDLER = re.compile(r'^\s*handler\s*=\s*(?:"([^"$]+)"|var\.(\w+)|local\.(\w+))', re.MULTILINE)
_TF_DEFAULT = re.compile(r'(variable|locals)\s*"?(\w*)"?\s*\{(.*?)^\}', re.DOTALL | re.MULTILINE)
_TF_VALUE = re.compile(r'^\s*(\w+)\s*=\s*"([^"$]+)"', re.MULTILINE)
_TS_HANDLER = re.compile(r"""\bhandler\s*:\s*['"`]([\w./-]+\.\w+)['"`]""")
_DOCKER_CMD = re.compile(r"^\s*CMD\s+(.+?)\s*$", re.MULTILINE | re.IGNORECASE)


class Spec:
    """``module.function`` named as a handler by *source* (a deployment file) at *line*."""

    __slots__ = ("base", "exact", "function", "line", "module", "source")

    def __init__(
        self, source: str, line: int, base: str, handler: str, *, exact: bool = False
    ) -> None:
        module, _, self.function = handler.rpartition(".")
        self.module = module.replace(".", "/").strip("/")
        self.source, self.line, self.base, self.exact = source, line, base, exact

    def __repr__(self) -> str:
        return f"Spec({self.module}.{self.function} from {self.source}:{self.line})"


def is_deployment_file(name: str) -> bool:
    """Whether a file called *name* may name handlers (its text decides for YAML/JSON/TS)."""
    lower = name.lower()
    return (
        lower.endswith((".yaml", ".yml", ".json", ".tf"))
        or lower == "dockerfile"
        or lower.startswith("dockerfile.")
        or lower.endswith(".dockerfile")
        or (lower.endswith((".ts", ".js")) and not lower.endswith(".d.ts"))
    )


def _line(text: str, value: str) -> int:
    index = text.find(value)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _python_runtime(runtime: Any) -> bool:
    return not isinstance(runtime, str) or runtime.lower().startswith("python")


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def _cloudformation(path: str, text: str, data: Any) -> Iterator[Spec]:
    folder = os.path.dirname(path)
    defaults = _get(data, "Globals", "Function") or {}
    resources = _get(data, "Resources")
    if not isinstance(resources, dict) or not isinstance(defaults, dict):
        return
    for resource in resources.values():
        if not isinstance(resource, dict) or resource.get("Type") not in _FUNCTION_TYPES:
            continue
        props = {**defaults, **(resource.get("Properties") or {})}
        handler = props.get("Handler")
        if not _python_runtime(props.get("Runtime")):
            continue
        base, exact = folder, False
        if props.get("PackageType") == "Image":
            handler = (_get(props, "ImageConfig", "Command") or [None])[0]
            context = _get(resource, "Metadata", "DockerContext")
            if isinstance(context, str):
                base = os.path.normpath(os.path.join(folder, context))
        else:
            code = props.get("CodeUri") or props.get("Code")
            if isinstance(code, dict) and "ZipFile" in code:
                continue  # inline code: no file to check
            if isinstance(code, str) and not code.startswith("s3://"):
                candidate = os.path.normpath(os.path.join(folder, code))
                if os.path.isdir(candidate):
                    base, exact = candidate, True
        if isinstance(handler, str) and _HANDLER.match(handler):
            yield Spec(path, _line(text, handler), base, handler, exact=exact)


def _serverless(path: str, text: str, data: Any) -> Iterator[Spec]:
    folder = os.path.dirname(path)
    functions = _get(data, "functions")
    runtime = _get(data, "provider", "runtime")
    if not isinstance(functions, dict):
        return
    for function in functions.values():
        handler = _get(function, "handler")
        if not isinstance(handler, str) or not _HANDLER.match(handler):
            continue
        if not _python_runtime(_get(function, "runtime") or runtime):
            continue
        module = _get(function, "module")
        base = os.path.join(folder, module) if isinstance(module, str) else folder
        yield Spec(path, _line(text, handler), os.path.normpath(base), handler, exact=True)


def _text(path: str, root: str | None) -> str | None:
    """The start of a deployment file (regular files only, never through a link out of *root*)."""
    try:
        data = read_bytes(path, _MAX_BYTES, root=root, truncate=True)
    except Unreadable:
        return None
    return data.decode("utf-8", errors="replace")


def _terraform(path: str, text: str, root: str | None) -> Iterator[Spec]:
    folder = os.path.dirname(path)
    values: dict[str, str] = {}
    for name in sorted(os.listdir(folder or ".")):
        if name.endswith(".tf"):
            other = _text(os.path.join(folder, name), root)
            if other is None:
                continue
            for kind, var, body in _TF_DEFAULT.findall(other):
                for key, value in _TF_VALUE.findall(body):
                    if kind == "locals":
                        values[f"local.{key}"] = value
                    elif key == "default":
                        values[f"var.{var}"] = value
    for match in _TF_HANDLER.finditer(text):
        literal, var, local = match.groups()
        handler = literal or values.get(f"var.{var}" if var else f"local.{local}", "")
        if _HANDLER.match(handler):
            yield Spec(path, text.count("\n", 0, match.start()) + 1, folder, handler)


def _docker(path: str, text: str) -> Iterator[Spec]:
    for match in _DOCKER_CMD.finditer(text):
        command = match[1]
        try:
            words = json.loads(command) if command.startswith("[") else command.split()
        except ValueError:
            continue
        if words and isinstance(words[-1], str) and _HANDLER.match(words[-1]):
            line = text.count("\n", 0, match.start()) + 1
            yield Spec(path, line, os.path.dirname(path), words[-1])


def _cdk_root(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    probe = folder
    while True:
        if os.path.exists(os.path.join(probe, "cdk.json")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return folder
        probe = parent


def _imports_cdk(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.startswith("aws_cdk") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aws_cdk"):
            return True
    return False


def cdk_specs(path: str, tree: ast.Module) -> list[Spec]:
    """The handlers a CDK app in Python (*tree*, parsed from *path*, importing ``aws_cdk``)
    names."""
    return list(_cdk_python(path, tree))


def _cdk_python(path: str, tree: ast.Module) -> Iterator[Spec]:
    root = _cdk_root(path)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        words = {k.arg: k.value for k in node.keywords if k.arg}
        handler, index = words.get("handler"), words.get("index")
        if not (isinstance(handler, ast.Constant) and isinstance(handler.value, str)):
            continue
        value = handler.value
        if isinstance(index, ast.Constant) and isinstance(index.value, str):  # PythonFunction
            value = index.value.removesuffix(".py") + "." + value
        if _HANDLER.match(value):
            yield Spec(path, handler.lineno, root, value)


def read_specs(path: str, root: str | None = None) -> list[Spec]:  # noqa: PLR0911 - per kind
    """The handlers *path* names (empty when it is not a deployment file or is unreadable).

    Only regular files are read, only their first 2,000,000 bytes, and with *root* (a real
    path) never through a symbolic link leading out of it.
    """
    name = os.path.basename(path).lower()
    text = _text(path, root)
    if text is None:
        return []
    if name.endswith(".tf"):
        return list(_terraform(path, text, root))
    if name.endswith(".py"):
        if "aws_cdk" not in text:
            return []
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return []
        return cdk_specs(path, tree) if _imports_cdk(tree) else []
    if name.endswith((".ts", ".js")):
        if "aws-cdk" not in text:
            return []
        root = _cdk_root(path)
        return [Spec(path, _line(text, m[0]), root, m[1]) for m in _TS_HANDLER.finditer(text)]
    if "dockerfile" in name:
        return list(_docker(path, text))
    if "serverless" in name and "functions" in text:
        return list(_serverless(path, text, _load(name, text)))
    if any(t in text for t in _FUNCTION_TYPES):
        return list(_cloudformation(path, text, _load(name, text)))
    return []


def _load(name: str, text: str) -> Any:
    if name.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError:
            return None
    return _yaml.load(text)


def resolve(specs: Iterable[Spec], files: Iterable[str]) -> dict[str, dict[str, Spec]]:
    """``{file: {function: spec}}`` for the checked *files* the *specs* name."""
    by_suffix: dict[str, list[tuple[str, str]]] = {}  # "app.py" or "pkg/__init__.py" → files
    for file in files:
        full = os.path.abspath(file).replace(os.sep, "/")
        parts = full.rsplit("/", 2)
        key = "/".join(parts[-2:]) if parts[-1] == "__init__.py" else parts[-1]
        by_suffix.setdefault(key, []).append((file, full))
    found: dict[str, dict[str, Spec]] = {}
    for spec in specs:
        base = os.path.abspath(spec.base).replace(os.sep, "/") + "/"
        name = spec.module.rsplit("/", 1)[-1]
        for wanted, key in (
            (spec.module + ".py", name + ".py"),
            (spec.module + "/__init__.py", name + "/__init__.py"),
        ):
            for file, full in by_suffix.get(key, ()):
                if not full.startswith(base):
                    continue
                rel = full[len(base) :]
                if rel == wanted or (not spec.exact and rel.endswith("/" + wanted)):
                    found.setdefault(file, {}).setdefault(spec.function, spec)
    return found
