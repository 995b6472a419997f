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
``script``
    Also run the block the way a reader who pastes it into a file runs it: ``python
    example.py`` in a subprocess, in a fresh folder; it must exit 0. (The example is then
    ``__main__``, a module of the folder it runs in.)

On a ``console`` or ``text`` block, ``<!-- docs-test: command -->`` makes it a shell
session that runs: each ``$ lambdascope ...`` line is run (:func:`lambdascope.cli.main`, in
a fresh folder) and must print what the lines after it show, or more: ``…`` and ``...``
match any text. ``3.12`` reads as the running Python's version, the one at hand to compile
a layer's bytecode with.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
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
DIRECTIVES = {"module", "output", "aws", "project", "pytest", "needs", "script"}
THIS_PYTHON = "{}.{}".format(*sys.version_info[:2])


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
        elif lang == "text" and pending and not match["directives"]:
            pending.pop(0).expected = match["body"]
    assert not pending, f"{page}: a block marked `output` has no text block after it"
    return blocks


def sessions(path: Path) -> list[Block]:
    """The ``command`` blocks of a page: shell sessions of ``lambdascope`` commands."""
    page = path.relative_to(ROOT).as_posix()
    found = []
    for match in FENCE.finditer(path.read_text(encoding="utf-8")):
        if match["lang"] in ("console", "text") and match["directives"]:
            assert match["directives"] == "command", f"{page}: {match['directives']!r}"
            found.append(Block(page, len(found) + 1, match["body"]))
    return found


BLOCKS = [block for page in PAGES for block in collect(page)]
SESSIONS = [block for page in PAGES for block in sessions(page)]


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


def test_every_page_is_linked_from_the_readme_and_the_home_page() -> None:
    pages = {path.name for path in PAGES if path.parent.name == "docs"} - {"index.md"}
    pages.discard("changelog.md")  # the README links CHANGELOG.md itself
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Documentation", 1)[1]
    listed = set(re.findall(r"\]\(docs/([\w-]+\.md)", readme.split("\n## ", 1)[0]))
    assert sorted(pages - listed) == [], "missing from the README's documentation list"
    home = set(re.findall(r"\]\(([\w-]+\.md)", (ROOT / "docs" / "index.md").read_text()))
    assert sorted(pages - home) == [], "missing from docs/index.md"


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
    if "script" in directives:
        run_as_script(block, task_root / "as-a-script")
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


def run_as_script(block: Block, folder: Path) -> None:
    folder.mkdir()
    (folder / "example.py").write_text(block.source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "example.py"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{block.name} as a script:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("session", SESSIONS, ids=[block.name for block in SESSIONS])
def test_command_prints_what_the_page_shows(
    session: Block, task_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdascope.cli import main

    text = session.source.replace("3.12", THIS_PYTHON)
    commands = re.split(r"^\$ ", text, flags=re.MULTILINE)
    assert commands[0] == "", f"{session.name}: a session starts with `$ lambdascope ...`"
    for command in commands[1:]:
        line, _, shown = command.partition("\n")
        argv = shlex.split(line)
        assert argv[0] == "lambdascope", f"{session.name}: {line}"
        main(argv[1:])
        out = capsys.readouterr().out
        expected = shown.replace("…", "...")
        if not expected.rstrip().endswith("..."):
            expected += "..."  # the page may show the beginning only
        assert doctest.OutputChecker().check_output(expected, out, doctest.ELLIPSIS), (
            f"{session.name}: `{line}` printed:\n{out}\nbut the page shows:\n{shown}"
        )


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
