"""Shapes of ordinary handler code the guard once let through (or wrongly failed).

Each test writes a small handler module, imports it as Lambda would (Init), and invokes
it: a write into module-level state fails the first invocation and is undone; correct
code passes every invocation. Found by review and by the differential fuzzer
(tests/runtime/test_guard_fuzz.py); each is named after the construct.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pytest

from lambdascope import ScopeLeakError
from lambdascope.aws import ClientInInvocationWarning

if TYPE_CHECKING:
    from conftest import HandlerDir


def load(handler_dir: HandlerDir, name: str, source: str) -> Any:
    handler_dir.write(name, source)
    return importlib.import_module(name)


def assert_leaks(mod: Any, event: Any, *fragments: str) -> str:
    """The invocation fails with ScopeLeakError whose message has every fragment."""
    with pytest.raises(ScopeLeakError) as caught:
        mod.lambda_handler(event, None)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- 1. the module's own objects: decide by their type, not by the method's name -------------


def test_memoising_get_of_a_module_class_kept_in_a_dict(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "memo_get",
        """
        from lambdascope import handler

        class Repo:
            def __init__(self):
                self.seen = {}

            def get(self, key):
                if key not in self.seen:
                    self.seen[key] = {"id": key}
                return self.seen[key]

        REPOS = {"orders": Repo()}

        @handler
        def lambda_handler(event, context):
            return REPOS["orders"].get(event["id"])["id"]
        """,
    )
    assert_leaks(mod, {"id": "a"}, "REPOS['orders']", "restored")
    assert mod.REPOS["orders"].seen == {}


def test_logging_named_method_of_a_module_class_that_appends(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "audit_info",
        """
        from lambdascope import handler

        class Audit:
            def __init__(self):
                self.lines = []

            def info(self, text):
                self.lines.append(text)

        SINKS = [Audit()]

        @handler
        def lambda_handler(event, context):
            audit = SINKS[0]
            audit.info("user %s" % event["user"])
            return "ok"
        """,
    )
    assert_leaks(mod, {"user": "ann"}, "SINKS[0]")
    assert mod.SINKS[0].lines == []


def test_property_of_a_module_class_that_writes(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "prop_write",
        """
        from lambdascope import handler

        class Counter:
            def __init__(self):
                self.hits = []

            @property
            def total(self):
                self.hits.append(1)
                return len(self.hits)

        STATS = (Counter(),)

        @handler
        def lambda_handler(event, context):
            return STATS[0].total
        """,
    )
    assert_leaks(mod, {}, "STATS[0]")
    assert mod.STATS[0].hits == []


# -- 2. bound methods passed as values --------------------------------------------------------


def test_bound_add_passed_to_map(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "map_add",
        """
        from lambdascope import handler

        SEEN = set()

        @handler
        def lambda_handler(event, context):
            list(map(SEEN.add, event["ids"]))
            return len(SEEN)
        """,
    )
    assert_leaks(mod, {"ids": [1, 2]}, "set `SEEN`")
    assert not mod.SEEN


def test_setdefault_as_a_sort_key(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "key_setdefault",
        """
        from lambdascope import handler

        RANK = {}

        @handler
        def lambda_handler(event, context):
            return sorted(event["names"], key=RANK.setdefault)
        """,
    )
    assert_leaks(mod, {"names": ["b", "a"]}, "dict `RANK`")
    assert mod.RANK == {}


# -- 3. unbound methods of builtin types with the global as first argument ----------------------


@pytest.mark.parametrize(
    ("init", "call", "fragment"),
    [
        ("CONFIG = {}", "dict.update(CONFIG, event)", "dict `CONFIG`"),
        ("CONFIG = {}", "dict.__setitem__(CONFIG, 'k', event['v'])", "dict `CONFIG`"),
        ("CONFIG = []", "list.append(CONFIG, event['v'])", "list `CONFIG`"),
        ("CONFIG = set()", "set.add(CONFIG, event['v'])", "set `CONFIG`"),
    ],
    ids=["dict.update", "dict.__setitem__", "list.append", "set.add"],
)
def test_unbound_builtin_method_on_a_global(
    handler_dir: HandlerDir, init: str, call: str, fragment: str
) -> None:
    mod = load(
        handler_dir,
        "unbound_method",
        f"""
        from lambdascope import handler

        {init}

        @handler
        def lambda_handler(event, context):
            {call}
            return "ok"
        """,
    )
    assert_leaks(mod, {"v": 1}, fragment)
    assert not mod.CONFIG


# -- 4. in-place operators with a literal operand -----------------------------------------------


def test_bytearray_plus_equals_a_literal(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "buf_iadd",
        """
        from lambdascope import handler

        BUF = bytearray()

        @handler
        def lambda_handler(event, context):
            global BUF
            BUF += b"line\\n"
            return len(BUF)
        """,
    )
    assert_leaks(mod, {}, "bytearray `BUF`")
    assert not mod.BUF


def test_list_times_equals_zero(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "items_imul",
        """
        from lambdascope import handler

        ITEMS = ["from init"]

        @handler
        def lambda_handler(event, context):
            global ITEMS
            ITEMS *= 0
            return len(ITEMS)
        """,
    )
    assert_leaks(mod, {}, "list `ITEMS`")
    assert mod.ITEMS == ["from init"]


def test_nested_list_augmented_by_a_literal(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "nested_iadd",
        """
        from lambdascope import handler

        STATE = {"log": ["init"]}

        @handler
        def lambda_handler(event, context):
            STATE["log"] += ["seen"]
            STATE["log"] *= 1
            return len(STATE["log"])
        """,
    )
    assert_leaks(mod, {}, "STATE['log']")
    assert mod.STATE == {"log": ["init"]}


# -- 5. reads that insert -----------------------------------------------------------------------


def test_nested_defaultdict_read(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "nested_defaultdict",
        """
        from collections import defaultdict

        from lambdascope import handler

        METRICS = {"by_user": defaultdict(int)}

        @handler
        def lambda_handler(event, context):
            return METRICS["by_user"][event["user"]]
        """,
    )
    assert_leaks(mod, {"user": "ann"}, "METRICS['by_user']")
    assert dict(mod.METRICS["by_user"]) == {}


def test_format_map_on_a_defaultdict(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "format_map_dd",
        """
        from collections import defaultdict

        from lambdascope import handler

        FIELDS = defaultdict(str, service="orders")

        @handler
        def lambda_handler(event, context):
            return event["template"].format_map(FIELDS)
        """,
    )
    assert_leaks(mod, {"template": "{service}/{user}"}, "defaultdict `FIELDS`")
    assert dict(mod.FIELDS) == {"service": "orders"}


# -- 6-8. what the runtime walk must look into ------------------------------------------------


def test_containers_inside_a_namedtuple(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "in_namedtuple",
        """
        from collections import namedtuple
        from typing import NamedTuple

        from lambdascope import handler

        Pair = namedtuple("Pair", "left right")


        class Typed(NamedTuple):
            items: list


        PAIR = Pair([], {})
        TYPED = Typed([])

        @handler
        def lambda_handler(event, context):
            if event["which"] == "pair":
                PAIR.left.append(event["v"])
            else:
                TYPED.items.append(event["v"])
            return "ok"
        """,
    )
    assert_leaks(mod, {"which": "pair", "v": 1}, "PAIR")
    assert mod.PAIR.left == []
    assert_leaks(mod, {"which": "typed", "v": 1}, "TYPED")
    assert mod.TYPED.items == []


def test_items_of_a_module_subclass_of_dict_list_and_set(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "own_subclass",
        """
        from lambdascope import handler

        class Registry(dict):
            pass

        class History(list):
            pass

        class Tags(set):
            pass

        REGISTRY = Registry(a=1)
        HISTORY = History()
        TAGS = Tags()

        @handler
        def lambda_handler(event, context):
            kind = event["kind"]
            if kind == "dict":
                REGISTRY[event["v"]] = True
            elif kind == "list":
                HISTORY.append(event["v"])
            else:
                TAGS.add(event["v"])
            return "ok"
        """,
    )
    assert_leaks(mod, {"kind": "dict", "v": "k"}, "REGISTRY")
    assert mod.REGISTRY == {"a": 1}
    assert type(mod.REGISTRY).__name__ == "Registry"
    assert_leaks(mod, {"kind": "list", "v": "k"}, "HISTORY")
    assert mod.HISTORY == []
    assert_leaks(mod, {"kind": "set", "v": "k"}, "TAGS")
    assert not mod.TAGS


def test_state_in_a_closure_built_at_init(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "closure_state",
        """
        from lambdascope import handler

        def make_counter():
            counts = {}

            def count(key):
                counts[key] = counts.get(key, 0) + 1
                return counts[key]

            return count

        count = make_counter()

        @handler
        def lambda_handler(event, context):
            return count(event["user"])
        """,
    )
    assert_leaks(mod, {"user": "ann"}, "counts")
    assert mod.count.__closure__[0].cell_contents == {}


def test_state_in_a_decorator_defined_in_the_module(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "decorator_state",
        """
        import functools

        from lambdascope import handler

        def memoise(func):
            memo = {}

            @functools.wraps(func)
            def wrapper(key):
                if key not in memo:
                    memo[key] = func(key)
                return memo[key]

            return wrapper

        @memoise
        def price(key):
            return len(key)

        @handler
        def lambda_handler(event, context):
            return price(event["sku"])
        """,
    )
    assert_leaks(mod, {"sku": "abc"}, "memo")
    cells = dict(zip(mod.price.__code__.co_freevars, mod.price.__closure__))
    assert cells["memo"].cell_contents == {}


def test_nonlocal_counter_in_a_closure(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "closure_rebind",
        """
        from lambdascope import handler

        def make_ticket():
            last = 0

            def ticket():
                nonlocal last
                last += 1
                return last

            return ticket

        ticket = make_ticket()

        @handler
        def lambda_handler(event, context):
            return ticket()
        """,
    )
    assert_leaks(mod, {}, "last")
    assert mod.ticket() == 1  # restored: the next ticket is the first again


def test_closure_that_only_reads_is_quiet(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "closure_reads",
        """
        from lambdascope import handler

        def make_lookup(table):
            def lookup(key):
                return table.get(key)
            return lookup

        lookup = make_lookup({"a": [1], "b": [2]})

        @handler
        def lambda_handler(event, context):
            return lookup(event["k"])
        """,
    )
    assert [mod.lambda_handler({"k": k}, None) for k in "abab"] == [[1], [2], [1], [2]]


# -- 9. library caches of stdlib types are not the user's data ----------------------------------


def test_combining_enum_flags_passes_every_invocation(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "enum_flags",
        """
        import enum

        from lambdascope import handler

        class Perm(enum.Flag):
            READ = 1
            WRITE = 2
            DELETE = 4

        class Level(enum.IntFlag):
            LOW = 1
            HIGH = 2

        @handler
        def lambda_handler(event, context):
            perm = Perm.READ | Perm.WRITE
            if event.get("delete"):
                perm |= Perm.DELETE
            return perm.value + int(Level.LOW | Level.HIGH)
        """,
    )
    assert [mod.lambda_handler({"delete": d}, None) for d in (False, True, False, True)] == [
        6,
        10,
        6,
        10,
    ]


# -- 12. clients memoised in a module-level dict --------------------------------------------------


def test_clients_memoised_in_a_dict_are_lazy_init(
    handler_dir: HandlerDir, aws_credentials: None
) -> None:
    mod = load(
        handler_dir,
        "client_dict",
        """
        import boto3

        from lambdascope import handler

        CLIENTS = {}

        def client(name):
            if name not in CLIENTS:
                CLIENTS[name] = boto3.client(name, region_name="us-east-1")
            return CLIENTS[name]

        @handler
        def lambda_handler(event, context):
            return client("s3").meta.service_model.service_name + client("sqs").meta.region_name
        """,
    )
    with pytest.warns(ClientInInvocationWarning):  # made lazily: the advice still stands
        assert mod.lambda_handler({}, None) == "s3us-east-1"
    first = dict(mod.CLIENTS)
    assert [mod.lambda_handler({}, None) for _ in range(2)] == ["s3us-east-1"] * 2
    assert dict(mod.CLIENTS) == first  # built once each, never thrown away
    assert all(mod.CLIENTS[name] is first[name] for name in ("s3", "sqs"))


def test_a_dict_entry_keyed_by_request_data_is_still_a_leak(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "client_per_user",
        """
        from lambdascope import handler

        class Session:
            def __init__(self, user):
                self.user = user

        SESSIONS = {}

        @handler
        def lambda_handler(event, context):
            SESSIONS[event["user"]] = Session(event["user"])
            return len(SESSIONS)
        """,
    )
    assert_leaks(mod, {"user": "ann"}, "dict `SESSIONS`")
    assert mod.SESSIONS == {}


def test_a_dict_entry_set_to_data_is_still_a_leak(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "config_dict",
        """
        from lambdascope import handler

        CONFIG = {}

        @handler
        def lambda_handler(event, context):
            if "table" not in CONFIG:
                CONFIG["table"] = event["table"]
            return CONFIG["table"]
        """,
    )
    assert_leaks(mod, {"table": "t1"}, "dict `CONFIG`")


def test_a_memoised_client_replaced_later_is_a_leak(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "client_replaced",
        """
        from lambdascope import handler

        class Client:
            pass

        CLIENTS = {}

        @handler
        def lambda_handler(event, context):
            if event.get("fresh") or "s3" not in CLIENTS:
                CLIENTS["s3"] = Client()
            return "ok"
        """,
    )
    assert mod.lambda_handler({}, None) == "ok"
    assert mod.lambda_handler({}, None) == "ok"
    assert_leaks(mod, {"fresh": True}, "dict `CLIENTS`")


# -- 13. the message names the module-level variable and the module's own constant keys ----------


def test_nested_leak_names_the_variable_and_its_constant_key(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "named_key",
        """
        from lambdascope import handler

        responses = {"DeactivateUnusedKeysResponse": [], "other": []}

        @handler
        def lambda_handler(event, context):
            responses["DeactivateUnusedKeysResponse"].append(event["key"])
            return "ok"
        """,
    )
    message = assert_leaks(
        mod,
        {"key": "AKIA-request-data-never-shown"},
        "list `responses['DeactivateUnusedKeysResponse']` was modified in place",
        "allow=('responses',)",
    )
    assert "AKIA-request-data-never-shown" not in message


def test_keys_that_are_request_data_are_not_shown(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "request_key",
        """
        from lambdascope import handler

        BY_USER = {}

        @handler
        def lambda_handler(event, context):
            BY_USER.setdefault(event["user"], []).append(1)
            return "ok"
        """,
    )
    message = assert_leaks(mod, {"user": "secret-user-identifier-xyz"}, "dict `BY_USER`")
    assert "secret-user-identifier-xyz" not in message


# -- the guard's own snapshots are not someone else holding the module's values -------------


def test_a_second_handler_of_the_module_watches_no_more_than_the_first(
    handler_dir: HandlerDir,
) -> None:
    import gc

    from lambdascope import _guard

    mod = load(
        handler_dir,
        "two_handlers",
        """
        from lambdascope import handler

        TABLE = {"a": [1], "b": [2]}
        NAMES = ["x", "y"]

        @handler
        def first(event, context):
            return TABLE[event["k"]][0] + len(NAMES)

        @handler
        def second(event, context):
            return TABLE[event["k"]][0] + len(NAMES)
        """,
    )
    assert mod.first({"k": "a"}, None) == 3
    assert mod.second({"k": "b"}, None) == 4
    guards = [g for g in gc.get_objects() if type(g) is _guard.Guard and g._spaces]
    ours = [g for g in guards if g._spaces[0].name == "two_handlers"]
    assert len(ours) == 2
    # the first guard's snapshot holds TABLE and NAMES: that is no reason to watch them
    assert [len(g._nodes) for g in ours] == [0, 0]
