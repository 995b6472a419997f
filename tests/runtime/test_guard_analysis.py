"""The guard's static write analysis (``lambdascope._guard._analysis``).

Every test writes a small handler module to a temporary folder, imports it and
analyses it, then asserts the exact result.
"""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lambdascope._guard._analysis import analyse

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import ModuleType

    from lambdascope._guard._facts import Analysis

_counter = itertools.count()

# A stand-in for boto3, so the handler modules import without it (the analysis reads
# their source; what boto3 returns does not matter). A real boto3 already imported wins.
_FAKE_BOTO3 = """
class _Thing:
    def __getattr__(self, name):
        return lambda *args, **kwargs: _Thing()


def client(*args, **kwargs):
    return _Thing()


resource = client
"""


class Modules:
    """Writes handler modules into a temporary folder on ``sys.path`` and imports them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, source: str, name: str | None = None) -> ModuleType:
        name = name or f"ga_mod_{next(_counter)}"
        (self.path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        importlib.invalidate_caches()
        return importlib.import_module(name)

    def analyse(self, source: str, name: str | None = None) -> Analysis:
        module = self.load(source, name)
        return analyse(module.__name__, vars(module))


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Modules]:
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    sys.path.insert(0, str(tmp_path))
    (tmp_path / "boto3.py").write_text(_FAKE_BOTO3, encoding="utf-8")
    try:
        yield Modules(tmp_path)
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
                del sys.modules[name]


def expect(
    result: Analysis,
    *,
    written: dict[str, bool],
    loaded: set[str],
    rebound: set[str] = frozenset(),  # type: ignore[assignment]
    written_params: dict[tuple[str, int], set[str]] | None = None,
    written_cells: dict[tuple[str, int], dict[str, bool]] | None = None,
) -> None:
    assert result.gave_up is None, result.gave_up
    assert result.written == written
    assert result.loaded == loaded
    assert result.rebound == rebound
    assert {k: set(v) for k, v in result.written_params.items()} == (written_params or {})
    if written_cells is not None:
        assert result.written_cells == written_cells


# ---------------------------------------------------------------------------------------------
# The two scenarios (a list that leaks, a client per invocation) and read-only tables


def test_s3_prefix_check_appends_to_a_module_level_list(modules: Modules) -> None:
    result = modules.analyse(
        """
        import boto3

        s3 = boto3.client("s3")
        files = []

        def lambda_handler(event, context):
            response = s3.list_objects_v2(Bucket=event["bucket"], Prefix=event["prefix"])
            for obj in response.get("Contents", []):
                files.append(obj["Key"])
            return {"found": len(files) > 0}
        """
    )
    expect(result, written={"files": False, "s3": True}, loaded={"files", "s3"})


def test_read_only_table_is_not_written(modules: Modules) -> None:
    result = modules.analyse(
        """
        import json
        import logging

        logger = logging.getLogger(__name__)
        TABLE = {str(i): {"id": i, "tags": [i, i + 1]} for i in range(100_000)}
        PREFIXES = ("a", "b")

        def lambda_handler(event, context):
            key = event["key"]
            entry = TABLE.get(key)
            if entry is None and key in TABLE:
                entry = TABLE[key]
            logger.info("entry %s of %d", entry, len(TABLE))
            total = sum(len(v["tags"]) for v in TABLE.values())
            names = [k for k in TABLE if k.startswith(PREFIXES)]
            for k, v in TABLE.items():
                if v["id"] == total:
                    break
            body = json.dumps({"entry": entry, "names": sorted(names)})
            return {"statusCode": 200, "body": body, "size": len(TABLE)}
        """
    )
    expect(
        result,
        written={},
        loaded={"TABLE", "logger", "json", "PREFIXES"},
    )


def test_handler_decorated_function_may_return_a_table_entry(modules: Modules) -> None:
    result = modules.analyse(
        """
        from lambdascope import handler

        TABLE = {"a": {"x": 1}}

        @handler
        def lambda_handler(event, context):
            return TABLE[event["k"]]
        """
    )
    expect(result, written={}, loaded={"TABLE"})


def test_handler_with_options_and_module_alias(modules: Modules) -> None:
    result = modules.analyse(
        """
        import lambdascope as ls

        TABLE = {"a": {"x": 1}}

        @ls.handler(guard="raise")
        def lambda_handler(event, context):
            return TABLE.get(event["k"])
        """
    )
    expect(result, written={}, loaded={"TABLE"})


def test_other_decorator_returning_a_table_entry_is_a_deep_write(modules: Modules) -> None:
    result = modules.analyse(
        """
        import functools

        TABLE = {"a": {"x": 1}}

        @functools.lru_cache(maxsize=None)
        def lookup(key):
            return TABLE[key]

        def lambda_handler(event, context):
            return lookup(event["k"])
        """
    )
    expect(result, written={"TABLE": True}, loaded={"TABLE", "lookup"})


# ---------------------------------------------------------------------------------------------
# Direct writes and depth


def test_direct_writes_are_shallow(modules: Modules) -> None:
    result = modules.analyse(
        """
        CONFIG = {}
        ITEMS = []
        CACHE = {}
        SEEN = set()
        OBJ = type("O", (), {})()

        def lambda_handler(event, context):
            CONFIG[event["k"]] = event["v"]
            del CONFIG["old"]
            ITEMS.append(event)
            ITEMS[1:3] = []
            CACHE.update(event)
            SEEN.add(event["id"])
            OBJ.last = event
            CONFIG["n"] += 1
        """
    )
    expect(
        result,
        written={"CONFIG": False, "ITEMS": False, "CACHE": False, "SEEN": False, "OBJ": False},
        loaded={"CACHE", "CONFIG", "ITEMS", "OBJ", "SEEN"},
    )


def test_nested_writes_are_deep(modules: Modules) -> None:
    result = modules.analyse(
        """
        A = {"k": {}}
        B = [[1]]
        C = {"x": 1}
        D = {}

        def lambda_handler(event, context):
            A["k"]["j"] = 1
            B[0].append(2)
            C.a.b = 3
            D.setdefault(event["k"], []).append(event)
        """
    )
    expect(
        result, written={"A": True, "B": True, "C": True, "D": True}, loaded={"A", "B", "C", "D"}
    )


def test_immutable_values_are_not_followed(modules: Modules) -> None:
    result = modules.analyse(
        """
        import boto3

        BUCKET = "my-bucket"
        LIMITS = (10, 20)
        RETRIES = 3
        MODE = None

        def lambda_handler(event, context, timeout=30, tags=("a", "b"), extra=[]):
            global MODE
            MODE = event.get("mode") or []
            MODE.append(1)
            boto3.client("s3").put_object(Bucket=BUCKET, Key=str(LIMITS), Retries=RETRIES)
            return timeout, tags, extra
        """
    )
    # A str, a number, None or a tuple of them cannot be written: only MODE (rebound, then
    # mutated) is reported. `extra=[]` is returned to the runtime: not a write either.
    expect(
        result,
        written={"MODE": True},
        loaded={"boto3", "BUCKET", "LIMITS", "RETRIES", "MODE"},
        rebound={"MODE"},
    )


def test_unknown_method_is_a_deep_write(modules: Modules) -> None:
    result = modules.analyse(
        """
        import heapq

        QUEUE = []
        REGISTRY = {}

        def lambda_handler(event, context):
            REGISTRY.frobnicate(event)
            heapq.heappush(QUEUE, event["priority"])
        """
    )
    expect(result, written={"REGISTRY": True, "QUEUE": True}, loaded={"REGISTRY", "QUEUE", "heapq"})


def test_augmented_subscript_with_a_variable_may_mutate_the_item(modules: Modules) -> None:
    result = modules.analyse(
        """
        COUNTS = {}
        LISTS = {}

        def lambda_handler(event, context):
            COUNTS[event["k"]] += 1
            LISTS[event["k"]] += event["items"]
        """
    )
    expect(result, written={"COUNTS": False, "LISTS": True}, loaded={"COUNTS", "LISTS"})


# ---------------------------------------------------------------------------------------------
# Aliases


def test_alias_chains(modules: Modules) -> None:
    result = modules.analyse(
        """
        TABLE = {"a": [1]}
        ITEMS = []
        ROWS = [{"x": 1}]
        PAIRS = {"a": {"b": 1}}

        def lambda_handler(event, context):
            items = ITEMS
            again = items
            again.append(1)
            entry = TABLE.get("a")
            entry.append(2)
            for row in ROWS:
                row["seen"] = True
            for key, value in PAIRS.items():
                value[key] = 0
        """
    )
    expect(
        result,
        written={"ITEMS": False, "TABLE": True, "ROWS": True, "PAIRS": True},
        loaded={"ITEMS", "PAIRS", "ROWS", "TABLE"},
    )


def test_copies_can_be_written(modules: Modules) -> None:
    result = modules.analyse(
        """
        DEFAULTS = {"a": 1}
        ITEMS = [1, 2]
        NESTED = [[1]]

        def lambda_handler(event, context):
            out = dict(DEFAULTS)
            out.update(event)
            mine = DEFAULTS.copy()
            mine["x"] = 1
            rest = ITEMS[1:]
            rest.append(3)
            ordered = sorted(ITEMS)
            ordered.reverse()
            copied = list(NESTED)
            copied[0].append(1)
            return out
        """
    )
    expect(result, written={"NESTED": True}, loaded={"DEFAULTS", "ITEMS", "NESTED"})


def test_containers_built_from_a_global_alias_its_elements(modules: Modules) -> None:
    result = modules.analyse(
        """
        TABLE = {"a": [1]}
        OTHER = {"b": [2]}

        def lambda_handler(event, context):
            pair = {"t": TABLE, "o": OTHER["b"]}
            pair["t"]["new"] = 1
            box = [OTHER]
            box.append(3)
        """
    )
    expect(result, written={"TABLE": True, "OTHER": True}, loaded={"OTHER", "TABLE"})


def test_conditional_and_boolean_aliases(modules: Modules) -> None:
    result = modules.analyse(
        """
        A = []
        B = []
        C = []

        def lambda_handler(event, context):
            target = A if event else B
            target.append(1)
            other = event.get("x") or C
            other.append(2)
        """
    )
    expect(result, written={"A": False, "B": False, "C": False}, loaded={"A", "B", "C"})


def test_with_and_unpacking(modules: Modules) -> None:
    result = modules.analyse(
        """
        import threading

        LOCK = threading.Lock()
        PAIR = ([], [])
        HEAD = [[1], [2]]

        def lambda_handler(event, context):
            with LOCK:
                left, right = PAIR
                left.append(1)
            first, *rest = HEAD
            rest.append(3)
        """
    )
    expect(result, written={"LOCK": True, "PAIR": True}, loaded={"HEAD", "LOCK", "PAIR"})


def test_stored_into_another_container(modules: Modules) -> None:
    result = modules.analyse(
        """
        TABLE = {"a": {"x": 1}}
        HISTORY = []

        def remember(event):
            HISTORY.append(TABLE["a"])

        def mutate_last(event):
            HISTORY[-1]["x"] = 2
        """
    )
    expect(result, written={"HISTORY": True, "TABLE": True}, loaded={"HISTORY", "TABLE"})


def test_local_container_holding_a_global_then_written_through(modules: Modules) -> None:
    result = modules.analyse(
        """
        TABLE = {"a": {"x": 1}}

        def fill(out):
            out.append(TABLE["a"])

        def lambda_handler(event, context):
            rows = []
            fill(rows)
            rows[0]["x"] = 2
        """
    )
    expect(result, written={"TABLE": True}, loaded={"TABLE", "fill"})


# ---------------------------------------------------------------------------------------------
# Calls within the module


def test_helper_mutating_its_parameter(modules: Modules) -> None:
    result = modules.analyse(
        """
        ITEMS = []
        READ = []

        def add(target, value):
            target.append(value)

        def count(values):
            return len(values)

        def lambda_handler(event, context):
            add(ITEMS, event)
            add(target=[], value=READ)
            return count(READ)
        """
    )
    expect(result, written={"ITEMS": False}, loaded={"ITEMS", "READ", "add", "count"})


def test_helper_returning_a_global_the_caller_mutates(modules: Modules) -> None:
    result = modules.analyse(
        """
        TABLE = {"a": {"x": 1}}
        CACHE = {}

        def entry(key):
            return TABLE[key]

        def cache():
            return CACHE

        def lambda_handler(event, context):
            entry(event["k"])["seen"] = True
            cache()[event["k"]] = 1
        """
    )
    expect(
        result, written={"TABLE": True, "CACHE": False}, loaded={"CACHE", "TABLE", "cache", "entry"}
    )


def test_methods_through_self(modules: Modules) -> None:
    result = modules.analyse(
        """
        REGISTRY = {}
        NAMES = {"a": 1}

        class Repo:
            def __init__(self, table):
                self.table = table

            def put(self, key, value):
                self._store(key, value)

            def _store(self, key, value):
                self.table[key] = value

            def size(self):
                return len(NAMES)

        def lambda_handler(event, context):
            repo = Repo(REGISTRY)
            repo.put(event["k"], event["v"])
            return repo.size()
        """
    )
    expect(result, written={"REGISTRY": True}, loaded={"Repo", "REGISTRY", "NAMES"})


def test_class_attribute_written_through_self(modules: Modules) -> None:
    result = modules.analyse(
        """
        class Cache:
            entries = {}

            def put(self, key, value):
                self.entries[key] = value

        def lambda_handler(event, context):
            Cache().put(event["k"], event["v"])
        """
    )
    expect(result, written={"Cache": True}, loaded={"Cache"})


def test_passing_to_unknown_code_is_deep(modules: Modules) -> None:
    result = modules.analyse(
        """
        import boto3

        CONFIG = {"retries": 3}
        ITEM = {"id": 1}
        client = boto3.client("dynamodb", region_name="us-east-1")

        def lambda_handler(event, context):
            table = boto3.resource("dynamodb", config=CONFIG).Table("t")
            table.put_item(Item=ITEM)
            client.describe_table(TableName="t")
        """
    )
    expect(
        result,
        written={"CONFIG": True, "ITEM": True, "client": True},
        loaded={"boto3", "CONFIG", "ITEM", "client"},
    )


def test_pure_builtins_do_not_write(modules: Modules) -> None:
    result = modules.analyse(
        """
        import copy
        import json
        import re

        TABLE = {"a": [1]}
        PATTERN = re.compile("a+")
        NAMES = ["a"]

        def lambda_handler(event, context):
            fresh = copy.deepcopy(TABLE)
            fresh["a"].append(2)
            print(TABLE, len(TABLE), repr(TABLE), isinstance(TABLE, dict))
            match = PATTERN.match(event["s"])
            text = ", ".join(NAMES) + f"{TABLE}" + "%s" % (TABLE,)
            return json.dumps({"m": bool(match), "t": text, "max": max(NAMES)})
        """
    )
    expect(result, written={}, loaded={"copy", "json", "TABLE", "PATTERN", "NAMES"})


# ---------------------------------------------------------------------------------------------
# Scoping


def test_closures_nonlocal_and_comprehensions(modules: Modules) -> None:
    result = modules.analyse(
        """
        A = []
        B = {"k": []}
        C = []
        D = [[1]]
        E = []

        def lambda_handler(event, context):
            bucket = B["k"]
            target = A

            def inner():
                target.append(1)
                bucket.append(2)

            inner()
            rows = [row for row in D]
            rows[0].append(3)
            [x.append(1) for x in [C]]
            if (found := E):
                found.append(4)
            A = None  # noqa: F841 - a local named like the global does not write it
        """
    )
    # `target = A` reads the *local* A (assigned below), so the global A is not touched.
    expect(
        result, written={"B": True, "C": True, "D": True, "E": False}, loaded={"B", "C", "D", "E"}
    )


def test_nested_nonlocal_rebinding_reaches_the_outer_variable(modules: Modules) -> None:
    result = modules.analyse(
        """
        ITEMS = []

        def lambda_handler(event, context):
            current = []

            def pick():
                nonlocal current
                current = ITEMS

            pick()
            current.append(event)
        """
    )
    expect(result, written={"ITEMS": False}, loaded={"ITEMS"})


def test_vars_of_an_object_is_its_dict(modules: Modules) -> None:
    result = modules.analyse(
        """
        import types

        SETTINGS = types.SimpleNamespace(region="eu-west-1")
        STATE = types.SimpleNamespace(seen=[])

        def lambda_handler(event, context):
            vars(STATE).update(event)
            return vars(SETTINGS).get("region")
        """
    )
    expect(result, written={"STATE": True}, loaded={"SETTINGS", "STATE"})


def test_closure_cells_written_by_functions_made_at_init(modules: Modules) -> None:
    result = modules.analyse(
        """
        def make_counter():
            counts = {}
            unused = []

            def count(key):
                counts[key] = 1
                return len(unused)

            return count

        def make_ticket():
            last = 0

            def ticket():
                nonlocal last
                last += 1

            return ticket

        def make_reader(table):
            def read(key):
                return len(table)

            return read

        def lambda_handler(event, context):
            return event
        """
    )
    expect(
        result,
        written={},
        loaded=set(),
        # counts written at its top level; last rebound; unused and table only read
        written_cells={("count", 6): {"counts": False}, ("ticket", 15): {"last": False}},
    )


def test_cell_passed_through_an_enclosing_function(modules: Modules) -> None:
    result = modules.analyse(
        """
        def outer():
            memo = {}

            def middle():
                def inner(key):
                    memo.setdefault(key, []).append(key)

                return inner

            return middle

        def lambda_handler(event, context):
            return event
        """
    )
    expect(
        result,
        written={},
        loaded=set(),
        written_cells={("middle", 5): {"memo": True}, ("inner", 6): {"memo": True}},
    )


def test_bound_and_unbound_methods_as_values_and_calls(modules: Modules) -> None:
    result = modules.analyse(
        """
        SEEN = set()
        RANK = {}
        CONFIG = {}
        ITEMS = []
        TABLE = {"a": 1}
        BOXES = [[]]

        def lambda_handler(event, context):
            list(map(SEEN.add, event["ids"]))
            sorted(event["names"], key=RANK.setdefault)
            dict.update(CONFIG, event)
            list.append(ITEMS, event)
            sorted(event["names"], key=TABLE.get)
            list(map(list.append, BOXES, event["ids"]))
        """
    )
    expect(
        result,
        written={"SEEN": False, "RANK": False, "CONFIG": False, "ITEMS": False, "BOXES": True},
        loaded={"SEEN", "RANK", "CONFIG", "ITEMS", "TABLE", "BOXES"},
    )


def test_in_place_operators_with_a_literal_operand(modules: Modules) -> None:
    result = modules.analyse(
        """
        BUF = bytearray()
        ITEMS = ["init"]
        COUNT = 0
        NESTED = {"log": [], "hits": 0}

        def lambda_handler(event, context):
            global BUF, ITEMS, COUNT
            BUF += b"line"
            ITEMS *= 0
            COUNT += 1
            NESTED["hits"] += 1
            NESTED["log"] += "ab"
        """
    )
    expect(
        result,
        written={"BUF": True, "ITEMS": True, "NESTED": True},
        loaded={"BUF", "ITEMS", "COUNT", "NESTED"},
        rebound={"BUF", "ITEMS", "COUNT"},
    )


def test_lambda_and_callbacks(modules: Modules) -> None:
    result = modules.analyse(
        """
        ROWS = [{"n": 1}]
        OTHER = [{"n": 2}]

        def lambda_handler(event, context):
            ordered = sorted(ROWS, key=lambda r: r["n"])
            OTHER.sort(key=lambda r: r.pop("n"))
            return ordered
        """
    )
    expect(result, written={"OTHER": True}, loaded={"ROWS", "OTHER"})


def test_global_rebinding_and_lazy_init(modules: Modules) -> None:
    result = modules.analyse(
        """
        import boto3

        table = None
        counter = 0
        seen = []

        def lambda_handler(event, context):
            global table, counter, seen
            if table is None:
                table = boto3.resource("dynamodb").Table("t")
            counter += 1
            seen = seen + [event]
            seen.append(1)
            return table.get_item(Key={"id": event["id"]})
        """
    )
    expect(
        result,
        written={"table": True, "seen": True},
        loaded={"boto3", "table", "counter", "seen"},
        rebound={"table", "counter", "seen"},
    )


def test_lazy_imports_and_definitions_through_global_rebind(modules: Modules) -> None:
    result = modules.analyse(
        """
        json = None
        helper = None
        error = None

        def lambda_handler(event, context):
            global json, helper, error
            import json

            def helper():
                return 1

            try:
                return json.dumps(event)
            except ValueError as error:
                return None
        """
    )
    expect(
        result,
        written={},
        loaded={"json"},
        rebound={"json", "helper", "error"},
    )


def test_init_resource_factories_are_not_handler_code(modules: Modules) -> None:
    result = modules.analyse(
        """
        import boto3
        import lambdascope
        from lambdascope import init_resource as ir

        SETTINGS = {}
        CLIENTS = []

        @ir
        def s3():
            SETTINGS["region"] = "eu-west-1"
            return boto3.client("s3", **SETTINGS)

        @lambdascope.init_resource(ttl=60)
        def ddb():
            client = boto3.client("dynamodb")
            CLIENTS.append(client)
            return client

        def lambda_handler(event, context):
            return s3(), ddb()
        """
    )
    expect(result, written={}, loaded={"s3", "ddb"})


def test_mutable_defaults(modules: Modules) -> None:
    result = modules.analyse(
        """
        SEEN = []

        def remember(key, seen=[]):
            seen.append(key)
            return seen

        def keyword(key, *, cache={}):
            cache[key] = 1

        def shared(key, into=SEEN):
            into.append(key)

        def reader(key, table={}):
            return table.get(key)

        def lambda_handler(event, context):
            remember(event["k"])
            keyword(event["k"])
            shared(event["k"])
            return reader(event["k"])
        """
    )
    expect(
        result,
        written={"SEEN": False},
        written_params={
            ("remember", 4): {"seen"},
            ("keyword", 8): {"cache"},
            ("shared", 11): {"into"},
        },
        loaded={"SEEN", "keyword", "reader", "remember", "shared"},
    )


def test_match_statement(modules: Modules) -> None:
    if sys.version_info < (3, 10):
        pytest.skip("match needs Python 3.10")
    result = modules.analyse(
        """
        ROUTES = {"a": {"hits": []}}

        def lambda_handler(event, context):
            match ROUTES:
                case {"a": {"hits": hits}}:
                    hits.append(event)
                case _:
                    pass
        """
    )
    expect(result, written={"ROUTES": True}, loaded={"ROUTES"})


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695 syntax needs Python 3.12")
def test_type_parameters_and_exception_groups(modules: Modules) -> None:
    result = modules.analyse(
        """
        ERRORS = []
        type Pair[T] = tuple[T, T]

        class Box[T]:
            def __init__(self, value: T) -> None:
                self.value = value

        def first[T](items: list[T]) -> T:
            type Local = list[T]
            return items[0]

        def lambda_handler(event, context):
            try:
                return first([Box(event)])
            except* ValueError as group:
                ERRORS.extend(group.exceptions)
        """
    )
    expect(result, written={"ERRORS": False}, loaded={"ERRORS", "first", "Box"})


def test_main_block_and_module_level_code_are_init(modules: Modules) -> None:
    result = modules.analyse(
        """
        ITEMS = []
        ITEMS.append(1)
        for i in range(3):
            ITEMS.append(i)

        class Config:
            values = {}
            values["a"] = 1

        def lambda_handler(event, context):
            return len(ITEMS)

        if __name__ == "__main__":
            ITEMS.clear()
            print(globals())
        """
    )
    expect(result, written={}, loaded={"ITEMS"})


# ---------------------------------------------------------------------------------------------
# Giving up


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("return globals()", "uses globals()"),
        ("exec('x = 1')", "uses exec()"),
        ("return eval('1')", "uses eval()"),
        ("return vars()", "uses vars()"),
        ("return vars(event['objects'][0])", "uses vars()"),
        ("import json\n    return vars(json)", "uses json.__dict__ of a module"),
        ("return __import__('os')", "uses __import__()"),
        ("import sys\n    return sys.modules[__name__]", "uses sys.modules"),
        ("import sys as s\n    return s._getframe()", "uses sys._getframe()"),
        ("import inspect\n    return inspect.currentframe()", "uses inspect.currentframe()"),
        ("import inspect\n    return inspect.stack()", "uses inspect.stack()"),
        ("return lambda_handler.__globals__", "uses __globals__"),
        ("return context.f_globals", "uses a frame's f_globals"),
        (
            "import importlib\n    return importlib.import_module('x')",
            "uses importlib.import_module()",
        ),
        (
            "from importlib import import_module\n    return import_module('x')",
            "uses importlib.import_module()",
        ),
        ("return json.__dict__", "uses json.__dict__ of a module"),
        ("import os.path\n    return os.path.__dict__", "uses os.path.__dict__ of a module"),
        ("setattr(json, 'x', 1)", "uses setattr()/delattr() on module json"),
        ("delattr(json, 'x')", "uses setattr()/delattr() on module json"),
        ("from sys import modules\n    return modules", "uses sys.modules"),
        ("from sys import _getframe\n    return _getframe()", "uses sys._getframe()"),
        ("return context.tb_frame.f_locals", "uses a frame's f_locals"),
        ("from inspect import stack\n    return stack()", "uses inspect.stack()"),
        ("import builtins\n    return builtins.globals()", "uses globals()"),
    ],
)
def test_gives_up(modules: Modules, body: str, reason: str) -> None:
    source = f"import json\n\ndef lambda_handler(event, context):\n    {body}\n"
    result = modules.analyse(source)
    assert result.gave_up == reason
    assert result.written == {}


def test_self_import_gives_up(modules: Modules) -> None:
    result = modules.analyse(
        """
        def lambda_handler(event, context):
            import selfimporting
            selfimporting.ITEMS.append(1)
        """,
        name="selfimporting",
    )
    assert result.gave_up == "imports itself (import selfimporting)"


def test_module_level_uses_give_up_too(modules: Modules) -> None:
    result = modules.analyse(
        """
        import sys

        THIS = sys.modules[__name__]

        def lambda_handler(event, context):
            THIS.ITEMS.append(event)
        """
    )
    assert result.gave_up == "uses sys.modules"


def test_importing_itself_from_its_package_gives_up(modules: Modules) -> None:
    (modules.path / "selfpkg").mkdir()
    (modules.path / "selfpkg" / "__init__.py").write_text("", encoding="utf-8")
    (modules.path / "selfpkg" / "app.py").write_text(
        "ITEMS = []\n\ndef lambda_handler(event, context):\n"
        "    from selfpkg import app\n    app.ITEMS.append(event)\n",
        encoding="utf-8",
    )
    module = importlib.import_module("selfpkg.app")
    result = analyse("selfpkg.app", vars(module))
    assert result.gave_up == "imports itself (from selfpkg import app)"


def test_no_source_gives_up() -> None:
    namespace: dict[str, object] = {"__name__": "nowhere"}
    exec("def f():\n    pass\n", namespace)
    assert analyse("nowhere", namespace).gave_up == "no source file"


def test_a_long_elif_chain_is_analysed(modules: Modules) -> None:
    branches = "".join(
        f"    elif event == {i}:\n        SEEN.append({i})\n" for i in range(1, 1500)
    )
    head = "SEEN = []\n\ndef lambda_handler(event, context):\n    if event == 0:\n        pass\n"
    source = head + branches
    expect(modules.analyse(source), written={"SEEN": False}, loaded={"SEEN"})


def test_cached_property_functions_are_checked_too(modules: Modules) -> None:
    module = modules.load(
        """
        import functools

        class Config:
            @functools.cached_property
            def values(self):
                return {}
        """
    )
    assert analyse(module.__name__, vars(module)).gave_up is None
    namespace: dict[str, object] = {}
    exec("def values(self):\n    return {}\n", vars(module), namespace)
    vars(module)["Config"].values.func = namespace["values"]
    result = analyse(module.__name__, vars(module))
    assert result.gave_up == (
        "function values shares the module's globals but was compiled from '<string>'"
    )


def test_source_from_a_zip_import(modules: Modules) -> None:
    import zipfile

    archive = modules.path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(
            "zipped_handler.py",
            "ITEMS = []\n\ndef lambda_handler(event, context):\n    ITEMS.append(event)\n",
        )
    sys.path.insert(0, str(archive))
    module = importlib.import_module("zipped_handler")
    try:
        expect(analyse(module.__name__, vars(module)), written={"ITEMS": False}, loaded={"ITEMS"})
    finally:
        del sys.modules["zipped_handler"]


def test_syntax_error_gives_up(modules: Modules) -> None:
    module = modules.load("ITEMS = []\n")
    (modules.path / f"{module.__name__}.py").write_text("def broken(:\n", encoding="utf-8")
    result = analyse(module.__name__, vars(module))
    assert result.gave_up is not None
    assert result.gave_up.startswith("source does not parse (SyntaxError")


def test_source_edited_after_import_gives_up(modules: Modules) -> None:
    module = modules.load(
        """
        ITEMS = []

        def lambda_handler(event, context):
            ITEMS.append(event)
        """
    )
    path = modules.path / f"{module.__name__}.py"
    path.write_text(
        "# a comment moves every line\n" + path.read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = analyse(module.__name__, vars(module))
    assert result.gave_up == "source does not match the running code (lambda_handler at line 4)"


def test_source_edited_on_the_same_line_gives_up(modules: Modules) -> None:
    module = modules.load(
        """
        ITEMS = []

        def lambda_handler(event, context):
            ITEMS.append(event)
        """
    )
    path = modules.path / f"{module.__name__}.py"
    path.write_text(
        path.read_text(encoding="utf-8").replace("ITEMS.append", "ITEMS.count"),
        encoding="utf-8",
    )
    result = analyse(module.__name__, vars(module))
    assert result.gave_up == (
        "source does not match the running code (lambda_handler uses 'append', absent from "
        "its source)"
    )


def test_code_compiled_elsewhere_sharing_globals_gives_up(modules: Modules) -> None:
    module = modules.load(
        """
        ITEMS = []

        def lambda_handler(event, context):
            return len(ITEMS)
        """
    )
    namespace = vars(module)
    exec("def sneaky():\n    ITEMS.append(1)\n", namespace)
    result = analyse(module.__name__, namespace)
    assert result.gave_up == (
        "function sneaky shares the module's globals but was compiled from '<string>'"
    )


def test_decorated_and_wrapped_functions_match(modules: Modules) -> None:
    result = modules.analyse(
        """
        import functools

        ITEMS = []

        def deco(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                return func(*args, **kwargs)
            return wrapper

        class Service:
            @staticmethod
            def make():
                return Service()

            @property
            def size(self):
                return len(ITEMS)

        @deco
        @functools.lru_cache(maxsize=None)
        def lambda_handler(event, context):
            return len(ITEMS)

        square = lambda x: x * x
        partial = functools.partial(square, 2)
        """
    )
    expect(result, written={}, loaded={"ITEMS", "Service", "functools"})


# ---------------------------------------------------------------------------------------------
# Code that matches its source must not give up (found by analysing the stdlib and pytest)


def test_dataclass_generated_methods_do_not_give_up(modules: Modules) -> None:
    result = modules.analyse(
        """
        import dataclasses

        @dataclasses.dataclass(frozen=True, order=True)
        class Key:
            name: str
            parts: tuple = ()

        @dataclasses.dataclass
        class Row:
            key: Key
            values: list = dataclasses.field(default_factory=list)

        ROWS = []

        def lambda_handler(event, context):
            row = Row(Key(event["name"]))
            row.values.append(1)
            ROWS.append(row)
        """
    )
    expect(result, written={"ROWS": False}, loaded={"Row", "Key", "ROWS"})


def test_private_names_and_nested_annotations_match_their_code(modules: Modules) -> None:
    result = modules.analyse(
        """
        from typing import Callable

        class Box:
            def __init__(self, __value: int) -> None:
                self.__value = __value

            def __eq__(self, __other: object) -> bool:
                return self.__value == getattr(__other, "_Box__value", None)

        def make() -> Callable[[int], int]:
            def inner(x: int) -> "int":
                y: float = 1.0
                return x + int(y)
            return inner

        def lambda_handler(event, context):
            return make()(1), Box(1) == Box(2)
        """
    )
    expect(result, written={}, loaded={"make", "Box"})


def test_from_own_package_import_reads_its_own_global(modules: Modules) -> None:
    (modules.path / "ownpkg").mkdir()
    (modules.path / "ownpkg" / "__init__.py").write_text(
        textwrap.dedent(
            """
            ITEMS = []

            def lambda_handler(event, context):
                from . import ITEMS as items
                items.append(event)
            """
        ),
        encoding="utf-8",
    )
    module = importlib.import_module("ownpkg")
    expect(analyse("ownpkg", vars(module)), written={"ITEMS": False}, loaded={"ITEMS"})


def test_a_value_imported_from_another_module_is_data(modules: Modules) -> None:
    modules.load("SETTINGS = {}\nSHARED = []\n", name="settingsmod")
    result = modules.analyse(
        """
        from datetime import datetime
        from settingsmod import SETTINGS, SHARED

        def lambda_handler(event, context):
            SETTINGS.update(event)
            SHARED.count(1)
            return datetime.now().isoformat()
        """
    )
    expect(result, written={"SETTINGS": False}, loaded={"SETTINGS", "SHARED", "datetime"})


def test_class_attribute_rule_ignores_immutable_and_removed_attributes(modules: Modules) -> None:
    result = modules.analyse(
        """
        class Plain:
            name = "plain"
            tags = []

        def lambda_handler(event, context):
            thing = event["thing"]
            thing.name.upper()
            thing.name["x"] = 1
            event["other"].tags.append(1)
        """
    )
    # Only `tags` can reach the class (through any instance); `name` is an immutable str.
    expect(result, written={"Plain": True}, loaded={"Plain"})


# ---------------------------------------------------------------------------------------------
# Instances of the module's classes: methods are linked through the instances that reach them


def test_dict_get_does_not_run_a_module_method_called_get(modules: Modules) -> None:
    result = modules.analyse(
        """
        ROWS = [{"k": 1}]

        class Counter:
            def __init__(self):
                self.hits = 0

            def get(self, key):
                self.hits += 1
                return key

        def lambda_handler(event, context):
            return [row.get("k") for row in ROWS], Counter().get(1)
        """
    )
    expect(result, written={}, loaded={"ROWS", "Counter"})


def test_module_level_instance_method_writes_what_it_holds(modules: Modules) -> None:
    result = modules.analyse(
        """
        TABLE = {}
        NAMES = {"a": 1}

        class Repo:
            def __init__(self, table, names):
                self.table = table
                self.names = names

            def save(self, key, value):
                self.table[key] = value

            def name(self, key):
                return self.names.get(key)

        REPO = Repo(TABLE, NAMES)

        def lambda_handler(event, context):
            REPO.save(event["k"], REPO.name(event["k"]))
        """
    )
    # REPO holds TABLE and NAMES, and attributes of one object are not told apart: the
    # store into self.table may be a store anywhere inside REPO (a known imprecision).
    expect(
        result,
        written={"TABLE": True, "NAMES": True, "REPO": True},
        loaded={"REPO", "TABLE", "NAMES"},
    )


def test_an_instance_passed_to_unknown_code_makes_its_methods_escape(modules: Modules) -> None:
    result = modules.analyse(
        """
        import threading

        TABLE = {"a": {"x": 1}}

        class Job:
            def entry(self):
                return TABLE["a"]

        def lambda_handler(event, context):
            job = Job()
            threading.Thread(target=job.entry).start()
        """
    )
    expect(result, written={"TABLE": True}, loaded={"Job", "TABLE", "threading"})


def test_methods_called_by_name_or_through_map_escape_with_their_class(
    modules: Modules,
) -> None:
    result = modules.analyse(
        """
        TABLE = {"a": []}
        ROWS = {"b": []}

        class Dispatcher:
            def __init__(self, table):
                self.table = table

            def handle_put(self, event):
                self.table["a"].append(event)

        class Mapper:
            def __init__(self, rows):
                self.rows = rows

            def one(self, key):
                self.rows["b"].append(key)

        def lambda_handler(event, context):
            dispatcher = Dispatcher(TABLE)
            getattr(dispatcher, "handle_" + event["kind"])(event)
            mapper = Mapper(ROWS)
            return list(map(mapper.one, event["keys"]))
        """
    )
    expect(
        result,
        written={"TABLE": True, "ROWS": True},
        loaded={"Dispatcher", "TABLE", "Mapper", "ROWS"},
    )


def test_dunder_methods_run_on_every_instance(modules: Modules) -> None:
    result = modules.analyse(
        """
        SEEN = []

        class Key:
            def __init__(self, value):
                self.value = value

            def __hash__(self):
                SEEN.append(self.value)
                return hash(self.value)

            @property
            def upper(self):
                return self.value.upper()

        def lambda_handler(event, context):
            return {Key(event["k"]): 1}
        """
    )
    expect(result, written={"SEEN": False}, loaded={"SEEN", "Key"})


def test_super_and_classmethods(modules: Modules) -> None:
    result = modules.analyse(
        """
        REGISTRY = {}
        LOG = []

        class Base:
            def register(self, key):
                REGISTRY[key] = self

        class Child(Base):
            def register(self, key):
                LOG.append(key)
                super().register(key)

            @classmethod
            def make(cls, key):
                item = cls()
                item.register(key)
                return item

        def lambda_handler(event, context):
            Child.make(event["k"])
        """
    )
    expect(result, written={"REGISTRY": False, "LOG": False}, loaded={"Child", "REGISTRY", "LOG"})


# ---------------------------------------------------------------------------------------------
# More of the language


def test_async_handlers_generators_and_star_arguments(modules: Modules) -> None:
    result = modules.analyse(
        """
        import asyncio

        QUEUE = []
        TABLE = {"a": [1]}
        ROWS = [[1]]

        def rows():
            for row in ROWS:
                yield row

        def push(*items, **options):
            QUEUE.extend(items)
            options["into"].append(1)

        async def fetch(key):
            await asyncio.sleep(0)
            return TABLE[key]

        async def lambda_handler(event, context):
            push(event, into=[])
            entry = await fetch("a")
            entry.append(2)
            for row in rows():
                row.clear()
            return list(rows())
        """
    )
    expect(
        result,
        written={"QUEUE": False, "TABLE": True, "ROWS": True},
        loaded={"asyncio", "QUEUE", "TABLE", "ROWS", "rows", "push", "fetch"},
    )


def test_functions_used_as_values_return_to_unknown_callers(modules: Modules) -> None:
    result = modules.analyse(
        """
        TABLE = {"a": {"x": 1}}
        NAMES = {"a": {"x": 1}}
        OTHER = {"a": {"x": 1}}

        def get_table(event):
            return TABLE["a"]

        def get_names(event):
            return NAMES["a"]

        ROUTES = {"table": get_table}

        def lambda_handler(event, context):
            callback = get_names
            return sorted(OTHER, key=lambda k: OTHER[k]["x"]), callback
        """
    )
    expect(
        result,
        written={"TABLE": True, "NAMES": True},
        loaded={"OTHER", "get_names", "TABLE", "NAMES"},
    )


def test_handler_applied_by_call_is_an_entry_point(modules: Modules) -> None:
    result = modules.analyse(
        """
        from lambdascope import handler

        TABLE = {"a": {"x": 1}}

        def _handle(event, context):
            return TABLE[event["k"]]

        lambda_handler = handler(_handle)
        """
    )
    expect(result, written={}, loaded={"TABLE"})


def test_walrus_in_a_comprehension_binds_in_the_function(modules: Modules) -> None:
    result = modules.analyse(
        """
        GROUPS = {"a": [1]}

        def lambda_handler(event, context):
            keys = [last := group for group in GROUPS.values()]
            last.append(event)
            return keys
        """
    )
    expect(result, written={"GROUPS": True}, loaded={"GROUPS"})


def test_class_defined_in_a_handler_and_print_to_a_file(modules: Modules) -> None:
    result = modules.analyse(
        """
        import io

        LOG = []
        SINK = io.StringIO()

        def lambda_handler(event, context):
            class Local:
                seen = LOG

                def note(self, value):
                    self.seen.append(value)

            Local().note(event)
            print(event, file=SINK)
        """
    )
    expect(result, written={"LOG": True, "SINK": True}, loaded={"LOG", "SINK"})


def test_calling_a_bound_method_taken_from_a_global_writes_it(modules: Modules) -> None:
    result = modules.analyse(
        """
        SEEN = set()
        NAMES = {"a": "b"}

        def lambda_handler(event, context):
            add = SEEN.add
            lookup = NAMES.get
            for key in event["keys"]:
                add(key)
            return lookup("a")
        """
    )
    # Calling the value is unknown code; the analysis does not know `get` from `add` here.
    expect(result, written={"SEEN": True, "NAMES": True}, loaded={"SEEN", "NAMES"})


def test_comprehension_unpacking_raise_setattr_and_math(modules: Modules) -> None:
    result = modules.analyse(
        """
        import math

        class Thing:
            pass

        TABLE = {"a": [1]}
        ITEMS = []
        OBJ = Thing()
        VALUE = {"v": 1}

        def lambda_handler(event, context):
            sizes = {k: len(v) for k, (v, *rest) in zip(TABLE, TABLE.values())}
            [v.append(1) for k, v in TABLE.items()]
            setattr(OBJ, "value", VALUE)
            if math.sqrt(len(ITEMS)) > 10:
                raise ValueError(ITEMS) from None
            return sizes
        """
    )
    expect(
        result,
        # what is raised reaches whoever catches it (``e.args[0].append(x)``): written
        written={"TABLE": True, "OBJ": False, "ITEMS": True},
        loaded={"math", "TABLE", "ITEMS", "OBJ", "VALUE"},
    )


def test_lambda_with_a_mutable_default(modules: Modules) -> None:
    result = modules.analyse(
        """
        remember = lambda key, seen=[]: seen.append(key)

        def lambda_handler(event, context):
            remember(event["k"])
        """
    )
    expect(result, written={}, loaded={"remember"}, written_params={("<lambda>", 2): {"seen"}})


# ---------------------------------------------------------------------------------------------
# Properties over generated handler modules

_GLOBALS = ("TABLE", "ITEMS", "CONFIG", "CACHE")
_TEMPLATES = (
    "{L} = {G}",
    "{L} = {G}.get(event['k'])",
    "{L} = {G}[0]",
    "for {L} in {G}:\n        pass",
    "{L}.append(1)",
    "{L}['x'] = 1",
    "{L} = [{M}]",
    "{L} = dict({G})",
    "{L} = {M} or {G}",
    "{G}.append(event)",
    "{G}['k'] = 1",
    "{L}[0]['y'] = 2",
    "keep({L}, {M})",
    "{L} = fetch({G})",
    "mystery({L})",
    "json.dumps({G})",
    "{L} = len({G})",
    "logger.info('%s', {L})",
)
_PRELUDE = """
import json
import logging

logger = logging.getLogger()
TABLE = {"a": {"b": [1]}}
ITEMS = [[1]]
CONFIG = {"x": {}}
CACHE = {}

def keep(target, value):
    target.append(value)

def fetch(table):
    return table["a"]

def lambda_handler(event, context):
    a = b = c = None
"""


def _module_source(statements: list[tuple[int, str, str, str]], names: tuple[str, ...]) -> str:
    lines = [_PRELUDE.replace("a = b = c", " = ".join(names))]
    for template, global_, local, other in statements:
        line = _TEMPLATES[template].format(
            G=global_, L=names["abc".index(local)], M=names["abc".index(other)]
        )
        lines.append(f"    {line}\n")
    return "".join(lines)


def _analyse_text(source: str, directory: str) -> Analysis:
    """Analyse *source* as a module file without importing it (it holds no functions yet)."""
    import os

    path = os.path.join(directory, f"prop_{next(_counter)}.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(source)
    return analyse("prop", {"__name__": "prop", "__file__": path})


def _summary(result: Analysis) -> tuple[object, ...]:
    assert result.gave_up is None, result.gave_up
    return (result.written, result.loaded, result.rebound)


_statement = st.tuples(
    st.integers(0, len(_TEMPLATES) - 1),
    st.sampled_from(_GLOBALS),
    st.sampled_from("abc"),
    st.sampled_from("abc"),
)


@settings(max_examples=150, deadline=None)
@given(
    statements=st.lists(_statement, min_size=1, max_size=12),
    names=st.permutations(["first", "second", "third"]),
)
def test_renaming_locals_never_changes_the_result(
    statements: list[tuple[int, str, str, str]], names: list[str]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        plain = _analyse_text(_module_source(statements, ("a", "b", "c")), directory)
        renamed = _analyse_text(_module_source(statements, tuple(names)), directory)
    assert _summary(plain) == _summary(renamed)


@settings(max_examples=150, deadline=None)
@example(  # a deep write, then a shallow one: deep must stay
    statements=[(0, "TABLE", "a", "a"), (11, "TABLE", "a", "a")],
    extra=[(10, "TABLE", "a", "a")],
    position=2,
)
@given(
    statements=st.lists(_statement, min_size=1, max_size=10),
    extra=st.lists(_statement, min_size=1, max_size=4),
    position=st.integers(0, 10),
)
def test_adding_code_never_removes_a_write(
    statements: list[tuple[int, str, str, str]],
    extra: list[tuple[int, str, str, str]],
    position: int,
) -> None:
    import tempfile

    position = min(position, len(statements))
    more = statements[:position] + extra + statements[position:]
    with tempfile.TemporaryDirectory() as directory:
        before = _analyse_text(_module_source(statements, ("a", "b", "c")), directory)
        after = _analyse_text(_module_source(more, ("a", "b", "c")), directory)
    _summary(before)
    _summary(after)
    for name, deep in before.written.items():
        assert name in after.written
        assert after.written[name] >= deep
    assert before.loaded <= after.loaded
