"""The pytest plugin, tested with pytester: entry point, fixtures, options, failures it reports."""

from __future__ import annotations

import sys
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
    assert plugins.get("lambdascope") == "lambdascope_pytest"


def test_loading_the_plugin_imports_nothing_of_lambdascope(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import sys

        # conftest.py is loaded after the plugins: what they imported is loaded now
        AT_START = sorted(m for m in sys.modules if m.split(".")[0] == "lambdascope")


        def pytest_report_header():
            return f"lambdascope modules at start-up: {AT_START}"
        """
    )
    project.makepyfile(
        test_start="""
        import sys


        def test_no_fixture():
            assert "lambdascope" not in sys.modules


        def test_a_fixture(lambda_context):  # the plugin is on: its fixtures work
            assert "lambdascope.testing" in sys.modules
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["lambdascope modules at start-up: []"])


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


def test_a_file_written_to_the_real_tmp_fails_in_the_environment_fixture(
    pytester: pytest.Pytester,
) -> None:
    """As on Lambda, where /tmp is the temp dir: the environment's own temp dir is elsewhere."""
    pytester.makepyfile(
        invoices="""
        from lambdascope import handler


        @handler
        def lambda_handler(event, context):
            with open("/tmp/invoice-" + event["id"] + ".pdf", "w") as out:
                out.write("%PDF")
            return "filed"
        """,
        test_invoices="""
        import os

        from lambdascope import TmpLeakError


        def test_filed(lambda_environment):
            env = lambda_environment("invoices:lambda_handler")
            name = f"lambdascope-plugin-{os.getpid()}"
            run = env.run({"id": name})
            os.remove(f"/tmp/invoice-{name}.pdf")
            assert isinstance(run.error, TmpLeakError)
            assert "/tmp/invoice-*.pdf (created, 4 bytes)" in str(run.error)
        """,
    )
    pytester.syspathinsert()
    pytester.runpytest().assert_outcomes(passed=1)


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


# -- --lambda-guard-handler: an existing suite runs the code under test with the guard on ------

# A project's own code and tests, as they are before lambdascope: an undecorated handler that
# collects per-request data in a module-level list, and tests that each call it once.
SHOP = """
processed = []


def lambda_handler(event, context):
    processed.append(event["order"])
    return {"processed": len(processed)}


class Api:
    def handle(self, event, context):
        return {"path": event["path"]}
"""

SHOP_TESTS = """
from shop import lambda_handler


def test_one_order():
    assert lambda_handler({"order": "o-1"}, None) == {"processed": 1}


def test_the_api():
    import shop

    assert shop.Api().handle({"path": "/"}, None) == {"path": "/"}
"""


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(shop=SHOP, test_shop=SHOP_TESTS)
    pytester.syspathinsert()
    return pytester


def test_without_the_option_the_leaking_suite_passes(shop: pytest.Pytester) -> None:
    shop.runpytest().assert_outcomes(passed=2)


def test_the_option_fails_the_test_whose_invocation_leaks(shop: pytest.Pytester) -> None:
    result = shop.runpytest("--lambda-guard-handler", "shop:lambda_handler")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ScopeLeakError: handler lambda_handler() wrote to module-level state*",
            "*list `processed` was modified in place*",
            "FAILED test_shop.py::test_one_order*",
        ]
    )


def test_the_targets_can_come_from_the_ini_file(shop: pytest.Pytester) -> None:
    shop.makeini(
        "[pytest]\nlambda_guard_handlers =\n    shop:lambda_handler\n    shop:Api.handle\n"
    )
    result = shop.runpytest()
    result.assert_outcomes(passed=1, failed=1)  # the method leaks nothing: it passes guarded
    assert "ran without the guard" not in result.stdout.str()


def test_the_mode_comes_from_lambdascope_guard(
    shop: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "warn")
    result = shop.runpytest("--lambda-guard-handler", "shop:lambda_handler", "-W", "default")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*ScopeLeakWarning: handler lambda_handler()*", "*`processed`*"])


def test_a_handler_imported_by_conftest_is_wrapped_too(shop: pytest.Pytester) -> None:
    shop.makeconftest(
        """
        import pytest
        from shop import lambda_handler


        @pytest.fixture
        def invoke():
            return lambda_handler
        """
    )
    shop.makepyfile(
        test_fixture="""
        def test_through_the_fixture(invoke):
            invoke({"order": "o-2"}, None)
        """
    )
    result = shop.runpytest("--lambda-guard-handler", "shop:lambda_handler", "test_fixture.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ScopeLeakError*"])


def test_a_module_imported_before_is_wrapped_and_put_back_after(shop: pytest.Pytester) -> None:
    import shop as module

    original = module.lambda_handler
    result = shop.runpytest("--lambda-guard-handler", "shop:lambda_handler")
    result.assert_outcomes(passed=1, failed=1)
    assert module.lambda_handler is original
    assert module.processed == []  # the guard restored what the failed invocation wrote
    assert not any(type(finder).__name__ == "GuardedHandlers" for finder in sys.meta_path)


def test_a_handler_decorated_in_the_code_keeps_its_own_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        decorated="""
        from lambdascope import handler

        seen = []


        @handler(allow=("seen",))
        def lambda_handler(event, context):
            seen.append(1)
            return len(seen)
        """,
        test_decorated="""
        from decorated import lambda_handler


        def test_allowed_cache():
            assert lambda_handler({}, None) == 1
            assert lambda_handler({}, None) == 2
        """,
    )
    pytester.syspathinsert()
    pytester.runpytest("--lambda-guard-handler", "decorated:lambda_handler").assert_outcomes(
        passed=1
    )


SPELLINGS = """
import pytest

from lambdascope import ScopeLeakError


def test_through_a_file_target(lambda_environment):
    env = lambda_environment("shop.py:lambda_handler")
    assert isinstance(env.run({"order": "o-1"}).error, ScopeLeakError)


def test_through_a_module_target(lambda_environment):
    env = lambda_environment("shop:lambda_handler")
    assert isinstance(env.run({"order": "o-1"}).error, ScopeLeakError)


def test_through_an_import():
    from shop import lambda_handler

    with pytest.raises(ScopeLeakError):
        lambda_handler({"order": "o-2"}, None)
"""


@pytest.mark.parametrize(
    "order",
    [
        ("test_through_a_file_target", "test_through_an_import", "test_through_a_module_target"),
        ("test_through_an_import", "test_through_a_file_target", "test_through_a_module_target"),
        ("test_through_a_module_target", "test_through_a_file_target", "test_through_an_import"),
    ],
)
def test_the_guard_applies_whatever_the_target_s_spelling_and_the_order(
    shop: pytest.Pytester, order: tuple[str, ...]
) -> None:
    shop.makeini("[pytest]\nlambda_guard_handlers =\n    shop:lambda_handler\n")
    shop.makepyfile(test_spellings=SPELLINGS)
    result = shop.runpytest(*(f"test_spellings.py::{name}" for name in order))
    result.assert_outcomes(passed=3)
    assert "ran without the guard" not in result.stdout.str()  # the summary tells the truth


@pytest.mark.parametrize("target", ["shop", "shop:", ":lambda_handler", "shop:lambda-handler"])
def test_a_target_that_cannot_be_read_is_a_usage_error(shop: pytest.Pytester, target: str) -> None:
    result = shop.runpytest("--lambda-guard-handler", target)
    result.stderr.fnmatch_lines([f"*cannot read {target!r}; write MODULE:FUNCTION*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_target_missing_from_its_module_fails_the_import(shop: pytest.Pytester) -> None:
    result = shop.runpytest("--lambda-guard-handler", "shop:lambda_handlr")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--lambda-guard-handler shop:lambda_handlr names nothing*"])


def test_a_target_no_test_imports_is_named_in_the_summary(shop: pytest.Pytester) -> None:
    result = shop.runpytest("--lambda-guard-handler", "billing:lambda_handler")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["lambdascope: no test imported 'billing': billing:lambda_handler ran without the guard"]
    )
