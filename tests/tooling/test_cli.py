"""The `lambdascope` command: `invoke` output, JSON lines and exit codes; the entry points."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lambdascope.cli import build_parser, main

if TYPE_CHECKING:
    from conftest import HandlerDir

ROOT = Path(__file__).resolve().parents[2]

APP = """
import time
from lambdascope import handler, init_resource, request


@init_resource(eager=True)
def settings():
    time.sleep(0.005)
    return {"greeting": "hello"}


@init_resource
def client():
    return object()


@handler
def lambda_handler(event, context):
    client()
    return {"greeting": settings()["greeting"], "name": event.get("name")}


@handler
def failing(event, context):
    raise ValueError("no name in " + repr(event))


def crash(event, context):
    import os

    os._exit(3)


@handler
def leave(event, context):
    import sys

    sys.exit(event.get("code", 0))


@handler
def deep(event, context):
    result = []
    for _ in range(50_000):  # too deep for json on every Python (3.13 allows ~5,000 levels)
        result = [result]
    return result


@handler
def nan(event, context):
    return {"ratio": float("nan")}
"""

LEAKY = """
files = []


def lambda_handler(event, context):
    files.append(event.get("key"))
    return len(files) == 1
"""


@pytest.fixture
def app(handler_dir: HandlerDir) -> HandlerDir:
    handler_dir.write("app", APP)
    handler_dir.write("leaky", LEAKY)
    return handler_dir


def starting(lines: list[str], prefix: str) -> str:
    """The one output line that starts with *prefix*."""
    found = [line for line in lines if line.startswith(prefix)]
    assert len(found) == 1, (prefix, lines)
    return found[0]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().out.splitlines()


def test_invoke_shows_init_then_cold_and_warm_invocations(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:lambda_handler", "--event-json", '{"name": "Ada"}')
    assert code == 0
    assert lines[0].startswith("Init (on-demand): import app ")
    assert "of which 1 init resource(s)" in lines[0]
    assert lines[1].startswith("  + init_resource app.settings ")
    assert lines[1].endswith("created during Init")
    assert lines[2].startswith("#1 cold ")
    assert lines[2].endswith('ok     {"greeting": "hello", "name": "Ada"}')
    assert lines[3].startswith("  + init_resource app.client ")
    assert lines[3].endswith("created in this invocation")
    assert lines[4].startswith("#2 warm ")
    assert lines[5].startswith("#3 warm ")
    assert lines[6] == (
        "3 invocation(s) in one environment: 1 cold, 2 warm, 0 error(s), 0 warm answer(s) "
        "different from the cold start; init resources created during invocations: app.client x1"
    )
    assert len(lines) == 7


def test_invoke_json_lines(app: HandlerDir, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys, "invoke", "app.py:lambda_handler", "--times", "2", "--json")
    assert code == 0
    init, first, second, summary = (json.loads(line) for line in lines)
    assert init["phase"] == "init"
    assert init["module"] == "app"
    assert init["import_ms"] > 0
    assert [r["name"] for r in init["resources"]] == ["app.settings"]
    assert first["cold_start"] is True
    assert second["cold_start"] is False
    assert first["result"] == {"greeting": "hello", "name": None}
    assert [r["name"] for r in first["resources"]] == ["app.client"]
    assert second["resources"] == []
    assert first["request_id"] != second["request_id"]
    assert summary == {
        "phase": "summary",
        "invocations": 2,
        "cold": 1,
        "errors": 0,
        "differs_from_cold": 0,
        "resources_created_during_invocations": {"app.client": 1},
    }


def test_invoke_reports_handler_errors_and_exits_1(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:failing", "--times", "2")
    assert code == 1
    assert "ERROR  ValueError: no name in {}" in starting(lines, "#1 cold ")
    assert any("app.py" in line and "in failing" in line for line in lines)
    assert not any("lambdascope" + os.sep in line for line in lines)  # our frames are hidden
    assert "2 error(s)" in lines[-1]
    code, lines = run(capsys, "invoke", "app:failing", "--times", "1", "--json")
    error = json.loads(lines[1])["error"]
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no name in {}"
    assert error["stackTrace"]


def test_invoke_flags_warm_answers_that_differ(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "leaky.py", "--event-json", '{"key": "a"}')
    assert code == 0
    assert starting(lines, "#1 cold ").endswith("ok     true")
    assert starting(lines, "#2 warm ").endswith(
        "ok     false  <- differs from the cold start (same event)"
    )
    assert "2 warm answer(s) different from the cold start" in lines[-1]
    code, _ = run(capsys, "invoke", "leaky.py", "--event-json", '{"key": "a"}', "--expect-same")
    assert code == 1


def test_invoke_guard_catches_the_leak(app: HandlerDir, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys, "invoke", "leaky:lambda_handler", "--guard", "raise", "--times", "1")
    assert code == 1
    assert "ERROR  ScopeLeakError: handler lambda_handler() wrote to module-level state" in (
        starting(lines, "#1 cold ")
    )
    assert any("list `files` was modified in place" in line for line in lines)


def test_invoke_reads_the_event_from_a_file_or_stdin(
    app: HandlerDir, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (app.path / "event.json").write_text('{"name": "Grace"}', encoding="utf-8")
    code, lines = run(
        capsys, "invoke", "app:lambda_handler", "--event", "event.json", "--times", "1"
    )
    assert code == 0
    assert '"name": "Grace"' in starting(lines, "#1 cold ")
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"name": "Linus"}'))
    code, lines = run(capsys, "invoke", "app:lambda_handler", "--event", "-", "--times", "1")
    assert '"name": "Linus"' in starting(lines, "#1 cold ")


def test_invoke_without_cold_starts(app: HandlerDir, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(
        capsys,
        "invoke",
        "app:lambda_handler",
        "--init-type",
        "provisioned-concurrency",
        "--times",
        "2",
    )
    assert code == 0
    assert lines[0].startswith("Init (provisioned-concurrency)")
    assert "0 cold, 2 warm" in lines[-1]


def test_a_failed_init_exits_1(app: HandlerDir, capsys: pytest.CaptureFixture[str]) -> None:
    app.write("broken", "import no_such_dependency_xyz\n")
    code, lines = run(capsys, "invoke", "broken:lambda_handler")
    assert code == 1
    assert lines[0] == "Init failed: ModuleNotFoundError: No module named 'no_such_dependency_xyz'"
    assert any("broken.py" in line for line in lines[1:])
    code, lines = run(capsys, "invoke", "app:missing", "--json")
    assert code == 1
    assert json.loads(lines[0])["error"]["errorType"] == "AttributeError"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "app:lambda_handler", "--times", "0"], "--times must be at least 1"),
        (["invoke", "app:lambda_handler", "--event", "missing.json"], "cannot read the event file"),
        (["invoke", "app:lambda_handler", "--event-json", "{nope"], "is not valid JSON"),
        (["invoke", "app:lambda_handler", "--event", "latin1.json"], "is not UTF-8 text (byte 12"),
        (["invoke", "app:lambda_handler", "--event", "deep.json"], "nested too deeply to decode"),
        (["invoke", "app:lambda_handler", "--event-json", "[" * 50_000], "nested too deeply"),
        (["invoke", "app:lambda_handler", "--memory", "64"], "--memory must be between 128 and"),
        (["invoke", "app:lambda_handler", "--memory", "20000"], "--memory must be between"),
        (["invoke", "app:lambda_handler", "--timeout", "nan"], "--timeout must be a positive"),
        (["invoke", "app:lambda_handler", "--timeout", "0"], "--timeout must be a positive"),
        (
            ["invoke", "app:lambda_handler", "--timeout", "901"],
            "--timeout must be at most 900 seconds, got 901.0; Lambda allows 1 to 900 seconds",
        ),
        (["invoke", "app_without_function"], "MODULE:FUNCTION"),
        (["invoke", "nowhere/app.py"], "does not exist"),
        (["invoke", "nowhere/app.py", "--runtime", "awslambdaric"], "does not exist"),
        (["invoke", "nowhere/app.py", "--processes", "2"], "does not exist"),
        (["invoke", "v1.2/app.lambda_handler"], "handler file 'v1.2/app.py' does not exist"),
        (["analyse", "nowhere/app.py"], "handler file 'nowhere/app.py' does not exist"),
        (["analyse", "nowhere/app.py", "--python", "3.99"], "does not exist"),
        (["analyse", "app_without_function"], "MODULE:FUNCTION"),
        (["analyse", "app:lambda_handler", "--python", "2.7"], "not a Python version Lambda"),
        (["analyse", "app:lambda_handler", "--python", "3.99"], "no Python 3.99 found"),
        (["check", "nowhere/app.py"], "nowhere/app.py: no such file or directory"),
        (["layer", "build", "--python", "3.8"], "not a Python version Lambda runs"),
        (["invoke", "app:lambda_handler", "--guard", "loud"], "invalid choice"),
        (["invoke"], "the following arguments are required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(
    app: HandlerDir, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (app.path / "latin1.json").write_bytes('{"name": "Zoë"}'.encode("latin-1"))
    (app.path / "deep.json").write_text("[" * 50_000 + "]" * 50_000)
    assert main(argv) == 2
    out = capsys.readouterr()
    assert message in out.err
    assert "Traceback" not in out.err + out.out
    assert out.err.strip().count("\n") <= 8  # the usage lines and one message


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["invoke", "app:lambda_handler", "--bogus"], "usage: lambdascope invoke "),
        (["analyse", "app:lambda_handler", "--bogus"], "usage: lambdascope analyse "),
        (["check", ".", "--bogus"], "usage: lambdascope check "),
        (["layer", "build", "--bogus"], "usage: lambdascope layer build "),
        (["--bogus"], "usage: lambdascope [-h]"),
    ],
)
def test_an_unknown_option_is_told_under_its_subcommand_s_usage(
    app: HandlerDir, capsys: pytest.CaptureFixture[str], argv: list[str], usage: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert err.strip().endswith("error: unrecognized arguments: --bogus")


def test_the_timeout_lambda_allows_at_most(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:lambda_handler", "--timeout", "900", "--json")
    assert code == 0
    assert [json.loads(line)["phase"] for line in lines][-1] == "summary"


def test_invoke_under_awslambdaric_says_how_to_install_it_when_it_is_missing(
    app: HandlerDir, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "awslambdaric", None)  # not importable, as if not installed
    assert main(["invoke", "app:lambda_handler", "--runtime", "awslambdaric"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: lambdascope invoke ")
    assert "AWS's runtime interface client, which is not installed for " in err
    assert "pip install awslambdaric (or pip install 'lambdascope[awslambdaric]')" in err


def test_layer_build_into_an_existing_folder_writes_the_zip_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["layer", "build", "--no-compile", "--output", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"Wrote {tmp_path / 'lambdascope-layer.zip'}: ")
    assert [path.name for path in tmp_path.iterdir()] == ["lambdascope-layer.zip"]


def test_a_layer_that_cannot_be_written_names_the_file_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "layer.zip"
    assert main(["layer", "build", "--no-compile", "-o", str(target)]) == 1
    assert capsys.readouterr().err == (
        f"lambdascope layer build: cannot write {target}: No such file or directory\n"
    )


def test_cli_md_counts_and_lists_every_subcommand() -> None:
    commands = next(
        action.choices
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    page = (ROOT / "docs" / "cli.md").read_text()
    words = {3: "three", 4: "four", 5: "five", 6: "six"}
    said = re.search(r"with (\w+)\s+subcommands:", page)
    assert said is not None
    assert said[1] == words[len(commands)]
    listed = re.findall(r"^- \[`lambdascope (\w+)", page, re.MULTILINE)
    assert sorted(listed) == sorted(commands)


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "invoke" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("lambdascope ")


def test_python_m_lambdascope_and_the_console_script(app: HandlerDir) -> None:
    env = {**os.environ, "PYTHONPATH": str(app.path)}
    module = subprocess.run(
        [sys.executable, "-m", "lambdascope", "invoke", "app:lambda_handler", "--times", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=app.path,
        check=False,
    )
    assert module.returncode == 0, module.stderr
    assert "#2 warm" in module.stdout
    script = Path(sys.executable).with_name("lambdascope")
    failing = subprocess.run(
        [str(script), "invoke", "app:failing", "--times", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=app.path,
        check=False,
    )
    assert failing.returncode == 1
    assert "ValueError" in failing.stdout


def test_check_subcommand_reports_the_leaking_prefix_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    leaky = ROOT / "tests" / "fixtures" / "antipatterns" / "files_leak.py"
    assert main(["check", str(leaky)]) == 1
    out = capsys.readouterr().out
    assert f"{leaky}:11: LS104" in out
    assert f"{leaky}:15: LS101" in out
    assert main(["check", str(ROOT / "examples")]) == 0
    assert main(["check"]) == 2


def test_invoke_under_the_real_runtime_client(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(
        capsys, "invoke", "app.py:lambda_handler", "--runtime", "awslambdaric", "--times", "2"
    )
    assert code == 0, lines
    assert lines[0].startswith("Init (on-demand) under awslambdaric, pid ")
    assert "from `import lambdascope` to the first invocation" in lines[0]
    assert starting(lines, "  + init_resource app.settings ").endswith("created during Init")
    assert starting(lines, "#1 cold ").endswith('ok     {"greeting": "hello", "name": null}')
    assert starting(lines, "  + init_resource app.client ").endswith("created in this invocation")
    assert starting(lines, "#2 warm ").endswith('ok     {"greeting": "hello", "name": null}')
    assert "init resources created during invocations: app.client x1" in lines[-1]


def test_invoke_under_the_real_runtime_client_reports_errors(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:failing", "--runtime", "awslambdaric", "--json")
    assert code == 1
    records = [json.loads(line) for line in lines]
    assert [r["phase"] for r in records] == [
        "init",
        "invoke",
        "invoke",
        "invoke",
        "summary",
        "logs",
    ]
    error = records[1]["error"]
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no name in {}"
    assert records[-2]["errors"] == 3
    assert any("[ERROR] ValueError: no name in {}" in line for line in records[-1]["lines"])
    code, lines = run(capsys, "invoke", "app:failing", "--runtime", "awslambdaric", "--times", "1")
    assert "ERROR  ValueError: no name in {}" in starting(lines, "#1 cold ")
    frames = lines[
        lines.index(starting(lines, "#1 cold ")) + 1 : lines.index(starting(lines, "1 invocation"))
    ]
    assert any('app.py", line' in line and "in failing" in line for line in frames)
    assert not any("lambdascope" + os.sep in line for line in frames)


def test_invoke_under_the_real_runtime_client_init_failure(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    app.write("broken", "raise ImportError('no driver')\n")
    code, lines = run(capsys, "invoke", "broken.py", "--runtime", "awslambdaric")
    assert code == 1
    assert (
        lines[0]
        == "Init failed: Runtime.ImportModuleError: Unable to import module 'broken': no driver"
    )
    assert "Function output:" in lines
    app.write("methods", "class H:\n    def handle(self, event, context):\n        return 1\n")
    assert main(["invoke", "methods:H.handle", "--runtime", "awslambdaric"]) == 2
    assert "names a method" in capsys.readouterr().err
    assert main(["invoke", "nowhere/x.py", "--runtime", "awslambdaric"]) == 2


def test_invoke_under_the_real_runtime_client_when_the_process_dies(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:crash", "--runtime", "awslambdaric", "--times", "3")
    assert code == 1
    # as on Lambda: each invocation fails with Runtime.ExitError, and the next request gets a
    # new environment (a new process, a cold start)
    failed = [line for line in lines if line.startswith("#1 cold ")]
    assert len(failed) == 3
    assert all(
        re.search(
            r"ERROR  Runtime\.ExitError: RequestId: \S+ Error: Runtime exited with error: "
            r"exit status 3$",
            line,
        )
        for line in failed
    )
    assert starting(lines, "3 invocation(s)").startswith(
        "3 invocation(s) in 3 environments: 3 cold"
    )


def test_invoke_under_the_real_runtime_client_reports_sys_exit_with_its_message(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["invoke", "app:leave", "--runtime", "awslambdaric", "--times", "2"]
    code, lines = run(capsys, *argv, "--event-json", '{"code": "stop here"}')
    assert code == 1
    first = [line for line in lines if line.startswith("#1 cold ")]
    assert len(first) == 2  # each request got a new environment
    assert all("Error: Runtime exited with error: exit status 1" in line for line in first)
    assert lines.count("  | stop here") == 2  # the message, from both environments' output
    code, lines = run(capsys, *argv[:-1], "1", "--json")
    error = json.loads(lines[1])["error"]
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Error: Runtime exited without providing a reason")


def test_invoke_reports_sys_exit_as_lambda_does_and_starts_a_new_environment(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:leave", "--times", "2")
    assert code == 1  # was: exit status 0 and no invocation lines at all
    assert len([line for line in lines if line.startswith("Init (on-demand)")]) == 2
    first = [line for line in lines if line.startswith("#1 cold ")]
    assert len(first) == 2
    assert re.search(
        r"ERROR  Runtime\.ExitError: RequestId: \S+ Error: Runtime exited without providing a "
        r"reason$",
        first[0],
    )
    assert "(the handler called sys.exit(0): the runtime process ended" in "\n".join(lines)
    assert starting(lines, "2 invocation(s)").startswith("2 invocation(s) in 2 environments")

    code, lines = run(
        capsys, "invoke", "app:leave", "--times", "1", "--event-json", '{"code": "bye"}'
    )
    assert code == 1
    text = "\n".join(lines)
    assert "Runtime exited with error: exit status 1" in text
    assert "sys.exit('bye')" in text  # the message is not dropped
    code, lines = run(capsys, "invoke", "app:leave", "--times", "1", "--json")
    payload = json.loads(lines[1])["error"]
    assert payload["errorType"] == "Runtime.ExitError"
    assert any("sys.exit" in frame for frame in payload["stackTrace"])


def test_a_deeply_nested_result_is_a_one_line_marshal_error(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:deep", "--times", "1")
    out = capsys.readouterr()
    assert code == 1
    assert "ERROR  MarshalError: Runtime.MarshalError: unable to marshal the response: it is " in (
        starting(lines, "#1 cold ")
    )
    assert "nested too deeply" in starting(lines, "#1 cold ")
    assert "Traceback" not in "\n".join(lines) + out.err
    code, lines = run(capsys, "invoke", "app:deep", "--times", "1", "--json")
    assert json.loads(lines[1])["error"]["errorType"] == "MarshalError"


def test_nan_in_a_result_is_not_a_different_answer(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(capsys, "invoke", "app:nan", "--expect-same")
    assert code == 0
    assert not any("differs" in line for line in lines)
    assert "0 warm answer(s) different from the cold start" in starting(lines, "3 invocation(s)")


def test_an_event_deeper_than_deepcopy_goes_but_not_deeper_than_json(
    app: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    event = "[" * 600 + "]" * 600  # JSON decodes it (Lambda would); copy.deepcopy cannot
    code, lines = run(capsys, "invoke", "app:lambda_handler", "--times", "1", "--event-json", event)
    assert code == 1  # the handler's own event.get fails on a list, reported as its error
    assert "AttributeError" in starting(lines, "#1 cold ")
