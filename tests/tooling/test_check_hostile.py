"""`lambdascope check` on input that must never stop it: FIFOs, devices, links out of the tree,
huge files, files nested too deeply for the parser, files whose analysis fails or takes too
long. Each is an LS000 warning naming the file; every other file is still analysed.

Runs that could hang are made in a subprocess with a timeout, so a regression fails the test
instead of stopping the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdascope.check import MAX_FILE_BYTES, check_paths, main

ROOT = Path(__file__).resolve().parents[2]
LEAK = "X = []\ndef lambda_handler(event, context):\n    X.append(event)\n"
posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero")


def run_check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdascope.check", "--no-config", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )


def summary(findings: list[object]) -> list[tuple[str, int, str]]:
    return [(Path(f.path).name, f.line, f.code) for f in findings]  # type: ignore[attr-defined]


@posix_only
def test_a_fifo_and_a_link_to_dev_zero_are_refused_not_read(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LEAK)
    os.mkfifo(tmp_path / "pipe.py")
    os.mkfifo(tmp_path / "template.yaml")  # a deployment file's name: not read either
    os.symlink("/dev/zero", tmp_path / "zero.py")
    done = run_check(".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(" ")[:2] for line in lines] == [
        ["./app.py:3:", "LS101"],
        ["./pipe.py:1:", "LS000"],
        ["./zero.py:1:", "LS000"],
    ]
    assert "a named pipe (FIFO), not a regular file; not analysed" in lines[1]
    assert "a symbolic link to /dev/zero, outside the tree; not analysed" in lines[2]


@posix_only
def test_a_fifo_named_on_the_command_line_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    done = run_check("pipe.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pipe.py:1: LS000 [warning] a named pipe (FIFO), not a regular file" in done.stdout


def test_links_are_followed_inside_the_tree_only(tmp_path: Path) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    (tree / "shared").mkdir(parents=True)
    outside.mkdir()
    (tree / "shared" / "impl.py").write_text(LEAK)
    (outside / "secret.py").write_text(LEAK)
    os.symlink(tree / "shared" / "impl.py", tree / "inside.py")
    os.symlink(outside / "secret.py", tree / "escape.py")
    os.symlink(outside, tree / "linked_dir")  # a linked directory is not walked
    findings = check_paths([str(tree)])
    assert summary(findings) == [
        ("escape.py", 1, "LS000"),
        ("inside.py", 3, "LS101"),
        (
            "impl.py",
            3,
            "LS101",
        ),
    ]
    assert f"a symbolic link to {outside / 'secret.py'}, outside the tree" in findings[0].message


def test_a_file_larger_than_the_bound_is_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LEAK)
    big = "# padding\n" * (MAX_FILE_BYTES // 10 + 1) + LEAK
    (tmp_path / "generated.py").write_text(big)
    findings = check_paths([str(tmp_path)])
    assert summary(findings) == [("app.py", 3, "LS101"), ("generated.py", 1, "LS000")]
    assert findings[1].message == (
        f"{len(big):,} bytes, more than the {MAX_FILE_BYTES:,}-byte limit per file; skipped"
    )
    # the bound is a setting: raised, the file is analysed
    assert summary(check_paths([str(tmp_path)], max_bytes=2 * len(big)))[-1] == (
        "generated.py",
        MAX_FILE_BYTES // 10 + 4,
        "LS101",
    )


def test_the_bounds_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app.py").write_text(LEAK)
    assert main(["--no-config", str(tmp_path), "--max-file-size", "10"]) == 0
    out = capsys.readouterr().out
    assert "more than the 10-byte limit per file; skipped" in out
    assert main(["--no-config", str(tmp_path), "--file-timeout", "0"]) == 2
    assert "expected a positive number, got '0'" in capsys.readouterr().err
    assert main(["--no-config", str(tmp_path), "--max-file-size", "lots"]) == 2
    with pytest.raises(ValueError, match="must be positive"):
        check_paths([str(tmp_path)], seconds=0)


def test_a_file_too_deep_for_the_parser_does_not_stop_the_run(tmp_path: Path) -> None:
    # 300,000 terms of one expression: RecursionError in the parser from Python 3.11; before,
    # the parser itself overflows the C stack (a crash) unless it runs with a large one
    (tmp_path / "deep.py").write_text("TOTAL = " + "+".join(["1"] * 300_000) + "\n")
    (tmp_path / "app.py").write_text(LEAK)
    done = run_check(".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("./app.py:3: LS101")
    if sys.version_info >= (3, 11):
        assert lines[1:] == [
            "./deep.py:1: LS000 [warning] nested too deeply for Python's parser "
            "(RecursionError); not analysed"
        ]
    else:  # parsed in a thread with a large stack: no crash, and nothing to report
        assert lines[1:] == []


def test_a_file_too_deep_to_analyse_is_a_warning_and_the_rest_is_analysed(tmp_path: Path) -> None:
    # parses fine, but the lazy-initialisation test nests past Python's recursion limit
    (tmp_path / "deep.py").write_text(
        "CLIENT = None\ndef lambda_handler(event, context):\n"
        f"    if {'not ' * 2_000}CLIENT:\n        return 1\n"
    )
    (tmp_path / "app.py").write_text(LEAK)
    findings = check_paths([str(tmp_path)])
    assert summary(findings) == [("app.py", 3, "LS101"), ("deep.py", 1, "LS000")]
    assert findings[1].message == "nested too deeply to analyse; findings may be missing"


def test_a_file_past_its_time_bound_is_a_warning_and_the_rest_is_analysed(tmp_path: Path) -> None:
    statements = "".join(f"    v{i} = event['k{i}'] + {i}\n" for i in range(3_000))
    (tmp_path / "big.py").write_text("def lambda_handler(event, context):\n" + statements)
    (tmp_path / "app.py").write_text(LEAK)  # a few nodes: never reaches the clock
    findings = check_paths([str(tmp_path)], seconds=1e-9)
    assert summary(findings) == [("app.py", 3, "LS101"), ("big.py", 1, "LS000")]
    assert findings[1].message.startswith(
        "analysis stopped after 1e-09 s (the time bound per file)"
    )
    assert "--file-timeout" in findings[1].message


def test_a_helper_module_that_fails_is_named_not_the_handler(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        f"FLAGS = None\ndef check():\n    if {'not ' * 2_000}FLAGS:\n        return 1\n"
    )
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import helpers
            X = []
            def lambda_handler(event, context):
                X.append(event)
                return helpers.check()
            """
        )
    )
    findings = check_paths([str(tmp_path)])
    assert summary(findings) == [("app.py", 4, "LS101"), ("helpers.py", 1, "LS000")]
