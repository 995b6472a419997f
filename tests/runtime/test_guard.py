"""The module-state guard, through the public API, on real handler modules (tests/guard_modules)."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

import lambdascope
from lambdascope import ScopeLeakError, ScopeLeakWarning, handler
from lambdascope.aws import ClientInInvocationWarning

if TYPE_CHECKING:
    from conftest import HandlerDir

HERE = Path(__file__).resolve().parent


@pytest.fixture
def fresh() -> Any:
    """Import a guard_modules module afresh, so every test starts from its Init state."""

    def load(name: str) -> Any:
        for loaded in [m for m in sys.modules if m.startswith("guard_modules")]:
            del sys.modules[loaded]
        return importlib.import_module(f"guard_modules.{name}")

    yield load
    for loaded in [m for m in sys.modules if m.startswith("guard_modules")]:
        del sys.modules[loaded]


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)


# -- every kind of write is caught on the first invocation, and undone ----------------------

WRITES = [
    ("append", "ITEMS", "list `ITEMS` was modified in place (1 item(s) added"),
    ("extend_via_iadd", "STATE", "list `STATE['items']` was modified in place"),
    ("heappush", "HEAP", "list `HEAP` was modified in place (1 item(s) added"),
    ("setitem", "TABLE", "dict `TABLE` was modified in place: key(s) added: 'b'"),
    ("delitem", "TABLE", "key(s) removed: 'a'"),
    ("dict_update", "TABLE", "key(s) added: 'z'"),
    ("setdefault", "TABLE", "key(s) added: 'c'"),
    ("replace_value", "TABLE", "key(s) replaced: 'a'"),
    ("set_add", "TAGS", "set `TAGS` was modified in place (1 item(s) added"),
    ("set_ior", "TAGS", "set `TAGS`"),
    ("bytearray_extend", "BUFFER", "bytearray `BUFFER`"),
    ("deque_append", "RECENT", "deque `RECENT`"),
    ("defaultdict_missing", "GROUPS", "defaultdict `GROUPS`"),
    ("counter_update", "COUNTS", "Counter `COUNTS`"),
    ("ordereddict_move", "ORDER", "OrderedDict `ORDER` was modified in place: contents reordered"),
    ("list_sort", "HEAP", "item(s) replaced or reordered"),
    ("nested_append", "STATE", "list `STATE['items']` was modified in place"),
    ("deep_in_tuple", "NESTED", "list `NESTED[0]['deep']`"),
    ("rebind", "n", "name `n` was rebound"),
    ("create_global", "created_later", "name `created_later` was created"),
    ("delete_global", "n", "name `n` was deleted"),
    ("instance_attribute", "SETTINGS", "attribute(s) of `SETTINGS` (a Settings instance)"),
    ("class_attribute_mutation", "Settings", "list `Settings.registry`"),
    ("class_attribute_rebind", "Settings", "class attribute(s) of `Settings`"),
    ("replace_with_ambiguous", "SLOTS", "list `SLOTS` was modified in place (item(s) replaced"),
    ("via_helper", "ITEMS", "list `ITEMS` was modified in place"),
    ("async_append", "ITEMS", "list `ITEMS` was modified in place"),
]


def _state(mod: Any) -> dict[str, Any]:
    names = [k for k in vars(mod) if not k.startswith("__")]
    plain = {k: getattr(mod, k) for k in names}
    return {
        "repr": {k: repr(v) for k, v in plain.items() if not callable(v) or k == "Settings"},
        "ids": {k: id(v) for k, v in plain.items()},
        "settings": dict(vars(mod.SETTINGS)),
        "class": (list(mod.Settings.registry), mod.Settings.count),
    }


@pytest.mark.parametrize(("name", "variable", "detail"), WRITES, ids=[w[0] for w in WRITES])
def test_write_is_caught_and_no_data_crosses(
    fresh: Any, name: str, variable: str, detail: str
) -> None:
    mod = fresh("writes")
    before = _state(mod)
    with pytest.raises(ScopeLeakError) as caught:
        getattr(mod, name)(7, None)
    message = str(caught.value)
    assert "module 'guard_modules.writes': " in message
    assert detail in message, message
    assert f"allow=({variable!r},)" in message
    assert "request" in message
    assert "@init_resource" in message
    assert "restored" in message
    # no data crosses: the next invocation starts from exactly the Init state
    assert _state(mod) == before


def test_message_points_at_the_lines_that_use_the_variable(fresh: Any) -> None:
    mod = fresh("writes")
    with pytest.raises(ScopeLeakError) as caught:
        mod.via_helper(1, None)
    source = Path(mod.__file__).read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "ITEMS.append(value)" in text)
    assert f"{mod.__file__}:{line}" in str(caught.value)


def test_method_handler_is_guarded(fresh: Any) -> None:
    mod = fresh("writes")
    with pytest.raises(ScopeLeakError, match="ITEMS"):
        mod.Service().handle(1, None)
    assert mod.ITEMS == []


def test_a_failing_handler_that_leaked_reports_the_leak_and_chains_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "guard_failing.py").write_text(
        "from lambdascope import handler\nSEEN = []\n\n"
        "@handler\ndef lambda_handler(event, context):\n"
        "    SEEN.append(event)\n    raise KeyError(event)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("guard_failing")
    try:
        with pytest.raises(ScopeLeakError) as caught:
            mod.lambda_handler("k", None)
        assert isinstance(caught.value.__context__, KeyError)
        assert mod.SEEN == []
    finally:
        del sys.modules["guard_failing"]


def test_identity_is_kept_for_modules_that_imported_the_object(fresh: Any) -> None:
    user = fresh("pkg_user")
    store = sys.modules["guard_modules.pkg.store"]
    held = store.SEEN  # what `from guard_modules.pkg.store import SEEN` elsewhere holds
    guarded = handler(modules=("guard_modules.pkg",))(user.unguarded_elsewhere.__wrapped__)
    with pytest.raises(ScopeLeakError, match=r"module 'guard_modules.pkg.store': list `SEEN`"):
        guarded("k", None)
    assert held is store.SEEN
    assert held == []


def test_other_modules_of_the_project_are_guarded_unless_left_out(fresh: Any) -> None:
    user = fresh("pkg_user")
    with pytest.raises(ScopeLeakError, match=r"module 'guard_modules.pkg.store': list `SEEN`"):
        user.unguarded_elsewhere("a", None)
    left_out = handler(exclude=("guard_modules.pkg",))(user.unguarded_elsewhere.__wrapped__)
    assert left_out("a", None) == 1
    assert left_out("b", None) == 2


# -- the S3 prefix check whose list leaks ---------------------------------------------------


@mock_aws
def test_files_leak_fails_on_the_first_invocation() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="incoming")
    for key in ("invoice_1.pdf", "receipt_2.pdf", "other.txt"):
        s3.put_object(Bucket="incoming", Key=key, Body=b"x")
    path = HERE.parent / "fixtures" / "antipatterns" / "files_leak.py"
    spec = importlib.util.spec_from_file_location("files_leak", path)
    assert spec is not None
    assert spec.loader is not None
    leaky = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(leaky)
    lambda_handler = handler(leaky.lambda_handler)

    # the handler also builds its client inside the handler: warned once per call site
    with (
        pytest.warns(ClientInInvocationWarning, match=r"files_leak\.py:11"),
        pytest.raises(ScopeLeakError) as caught,
    ):
        lambda_handler({}, None)
    message = str(caught.value)
    assert "handler lambda_handler() wrote to module-level state" in message
    assert "module 'files_leak': list `files` was modified in place (2 item(s) added" in message
    assert "the next request" in message
    assert f"{path}:15" in message  # files.append(obj["Key"])
    assert "request.files = ..." in message
    # handler() is applied in this test, the handler's code lives in files_leak: qualified
    assert "@handler(allow=('files_leak.files',))" in message
    # no data crosses: the second invocation starts with an empty list again
    assert leaky.files == []
    with pytest.raises(ScopeLeakError):
        lambda_handler({}, None)
    assert leaky.files == []


# -- things that are not writes never trip it ----------------------------------------------

NON_WRITES = [
    "reads",
    "locals_and_copies",
    "request_attributes",
    "init_resources",
    "third_party",
    "allowed_cache",
    "unguarded",
]


@pytest.mark.parametrize("name", NON_WRITES)
def test_non_write_passes_on_warm_invocations(fresh: Any, name: str) -> None:
    mod = fresh("clean")
    results = [getattr(mod, name)(3, None) for _ in range(3)]
    assert len(results) == 3


def test_init_resource_values_are_the_resources_own(fresh: Any) -> None:
    mod = fresh("clean")
    assert [mod.init_resources(i, None) for i in range(3)] == [1, 2, 3]


def test_allowed_cache_keeps_its_entries(fresh: Any) -> None:
    mod = fresh("clean")
    assert [mod.allowed_cache(i, None) for i in range(3)] == [1, 2, 3]


def test_guard_off_lets_writes_stand_and_is_the_plain_wrapper(fresh: Any) -> None:
    mod = fresh("clean")
    assert mod.unguarded(1, None) == 3
    assert mod.unguarded(1, None) == 4
    assert mod.unguarded.__code__.co_name == "plain_wrapper"


@mock_aws
def test_boto3_client_at_module_level_is_not_a_write(fresh: Any) -> None:
    mod = fresh("clean")
    mod.s3.create_bucket(Bucket="bucket-one")  # outside an invocation: not the guard's business
    assert mod.boto3_call(1, None) == ["bucket-one"]
    assert mod.boto3_call(2, None) == ["bucket-one"]


def test_writes_between_invocations_are_not_blamed_on_the_next_one(fresh: Any) -> None:
    mod = fresh("clean")
    mod.reads(1, None)
    mod.REGISTRY.append("test setup")  # e.g. a test or Init code changing state
    mod.CONFIG["key1"] = "patched"
    assert mod.reads(1, None)[1] == "patched"
    assert mod.REGISTRY[-1] == "test setup"


# -- modes ---------------------------------------------------------------------------------


def test_warn_mode_warns_once_per_variable_and_lets_the_result_stand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "guard_warned.py").write_text(
        "from lambdascope import handler\nSEEN = []\nOTHER = {}\n\n"
        "@handler(guard='warn')\ndef lambda_handler(event, context):\n"
        "    SEEN.append(event)\n    if event == 'b':\n        OTHER[event] = 1\n"
        "    return len(SEEN)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("guard_warned")
    try:
        with pytest.warns(ScopeLeakWarning, match="list `SEEN`") as record:
            assert mod.lambda_handler("a", None) == 1
        assert len(record) == 1
        assert "restored" not in str(record[0].message)
        with pytest.warns(ScopeLeakWarning, match="dict `OTHER`") as record:
            assert mod.lambda_handler("b", None) == 2
        assert "SEEN" not in str(record[0].message)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert mod.lambda_handler("c", None) == 3  # SEEN again: already reported
        assert mod.SEEN == ["a", "b", "c"]
    finally:
        del sys.modules["guard_warned"]


@pytest.mark.parametrize(("value", "plain"), [("off", True), ("warn", False), ("", False)])
def test_environment_variable_sets_the_default_mode(
    monkeypatch: pytest.MonkeyPatch, value: str, plain: bool
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_GUARD", value)

    @handler
    def lambda_handler(event: object, context: object) -> None:
        return None

    assert (lambda_handler.__code__.co_name == "plain_wrapper") is plain


def test_explicit_guard_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "off")

    @handler(guard="raise")
    def lambda_handler(event: object, context: object) -> None:
        return None

    assert lambda_handler.__code__.co_name == "guarded_wrapper"


def test_invalid_environment_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDASCOPE_GUARD", "strict")
    with pytest.raises(ValueError, match=r"LAMBDASCOPE_GUARD='strict' is not a guard mode"):

        @handler
        def lambda_handler(event: object, context: object) -> None:
            return None


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"guard": "loud"}, ValueError, r"guard='loud'\) is not a guard mode. Use guard='raise'"),
        ({"gaurd": "warn"}, TypeError, r"unknown option\(s\): gaurd. Valid options are: guard"),
        ({"allow": "files"}, TypeError, r"takes a tuple of names.*allow=\('cache',\)"),
        ({"allow": (1,)}, TypeError, r"takes names \(strings\), got 1"),
        ({"modules": "pkg"}, TypeError, r"modules=\('mypackage',\)"),
        ({"modules": (None,)}, TypeError, r"takes names \(strings\), got None"),
    ],
)
def test_bad_options_fail_at_decoration_time(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        handler(**options)


def test_modules_accepts_module_objects_and_reports_unknown_names() -> None:
    def lambda_handler(event: object, context: object) -> None:
        return None

    guarded = handler(modules=(lambdascope,))(lambda_handler)
    assert [guarded(1, None) for _ in range(3)] == [None, None, None]  # its own state is exempt
    missing = handler(modules=("no_such_module_xyz",))(lambda_handler)
    with pytest.raises(ValueError, match="'no_such_module_xyz' cannot be imported"):
        missing(1, None)


def test_not_callable_is_still_a_type_error() -> None:
    with pytest.raises(TypeError, match="must decorate a function"):
        handler(guard="warn")(42)  # type: ignore[call-overload]


def test_guard_off_runs_methods_and_async_handlers_through_thin_adapters() -> None:
    class Service:
        @handler(guard="off")
        def handle(self, event: object, context: object) -> object:
            return lambdascope.request.event

    @handler(guard="off")
    async def lambda_handler(event: object, context: object) -> object:
        return lambdascope.request.event

    class AsyncService:
        @handler(guard="off")
        async def handle(self, event: object, context: object) -> object:
            return event

    assert Service().handle(1, None) == 1
    assert lambda_handler(2, None) == 2
    assert AsyncService().handle(3, None) == 3
    assert Service.handle.__code__.co_name == "method_wrapper"
    assert lambda_handler.__code__.co_name == "plain_wrapper"  # the hot path, around the loop


def test_dunders_set_on_module_classes_by_libraries_are_not_writes(fresh: Any) -> None:
    mod = fresh("writes")
    assert mod.dunder_on_class(1, None) == "ok"
    assert mod.dunder_on_class(1, None) == "ok"
    with pytest.raises(ScopeLeakError, match="ITEMS"):
        mod.append(1, None)  # and the guard still works afterwards


def test_callable_instances_and_partials_guard_their_own_module(fresh: Any) -> None:
    import functools

    mod = fresh("writes")
    for target in (mod.CallableHandler(), functools.partial(mod.plain_handler, extra=1)):
        guarded = handler(target)
        with pytest.raises(ScopeLeakError, match=r"module 'guard_modules.writes': list `ITEMS`"):
            guarded(1, None)
        assert mod.ITEMS == []


def test_a_value_replaced_by_an_equal_one_of_another_type_is_a_change(
    handler_dir: HandlerDir,
) -> None:
    # 0 == False and 1 == 1.0: the containers compare equal, yet the next request reads
    # other data (json.dumps gives "false" for one, "0" for the other).
    handler_dir.write(
        "retyped",
        """
        from collections import deque
        from lambdascope import handler

        flags = deque([False, 0])
        totals = {"n": 1}
        sizes = [1]


        @handler(watch_tmp=False)
        def lambda_handler(event, context):
            what = event["what"]
            if what == "reorder":
                flags.reverse()
            elif what == "retype":
                totals["n"] = 1.0
            else:
                sizes[0] = True
        """,
    )
    module = importlib.import_module("retyped")
    for what, variable in (("reorder", "flags"), ("retype", "totals"), ("replace", "sizes")):
        with pytest.raises(ScopeLeakError, match=f"`{variable}` was modified in place"):
            module.lambda_handler({"what": what}, None)
    assert (list(module.flags), module.totals, module.sizes) == ([False, 0], {"n": 1}, [1])
    assert type(module.totals["n"]) is int
    assert type(module.sizes[0]) is int
