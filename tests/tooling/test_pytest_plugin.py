"""The pytest plugin, tested with pytester: entry point, fixtures, options, failures it reports."""

from __future__ import annotations

import textwrap
from importlib.metadata import distribution

import pytest

LEAKY = """
files = []


def lambda_handler(event, context):
    files.append(event["key"])
    return len(files) == 1
"""

STABLE = """
import lambdascope
from lambdascope import handler, init_resource, request

closed = []


@init_resource(close=closed.append)
def client():
    return object()


@handler
def lambda_handler(event, context):
    request.files = [event["key"]]
    return {"ok": len(request.files) == 1, "client": id(client())}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(leaky=LEAKY, stable=STABLE)
    pytester.syspathinsert()
    return pytester


def test_the_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    entry_points = distribution("lambdascope").entry_points  # entry_points(group=) is 3.10+
    plugins = {ep.name: ep.value for ep in entry_points if ep.group == "pytest11"}
    assert plugins.get("lambdascope") == "lambdascope.testing.pytest_plugin"


def test_fixtures_simulate_cold_and_warm_invocations(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_handlers=textwrap.dedent(
            """
            import os


            def test_context(lambda_context):
                assert lambda_context.memory_limit_in_mb == "128"
                assert 0 < lambda_context.get_remaining_time_in_millis() <= 3000


            def test_environment(lambda_environment):
                env = lambda_environment("stable:lambda_handler", function_name="orders")
                assert os.environ["AWS_LAMBDA_FUNCTION_NAME"] == "orders"
                cold, warm = env.run_many({"key": "a"}, times=2)
                assert cold.cold_start and not warm.cold_start
                assert cold.result == warm.result


            def test_environment_closed_at_teardown():
                import stable

                assert len(stable.closed) == 1
                assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


            def test_cold_and_warm(lambda_invoke_cold_and_warm, lambda_warm_invocations):
                runs = lambda_invoke_cold_and_warm("stable:lambda_handler", {"key": "a"})
                assert len(runs) == 1 + lambda_warm_invocations
                assert [r.cold_start for r in runs] == [True] + [False] * lambda_warm_invocations
                assert len(lambda_invoke_cold_and_warm("stable:lambda_handler", warm=1)) == 2


            def test_stable_handler(lambda_assert_warm_matches_cold):
                lambda_assert_warm_matches_cold("stable:lambda_handler", {"key": "a"})
            """
        )
    )
    result = project.runpytest("--lambda-warm", "4")
    result.assert_outcomes(passed=5)


def test_a_leaky_handler_fails_with_a_clear_message(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_leaky="""
        def test_leaky(lambda_assert_warm_matches_cold):
            lambda_assert_warm_matches_cold("leaky:lambda_handler", {"key": "a"})
        """
    )
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*warm invocation 2 answered differently from the cold start*",
            "*invocation 1 (cold) returned True*",
            "*invocation 2 (warm) returned False*",
        ]
    )


def test_fresh_environment_fixture_gives_every_test_a_cold_start(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fresh="""
        import pytest
        from lambdascope import handler, request


        @handler
        def lambda_handler(event, context):
            return request.cold_start


        @pytest.mark.parametrize("run", [1, 2])
        def test_first_call_is_cold(lambda_fresh_environment, run):
            assert lambda_handler({}, None) is True
            assert lambda_handler({}, None) is False
        """
    )
    project.runpytest().assert_outcomes(passed=2)


def test_warm_count_comes_from_the_ini_file(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nlambda_warm_invocations = 5\n")
    project.makepyfile(
        test_ini="""
        def test_count(lambda_warm_invocations):
            assert lambda_warm_invocations == 5
        """
    )
    project.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (("--lambda-warm", "0"), "", "*must be >= 1, got 0*"),
        ((), "[pytest]\nlambda_warm_invocations = many\n", "*must be an integer, got 'many'*"),
    ],
)
def test_bad_warm_counts_are_usage_errors(
    project: pytest.Pytester, args: tuple[str, ...], ini: str, message: str
) -> None:
    if ini:
        project.makeini(ini)
    project.makepyfile(
        test_count="""
        def test_count(lambda_warm_invocations):
            pass
        """
    )
    result = project.runpytest(*args)
    result.stdout.fnmatch_lines([message])
    assert result.ret != 0


def test_the_plugin_can_be_disabled(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_disabled="""
        def test_context(lambda_context):
            pass
        """
    )
    result = project.runpytest("-p", "no:lambdascope")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'lambda_context' not found*"])


def test_the_plugin_is_loaded_in_a_separate_process(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_sub="""
        def test_context(lambda_context):
            assert lambda_context.function_name == "test-function"
        """
    )
    result = project.runpytest_subprocess("--lambda-warm", "3")
    result.assert_outcomes(passed=1)
    help_text = project.runpytest_subprocess("--help")
    help_text.stdout.fnmatch_lines(["*--lambda-warm=N*"])
