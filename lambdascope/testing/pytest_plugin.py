"""The lambdascope pytest plugin: fixtures that run handlers the way Lambda runs them.

Installed with lambdascope and loaded by pytest through the ``pytest11`` entry
point (disable it with ``-p no:lambdascope``). It adds these fixtures:

- ``lambda_context`` — a fresh :class:`lambdascope.testing.LambdaContext`;
- ``lambda_environment`` — a factory: ``lambda_environment("app:lambda_handler")``
  starts a :class:`lambdascope.testing.LambdaEnvironment` (Init), closed at teardown;
- ``lambda_managed_instances`` — a factory: ``lambda_managed_instances("app:lambda_handler",
  processes=2)`` starts a :class:`lambdascope.testing.ManagedInstances` (worker processes
  sharing one ``/tmp``, as under Lambda Managed Instances), stopped at teardown;
- ``lambda_fresh_environment`` — resets lambdascope's process state before and
  after the test, so a test that calls an ``@handler`` function directly starts
  with a cold start and leaves no init resource behind;
- ``lambda_invoke_cold_and_warm`` and ``lambda_assert_warm_matches_cold`` —
  :func:`lambdascope.testing.invoke_cold_and_warm` and
  :func:`lambdascope.testing.assert_warm_matches_cold` with the number of warm
  invocations set by ``--lambda-warm N`` or the ``lambda_warm_invocations`` ini
  setting (default 2; the ``lambda_warm_invocations`` fixture reads it).

Everything here imports lambdascope lazily, so loading the plugin costs nothing
for test suites that do not use it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import TypeVar

    from lambdascope.testing import LambdaContext, LambdaEnvironment, ManagedInstances
    from lambdascope.testing._context import Closing

    H = TypeVar("H", bound=Closing)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambdascope", "AWS Lambda lifecycle simulation (lambdascope)")
    group.addoption(
        "--lambda-warm",
        type=int,
        default=None,
        metavar="N",
        help="warm invocations after the cold start in lambdascope's cold-and-warm fixtures "
        "(default: the lambda_warm_invocations ini setting, 2)",
    )
    parser.addini(
        "lambda_warm_invocations",
        "warm invocations after the cold start in lambdascope's cold-and-warm fixtures",
        default="2",
    )


@pytest.fixture
def lambda_context() -> LambdaContext:
    """A fresh, realistic Lambda context (new request id, a 3 s deadline from now)."""
    from lambdascope.testing import LambdaContext

    return LambdaContext()


@pytest.fixture
def lambda_environment() -> Iterator[Callable[..., LambdaEnvironment]]:
    """Start simulated execution environments; every one is closed at teardown.

    Call it like :class:`lambdascope.testing.LambdaEnvironment`::

        def test_warm(lambda_environment):
            env = lambda_environment("app:lambda_handler")
            assert env.invoke({"n": 1}) == env.invoke({"n": 1})
    """
    from lambdascope.testing import LambdaEnvironment, new_environment

    yield from _closed_at_teardown(LambdaEnvironment)
    new_environment()


@pytest.fixture
def lambda_managed_instances() -> Iterator[Callable[..., ManagedInstances]]:
    """Start Lambda Managed Instances environments; every worker process stops at teardown.

    Call it like :class:`lambdascope.testing.ManagedInstances`::

        def test_each_process_inits(lambda_managed_instances):
            env = lambda_managed_instances("app:lambda_handler", processes=2)
            runs = env.run_many({"n": 1}, times=4)
            assert {r.process for r in runs} == {1, 2}
    """
    from lambdascope.testing import ManagedInstances

    yield from _closed_at_teardown(ManagedInstances)


@pytest.fixture
def lambda_fresh_environment() -> Iterator[None]:
    """Reset lambdascope's process state around the test: a new environment, cold start first."""
    from lambdascope.testing import new_environment

    new_environment()
    yield
    new_environment()


@pytest.fixture
def lambda_warm_invocations(request: pytest.FixtureRequest) -> int:
    """Warm invocations to run after the cold start: ``--lambda-warm`` or the ini setting."""
    option = request.config.getoption("--lambda-warm")
    value = option if option is not None else request.config.getini("lambda_warm_invocations")
    try:
        warm = int(value)
    except ValueError:
        raise pytest.UsageError(
            f"lambda_warm_invocations must be an integer, got {value!r}"
        ) from None
    if warm < 1:
        raise pytest.UsageError(f"--lambda-warm / lambda_warm_invocations must be >= 1, got {warm}")
    return warm


@pytest.fixture
def lambda_invoke_cold_and_warm(
    lambda_warm_invocations: int,
) -> Callable[..., list[Any]]:
    """Run a handler cold and then warm (``--lambda-warm`` times) in a new environment.

    Returns :func:`lambdascope.testing.invoke_cold_and_warm` with the configured
    number of warm invocations::

        def test_stable(lambda_invoke_cold_and_warm):
            cold, *warm = lambda_invoke_cold_and_warm("app:lambda_handler", {"n": 1})
            assert all(w.result == cold.result for w in warm)
    """
    from lambdascope.testing import invoke_cold_and_warm

    return functools.partial(invoke_cold_and_warm, warm=lambda_warm_invocations)


@pytest.fixture
def lambda_assert_warm_matches_cold(
    lambda_warm_invocations: int,
) -> Callable[..., list[Any]]:
    """:func:`lambdascope.testing.assert_warm_matches_cold` with the configured warm count.

    A ``warm=`` argument still wins over the configured count::

        def test_stable(lambda_assert_warm_matches_cold):
            lambda_assert_warm_matches_cold("app:lambda_handler", {"bucket": "incoming"})
    """
    from lambdascope.testing import assert_warm_matches_cold

    return functools.partial(assert_warm_matches_cold, warm=lambda_warm_invocations)


def _closed_at_teardown(harness: Callable[..., H]) -> Iterator[Callable[..., H]]:
    """A fixture body: yield a starter of *harness* objects, close each one at teardown."""
    started: list[H] = []

    def start(handler: Any, **options: Any) -> H:
        env = harness(handler, **options)
        started.append(env)
        return env

    yield start
    for env in reversed(started):
        env.close()
