"""Every Python block in README.md and docs/*.md runs, and its assertions hold.

A block is a fenced code block whose language is ``python`` or ``py``. Each one runs
in a new execution environment (``lambdascope.testing.new_environment()``, default
``configure()``, no ``LAMBDASCOPE_*`` variables), with the working directory a
fresh temporary folder that is first on ``sys.path`` — Lambda's task root. By
default the block is compiled as ``page.md[n]`` and run in a new namespace.

An HTML comment on the line right before the fence changes that, with comma-separated
directives, e.g. ``<!-- docs-test: module=app, output -->``:

``module=NAME``
    Write the block to ``NAME.py`` in the task root and import it, as Lambda imports a
    handler module (the guard then reads its source, as it does on Lambda).
``output``
    What the block prints must match the next ``text`` block of the page: ``...``
    matches any text (:mod:`doctest`'s ELLIPSIS), and the task root's path reads as
    ``/var/task``. Examples that print show the cold-start report line this way, or
    turn it off with ``lambdascope.configure(cold_start_report=False)``.
``aws``
    Run inside moto's ``mock_aws()`` with fake credentials and region: the block calls
    AWS APIs, and none of it reaches AWS.
``project=NAME``
    Copy ``tests/fixtures/docs/NAME/`` into the task root first: the block uses a
    handler project of the reader's (``app/handlers.py``, ``src/app.py``).
``pytest``
    The block is a test file: it runs under pytest (in a subprocess, with the
    lambdascope plugin on) in the task root, and every test must pass.
``needs=WHAT``
    The block needs a service no test can provide (a database server, a URL on the
    internet): it is only compiled. *WHAT* says which, and must not be empty.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope.testing import new_environment

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "docs"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"^(?:<!-- docs-test: (?P<directives>[^\n]*?) -->\n)?"
    r"```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
DIRECTIVES = {"module", "output", "aws", "project", "pytest", "needs"}


@dataclass
class Block:
    page: str
    number: int
    source: str
    directives: dict[str, str] = field(default_factory=dict)
    expected: str | None = None  # the next text block, for `output`

    @property
    def name(self) -> str:
        return f"{self.page}[{self.number}]"


def collect(path: Path) -> list[Block]:
    blocks: list[Block] = []
    pending: list[Block] = []  # python blocks waiting for their `output` text block
    page = path.relative_to(ROOT).as_posix()
    for match in FENCE.finditer(path.read_text(encoding="utf-8")):
        lang = match["lang"]
        if lang in ("python", "py"):
            directives: dict[str, str] = {}
            for item in filter(None, (d.strip() for d in (match["directives"] or "").split(","))):
                key, _, value = item.partition("=")
                assert key in DIRECTIVES, f"{page}: unknown docs-test directive {key!r}"
                directives[key] = value.strip()
            block = Block(page, len(blocks) + 1, match["body"], directives)
            blocks.append(block)
            if "output" in directives:
                pending.append(block)
        elif lang == "text" and pending:
            pending.pop(0).expected = match["body"]
    assert not pending, f"{page}: a block marked `output` has no text block after it"
    return blocks


BLOCKS = [block for page in PAGES for block in collect(page)]


@pytest.fixture
def task_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh task root; modules imported from it are forgotten afterwards."""
    for name in list(os.environ):
        if name.startswith("LAMBDASCOPE_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    saved_modules = set(sys.modules)
    saved_environ = dict(os.environ)
    lambdascope.configure()
    new_environment()
    yield tmp_path
    lambdascope.configure()
    new_environment()
    for name in set(sys.modules) - saved_modules:
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]
    os.environ.clear()
    os.environ.update(saved_environ)


def test_pages_have_examples() -> None:
    pages = {block.page for block in BLOCKS}
    for page in ("README.md", "docs/index.md", "docs/design.md", "docs/migration.md"):
        assert page in pages, f"{page} has no Python example"


def test_needs_says_what() -> None:
    for block in BLOCKS:
        if "needs" in block.directives:
            assert block.directives["needs"], f"{block.name}: `needs=` must say what"


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_block_runs(
    block: Block,
    task_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    code = compile(block.source, block.name, "exec")
    directives = block.directives
    if "needs" in directives:
        return  # compiled above: the syntax is checked, the service is not here
    if "project" in directives:
        shutil.copytree(FIXTURES / directives["project"], task_root, dirs_exist_ok=True)
    if "pytest" in directives:
        run_as_test_file(block, task_root)
        return
    if "aws" in directives:
        from moto import mock_aws

        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            run(block, code, task_root)
    else:
        run(block, code, task_root)
    if block.expected is not None:
        out = capfd.readouterr().out.replace(str(task_root), "/var/task")
        checker = doctest.OutputChecker()
        assert checker.check_output(block.expected, out, doctest.ELLIPSIS), (
            f"{block.name} printed:\n{out}\nbut the page shows:\n{block.expected}"
        )


def run(block: Block, code: object, task_root: Path) -> None:
    module = block.directives.get("module")
    if module:
        (task_root / f"{module}.py").write_text(block.source, encoding="utf-8")
        __import__(module)
    else:
        namespace: dict[str, object] = {"__name__": f"docs_{block.number}"}
        exec(code, namespace)


def run_as_test_file(block: Block, task_root: Path) -> None:
    test_file = task_root / "tests" / f"test_docs_block_{block.number}.py"
    test_file.parent.mkdir(exist_ok=True)
    test_file.write_text(block.source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(task_root), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=task_root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{block.name}:\n{result.stdout}\n{result.stderr}"
    assert " passed" in result.stdout, result.stdout
    assert " failed" not in result.stdout, result.stdout
