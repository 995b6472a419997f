"""lambdascope.testing: the fake context, simulated environments and the warm-vs-cold assertion."""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

import pytest
from awslambdaric.lambda_context import LambdaContext as RuntimeContext
from hypothesis import given
from hypothesis import strategies as st

import lambdascope
from lambdascope import ScopeLeakError, handler, init_resource, request
from lambdascope.testing import (
    Invocation,
    LambdaContext,
    LambdaEnvironment,
    RuntimeExitError,
    assert_warm_matches_cold,
    invoke_cold_and_warm,
    load_handler,
    new_environment,
)

if TYPE_CHECKING:
    from conftest import HandlerDir

COUNTING_MODULE = """
    from lambdascope import handler, init_resource, request

    imports = [0]
    imports[0] += 1
    created = []
    closed = []


    @init_resource(close=closed.append)
    def client():
        created.append(1)
        return object()


    @handler(allow=("created", "closed"))
    def lambda_handler(event, context):
        fresh = "seen" not in request
        request.seen = True
        event["touched"] = True  # Lambda decodes each event afresh: this must not leak
        instance = client()
        return {
            "imports": imports[0],
            "clients": len(created),
            "client": id(instance),
            "cold": request.cold_start,
            "fresh": fresh,
            "request_id": request.request_id,
            "remaining": context.get_remaining_time_in_millis(),
            "memory": context.memory_limit_in_mb,
        }
"""

LEAKY_MODULE = """
    files = []


    def lambda_handler(event, context):
        files.append(event["key"])
        return len(files) == 1
"""


# --- LambdaContext --------------------------------------------------------------------------


def test_context_has_every_attribute_of_the_runtime_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
    real = RuntimeContext("id-1", None, None, int(time.time() * 1000) + 3000, "arn:x")
    ours = LambdaContext()
    public = {name for name in vars(real) if not name.startswith("_")}
    assert public <= set(dir(ours)), public - set(dir(ours))
    for name in ("get_remaining_time_in_millis", "log"):
        assert callable(getattr(ours, name))
    # The runtime reads the memory size from an environment variable: a string.
    assert type(ours.memory_limit_in_mb) is type(real.memory_limit_in_mb) is str


def test_context_defaults_follow_the_function_settings() -> None:
    context = LambdaContext(function_name="orders", memory_mb=512, region="eu-west-1")
    assert context.function_name == "orders"
    assert context.function_version == "$LATEST"
    assert context.memory_limit_in_mb == "512"
    assert context.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:orders"
    assert context.log_group_name == "/aws/lambda/orders"
    assert "[$LATEST]" in context.log_stream_name
    assert len(context.aws_request_id) == 36
    assert context.aws_request_id != LambdaContext().aws_request_id
    assert context.client_context is None
    assert context.identity.cognito_identity_id is None
    assert context.identity.cognito_identity_pool_id is None
    assert context.tenant_id is None
    assert "orders" in repr(context)


def test_context_carries_client_context_and_identity() -> None:
    context = LambdaContext(
        aws_request_id="req-1",
        client_context={
            "custom": {"k": "v"},
            "env": {"locale": "en"},
            "client": {"app_title": "A"},
        },
        identity={"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"},
        tenant_id="tenant-7",
    )
    assert context.aws_request_id == "req-1"
    assert context.client_context is not None
    assert context.client_context.custom == {"k": "v"}
    assert context.client_context.env == {"locale": "en"}
    assert context.client_context.client is not None
    assert context.client_context.client.app_title == "A"
    assert context.client_context.client.installation_id is None
    assert context.identity.cognito_identity_id == "id"
    assert context.identity.cognito_identity_pool_id == "pool"
    assert context.tenant_id == "tenant-7"
    assert "app_title='A'" in repr(context.client_context)
    assert "pool" in repr(context.identity)


def test_remaining_time_counts_down_to_zero() -> None:
    context = LambdaContext(deadline_ms=int(time.time() * 1000) + 80)
    first = context.get_remaining_time_in_millis()
    assert 0 < first <= 80
    time.sleep(0.1)
    assert context.get_remaining_time_in_millis() == 0


@given(st.floats(min_value=0.5, max_value=900))
def test_remaining_time_starts_at_the_timeout(timeout: float) -> None:
    remaining = LambdaContext(timeout=timeout).get_remaining_time_in_millis()
    assert timeout * 1000 - 1000 <= remaining <= timeout * 1000


def test_context_log_writes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    LambdaContext().log("hello")
    assert capsys.readouterr().out == "hello"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"memory_mb": 64}, ValueError, "between 128 and 10240"),
        ({"memory_mb": "512"}, TypeError, "memory_mb must be an int"),
        ({"timeout": 0}, ValueError, "positive"),
        ({"timeout": 900.5}, ValueError, "at most 900 seconds, got 900.5; Lambda allows 1 to 900"),
        ({"timeout": float("nan")}, ValueError, "positive"),
        ({"timeout": 10**400}, ValueError, "positive, finite"),
        ({"timeout": "3"}, TypeError, "number of seconds"),
        ({"timeout": True}, TypeError, "number of seconds"),
    ],
)
def test_context_rejects_bad_settings(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        LambdaContext(**options)


# --- LambdaEnvironment ----------------------------------------------------------------------


def test_environment_runs_init_once_and_invocations_warm(handler_dir: HandlerDir) -> None:
    handler_dir.write("counting", COUNTING_MODULE)
    with LambdaEnvironment("counting:lambda_handler", memory_mb=1024, timeout=10) as env:
        runs = env.run_many({"n": 1}, times=3)
    assert [r.cold_start for r in runs] == [True, False, False]
    assert [r.number for r in runs] == [1, 2, 3]
    assert all(r.ok for r in runs), [r.error for r in runs]
    results = [r.result for r in runs]
    assert [r["imports"] for r in results] == [1, 1, 1]
    assert [r["clients"] for r in results] == [1, 1, 1]
    assert len({r["client"] for r in results}) == 1
    assert [r["cold"] for r in results] == [True, False, False]
    assert all(r["fresh"] for r in results)
    assert len({r["request_id"] for r in results}) == 3
    assert [r.request_id for r in runs] == [r["request_id"] for r in results]
    assert all(9000 < r["remaining"] <= 10000 for r in results)
    assert {r["memory"] for r in results} == {"1024"}
    assert all("touched" not in r.event or r.event["touched"] for r in runs)
    assert [len(r.resources) for r in runs] == [1, 0, 0]
    assert runs[0].resources[0].name == "counting.client"


def test_each_invocation_gets_its_own_copy_of_the_event(handler_dir: HandlerDir) -> None:
    handler_dir.write("counting", COUNTING_MODULE)
    event = {"n": 1}
    with LambdaEnvironment("counting:lambda_handler") as env:
        first = env.run(event)
    assert event == {"n": 1}
    assert first.event == {"n": 1, "touched": True}


def test_restart_is_a_new_environment(handler_dir: HandlerDir) -> None:
    handler_dir.write("counting", COUNTING_MODULE)
    env = LambdaEnvironment("counting:lambda_handler")
    module = env.module
    assert module is not None
    first = env.invoke({})
    env.restart()
    assert len(module.closed) == 1  # the old client was closed
    again = env.invoke({})
    assert again["cold"] is True
    assert again["clients"] == 2  # recreated: the factory ran again
    assert again["imports"] == first["imports"] == 1  # the module was not re-imported
    env.restart(reimport=True)
    assert env.module is not module
    assert env.invoke({})["imports"] == 1  # a new module object: its top level ran again
    assert env.invocations[0].cold_start
    env.close()
    env.close()  # idempotent


def test_close_runs_close_hooks_and_restores_environment_variables(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("counting", COUNTING_MODULE)
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    with LambdaEnvironment(
        "counting:lambda_handler", function_name="fn", environ={"TABLE": "orders"}
    ) as env:
        assert os.environ["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
        assert os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
        assert os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
        assert os.environ["AWS_REGION"] == "us-east-1"
        assert os.environ["_HANDLER"] == "counting:lambda_handler"
        assert os.environ["TABLE"] == "orders"
        env.invoke({})
        module = env.module
    assert module is not None
    assert len(module.closed) == 1
    assert os.environ["AWS_REGION"] == "eu-north-1"
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    assert "TABLE" not in os.environ
    with pytest.raises(RuntimeError, match="closed"):
        env.run({})


def test_a_newer_environment_retires_the_older_one(handler_dir: HandlerDir) -> None:
    handler_dir.write("counting", COUNTING_MODULE)
    old = LambdaEnvironment("counting:lambda_handler")
    new = LambdaEnvironment("counting:lambda_handler")
    with pytest.raises(RuntimeError, match="newer one replaced it"):
        old.invoke({})
    assert new.invoke({})["cold"] is True
    old.close()  # retired: closing it must not touch the live environment's resources
    assert new.invoke({})["clients"] == 1
    new.close()
    assert "retired" not in repr(new)
    assert "closed" in repr(new)


def test_preinitialised_environments_have_no_cold_start(handler_dir: HandlerDir) -> None:
    handler_dir.write("counting", COUNTING_MODULE)
    for init_type in ("provisioned-concurrency", "snap-start"):
        with LambdaEnvironment("counting:lambda_handler", init_type=init_type) as env:  # type: ignore[arg-type]
            run = env.run({})
            assert run.cold_start is False
            assert run.result["cold"] is False


def test_init_records_the_import_and_eager_resources(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "eager",
        """
        import time
        from lambdascope import handler, init_resource

        @init_resource(eager=True)
        def config():
            time.sleep(0.01)
            return {"debug": False}

        @handler
        def lambda_handler(event, context):
            return config()
        """,
    )
    with LambdaEnvironment("eager.py:lambda_handler") as env:
        assert env.init.module == "eager"
        assert env.init.import_ms is not None
        assert env.init.import_ms >= 10
        assert [r.name for r in env.init.resources] == ["eager.config"]
        assert env.init.resources[0].phase == "init"
        assert env.init.resources_ms >= 10
        assert env.init.init_type == "on-demand"
        assert env.run({}).resources == ()


def test_a_module_already_imported_is_not_timed_again(handler_dir: HandlerDir) -> None:
    handler_dir.write("counting", COUNTING_MODULE)
    import counting  # type: ignore[import-not-found]

    with LambdaEnvironment("counting.lambda_handler") as env:
        assert env.module is counting
        assert env.init.import_ms == 0.0
    with LambdaEnvironment(counting.lambda_handler) as env:
        assert env.init.import_ms is None
        assert env.init.module is None
        assert env.module is counting
        assert env.invoke({})["cold"] is True


def test_invoke_raises_the_handlers_exception_with_its_traceback(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "failing",
        """
        def check(event):
            raise KeyError(event.get("missing", "bucket"))

        def lambda_handler(event, context):
            return check(event)
        """,
    )
    with LambdaEnvironment("failing.py") as env:
        with pytest.raises(KeyError, match="bucket") as info:
            env.invoke({})
        names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
        assert names[-2:] == ["lambda_handler", "check"]
        failed = env.run({})
    assert not failed.ok
    assert failed.result is None
    payload = failed.error_payload
    assert payload is not None
    assert payload["errorType"] == "KeyError"
    assert payload["errorMessage"] == "'bucket'"
    assert payload["requestId"] == failed.request_id
    assert [line.split(", in ")[1].split()[0] for line in payload["stackTrace"]] == [
        "lambda_handler",
        "check",
    ]
    assert failed.outcome() == ("error", "KeyError: 'bucket'")
    assert Invocation(1, True, "r", 0.0, 5, None).error_payload is None


def test_results_must_be_json_serialisable(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "results",
        """
        import datetime, decimal

        def as_date(event, context):
            return {"when": datetime.date(2026, 11, 22)}

        def as_decimal(event, context):
            return {"price": decimal.Decimal("9.99")}
        """,
    )
    with LambdaEnvironment("results:as_date") as env:
        run = env.run({})
    assert isinstance(run.error, lambdascope.testing.MarshalError)
    assert "Runtime.MarshalError" in str(run.error)
    assert "date is not JSON serializable" in str(run.error)
    assert run.result is None
    with LambdaEnvironment("results:as_decimal") as env:
        assert str(env.invoke({})["price"]) == "9.99"  # sent as a number by the runtime


def test_async_handlers_must_be_wrapped(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "asynchronous",
        """
        from lambdascope import handler, request

        async def bare(event, context):
            return 1

        @handler
        async def wrapped(event, context):
            return {"cold": request.cold_start}
        """,
    )
    with (
        LambdaEnvironment("asynchronous:bare") as env,
        pytest.raises(TypeError, match=r"does not await handlers.*@lambdascope.handler"),
    ):
        env.invoke({})
    with LambdaEnvironment("asynchronous:wrapped") as env:
        assert [r.result for r in env.run_many({}, times=2)] == [{"cold": True}, {"cold": False}]


def test_guard_option_wraps_undecorated_handlers(handler_dir: HandlerDir) -> None:
    handler_dir.write("leaky", LEAKY_MODULE)
    with LambdaEnvironment("leaky:lambda_handler", guard="raise") as env:
        run = env.run({"key": "a"})
        assert isinstance(run.error, ScopeLeakError)
        assert "files" in str(run.error)
        assert env.module is not None
        assert env.module.files == []  # restored by the guard
    with LambdaEnvironment("leaky:lambda_handler") as env:
        assert env.run_many({"key": "a"}, times=2)[1].result is False  # unguarded: it leaks


def test_guard_option_sets_the_mode_of_decorated_handlers(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "decorated_leak",
        """
        from lambdascope import handler

        seen = []

        @handler
        def lambda_handler(event, context):
            seen.append(1)
            return len(seen)
        """,
    )
    with LambdaEnvironment("decorated_leak:lambda_handler", guard="off", reimport=True) as env:
        assert [r.result for r in env.run_many({}, times=2)] == [1, 2]
    with LambdaEnvironment("decorated_leak:lambda_handler", reimport=True) as env:
        assert isinstance(env.run({}).error, ScopeLeakError)


def test_a_handler_object_or_explicit_context_can_be_passed() -> None:
    @handler
    def echo(event: Any, context: Any) -> Any:
        return {"id": context.aws_request_id, "n": request.invocation}

    with LambdaEnvironment(echo) as env:
        assert env.invoke({}, context=LambdaContext(aws_request_id="mine")) == {
            "id": "mine",
            "n": 1,
        }
        assert env.new_context(aws_request_id="x").aws_request_id == "x"
        assert env.new_context().function_name == "test-function"
        assert "1 invocations" in repr(env)


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        ("no_function_part", ValueError, "MODULE:FUNCTION"),
        (":lambda_handler", ValueError, "MODULE:FUNCTION"),
        ("mod:", ValueError, "MODULE:FUNCTION"),
        ("missing_dir/app.py:lambda_handler", FileNotFoundError, "does not exist"),
        ("handlers_here:nope", AttributeError, "'nope' not found in module 'handlers_here'"),
        ("handlers_here:VALUE", TypeError, "is int, not a function"),
        ("no_such_module_xyz:lambda_handler", ImportError, "no_such_module_xyz"),
    ],
)
def test_bad_targets_fail_at_init(
    handler_dir: HandlerDir, target: str, error: type[Exception], message: str
) -> None:
    handler_dir.write("handlers_here", "VALUE = 1\n")
    os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    with pytest.raises(error, match=message):
        LambdaEnvironment(target)
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ  # a failed Init leaves nothing behind


def test_a_failed_init_closes_what_it_created(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    handler_dir.write(
        "half_init",
        """
        from lambdascope import init_resource

        @init_resource(eager=True, close=lambda value: print("closed", value))
        def config():
            return "config"

        raise RuntimeError("TABLE_NAME is not set")
        """,
    )
    with pytest.raises(RuntimeError, match="TABLE_NAME"):
        LambdaEnvironment("half_init.py")
    assert [r.name for r in lambdascope.resource_records()] == ["half_init.config"]
    assert capsys.readouterr().out == "closed config\n"


def test_targets_can_name_files_methods_and_lambda_style_paths(handler_dir: HandlerDir) -> None:
    sub = handler_dir.path / "src"
    sub.mkdir()
    (sub / "svc.py").write_text(
        "class Service:\n"
        "    @staticmethod\n"
        "    def handle(event, context):\n"
        "        return 'static'\n"
        "def lambda_handler(event, context):\n"
        "    return 'file'\n",
        encoding="utf-8",
    )
    func, module = load_handler("src/svc.py:Service.handle")
    assert func({}, None) == "static"
    assert str(sub) in sys.path
    assert load_handler("src/svc.py")[0]({}, None) == "file"
    assert load_handler("svc.lambda_handler")[1] is module
    # Another file with the same module name is imported for what it is, not mistaken.
    other = handler_dir.path / "other"
    other.mkdir()
    (other / "svc.py").write_text("def lambda_handler(e, c):\n    return 'other'\n", "utf-8")
    assert load_handler(str(other / "svc.py"))[0]({}, None) == "other"
    # ... even when that other folder comes first on sys.path.
    sys.path.insert(0, str(other))
    assert load_handler("src/svc.py", reimport=True)[0]({}, None) == "file"
    assert load_handler("src/svc.py")[0]({}, None) == "file"  # already imported: reused
    # A file whose import fails leaves nothing half-imported behind.
    (sub / "half.py").write_text("VALUE = 1\nraise RuntimeError('boom')\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"):
        load_handler("src/half.py")
    assert "half" not in sys.modules


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"memory_mb": 10241}, ValueError, "between 128 and 10240"),
        ({"timeout": -1}, ValueError, "positive"),
        ({"init_type": "warm"}, ValueError, "init_type must be one of"),
        ({"guard": "loud"}, ValueError, "guard"),
    ],
)
def test_bad_environment_options_fail_early(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        LambdaEnvironment(lambda event, context: None, **options)


def test_something_that_is_not_a_handler_is_rejected() -> None:
    with pytest.raises(TypeError, match="needs a handler function"):
        LambdaEnvironment(42)  # type: ignore[arg-type]
    with (
        LambdaEnvironment(lambda e, c: None) as env,
        pytest.raises(ValueError, match="times must be a positive int"),
    ):
        env.run_many({}, times=0)
    with pytest.raises(ValueError, match="warm must be a positive int"):
        invoke_cold_and_warm(lambda e, c: None, {}, warm=0)


# --- the warm-vs-cold assertion -------------------------------------------------------------


def test_warm_matches_cold_for_a_handler_that_keeps_no_state(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "stable",
        """
        from lambdascope import handler, request

        @handler
        def lambda_handler(event, context):
            request.files = [event["key"]]
            return len(request.files) == 1
        """,
    )
    runs = assert_warm_matches_cold("stable:lambda_handler", {"key": "a"}, warm=3)
    assert [r.result for r in runs] == [True] * 4
    assert [r.cold_start for r in runs] == [True, False, False, False]


def test_warm_differs_from_cold_for_the_leaking_prefix_check(handler_dir: HandlerDir) -> None:
    handler_dir.write("leaky", LEAKY_MODULE)
    with pytest.raises(AssertionError) as info:
        assert_warm_matches_cold("leaky:lambda_handler", {"key": "a"}, reimport=True)
    message = str(info.value)
    assert "warm invocation 2 answered differently from the cold start" in message
    assert "invocation 1 (cold) returned True" in message
    assert "invocation 2 (warm) returned False" in message
    assert "lambdascope check" in message


def test_errors_are_compared_too(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "flaky",
        """
        calls = [0]

        def always(event, context):
            raise ValueError("no bucket")

        def once(event, context):
            calls[0] += 1
            if calls[0] > 1:
                raise RuntimeError("second call")
            return "ok"
        """,
    )
    runs = assert_warm_matches_cold("flaky:always", {})
    assert all(isinstance(r.error, ValueError) for r in runs)
    with pytest.raises(AssertionError, match=r"\(warm\) raised RuntimeError: second call"):
        assert_warm_matches_cold("flaky:once", {})


def test_results_are_compared_as_the_json_lambda_sends(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "results_json",
        """
        calls = [0]

        def ratio(event, context):
            return {"ratio": float("nan"), "pair": (1, 2)}

        def reordered(event, context):
            calls[0] += 1
            return {"a": 1, "b": 2} if calls[0] == 1 else {"b": 2, "a": 1}
        """,
    )
    assert_warm_matches_cold("results_json:ratio", {})  # NaN == NaN once sent as JSON
    assert_warm_matches_cold("results_json:reordered", {})
    first, second = invoke_cold_and_warm("results_json:ratio", {}, warm=1)
    assert first.same_outcome(second)


def test_sys_exit_fails_the_invocation_and_ends_the_environment(handler_dir: HandlerDir) -> None:
    handler_dir.write(
        "leaving",
        """
        import sys

        def lambda_handler(event, context):
            if "leave" in event:
                sys.exit(event["leave"])
            return "stayed"
        """,
    )
    env = LambdaEnvironment("leaving:lambda_handler")
    assert env.run({}).result == "stayed"
    gone = env.run({"leave": "shutting down"})  # SystemExit no longer escapes run()
    assert isinstance(gone.error, RuntimeExitError)
    assert gone.error.status == 1
    assert gone.error.exit_message == "shutting down"
    payload = gone.error_payload
    assert payload is not None
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].startswith(
        f"RequestId: {gone.request_id} Error: Runtime exited with error: exit status 1"
    )
    assert env.closed  # as on Lambda, the process and its environment are gone
    with pytest.raises(RuntimeError, match="closed"):
        env.run({})
    env.restart(reimport=True)
    again = env.run({"leave": 0})
    assert again.cold_start
    assert again.error is not None
    assert str(again.error).split("\n")[0].endswith("Runtime exited without providing a reason")
    assert gone.same_outcome(gone)
    assert not gone.same_outcome(again)
    env.close()


def test_a_scope_leak_fails_the_assertion(handler_dir: HandlerDir) -> None:
    handler_dir.write("leaky", LEAKY_MODULE)
    with pytest.raises(AssertionError, match="invocation 1 wrote module-level state") as info:
        assert_warm_matches_cold("leaky:lambda_handler", {"key": "a"}, guard="raise")
    assert isinstance(info.value.__cause__, ScopeLeakError)


def test_new_environment_resets_lambdascope_state() -> None:
    made: list[int] = []

    @init_resource
    def thing() -> int:
        made.append(1)
        return len(made)

    @handler
    def lambda_handler(event: Any, context: Any) -> Any:
        return (request.cold_start, thing())

    assert lambda_handler({}, None) == (True, 1)
    assert lambda_handler({}, None) == (False, 1)
    new_environment()
    assert lambda_handler({}, None) == (True, 2)
    assert lambdascope.resource_records()[-1].invocation == 1
    new_environment(init_type="snap-start")
    assert lambda_handler({}, None) == (False, 3)
    with pytest.raises(ValueError, match="init_type"):
        new_environment(init_type="cold")


def test_testing_is_not_imported_by_lambdascope() -> None:
    import subprocess

    code = "import lambdascope, sys; print('lambdascope.testing' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert "LocalRuntime" in dir(lambdascope.testing)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        lambdascope.testing.nothing
