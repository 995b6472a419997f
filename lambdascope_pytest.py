"""The lambdascope pytest plugin: fixtures that run handlers the way Lambda runs them.

Installed with lambdascope, beside the ``lambdascope`` package, and loaded by pytest through
the ``pytest11`` entry point (disable it with ``-p no:lambdascope``). Loading it imports
pytest's own modules and nothing of lambdascope: a fixture, or ``--lambda-guard-handler``,
imports what it needs when it is used. It adds these fixtures:

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

And one option that needs no fixture: ``--lambda-guard-handler MODULE:FUNCTION``
(repeatable) or the ``lambda_guard_handlers`` ini setting (one target a line) wraps
those handlers of the code under test with ``@handler`` as soon as their module is
imported, so an existing test suite runs them with the guard on (mode from
``LAMBDASCOPE_GUARD``, default ``raise``) and a test whose invocation leaks state fails
with :class:`~lambdascope.ScopeLeakError`, without a change to the code under test. However
the module is loaded (an import, a fixture's ``"shop.py:lambda_handler"``), its handlers are
wrapped before the next test starts.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
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
    group.addoption(
        "--lambda-guard-handler",
        action="append",
        default=None,
        metavar="MODULE:FUNCTION",
        help="wrap this handler of the code under test with lambdascope's @handler when its "
        "module is imported, so tests run it with the guard on (repeatable; default: the "
        "lambda_guard_handlers ini setting)",
    )
    parser.addini(
        "lambda_guard_handlers",
        "handlers (MODULE:FUNCTION, one a line) to run with lambdascope's guard on",
        type="linelist",
        default=[],
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Install the handler wrapping before any conftest.py can import a handler module."""
    targets = early_config.known_args_namespace.lambda_guard_handler or early_config.getini(
        "lambda_guard_handlers"
    )
    if not targets:
        return
    guarded = GuardedHandlers(targets)
    guarded.install()
    early_config.add_cleanup(guarded.uninstall)
    early_config.pluginmanager.register(guarded, "lambdascope-guarded-handlers")


class GuardedHandlers:
    """The handlers ``--lambda-guard-handler`` names, wrapped with ``@handler`` on import.

    A finder first on ``sys.meta_path`` sees the import of a target's module and has the
    module wrapped right after it runs, before any ``from app import lambda_handler``
    binds the original; a module imported already is wrapped at once, and one loaded
    without the import system's finders (from its file) before the next test starts.
    ``uninstall`` puts the original functions back.
    """

    def __init__(self, targets: Sequence[str]) -> None:
        self.targets: dict[str, list[str]] = {}
        for target in targets:
            module, _, attr = target.strip().partition(":")
            if not module or not attr or not all(p.isidentifier() for p in attr.split(".")):
                raise pytest.UsageError(
                    f"--lambda-guard-handler / lambda_guard_handlers: cannot read {target!r}; "
                    "write MODULE:FUNCTION (app.handlers:lambda_handler, or "
                    "app:Handler.handle for a method)"
                )
            self.targets.setdefault(module, []).append(attr)
        self.wrapped: list[tuple[Any, str, Any]] = []  # (owner, name, original)
        self.seen: set[str] = set()
        self.modules: dict[str, ModuleType] = {}  # the module object each target's was wrapped in
        self.active = False

    def install(self) -> None:
        """Start wrapping: now for modules imported already, on import for the others."""
        self.active = True
        sys.meta_path.insert(0, self)
        for name in self.targets:
            if name in sys.modules:
                self.wrap(sys.modules[name])

    def uninstall(self) -> None:
        """Stop wrapping and put every original handler back."""
        self.active = False
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for owner, name, original in reversed(self.wrapped):
            setattr(owner, name, original)
        self.wrapped.clear()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec the other finders give a target module, its module wrapped once run."""
        if fullname not in self.targets or not self.active:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        run = getattr(loader, "exec_module", None)
        if run is None:  # pragma: no cover - every loader of Python 3.4+ has exec_module
            return spec

        def exec_module(module: ModuleType) -> None:
            run(module)
            if module.__name__ == fullname:  # a zip importer serves other modules too
                self.wrap(module)

        loader.exec_module = exec_module  # type: ignore[method-assign,union-attr]
        return spec

    def wrap(self, module: ModuleType) -> None:
        """Wrap the targets of *module* with ``@handler`` (unless they are already)."""
        if not self.active:
            return
        from lambdascope._handler import is_handler, wrap_in

        self.seen.add(module.__name__)
        self.modules[module.__name__] = module
        for attr in self.targets[module.__name__]:
            *path, name = attr.split(".")
            owner: Any = module
            try:
                for part in path:
                    owner = getattr(owner, part)
                original = vars(owner)[name] if name in vars(owner) else getattr(owner, name)
            except (AttributeError, TypeError):
                raise AttributeError(
                    f"lambdascope: --lambda-guard-handler {module.__name__}:{attr} names "
                    f"nothing in module {module.__name__!r} ({module.__file__}); check the "
                    "option or the lambda_guard_handlers ini setting"
                ) from None
            if is_handler(getattr(original, "__func__", original)):
                continue  # decorated in the code already: its own options stand
            setattr(owner, name, wrap_in(module.__name__, original))
            self.wrapped.append((owner, name, original))

    def catch_up(self) -> None:
        """Wrap the targets of modules loaded since without the finder (from their file)."""
        for name in self.targets:
            module = sys.modules.get(name)
            if module is not None and self.modules.get(name) is not module:
                self.wrap(module)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Before each test: whatever an earlier test loaded is wrapped."""
        self.catch_up()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Name the targets whose module no test imported: they ran nowhere under the guard."""
        self.catch_up()
        for name in self.targets:
            if name not in self.seen:
                targets = ", ".join(f"{name}:{attr}" for attr in self.targets[name])
                terminalreporter.write_line(
                    f"lambdascope: no test imported {name!r}: {targets} ran without the guard"
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
