"""``lambdascope layer build``: a Lambda layer of lambdascope and its exec wrapper.

The zip holds what a function needs at run time and nothing else::

    lambdascope-wrapper                    the exec wrapper (/opt/lambdascope-wrapper), 0755
    python/lambdascope/...                 the runtime core (/opt/python is on sys.path)
    python/lambdascope/__pycache__/...     its bytecode for the chosen Python version

The developer tooling (``lambdascope.testing``, ``lambdascope.cli``, ``lambdascope.check``)
stays out. Bytecode is included because ``/opt`` is read-only on Lambda: without it, every
cold start would compile lambdascope's sources again. It is compiled by an interpreter of
the chosen version, hash-based and unchecked (no timestamps), in a fresh process.

The zip is reproducible: the same sources and Python version give the same bytes
(entries sorted, fixed timestamps and permissions, a fixed compression level).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._python import check_version, find_python, this_version

if TYPE_CHECKING:
    import argparse

__all__ = ["WRAPPER", "Layer", "build_layer", "configure_parser"]

#: Where the exec wrapper lands in the layer, and so under /opt.
WRAPPER = "lambdascope-wrapper"
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_WRAPPER_SOURCE = "exec-wrapper"  # the script, as package data
_TOOLING = frozenset({"testing", "cli", "check"})  # developer tooling: not for a function
_LEFT_OUT = frozenset({"__main__.py"})
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry

# Run by the target interpreter: compile each source to hash-based, unchecked bytecode under
# the name that interpreter's import system looks for; print {archive name: file written}.
_COMPILE = """
import importlib.util, json, os, py_compile, sys
out, jobs, written = sys.argv[1], json.load(sys.stdin), {}
for source, name in jobs:
    cached = importlib.util.cache_from_source(name)
    py_compile.compile(
        source, cfile=os.path.join(out, cached), dfile="/opt/" + name, doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    written[cached] = os.path.join(out, cached)
json.dump(written, sys.stdout)
"""


@dataclass(frozen=True)
class Layer:
    """A layer zip that was written.

    Attributes:
        path: the zip file.
        python: the Python version its bytecode is for (``None`` without bytecode).
        files: how many files it holds.
        size: its size in bytes.
        sha256: its SHA-256, hex.
    """

    path: str
    python: str | None
    files: int
    size: int
    sha256: str


def _sources() -> list[tuple[str, str]]:
    """``(archive name, file)`` of the runtime core's sources, sorted."""
    found = []
    for folder, dirs, files in os.walk(_PACKAGE):
        relative = os.path.relpath(folder, _PACKAGE)
        if relative == ".":
            dirs[:] = sorted(d for d in dirs if d not in _TOOLING and d != "__pycache__")
        else:
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            if name in _LEFT_OUT or not (name.endswith(".py") or name == "py.typed"):
                continue
            parts = [] if relative == "." else relative.split(os.sep)
            found.append(
                ("/".join(["python", "lambdascope", *parts, name]), os.path.join(folder, name))
            )
    return sorted(found)


def _bytecode(python: str, sources: list[tuple[str, str]]) -> dict[str, bytes]:
    """``{archive name: bytes}`` of the sources' bytecode, compiled by *python*."""
    with tempfile.TemporaryDirectory(prefix="lambdascope-layer-") as out:
        # Hash randomisation off: the order of set constants in the bytecode must not vary.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONHASHSEED"] = "0"
        done = subprocess.run(
            [python, "-s", "-c", _COMPILE, out],
            input=json.dumps([[path, name] for name, path in sources if name.endswith(".py")]),
            capture_output=True,
            text=True,
            check=False,
            cwd=out,
            env=env,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{python} could not compile lambdascope's sources:\n{done.stderr.strip()}"
            )
        written: dict[str, str] = json.loads(done.stdout)
        found = {}
        for name, path in written.items():
            with open(path, "rb") as file:
                found[name] = file.read()
        return found


def _entry(name: str, executable: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the permissions below are read
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    return info


def build_layer(output: str, python: str | None) -> Layer:
    """Write the layer zip to *output*, with bytecode for Python *python* (``None``: none).

    Raises:
        ValueError: *python* is not a Python version Lambda runs (``3.9`` and later), or
            no interpreter of that version is at hand to compile the bytecode.
        RuntimeError: that interpreter could not compile the sources.
        OSError: *output* cannot be written.
    """
    if python is not None:
        check_version(python)
    sources = _sources()
    contents: dict[str, bytes] = {}
    for name, path in sources:
        with open(path, "rb") as file:
            contents[name] = file.read()
    if python is not None:
        interpreter = find_python(python)
        if interpreter is None:
            raise ValueError(
                f"no Python {python} found (python{python} on PATH, or pyenv's) to compile "
                f"lambdascope's bytecode for it: run `python{python} -m lambdascope layer "
                "build`, or add --no-compile for a layer without bytecode"
            )
        contents.update(_bytecode(interpreter, sources))
    with open(os.path.join(_PACKAGE, _WRAPPER_SOURCE), "rb") as file:
        wrapper = file.read()
    folder = os.path.dirname(os.path.abspath(output))
    fd, temporary = tempfile.mkstemp(prefix=".lambdascope-layer-", suffix=".zip", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            archive.writestr(_entry(WRAPPER, executable=True), wrapper, compresslevel=9)
            for name in sorted(contents):
                archive.writestr(_entry(name), contents[name], compresslevel=9)
        os.replace(temporary, output)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    with open(output, "rb") as file:
        data = file.read()
    return Layer(
        path=output,
        python=python,
        files=len(contents) + 1,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _build(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    python = None if args.no_compile else (args.python or this_version())
    name = f"lambdascope-layer-python{python}.zip" if python else "lambdascope-layer.zip"
    output = args.output or name
    if os.path.isdir(output):  # a folder: the zip goes into it, under its usual name
        output = os.path.join(output, name)
    try:
        layer = build_layer(output, python)
    except ValueError as exc:
        parser.error(str(exc))
    except RuntimeError as exc:
        sys.stderr.write(f"lambdascope layer build: {exc}\n")
        return 1
    except OSError as exc:  # the file named is ours to write, not the temporary one beside it
        sys.stderr.write(f"lambdascope layer build: cannot write {output}: {exc.strerror or exc}\n")
        return 1
    from lambdascope import __version__

    runtimes = f"python{python}" if python else "python3.9 ... python3.13"
    print(
        f"Wrote {layer.path}: lambdascope {__version__} "
        + (f"for Python {python}" if python else "(sources only, no bytecode)")
        + f", {layer.files} files, {layer.size:,} bytes\n"
        f"  sha256 {layer.sha256}\n"
        "\n"
        "Run an existing function under lambdascope's guard, its code unchanged:\n"
        "  1. publish the layer:\n"
        "       aws lambda publish-layer-version --layer-name lambdascope \\\n"
        f"         --zip-file fileb://{layer.path} --compatible-runtimes {runtimes}\n"
        "  2. add the LayerVersionArn it prints to the function's layers (its runtime: "
        f"{runtimes})\n"
        "  3. add two environment variables to the function's own:\n"
        f"       AWS_LAMBDA_EXEC_WRAPPER=/opt/{WRAPPER}\n"
        "       LAMBDASCOPE_GUARD=warn     (report each leak as a JSON log line, also the "
        "default here; 'raise' fails the invocation)\n"
        "     and LAMBDASCOPE_LEAK_METRICS=on for a ScopeLeaks metric per function.\n"
        "  The leaks then show in CloudWatch Logs: see 'Try it on an existing function' in "
        "the docs for the Logs Insights query."
    )
    return 0


def configure_parser(layer: argparse.ArgumentParser) -> None:
    """Add ``build`` to the ``layer`` command."""
    commands = layer.add_subparsers(dest="layer_command", metavar="COMMAND", required=True)
    build = commands.add_parser(
        "build",
        help="write a Lambda layer zip of lambdascope and its exec wrapper",
        description="Write a Lambda layer zip: python/lambdascope (the runtime core, with "
        "bytecode for --python) and the exec wrapper /opt/lambdascope-wrapper, which runs an "
        "unmodified function's handler under lambdascope's guard. The same sources give the "
        "same bytes. Prints how to attach it.",
    )
    version = build.add_mutually_exclusive_group()
    version.add_argument(
        "--python",
        metavar="X.Y",
        help="the function's Python version, for the bytecode (default: this Python's)",
    )
    version.add_argument(
        "--no-compile",
        action="store_true",
        help="leave the bytecode out (any Python version; each cold start compiles)",
    )
    build.add_argument(
        "--output",
        "-o",
        metavar="FILE|DIR",
        help="the zip to write, or the folder to write it into (default: "
        "lambdascope-layer-pythonX.Y.zip)",
    )
    build.set_defaults(run=_build, parser=build)
