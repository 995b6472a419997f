"""The handler redirect in this process: `lambdascope.redirect` imported as Lambda imports a
handler module, with LAMBDASCOPE_HANDLER naming the function's own, unmodified handler.

Under the real runtime client it is exercised in tests/tooling/test_adopt.py."""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import warnings
from typing import TYPE_CHECKING, Any

import pytest

import lambdascope
from lambdascope import ScopeLeakError, ScopeLeakWarning, request
from lambdascope.testing import new_environment

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import HandlerDir

LEAKY = """
seen = []


def lambda_handler(event, context):
    seen.append(event["id"])
    return len(seen)
"""

ASYNC = """
import asyncio


async def lambda_handler(event, context):
    await asyncio.sleep(0)
    return {"doubled": event["n"] * 2}
"""

DECORATED = """
from lambdascope import handler

calls = []


@handler(guard="warn")
def lambda_handler(event, context):
    return "decorated"
"""

_FAULTS = "awslambdaric.lambda_runtime_exception"


@pytest.fixture(autouse=True)
def _defaults(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    monkeypatch.delenv("LAMBDASCOPE_HANDLER", raising=False)
    monkeypatch.delitem(sys.modules, _FAULTS, raising=False)  # not under the runtime client
    lambdascope.configure(cold_start_report=False)
    yield
    # the redirect imported here serves this test's handler: a later import must start afresh
    sys.modules.pop("lambdascope.redirect", None)


def redirect(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> Any:
    """Import the redirect afresh, as Init does, with LAMBDASCOPE_HANDLER=*setting*."""
    if setting is not None:
        monkeypatch.setenv("LAMBDASCOPE_HANDLER", setting)
    sys.modules.pop("lambdascope.redirect", None)  # imported afresh; popped again at teardown
    return importlib.import_module("lambdascope.redirect").handler


def failure(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> Any:
    """The ImportError that importing the redirect raises; ``error_type`` is Lambda's."""
    with pytest.raises(ImportError) as info:
        redirect(monkeypatch, setting)
    assert "lambdascope.redirect" not in sys.modules  # a failed import leaves nothing behind
    assert isinstance(info.value, lambdascope.LambdascopeError)
    return info.value


# -- the forms of the handler setting -----------------------------------------------------


def test_an_unmodified_leaking_handler_is_observed_by_default(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # LAMBDASCOPE_GUARD unset (an --environment update replaced the variables): the function
    # answers exactly as before, and the leak is reported; @handler itself would raise.
    handler_dir.write("app", LEAKY)
    lambdascope.configure(cold_start_report=True)
    served = redirect(monkeypatch, "app.lambda_handler")
    app = sys.modules["app"]
    assert served.__wrapped__ is app.lambda_handler  # the module itself is not modified
    with pytest.warns(ScopeLeakWarning, match=r"list `seen` was modified in place"):
        assert served({"id": "a"}, None) == 1
    assert served({"id": "b"}, None) == 2
    assert app.seen == ["a", "b"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (report,) = [line for line in lines if line["message"] == "lambdascope cold start report"]
    (guard,) = report["guard"]
    assert guard["mode"] == "warn"
    assert guard["mode_set_by"].startswith("the redirect's default: LAMBDASCOPE_GUARD is not set")


def test_the_warnings_point_at_the_handler_not_at_lambdascope(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = handler_dir.write(
        "app",
        """
        import os
        import tempfile

        seen = []


        def lambda_handler(event, context):
            seen.append(event["id"])
            with open(os.path.join(tempfile.gettempdir(), "left.txt"), "w") as out:
                out.write("x")
            return len(seen)
        """,
    )
    served = redirect(monkeypatch, "app.lambda_handler")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        served({"id": "a"}, None)
    assert [w.category for w in caught] == [ScopeLeakWarning, lambdascope.TmpLeakWarning]
    define = path.read_text().splitlines().index("def lambda_handler(event, context):") + 1
    assert [(w.filename, w.lineno) for w in caught] == [(str(path), define)] * 2
    os.remove(os.path.join(tempfile.gettempdir(), "left.txt"))


def test_the_guard_mode_comes_from_lambdascope_guard(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("app", LEAKY)
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "raise")
    served = redirect(monkeypatch, "app.lambda_handler")
    with pytest.raises(ScopeLeakError, match=r"list `seen` was modified in place"):
        served({"id": "a"}, None)
    assert sys.modules["app"].seen == []  # raise mode: nothing crossed
    assert lambdascope.init_report()["guard"][0]["mode_set_by"] == "LAMBDASCOPE_GUARD=raise"
    new_environment()  # the report says why each environment's guard has its mode
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "warn")
    served = redirect(monkeypatch, "app.lambda_handler")
    with pytest.warns(ScopeLeakWarning, match="seen"):
        assert served({"id": "a"}, None) == 1
    assert served({"id": "b"}, None) == 2  # warn mode answers as before


def test_a_handler_in_a_package(handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch) -> None:
    (handler_dir.path / "orders").mkdir()
    (handler_dir.path / "orders" / "__init__.py").write_text("")
    handler_dir.write("orders/api", "def handle(event, context):\n    return 'api'\n")
    served = redirect(monkeypatch, "orders.api.handle")
    assert served({}, None) == "api"
    assert served.__wrapped__.__module__ == "orders.api"


@pytest.mark.parametrize(
    ("folder", "setting", "module"),
    [
        ("src", "src/app.lambda_handler", "src.app"),  # Lambda: the folder is a package path
        ("src/orders", "src/orders/app.lambda_handler", "src.orders.app"),
        ("v1.2", "v1.2/app.lambda_handler", "app"),  # a folder Python cannot import as a package
        ("my-functions", "my-functions/app.lambda_handler", "app"),
    ],
)
def test_a_handler_in_a_folder(
    handler_dir: HandlerDir,
    monkeypatch: pytest.MonkeyPatch,
    folder: str,
    setting: str,
    module: str,
) -> None:
    (handler_dir.path / folder).mkdir(parents=True)
    handler_dir.write(f"{folder}/app", "def lambda_handler(event, context):\n    return __name__\n")
    try:
        served = redirect(monkeypatch, setting)
        assert served({}, None) == module
        assert sys.modules[module].__file__ == str(handler_dir.path / folder / "app.py")
    finally:  # the namespace packages have no file under the folder for handler_dir to see
        for name in ("src", "src.orders"):
            sys.modules.pop(name, None)


def test_a_package_in_a_folder_with_dots(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    (handler_dir.path / "build.v2" / "shop").mkdir(parents=True)
    (handler_dir.path / "build.v2" / "shop" / "__init__.py").write_text("")
    handler_dir.write("build.v2/shop/cart", "def handle(event, context):\n    return __name__\n")
    assert redirect(monkeypatch, "build.v2/shop.cart.handle")({}, None) == "shop.cart"


def test_the_folder_is_found_under_the_task_root(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any
) -> None:
    task_root = tmp_path_factory.mktemp("task")
    (task_root / "v1.0").mkdir()
    (task_root / "v1.0" / "fn.py").write_text("def main(event, context):\n    return 'fn'\n")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(task_root))
    assert redirect(monkeypatch, "v1.0/fn.main")({}, None) == "fn"
    assert redirect(monkeypatch, f"{task_root}/v1.0/fn.main")({}, None) == "fn"  # absolute


def test_an_async_handler_is_run_to_completion(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("app", ASYNC)
    served = redirect(monkeypatch, "app.lambda_handler")
    assert served({"n": 21}, None) == {"doubled": 42}
    assert served({"n": 1}, None) == {"doubled": 2}


def test_a_handler_decorated_with_handler_is_not_wrapped_twice(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("app", DECORATED)
    served = redirect(monkeypatch, "app.lambda_handler")
    assert served is sys.modules["app"].lambda_handler  # its own options stand
    assert served({}, None) == "decorated"


def test_the_served_handler_opens_the_request_scope(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write(
        "app",
        "from lambdascope import request\n"
        "def lambda_handler(event, context):\n"
        "    return request.invocation, request.cold_start\n",
    )
    served = redirect(monkeypatch, "app.lambda_handler")
    assert [served({}, None), served({}, None)] == [(1, True), (2, False)]
    assert not lambdascope.in_invocation()
    with pytest.raises(lambdascope.OutsideInvocationError):
        request.invocation


# -- what fails Init, in Lambda's words -----------------------------------------------------


def test_an_unset_variable_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    error = failure(monkeypatch, None)
    assert error.error_type == "Runtime.MalformedHandlerName"
    assert "LAMBDASCOPE_HANDLER is not set" in str(error)
    assert "AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdascope-wrapper" in str(error)


@pytest.mark.parametrize("setting", ["app", "app.", ".handler", "src/app", "app.not-a-name"])
def test_a_malformed_setting(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    error = failure(monkeypatch, setting)
    assert error.error_type == "Runtime.MalformedHandlerName"
    assert str(error).startswith(f"Bad handler {setting!r} in LAMBDASCOPE_HANDLER")


@pytest.mark.parametrize(
    ("setting", "folder", "source", "error_type", "words"),
    [
        (
            "lambdascope.redirect.handler",
            None,
            None,
            "Runtime.MalformedHandlerName",
            "LAMBDASCOPE_HANDLER='lambdascope.redirect.handler' names the redirect itself",
        ),
        (
            "app.lambda_handler",
            None,
            "import not_installed_here\n",
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'not_installed_here' (",
        ),
        (
            "v9.9/app.lambda_handler",
            None,
            None,
            "Runtime.ImportModuleError",
            "Unable to import module 'v9.9/app': no folder 'v9.9' (",
        ),
        (
            "v1.2/app.lambda_handler",
            "v1.2",
            None,
            "Runtime.ImportModuleError",
            "Unable to import module 'v1.2/app': No module named 'app' in ",
        ),
        ("sys.exit", None, None, "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys"),
    ],
)
def test_what_cannot_be_loaded_is_named_in_lambdas_words(  # noqa: PLR0917 - a table
    handler_dir: HandlerDir,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    folder: str | None,
    source: str | None,
    error_type: str,
    words: str,
) -> None:
    if folder is not None:
        (handler_dir.path / folder).mkdir()
    if source is not None:
        handler_dir.write("app", source)
    error = failure(monkeypatch, setting)
    assert error.error_type == error_type
    assert str(error).startswith(words)


def test_a_missing_module_says_where_it_was_looked_for(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = failure(monkeypatch, "nowhere.lambda_handler")
    assert error.error_type == "Runtime.ImportModuleError"
    message = str(error)
    assert message.startswith("Unable to import module 'nowhere': No module named 'nowhere'")
    assert "LAMBDASCOPE_HANDLER='nowhere.lambda_handler'" in message
    assert f"searched {handler_dir.path}" in message


def test_a_missing_function_suggests_a_close_name(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = handler_dir.write("app", LEAKY)
    error = failure(monkeypatch, "app.lambda_handlr")
    assert error.error_type == "Runtime.HandlerNotFound"
    assert str(error) == (
        "Handler 'lambda_handlr' missing on module 'app' (LAMBDASCOPE_HANDLER="
        f"'app.lambda_handlr'; module file {path}; did you mean 'lambda_handler'?)"
    )


def test_a_missing_function_without_a_close_name(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("app", LEAKY)
    assert "did you mean" not in str(failure(monkeypatch, "app.main"))


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("lambda_handler = {'not': 'callable'}\n", "must decorate a function"),
        ("def lambda_handler(event):\n    return 1\n", "accepts (event, context)"),
    ],
)
def test_something_that_is_not_a_handler(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch, source: str, words: str
) -> None:
    handler_dir.write("app", source)
    error = failure(monkeypatch, "app.lambda_handler")
    assert error.error_type == "Runtime.HandlerNotFound"
    assert str(error).startswith("LAMBDASCOPE_HANDLER='app.lambda_handler': @handler")
    assert words in str(error)


def test_a_syntax_error_in_the_module(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = handler_dir.write("app", "def lambda_handler(event, context)\n    return 1\n")
    error = failure(monkeypatch, "app.lambda_handler")
    assert error.error_type == "Runtime.UserCodeSyntaxError"
    assert str(error).startswith("Syntax error in module 'app': ")
    assert error.trace == [f'  File "{path}" Line 1\n    def lambda_handler(event, context)\n']


def test_a_wrong_guard_mode_fails_init_as_a_configuration_error(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("app", LEAKY)
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "loud")
    with pytest.raises(lambdascope.ConfigurationError) as info:
        redirect(monkeypatch, "app.lambda_handler")
    assert not isinstance(info.value, ImportError)  # not a handler that cannot be found
    assert str(info.value) == (
        "environment variable LAMBDASCOPE_GUARD='loud' is not a guard mode. Set it to one of "
        "'raise', 'warn' or 'off' (or unset it for the default 'warn')."
    )


def test_the_module_s_own_init_error_propagates_unchanged(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler_dir.write("app", "raise RuntimeError('missing configuration: TABLE_NAME')\n")
    monkeypatch.setenv("LAMBDASCOPE_HANDLER", "app.lambda_handler")
    sys.modules.pop("lambdascope.redirect", None)  # imported afresh; popped again at teardown
    with pytest.raises(RuntimeError, match="missing configuration: TABLE_NAME"):
        importlib.import_module("lambdascope.redirect")


# -- under the runtime interface client: its own fault, no traceback through lambdascope ----


def test_under_the_runtime_client_a_load_error_is_its_fault(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awslambdaric.lambda_runtime_exception import FaultException

    monkeypatch.setitem(sys.modules, _FAULTS, importlib.import_module(_FAULTS))
    handler_dir.write("app", LEAKY)
    with pytest.raises(FaultException) as info:
        redirect(monkeypatch, "app.handle")
    assert info.value.exception_type == "Runtime.HandlerNotFound"
    assert info.value.msg.startswith("Handler 'handle' missing on module 'app'")
    assert info.value.trace == []
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_under_the_runtime_client_a_wrong_guard_mode_is_a_configuration_error(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awslambdaric.lambda_runtime_exception import FaultException

    monkeypatch.setitem(sys.modules, _FAULTS, importlib.import_module(_FAULTS))
    handler_dir.write("app", LEAKY)
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "warning")
    with pytest.raises(FaultException) as info:
        redirect(monkeypatch, "app.lambda_handler")
    assert info.value.exception_type == "ConfigurationError"  # not Runtime.HandlerNotFound
    assert "LAMBDASCOPE_GUARD='warning' is not a guard mode" in info.value.msg
    assert info.value.trace == []  # lambdascope's own frames are not the function's


def test_under_the_runtime_client_the_module_s_error_keeps_only_its_frames(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awslambdaric.lambda_runtime_exception import FaultException

    monkeypatch.setitem(sys.modules, _FAULTS, importlib.import_module(_FAULTS))
    path = handler_dir.write("app", "import os\n\nTABLE = os.environ['TABLE_NAME']\n")
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(FaultException) as info:
        redirect(monkeypatch, "app.lambda_handler")
    assert info.value.exception_type == "KeyError"
    assert info.value.msg == "'TABLE_NAME'"
    trace = "".join(info.value.trace)
    assert f'File "{path}", line 3, in <module>' in trace
    assert "redirect.py" not in trace
