"""One test per distinct cause the guard fuzzer found (issues 19 and 27), named after the construct.

Each shows the smallest handler the fuzzer reduced its failure to. They are strict xfails
while the guard has the hole; whoever closes one removes its mark (and the construct's
entry in tests/runtime/guard_fuzz/known.py, so the bounded fuzz run covers it again).

The tests never keep a reference to a module-level value across an invocation: the guard
counts references to find values something else holds, and a test holding one would make
it watch what it does not watch in production.
"""

from __future__ import annotations

import importlib
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from lambdascope import ScopeLeakError

if TYPE_CHECKING:
    from conftest import HandlerDir

EVENTS = [{"user": "u-1", "id": 1, "items": ["i-1"]}, {"user": "u-2", "id": 2, "items": ["i-2"]}]


def _load(handler_dir: HandlerDir, source: str, name: str = "leaky") -> Any:
    handler_dir.write(name, source)
    return importlib.import_module(name)


def _tree(handler_dir: HandlerDir, files: dict[str, str], main: str) -> Any:
    """Write *files* (path -> source) as a function's tree in the folder on ``sys.path``, as
    it is deployed, and import its handler module *main*."""
    for path, text in files.items():
        target = handler_dir.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return importlib.import_module(main)


def _handler_module(init: str, statement: str, *, imports: str = "", prelude: str = "") -> str:
    """A module with ``STATE = <init>`` and a handler running *statement*."""
    return f"""
{imports}
from lambdascope import handler

STATE = {init}


@handler
def lambda_handler(event, context):
    {prelude}{statement}
"""


def _assert_caught_and_restored(app: Any, name: str, expected: Any) -> None:
    """Every invocation fails with ScopeLeakError naming *name*, and *name* is restored."""
    for event in EVENTS:
        with pytest.raises(ScopeLeakError) as caught:
            app.lambda_handler(event, None)
        assert f"`{name}" in str(caught.value)
        assert _state(getattr(app, name)) == expected


def _state(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_state(item) for item in value)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _state(v) for k, v in vars(value).items()}
    if isinstance(value, (dict, list, set, bytearray)):
        return (type(value), value.copy())
    return value


# -- item 1: the module's objects in a container, written by methods named like reads -------

OBJECT = """
from lambdascope import handler


class Repo:
    def __init__(self):
        self.cache = {}
        self.lines = []
        self.hits = 0

    def get(self, key):  # memoises
        if key not in self.cache:
            self.cache[key] = key.upper()
        return self.cache[key]

    def info(self, message):  # logs into itself
        self.lines.append(message)

    @property
    def size(self):  # counts its readers
        self.hits += 1
        return self.hits


HOLDER = $holder


@handler
def lambda_handler(event, context):
    return $call
"""


@pytest.mark.parametrize(
    ("holder", "call"),
    [
        ('{"main": Repo()}', 'HOLDER["main"].get(event["user"])'),
        ("[Repo()]", 'HOLDER[0].info(event["user"])'),
        ("(Repo(),)", "HOLDER[0].size"),
    ],
    ids=["get-memoises-in-dict", "info-appends-in-list", "property-counts-in-tuple"],
)
def test_object_in_a_container_written_by_a_read_looking_method(
    handler_dir: HandlerDir, holder: str, call: str
) -> None:
    app = _load(handler_dir, OBJECT.replace("$holder", holder).replace("$call", call))
    _assert_caught_and_restored(app, "HOLDER", _state(app.HOLDER))


# -- items 2-5: writes the analysis does not see -------------------------------------------------


@pytest.mark.parametrize(
    ("init", "statement"),
    [
        ('{"a"}', 'list(map(STATE.add, event["items"]))'),
        ('["a"]', 'list(filter(STATE.append, event["items"]))'),
        ('{"a": 1}', 'list(map(STATE.setdefault, event["items"]))'),
        ('{"a": 1}', 'sorted(event["items"], key=STATE.setdefault)'),
    ],
    ids=["map-set-add", "filter-list-append", "map-dict-setdefault", "sort-key-setdefault"],
)
def test_bound_method_passed_as_a_value(handler_dir: HandlerDir, init: str, statement: str) -> None:
    app = _load(handler_dir, _handler_module(init, statement))
    _assert_caught_and_restored(app, "STATE", _state(app.STATE))


@pytest.mark.parametrize(
    ("init", "statement"),
    [
        ("{}", 'dict.update(STATE, {"user": event["user"]})'),
        ("{}", 'dict.__setitem__(STATE, "user", event["user"])'),
        ("{}", 'dict.setdefault(STATE, event["user"], 1)'),
        ("[]", 'list.append(STATE, event["user"])'),
        ('["a"]', 'list.__setitem__(STATE, 0, event["user"])'),
        ("set()", 'set.add(STATE, event["user"])'),
        ("set()", 'set.update(STATE, event["items"])'),
        ("bytearray()", 'bytearray.extend(STATE, event["user"].encode())'),
    ],
)
def test_unbound_method_of_a_builtin_type(
    handler_dir: HandlerDir, init: str, statement: str
) -> None:
    app = _load(handler_dir, _handler_module(init, statement))
    _assert_caught_and_restored(app, "STATE", _state(app.STATE))


@pytest.mark.parametrize(
    ("init", "statement"),
    [
        ('["a", "b"]', "STATE *= 2"),
        ('["a", "b"]', "STATE *= 0"),
        ('bytearray(b"ab")', 'STATE += b"x"'),
    ],
    ids=["list-imul", "list-imul-zero", "bytearray-iadd-literal"],
)
def test_in_place_operator_with_a_literal_operand(
    handler_dir: HandlerDir, init: str, statement: str
) -> None:
    source = _handler_module(init, statement, prelude="global STATE\n    ")
    app = _load(handler_dir, source)
    _assert_caught_and_restored(app, "STATE", _state(app.STATE))


@pytest.mark.parametrize(
    ("init", "statement"),
    [
        ('{"by_user": defaultdict(int)}', 'STATE["by_user"][event["user"]]'),
        ("defaultdict(str)", '"{name}".format_map(STATE)'),
        ("defaultdict(list)", 'for groups in [STATE]:\n        groups[event["user"]]'),
        ("(defaultdict(list),)", 'len(STATE[0][event["user"]])'),
    ],
    ids=["defaultdict-in-dict", "format-map", "through-a-loop", "defaultdict-in-tuple"],
)
def test_read_that_inserts_into_a_defaultdict(
    handler_dir: HandlerDir, init: str, statement: str
) -> None:
    imports = "from collections import defaultdict"
    app = _load(handler_dir, _handler_module(init, statement, imports=imports))
    before = repr(app.STATE)
    for event in EVENTS:
        with pytest.raises(ScopeLeakError):
            app.lambda_handler(event, None)
        assert repr(app.STATE) == before


def test_other_module_of_the_guarded_package_writing_through_the_module(
    handler_dir: HandlerDir,
) -> None:
    package = handler_dir.path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text('ITEMS = ["a"]\n')
    (package / "app.py").write_text(
        "from lambdascope import handler\n\nfrom . import store\n\n\n"
        "@handler\n"
        "def lambda_handler(event, context):\n"
        '    store.ITEMS.append(event["user"])\n'
    )
    app = importlib.import_module("shop.app")
    for event in EVENTS:
        with pytest.raises(ScopeLeakError):
            app.lambda_handler(event, None)
        assert app.store.ITEMS == ["a"]


# -- items 6-8 and the fuzzer's own: state the runtime walk does not follow -------------------


@pytest.mark.parametrize(
    "definition",
    [
        'Cache = namedtuple("Cache", "keys label")',
        "class Cache(NamedTuple):\n    keys: dict\n    label: str",
    ],
    ids=["namedtuple", "typing-NamedTuple"],
)
def test_container_inside_a_namedtuple(handler_dir: HandlerDir, definition: str) -> None:
    source = f"""
from collections import namedtuple
from typing import NamedTuple

from lambdascope import handler

{definition}


CACHE = Cache({{}}, "x")


@handler
def lambda_handler(event, context):
    CACHE.keys[event["user"]] = True
"""
    app = _load(handler_dir, source)
    _assert_caught_and_restored(app, "CACHE", ((dict, {}), "x"))


@pytest.mark.parametrize(
    ("base", "init", "statement"),
    [
        ("dict", "{}", 'STATE[event["user"]] = True'),
        ("list", "[]", 'STATE.append(event["user"])'),
        ("set", "set()", 'STATE.add(event["user"])'),
    ],
)
@pytest.mark.parametrize("slots", ["", '__slots__ = ("note",)'], ids=["plain", "slots"])
def test_items_of_the_module_own_container_subclass(
    handler_dir: HandlerDir, base: str, init: str, statement: str, slots: str
) -> None:
    source = f"""
from lambdascope import handler


class Registry({base}):
    {slots or "pass"}


STATE = Registry({init})


@handler
def lambda_handler(event, context):
    {statement}
"""
    app = _load(handler_dir, source)
    for event in EVENTS:
        with pytest.raises(ScopeLeakError):
            app.lambda_handler(event, None)
        assert len(app.STATE) == 0


@pytest.mark.parametrize(
    ("definitions", "call"),
    [
        (
            "def make_recorder():\n    seen = []\n\n    def record(value):\n"
            "        seen.append(value)\n\n    return record\n\n\nRECORD = make_recorder()",
            'RECORD(event["user"])',
        ),
        (
            "def make_counter():\n    count = 0\n\n    def bump():\n        nonlocal count\n"
            "        count += 1\n        return count\n\n    return bump\n\n\n"
            "RECORD = make_counter()",
            "RECORD()",
        ),
        (
            "def counted(func):\n    calls = {}\n\n    @functools.wraps(func)\n"
            "    def wrapper(user):\n        calls[user] = calls.get(user, 0) + 1\n"
            "        return func(user)\n\n    return wrapper\n\n\n"
            "@counted\ndef RECORD(user):\n    return user.upper()",
            'RECORD(event["user"])',
        ),
    ],
    ids=["factory-recorder", "nonlocal-counter", "decorator-keeping-calls"],
)
def test_state_in_closure_cells(handler_dir: HandlerDir, definitions: str, call: str) -> None:
    source = f"""
import functools

from lambdascope import handler

{definitions}


@handler
def lambda_handler(event, context):
    {call}
"""
    app = _load(handler_dir, source)
    cells = [c.cell_contents for c in app.RECORD.__closure__ if not callable(c.cell_contents)]
    before = repr(cells)
    del cells
    for event in EVENTS:
        with pytest.raises(ScopeLeakError):
            app.lambda_handler(event, None)
        after = [c.cell_contents for c in app.RECORD.__closure__ if not callable(c.cell_contents)]
        assert repr(after) == before
        del after


@pytest.mark.parametrize(
    "statement",
    ['STATE.last = event["user"]', "STATE.count += 1", 'STATE.items.append(event["user"])'],
    ids=["attribute", "counter", "container-inside"],
)
def test_state_in_a_simple_namespace(handler_dir: HandlerDir, statement: str) -> None:
    init = "SimpleNamespace(count=0, last=None, items=[])"
    imports = "from types import SimpleNamespace"
    app = _load(handler_dir, _handler_module(init, statement, imports=imports))
    _assert_caught_and_restored(app, "STATE", _state(app.STATE))


def test_contents_of_an_array(handler_dir: HandlerDir) -> None:
    source = _handler_module(
        'array("i", [1])', 'STATE.append(event["id"])', imports="from array import array"
    )
    app = _load(handler_dir, source)
    for event in EVENTS:
        with pytest.raises(ScopeLeakError):
            app.lambda_handler(event, None)
        assert app.STATE.tolist() == [1]


# -- item 9: a false positive ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expression"),
    [
        ("enum.Flag", "Perm.R | Perm.W"),
        ("enum.Flag", "~Perm.R"),
        ("enum.Flag", 'Perm(event["id"] % 8)'),
        ("enum.IntFlag", "Perm.R | Perm.W"),
    ],
    ids=["flag-or", "flag-invert", "flag-from-value", "intflag-or"],
)
def test_enum_flag_combination_is_no_write(
    handler_dir: HandlerDir, base: str, expression: str
) -> None:
    source = f"""
import enum

from lambdascope import handler


class Perm({base}):
    R = 1
    W = 2
    X = 4


@handler
def lambda_handler(event, context):
    return str({expression})
"""
    app = _load(handler_dir, source)
    for event in [*EVENTS, {"user": "u-3", "id": 3, "items": []}]:
        app.lambda_handler(event, None)


# -- messages and lazy init ---------------------------------------------------------------------


def test_lambda_default_is_named_after_its_module_level_name(handler_dir: HandlerDir) -> None:
    source = """
from lambdascope import handler

remember = lambda value, seen=[]: seen.append(value)


@handler
def lambda_handler(event, context):
    remember(event["user"])
"""
    app = _load(handler_dir, source)
    with pytest.raises(ScopeLeakError) as caught:
        app.lambda_handler(EVENTS[0], None)
    assert "remember.seen" in str(caught.value)


def test_clients_memoised_in_a_dict_are_lazy_init(handler_dir: HandlerDir) -> None:
    source = """
from lambdascope import handler


class Client:  # stands in for boto3.client(name)
    pass


CLIENTS = {}


def client(name):
    if name not in CLIENTS:
        CLIENTS[name] = Client()
    return CLIENTS[name]


@handler
def lambda_handler(event, context):
    return id(client("s3"))
"""
    app = _load(handler_dir, source)
    first = app.lambda_handler(EVENTS[0], None)
    assert app.lambda_handler(EVENTS[1], None) == first  # built once, reused warm


def test_message_names_the_variable_and_its_constant_key(handler_dir: HandlerDir) -> None:
    source = """
from lambdascope import handler

responses = {"DeactivateUnusedKeysResponse": []}


@handler
def lambda_handler(event, context):
    responses["DeactivateUnusedKeysResponse"].append(event["user"])
"""
    app = _load(handler_dir, source)
    with pytest.raises(ScopeLeakError) as caught:
        app.lambda_handler(EVENTS[0], None)
    assert "responses['DeactivateUnusedKeysResponse']" in str(caught.value)


# -- issue 27: the layouts and packaging real deployments use -------------------------------------

ORDERS = {
    "orders/__init__.py": "",
    "orders/store.py": "ITEMS = []\n",
    "orders/handler.py": """
        from lambdascope import handler

        from . import store


        @handler
        def lambda_handler(event, context):
            store.ITEMS.append(event["user"])
        """,
}


@pytest.mark.parametrize("top_level", [True, False], ids=["top_level.txt", "RECORD-only"])
def test_layout_own_dist_info(handler_dir: HandlerDir, top_level: bool) -> None:
    files = dict(ORDERS)
    record = [f"{path},," for path in ORDERS] + ["orders-1.0.dist-info/RECORD,,"]
    files["orders-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    files["orders-1.0.dist-info/METADATA"] = "Metadata-Version: 2.1\nName: orders\nVersion: 1.0\n"
    if top_level:
        files["orders-1.0.dist-info/top_level.txt"] = "orders\n"
    app = _tree(handler_dir, files, "orders.handler")
    for event in EVENTS:
        with pytest.raises(ScopeLeakError, match="`ITEMS"):
            app.lambda_handler(event, None)
        assert app.store.ITEMS == []
