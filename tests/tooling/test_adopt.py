"""Adopting lambdascope without editing code, end to end under the real runtime client: the
exec wrapper swaps the handler setting for the redirect, the redirect runs the function's
own handler under @handler, and the layer `lambdascope layer build` writes carries both."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

import lambdascope
from lambdascope.cli import main
from lambdascope.testing import LocalRuntime, RuntimeExited

if TYPE_CHECKING:
    from collections.abc import Iterator

HANDLERS = Path(__file__).resolve().parent / "adopt_handlers"
WRAPPER = str(Path(lambdascope.__file__).parent / "exec-wrapper")
REPORT = '{"message": "lambdascope scope leak"'
SOURCE = HANDLERS / "checks.py"
_LINE = '    results["users"] = len(event.get("users", []))'
FIRST_WRITE = f"{SOURCE}:{SOURCE.read_text().splitlines().index(_LINE) + 1}"  # where it leaks
EVENTS = [
    {"users": ["a", "b"], "latency_ms": 120},  # runs the optional check
    {"users": ["c"]},  # does not: its report should not have it
]


def leak_lines(logs: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.splitlines() if line.startswith(REPORT)]


def metric_lines(logs: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.splitlines() if line.startswith('{"_aws"')]


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    """A moto S3 server with the reports bucket; the environment a function needs for it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
        "REPORT_BUCKET": "reports",
    }
    s3_client(env["AWS_ENDPOINT_URL_S3"]).create_bucket(Bucket="reports")
    try:
        yield env
    finally:
        server.stop()


def report(s3: dict[str, str], request_id: str) -> dict[str, Any]:
    client = s3_client(s3["AWS_ENDPOINT_URL_S3"])
    body = client.get_object(Bucket="reports", Key=f"reports/{request_id}.json")["Body"]
    return json.loads(body.read())  # type: ignore[no-any-return]


def function_env(s3: dict[str, str], **extra: str) -> dict[str, str]:
    return {**s3, **extra}


# -- an unmodified function, through the exec wrapper -----------------------------------------


def test_without_lambdascope_the_function_answers_with_stale_checks(s3: dict[str, str]) -> None:
    with LocalRuntime("checks.lambda_handler", cwd=HANDLERS, env=function_env(s3)) as runtime:
        runs = [runtime.invoke(event) for event in EVENTS]
    assert [run.result for run in runs] == [
        {"checks": ["latency_ms", "status", "users"]},
        {"checks": ["latency_ms", "status", "users"]},  # the second request ran no such check
    ]
    assert report(s3, runs[1].request_id)["latency_ms"] == 120  # the first request's data
    assert REPORT not in runtime.logs


def test_raise_mode_fails_the_first_invocation_with_scope_leak_error(s3: dict[str, str]) -> None:
    env = function_env(s3, AWS_LAMBDA_EXEC_WRAPPER=WRAPPER, LAMBDASCOPE_GUARD="raise")
    with LocalRuntime("checks.lambda_handler", cwd=HANDLERS, env=env) as runtime:
        first, second = (runtime.invoke(event) for event in EVENTS)
    assert not first.ok
    assert first.error is not None
    assert first.error["errorType"] == "ScopeLeakError"
    message = first.error["errorMessage"]
    assert "handler lambda_handler() wrote to module-level state" in message
    assert "module 'checks': dict `results` was modified in place" in message
    assert FIRST_WRITE in message  # where
    # no data crossed: the second request's report holds its own checks only
    assert second.error is not None
    assert report(s3, second.request_id) == {"status": "ok", "users": 1}
    assert runtime.logs.count("Loading function") == 1  # one Init, through the redirect


def test_warn_mode_answers_as_before_and_logs_each_leak(s3: dict[str, str]) -> None:
    env = function_env(
        s3,
        AWS_LAMBDA_EXEC_WRAPPER=WRAPPER,
        LAMBDASCOPE_GUARD="warn",
        LAMBDASCOPE_LEAK_METRICS="on",
    )
    runtime = LocalRuntime("checks.lambda_handler", cwd=HANDLERS, env=env, function_name="smoke")
    with runtime:
        runs = [runtime.invoke(event) for event in EVENTS]
    assert [run.result for run in runs] == [
        {"checks": ["latency_ms", "status", "users"]},
        {"checks": ["latency_ms", "status", "users"]},
    ]
    leaks = leak_lines(runtime.logs)
    assert [leak["function_request_id"] for leak in leaks] == [run.request_id for run in runs]
    for leak in leaks:
        assert leak == {
            "message": "lambdascope scope leak",
            "level": "WARNING",
            "timestamp": leak["timestamp"],
            "service": "service_undefined",
            "function_name": "smoke",
            "function_request_id": leak["function_request_id"],
            "xray_trace_id": leak["xray_trace_id"],
            "leak": "module state",
            "handler": "checks.lambda_handler",
            "module": "checks",
            "variable": "results",
            "change": "dict modified in place",
            "sites": leak["sites"],
        }
        assert leak["xray_trace_id"].startswith("1-")  # the runtime's trace id, its Root
        assert leak["sites"][0] == FIRST_WRITE
    assert "latency_ms" not in json.dumps(leaks)  # never the values (nor keys)
    metrics = metric_lines(runtime.logs)
    assert [(m["FunctionName"], m["ScopeLeaks"]) for m in metrics] == [("smoke", 1), ("smoke", 1)]
    namespace = metrics[0]["_aws"]["CloudWatchMetrics"][0]
    assert namespace["Namespace"] == "lambdascope"
    assert namespace["Metrics"] == [{"Name": "ScopeLeaks", "Unit": "Count"}]


#: The documented query over Powertools' lines and lambdascope's (docs/adopt.md).
_ADOPT = (Path(__file__).resolve().parents[2] / "docs" / "adopt.md").read_text()
QUERY = _ADOPT.split("<!-- docs-query: powertools -->\n```text\n", 1)[1].split("```", 1)[0]
_QUERY_WORDS = {"fields", "filter", "and", "ispresent", "stats", "count", "as", "latest", "by"}
_QUERY_WORDS |= {"sort", "desc", "lines", "leaks", "last_message", "orders"}
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000"


def test_the_query_over_powertools_and_lambdascope_finds_its_fields_in_both() -> None:
    """Unset LAMBDASCOPE_GUARD (the redirect observes), a function logging with Powertools'
    Logger: the fields the documented query reads are in Powertools' lines, in the leak lines
    and in the cold-start report, with the same values for the same invocation."""
    env = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER, "POWERTOOLS_SERVICE_NAME": "orders"}
    runtime = LocalRuntime("orders.lambda_handler", cwd=HANDLERS, env=env, function_name="orders")
    with runtime:
        runs = [runtime.invoke({"order": f"o-{n}"}) for n in (1, 2)]
    assert [run.result for run in runs] == [{"orders": 1}, {"orders": 2}]  # warn: as before
    lines = [json.loads(line) for line in runtime.logs.splitlines() if line.startswith("{")]
    powertools = [line for line in lines if line.get("message") == "order received"]
    leaks = [line for line in lines if line.get("message") == "lambdascope scope leak"]
    (report,) = [line for line in lines if line.get("message") == "lambdascope cold start report"]
    assert len(powertools) == len(leaks) == 2
    fields = set(re.findall(r"[a-z_]+", QUERY.replace('"orders"', ""))) - _QUERY_WORDS
    assert fields == {
        "timestamp",
        "level",
        "service",
        "function_name",
        "function_request_id",
        "xray_trace_id",
        "message",
        "variable",
    }
    shared = fields - {"variable"}  # in leak lines only: what count(variable) counts
    for ours in (*leaks, report):
        assert shared <= ours.keys()
        assert re.fullmatch(TIMESTAMP, ours["timestamp"])
    assert "variable" in leaks[0]
    for theirs, ours, run in zip(powertools, leaks, runs):
        assert shared <= theirs.keys()
        assert re.fullmatch(TIMESTAMP, theirs["timestamp"])  # the same format
        same = ("service", "function_name", "function_request_id", "xray_trace_id")
        assert {f: ours[f] for f in same} == {f: theirs[f] for f in same}
        assert ours["function_request_id"] == run.request_id
        assert ours["service"] == "orders"
    assert report["function_request_id"] == runs[0].request_id  # written after the first
    assert report["xray_trace_id"] == powertools[0]["xray_trace_id"]
    assert (report["level"], leaks[0]["level"], powertools[0]["level"]) == (
        "INFO",
        "WARNING",
        "INFO",
    )
    assert report["guard"][0]["mode"] == "warn"


def test_a_wrong_handler_setting_fails_init_in_lambdas_words(s3: dict[str, str]) -> None:
    env = function_env(s3, AWS_LAMBDA_EXEC_WRAPPER=WRAPPER)
    runtime = LocalRuntime("checks.lambda_handlr", cwd=HANDLERS, env=env)
    with pytest.raises(RuntimeExited) as info:
        runtime.start()
    assert info.value.init_error == {
        "errorType": "Runtime.HandlerNotFound",
        "errorMessage": "Handler 'lambda_handlr' missing on module 'checks' "
        "(LAMBDASCOPE_HANDLER='checks.lambda_handlr'; module file "
        f"{HANDLERS / 'checks.py'}; did you mean 'lambda_handler'?)",
        "requestId": "",
        "stackTrace": [],
    }
    # no frame of lambdascope's own: no file of its package is named (not a folder called
    # lambdascope: the project may be cloned into one, and the logs name files under it)
    assert str(Path(lambdascope.__file__).parent) + os.sep not in info.value.logs


def test_a_missing_module_fails_init_saying_where_it_was_looked_for() -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER}
    with pytest.raises(RuntimeExited) as info:
        LocalRuntime("app.lambda_handler", cwd=HANDLERS, env=env).start()
    error = info.value.init_error
    assert error is not None
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"].startswith(
        "Unable to import module 'app': No module named 'app' "
        f"(LAMBDASCOPE_HANDLER='app.lambda_handler'; searched {HANDLERS}, "
    )
    assert error["stackTrace"] == []


def test_the_module_s_own_init_error_is_reported_as_without_lambdascope() -> None:
    payloads = []
    for env in ({}, {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER}):
        with pytest.raises(RuntimeExited) as info:
            LocalRuntime("broken_init.lambda_handler", cwd=HANDLERS, env=env).start()
        payloads.append(info.value.init_error)
    without, through_redirect = payloads
    assert through_redirect == without
    assert without is not None
    assert without["errorType"] == "KeyError"
    assert any("broken_init.py" in frame for frame in without["stackTrace"])


def test_an_async_handler_through_the_redirect() -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER, "LAMBDASCOPE_GUARD": "warn"}
    with LocalRuntime("collect.async_handler", cwd=HANDLERS, env=env) as runtime:
        runs = [runtime.invoke({"keys": ["a.csv"]}) for _ in range(2)]
    assert [run.result for run in runs] == [{"files": 1}, {"files": 2}]
    assert [leak["variable"] for leak in leak_lines(runtime.logs)] == ["files", "files"]


def test_the_handler_setting_can_name_the_redirect_itself() -> None:
    # No wrapper: the handler setting is the redirect and LAMBDASCOPE_HANDLER the original,
    # which is also what the wrapper keeps when it finds them set so.
    for wrapper in ({}, {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER}):
        env = {"LAMBDASCOPE_HANDLER": "collect.lambda_handler", "LAMBDASCOPE_GUARD": "raise"}
        env.update(wrapper)
        with LocalRuntime("lambdascope.redirect.handler", cwd=HANDLERS, env=env) as runtime:
            run = runtime.invoke({"Records": [{"s3": {"object": {"key": "in/1.csv"}}}]})
        assert run.error is not None
        assert run.error["errorType"] == "ScopeLeakError"


# -- the layer -------------------------------------------------------------------------------


def unpack(layer: Path, opt: Path) -> None:
    """Unpack *layer* as Lambda does into *opt*: files keep their modes, /opt is read-only."""
    with zipfile.ZipFile(layer) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, opt))
            path.chmod((info.external_attr >> 16) & 0o777)
    for folder, _, _ in os.walk(opt):
        Path(folder).chmod(0o555)


@pytest.fixture
def layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    path = tmp_path / "layer.zip"
    assert main(["layer", "build", "--output", str(path)]) == 0
    capsys.readouterr()
    opt = tmp_path / "opt"
    unpack(path, opt)
    try:
        yield opt
    finally:
        for folder, _, _ in os.walk(opt):
            Path(folder).chmod(0o755)


def test_the_layer_runs_an_unmodified_handler_under_the_runtime_client(
    layer: Path, tmp_path: Path
) -> None:
    task = tmp_path / "task"
    task.mkdir()
    (task / "collect.py").write_text((HANDLERS / "collect.py").read_text())
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": str(layer / "lambdascope-wrapper"),
        "PYTHONPATH": f"{task}{os.pathsep}{layer / 'python'}",  # Lambda: /var/task, /opt/python
        "LAMBDASCOPE_GUARD": "raise",
    }
    event = {"Records": [{"s3": {"object": {"key": "in/1.csv"}}}]}
    with LocalRuntime("collect.lambda_handler", cwd=task, env=env) as runtime:
        first, second = runtime.invoke(event), runtime.invoke(event)
    for run in (first, second):
        assert run.error is not None
        assert run.error["errorType"] == "ScopeLeakError"
        assert "list `files` was modified in place" in run.error["errorMessage"]
    # lambdascope came from the layer, with its bytecode (/opt is read-only: none was written)
    frames = "".join(first.error["stackTrace"])  # type: ignore[index]
    assert str(layer / "python" / "lambdascope" / "_handler.py") in frames
    assert str(Path(lambdascope.__file__).parent) not in frames


def test_the_documented_local_check_of_the_layer_runs_the_layer_s_lambdascope(
    layer: Path, tmp_path: Path
) -> None:
    """docs/adopt.md, "Try it locally first": the layer unpacked into a folder standing in for
    /opt, its python folder on PYTHONPATH, the installed `lambdascope` console script. The
    layer's trimmed lambdascope comes first on PYTHONPATH (it has no command line): the
    command runs, and the function runs under the layer's lambdascope."""
    task = tmp_path / "task"
    task.mkdir()
    (task / "app.py").write_text(
        "import lambdascope\n"
        "\n"
        "orders = []\n"
        "\n"
        "def lambda_handler(event, context):\n"
        "    orders.append(event['order'])\n"
        "    return {'orders': len(orders), 'lambdascope': lambdascope.__file__}\n"
    )
    env = {
        **os.environ,
        "AWS_LAMBDA_EXEC_WRAPPER": str(layer / "lambdascope-wrapper"),
        "LAMBDASCOPE_GUARD": "warn",
        "PYTHONPATH": str(layer / "python"),
    }
    script = Path(sys.executable).with_name("lambdascope")  # the console script, installed
    command = [str(script), "invoke", "app.lambda_handler", "--runtime", "awslambdaric"]
    command += ["--event-json", '{"order": "o-1"}']

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *options],
            cwd=task,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    result = run("--times", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    wrapper = layer / "lambdascope-wrapper"
    assert f"Init (on-demand) under awslambdaric (exec wrapper {wrapper}), pid " in out
    assert out.count('  | {"message": "lambdascope scope leak"') == 2  # its guard, warn mode
    result = run("--times", "1", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    runs = [json.loads(line) for line in result.stdout.splitlines()[1:]]
    assert runs[0]["result"]["lambdascope"] == str(layer / "python" / "lambdascope" / "__init__.py")


def test_the_layer_holds_the_runtime_core_its_bytecode_and_the_wrapper(layer: Path) -> None:
    wrapper = layer / "lambdascope-wrapper"
    assert wrapper.stat().st_mode & stat.S_IXUSR
    assert wrapper.read_bytes() == Path(WRAPPER).read_bytes()
    package = layer / "python" / "lambdascope"
    assert (package / "redirect.py").is_file()
    assert (package / "py.typed").is_file()
    for tooling in ("testing", "cli", "check", "__main__.py", "exec-wrapper"):
        assert not (package / tooling).exists()
    tag = sys.implementation.cache_tag
    sources = sorted(p.stem for p in package.glob("*.py"))
    compiled = sorted(p.name.split(".")[0] for p in (package / "__pycache__").glob(f"*.{tag}.pyc"))
    assert compiled == sources


def test_the_layer_is_reproducible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert main(["layer", "build", "-o", str(first)]) == 0
    assert main(["layer", "build", "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    out = capsys.readouterr().out
    assert "AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdascope-wrapper" in out
    assert "LAMBDASCOPE_GUARD=warn" in out
    assert f"--zip-file fileb://{first}" in out


# -- the command line -------------------------------------------------------------------------


def test_invoke_runs_the_exec_wrapper_like_the_managed_runtime(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(HANDLERS)
    monkeypatch.setenv("AWS_LAMBDA_EXEC_WRAPPER", WRAPPER)
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "warn")
    event = json.dumps({"Records": [{"s3": {"object": {"key": "in/1.csv"}}}]})
    argv = ["invoke", "collect.lambda_handler", "--runtime", "awslambdaric", "--event-json", event]
    assert main([*argv, "--times", "2"]) == 0
    out = capsys.readouterr().out
    assert f"Init (on-demand) under awslambdaric (exec wrapper {WRAPPER}), pid " in out
    assert "#1 cold" in out
    assert "#2 warm" in out
    assert out.count('  | {"message": "lambdascope scope leak"') == 2
    assert main([*argv, "--times", "1", "--json"]) == 0
    init = json.loads(capsys.readouterr().out.splitlines()[0])
    assert init["exec_wrapper"] == WRAPPER


def test_invoke_in_process_refuses_an_exec_wrapper(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(HANDLERS)
    monkeypatch.setenv("AWS_LAMBDA_EXEC_WRAPPER", WRAPPER)
    assert main(["invoke", "collect:lambda_handler"]) == 2
    assert "an exec wrapper runs before the runtime starts" in capsys.readouterr().err


def test_invoke_guard_wraps_an_undecorated_handler_under_the_runtime_client(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(HANDLERS)
    monkeypatch.delenv("AWS_LAMBDA_EXEC_WRAPPER", raising=False)
    event = json.dumps({"Records": [{"s3": {"object": {"key": "in/1.csv"}}}]})
    argv = ["invoke", "collect.py:lambda_handler", "--runtime", "awslambdaric"]
    assert main([*argv, "--event-json", event, "--times", "1"]) == 0  # unguarded: it answers
    assert main([*argv, "--event-json", event, "--times", "1", "--guard", "raise"]) == 1
    out = capsys.readouterr().out
    assert "ERROR  ScopeLeakError: handler lambda_handler() wrote to module-level state" in out


def test_layer_build_without_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["layer", "build", "--no-compile"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Wrote lambdascope-layer.zip: lambdascope ")
    assert "(sources only, no bytecode)" in out
    assert "--compatible-runtimes python3.9 ... python3.13" in out
    with zipfile.ZipFile(tmp_path / "lambdascope-layer.zip") as archive:
        names = archive.namelist()
    assert names[0] == "lambdascope-wrapper"
    assert names[1:] == sorted(names[1:])
    assert not [name for name in names if "__pycache__" in name]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--python", "3.8"], "--python '3.8' is not a Python version Lambda runs"),
        (["--python", "three"], "--python 'three' is not a Python version Lambda runs"),
        (["--python", "3.99"], "no Python 3.99 found"),
        (["--python", "3.12", "--no-compile"], "not allowed with argument"),
    ],
)
def test_layer_build_usage_errors(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["layer", "build", *argv]) == 2
    assert words in capsys.readouterr().err


def test_layer_build_into_a_missing_folder_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["layer", "build", "-o", str(tmp_path / "missing" / "layer.zip")]) == 1
    assert "lambdascope layer build: " in capsys.readouterr().err
    assert main(["layer"]) == 2


def test_layer_build_for_another_python_compiles_with_that_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    here = "{}.{}".format(*sys.version_info[:2])
    other = "3.12" if here != "3.12" else "3.11"
    path = tmp_path / "layer.zip"
    code = main(["layer", "build", "--python", other, "-o", str(path)])
    if code == 2 and f"no Python {other} found" in capsys.readouterr().err:
        pytest.skip(f"no Python {other} on this machine")
    assert code == 0
    tag = f"cpython-{other.replace('.', '')}"
    with zipfile.ZipFile(path) as archive:
        compiled = [n for n in archive.namelist() if n.endswith(".pyc")]
    assert compiled
    assert all(f".{tag}.pyc" in name for name in compiled)
