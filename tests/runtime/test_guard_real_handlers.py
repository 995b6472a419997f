"""The guard on handler modules shaped like real ones: stacked decorators, lazy init by hand,
init-scope work done during an invocation, and the leaks that hide in slots, defaults and
equal-looking objects. Every module here is a real file, imported as Lambda imports it."""

from __future__ import annotations

import importlib
import json
import sys
import tracemalloc
import warnings
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

import lambdascope
from lambdascope import ScopeLeakError, ScopeLeakWarning
from lambdascope.aws import ClientInInvocationWarning
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from conftest import HandlerDir


@pytest.fixture(autouse=True)
def _guard_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDASCOPE_GUARD", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    lambdascope.configure(cold_start_report=False)


def load(handler_dir: HandlerDir, name: str, source: str) -> Any:
    handler_dir.write(name, source)
    return importlib.import_module(name)


# -- 1. decorators under @handler: the user's module is the one guarded -------------------

POWERTOOLS = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from lambdascope import handler

logger = Logger(service="guard-real-handlers")
tracer = Tracer(service="orders", disabled=True)
metrics = Metrics(namespace="shop", service="orders")
app = APIGatewayRestResolver()
files = []


@app.get("/count")
def count():
    return {"files": len(files)}


@handler
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def leaky_under(event, context):
    metrics.add_metric(name="calls", unit="Count", value=1)
    files.append(event["key"])
    return len(files)


@logger.inject_lambda_context
@handler
def leaky_over(event, context):
    files.append(event["key"])
    return len(files)


@handler
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def clean_under(event, context):
    metrics.add_metric(name="calls", unit="Count", value=1)
    logger.info("handling", extra={"key": event["key"]})
    return {"key": event["key"]}


@handler
@event_source(data_class=SQSEvent)
def records(event, context):
    return [record.body for record in event.records]


@handler
@logger.inject_lambda_context
def api(event, context):
    return app.resolve(event, context)
"""

API_EVENT = {
    "httpMethod": "GET",
    "path": "/count",
    "resource": "/count",
    "requestContext": {"requestId": "r-1"},
    "headers": {},
    "queryStringParameters": None,
}


@pytest.fixture
def powertools(handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch) -> Any:
    import aws_lambda_powertools.logging.logger as powertools_logger

    monkeypatch.setattr(powertools_logger, "is_cold_start", True)
    return load(handler_dir, "pt_handler", POWERTOOLS)


@pytest.mark.parametrize("name", ["leaky_under", "leaky_over"])
def test_leak_under_powertools_is_caught_in_the_users_module(
    capsys: pytest.CaptureFixture[str], powertools: Any, name: str
) -> None:
    leaky = getattr(powertools, name)
    for number in range(2):
        with pytest.raises(ScopeLeakError) as caught:
            leaky({"key": f"k{number}"}, LambdaContext())
        message = str(caught.value)
        assert "module 'pt_handler': list `files` was modified in place" in message
        assert "is_cold_start" not in message
        assert "allow=('files',)" in message
        assert powertools.files == []  # restored: the warm invocation sees nothing


def test_clean_handler_under_powertools_passes_and_powertools_keeps_its_state(
    capsys: pytest.CaptureFixture[str], powertools: Any
) -> None:
    import aws_lambda_powertools.logging.logger as powertools_logger

    context = LambdaContext()
    for number in range(3):
        assert powertools.clean_under({"key": number}, context) == {"key": number}
        # Powertools' own module-level cold-start flag is not ours to restore: restoring it
        # would make Powertools log `cold_start: true` on every invocation
        assert powertools_logger.is_cold_start is False


def test_event_source_and_resolver_handlers_under_handler(powertools: Any) -> None:
    event = {"Records": [{"messageId": "1", "body": "hello"}]}
    assert [powertools.records(event, LambdaContext()) for _ in range(3)] == [["hello"]] * 3
    for _ in range(3):
        response = powertools.api(API_EVENT, LambdaContext())
        assert response["statusCode"] == 200
        assert json.loads(response["body"]) == {"files": 0}


DECORATORS = """
import functools

CALLS = 0
SEEN = []


def counted(func):
    @functools.wraps(func)
    def wrapper(event, context):
        global CALLS
        CALLS += 1
        SEEN.append(event)
        return func(event, context)

    return wrapper
"""

WRAPPED = """
from decorators import counted
from lambdascope import handler

files = []


@handler
@counted
def under(event, context):
    files.append(event)
    return len(files)


@counted
@handler
def over(event, context):
    files.append(event)
    return len(files)


@handler
@counted
def clean(event, context):
    return event
"""


def _installed_library(handler_dir: HandlerDir, name: str, source: str) -> None:
    """Install *name* as a library beside the handler, as `pip install -t .` does."""
    handler_dir.write(name, source)
    info = handler_dir.path / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text(f"{name}.py,,\n{name}-1.0.dist-info/RECORD,,\n")


@pytest.mark.parametrize("name", ["under", "over"])
def test_functools_wraps_decorator_from_a_library(handler_dir: HandlerDir, name: str) -> None:
    _installed_library(handler_dir, "decorators", DECORATORS)
    mod = load(handler_dir, "wrapped_handler", WRAPPED)
    decorators = sys.modules["decorators"]
    with pytest.raises(ScopeLeakError, match=r"module 'wrapped_handler': list `files`") as caught:
        getattr(mod, name)("a", None)
    assert "CALLS" not in str(caught.value)
    assert "SEEN" not in str(caught.value)
    assert mod.files == []
    assert decorators.CALLS == 1  # the decorator's own module-level state is not restored
    assert [mod.clean(i, None) for i in range(3)] == [0, 1, 2]
    assert decorators.CALLS == 4


def test_a_decorator_of_the_project_keeping_request_data_leaks(handler_dir: HandlerDir) -> None:
    handler_dir.write("decorators", DECORATORS)  # the project's own code this time
    mod = load(handler_dir, "wrapped_handler", WRAPPED)
    decorators = sys.modules["decorators"]
    with pytest.raises(ScopeLeakError) as caught:
        mod.clean("a", None)
    assert "module 'decorators': list `SEEN`" in str(caught.value)
    assert "module 'decorators': name `CALLS` was rebound" in str(caught.value)
    assert (decorators.CALLS, decorators.SEEN) == (0, [])


# -- 2. lazy init by hand ---------------------------------------------------------------

LAZY = """
import boto3
from lambdascope import handler

table = None
session = None
last_user = None
settings = None
created = []


@handler
def get_item(event, context):
    global table
    if table is None:
        table = boto3.resource("dynamodb", region_name="us-east-1").Table("orders")
    return table.name


@handler
def remember_user(event, context):
    global last_user
    last_user = event["user"]
    return last_user


@handler
def load_settings(event, context):
    global settings
    if settings is None:
        settings = {"stage": event["stage"]}
    return settings["stage"]


@handler
def per_request_session(event, context):
    global session
    session = boto3.session.Session(region_name="us-east-1")
    return event
"""


@mock_aws
def test_lazy_init_by_hand_is_accepted_and_keeps_its_object(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "lazy_handler", LAZY)
    with pytest.warns(ClientInInvocationWarning):
        assert mod.get_item({}, None) == "orders"
    first = mod.table
    assert first is not None
    assert [mod.get_item({}, None) for _ in range(3)] == ["orders"] * 3
    assert mod.table is first  # created once, kept: later invocations do not rebuild it


def test_request_data_set_from_none_is_still_a_leak(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "lazy_handler", LAZY)
    for user in ("alice", "bob"):
        with pytest.raises(ScopeLeakError, match="name `last_user` was set from None to a str"):
            mod.remember_user({"user": user}, None)
        assert mod.last_user is None
    with pytest.raises(ScopeLeakError, match="name `settings` was set from None to a dict"):
        mod.load_settings({"stage": "prod"}, None)
    assert mod.settings is None


@pytest.mark.filterwarnings("ignore::lambdascope.aws.ClientInInvocationWarning")
def test_an_object_made_lazily_must_stay_that_object(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "lazy_handler", LAZY)
    assert mod.per_request_session(1, None) == 1  # None -> a session: lazy init, accepted
    kept = mod.session
    with pytest.raises(ScopeLeakError, match="name `session` was rebound"):
        mod.per_request_session(2, None)  # a new session per invocation is not init work
    assert mod.session is kept


# -- 3. init-scope work done during an invocation ----------------------------------------------

INIT_WORK = """
import functools
from lambdascope import handler, init_resource

REGISTRY = []
CONNECTIONS = 0
SEEN = []


@init_resource
def database():
    global CONNECTIONS
    CONNECTIONS += 1
    REGISTRY.append("database")
    return object()


class Settings:
    computed = 0

    @functools.cached_property
    def table_name(self):
        Settings.computed += 0  # reads only
        return "orders-" + "prod"


SETTINGS = Settings()


@handler
def uses_resource(event, context):
    database()
    return len(REGISTRY), CONNECTIONS


@handler
def leaks_then_uses_resource(event, context):
    SEEN.append(event)
    database()
    return len(SEEN)


@handler
def cached(event, context):
    return SETTINGS.table_name
"""


def test_a_factory_run_lazily_by_an_invocation_may_write_module_state(
    handler_dir: HandlerDir,
) -> None:
    mod = load(handler_dir, "init_work", INIT_WORK)
    assert [mod.uses_resource(i, None) for i in range(3)] == [(1, 1)] * 3


def test_a_leak_before_the_factory_ran_is_still_caught(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "init_work", INIT_WORK)
    with pytest.raises(ScopeLeakError) as caught:
        mod.leaks_then_uses_resource("x", None)
    message = str(caught.value)
    assert "list `SEEN` was modified in place" in message
    assert "REGISTRY" not in message
    assert "CONNECTIONS" not in message
    assert mod.SEEN == []
    assert mod.REGISTRY == ["database"]  # the factory's work stands
    assert mod.uses_resource(1, None) == (1, 1)


def test_cached_property_on_a_module_level_object(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "init_work", INIT_WORK)
    assert [mod.cached(i, None) for i in range(3)] == ["orders-prod"] * 3
    assert vars(mod.SETTINGS) == {"table_name": "orders-prod"}  # cached once, kept


def test_lazy_import_of_a_submodule_inside_the_handler(handler_dir: HandlerDir) -> None:
    (handler_dir.path / "shop").mkdir()
    handler_dir.write("shop/pricing", "RATE = 2\n")
    handler_dir.write(
        "shop/__init__",
        """
        from lambdascope import handler


        @handler
        def lambda_handler(event, context):
            from . import pricing  # imported lazily: sets shop.pricing

            return event * pricing.RATE
        """,
    )
    handler_dir.write(
        "consumer",
        """
        from lambdascope import handler


        @handler(modules=("shop",))
        def lambda_handler(event, context):
            import shop.pricing

            return shop.pricing.RATE
        """,
    )
    shop = importlib.import_module("shop")
    assert [shop.lambda_handler(i, None) for i in range(3)] == [0, 2, 4]
    assert shop.pricing is sys.modules["shop.pricing"]
    del shop.pricing
    del sys.modules["shop.pricing"]
    consumer = importlib.import_module("consumer")
    assert [consumer.lambda_handler(i, None) for i in range(3)] == [2, 2, 2]
    assert shop.pricing is sys.modules["shop.pricing"]
    from shop import pricing  # later imports still work

    assert pricing.RATE == 2


# -- 4. leaks that used to hide ------------------------------------------------------------------

HIDDEN = """
from dataclasses import dataclass, field
from lambdascope import handler


class Counter:
    __slots__ = ("hits", "last")

    def __init__(self):
        self.hits = 0


COUNTER = Counter()


@dataclass
class Item:
    name: str
    token: object = field(default=None, compare=False)


ITEMS = [Item("a")]
BY_NAME = {"a": Item("a")}


def remember(key, seen=[]):
    seen.append(key)
    return len(seen)


def remember_kw(key, *, seen={}):
    seen[key] = True
    return len(seen)


@handler
def slots_write(event, context):
    COUNTER.hits += 1
    COUNTER.last = event
    return COUNTER.hits


@handler
def default_write(event, context):
    return remember(event)


@handler
def kwdefault_write(event, context):
    return remember_kw(event)


@handler
def equal_replacement(event, context):
    ITEMS[0] = Item("a", token=event)
    return ITEMS[0].name


@handler
def equal_value_replacement(event, context):
    BY_NAME["a"] = Item("a", token=event)
    return "a"
"""


def test_writes_to_slots_instances_are_caught_and_undone(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "hidden", HIDDEN)
    with pytest.raises(ScopeLeakError, match=r"attribute\(s\) of `COUNTER` \(a Counter instance\)"):
        mod.slots_write("secret-request-data", None)
    assert mod.COUNTER.hits == 0
    assert not hasattr(mod.COUNTER, "last")


@pytest.mark.skipif(sys.version_info < (3, 10), reason="dataclass(slots=True) is 3.10+")
def test_dataclass_with_slots(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "slotted",
        """
        from dataclasses import dataclass
        from lambdascope import handler


        @dataclass(slots=True)
        class State:
            user: str = ""


        STATE = State()


        @handler
        def lambda_handler(event, context):
            STATE.user = event
            return STATE.user
        """,
    )
    with pytest.raises(ScopeLeakError, match=r"attribute\(s\) set or deleted: 'user'|`STATE`"):
        mod.lambda_handler("alice", None)
    assert mod.STATE.user == ""


@pytest.mark.parametrize(
    ("name", "function"), [("default_write", "remember"), ("kwdefault_write", "remember_kw")]
)
def test_mutable_default_arguments(handler_dir: HandlerDir, name: str, function: str) -> None:
    mod = load(handler_dir, "hidden", HIDDEN)
    with pytest.raises(ScopeLeakError) as caught:
        getattr(mod, name)("k", None)
    message = str(caught.value)
    assert f"the default value of parameter `seen` of {function}()" in message
    assert f"allow=('{function}.seen',)" in message
    func = getattr(mod, function)
    assert (func.__defaults__ or (None,))[-1] in ([], None)
    assert not (func.__kwdefaults__ or {}).get("seen")


def test_mutable_default_can_be_allowed_as_a_deliberate_memo(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "hidden", HIDDEN)
    memo = lambdascope.handler(allow=("remember.seen",))(mod.default_write.__wrapped__)
    assert [memo(k, None) for k in "abc"] == [1, 2, 3]


@pytest.mark.parametrize("name", ["equal_replacement", "equal_value_replacement"])
def test_an_equal_but_different_object_is_a_write(handler_dir: HandlerDir, name: str) -> None:
    mod = load(handler_dir, "hidden", HIDDEN)
    before = (mod.ITEMS[0], mod.BY_NAME["a"])
    with pytest.raises(ScopeLeakError, match="replaced"):
        getattr(mod, name)("token-of-this-request", None)
    assert (mod.ITEMS[0], mod.BY_NAME["a"]) == before
    assert mod.ITEMS[0] is before[0]
    assert mod.BY_NAME["a"] is before[1]


# -- 5. the message never crashes, and names everything ------------------------------------------

PROXY = """
from contextvars import ContextVar
from werkzeug.local import LocalProxy
from lambdascope import handler

_request = ContextVar("request")
current_request = LocalProxy(_request, unbound_message="Working outside of request context.")
PROXIES = {"r": current_request}
SEEN = []
OTHER = {}


@handler(guard="warn")
def warned(event, context):
    SEEN.append(event)
    OTHER[event] = current_request
    return len(SEEN)


@handler
def raised(event, context):
    SEEN.append(event)
    OTHER[event] = 1
    return len(SEEN)
"""


def test_message_building_never_touches_user_objects(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "proxied", PROXY)
    with pytest.warns(ScopeLeakWarning) as record:
        assert mod.warned("a", None) == 1
    message = str(record[0].message)
    assert "SEEN" in message
    assert "OTHER" in message
    assert "allow=('SEEN', 'OTHER')" in message or "allow=('OTHER', 'SEEN')" in message


def test_every_leaked_name_is_in_the_suggested_allow(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "proxied", PROXY)
    with pytest.raises(ScopeLeakError) as caught:
        mod.raised("a", None)
    message = str(caught.value)
    assert "allow=('SEEN', 'OTHER')" in message or "allow=('OTHER', 'SEEN')" in message
    assert mod.SEEN == []
    assert mod.OTHER == {}


def test_keys_from_the_request_are_not_shown(handler_dir: HandlerDir) -> None:
    mod = load(
        handler_dir,
        "tokens",
        """
        from lambdascope import handler

        BY_TOKEN = {}


        @handler
        def lambda_handler(event, context):
            BY_TOKEN[event["token"]] = event["user"]
        """,
    )
    token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.signature-of-the-token"
    with pytest.raises(ScopeLeakError) as caught:
        mod.lambda_handler({"token": token, "user": "alice"}, None)
    assert token not in str(caught.value)
    assert "key(s) added: 1 not written in the source (not shown)" in str(caught.value)


# -- what the analysis cannot vouch for is watched whole ------------------------------------------

ESCAPES = """
from lambdascope import handler

ITEMS = []

import helpers  # it does `from escapes import ITEMS`
LOG = []
record = LOG.append
TABLE = {"a": {"b": [1]}}


@handler
def through_other_module(event, context):
    helpers.remember(event)
    return TABLE["a"]["b"][0]


@handler
def through_bound_method(event, context):
    record(event)


@handler
def through_globals(event, context):
    globals()["TABLE"]["a"]["b"].append(event)
"""

HELPERS = """
from escapes import ITEMS


def remember(value):
    ITEMS.append(value)
"""


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("through_other_module", "ITEMS"),
        ("through_bound_method", "LOG"),
        ("through_globals", "TABLE"),
    ],
)
def test_writes_the_analysis_cannot_see_are_caught(
    handler_dir: HandlerDir, name: str, variable: str
) -> None:
    handler_dir.write("helpers", HELPERS)
    mod = load(handler_dir, "escapes", ESCAPES)
    with pytest.raises(ScopeLeakError, match=rf"`{variable}"):
        getattr(mod, name)("x", None)
    assert mod.ITEMS == []
    assert mod.LOG == []
    assert mod.TABLE == {"a": {"b": [1]}}


LOOKUP = """
from lambdascope import handler
{extra}
TABLE = {{f"sku-{{i}}": {{"price": i, "tags": [str(i)]}} for i in range(100_000)}}


@handler
def lambda_handler(event, context):
    row = TABLE.get(event["sku"], {{}})
    return row.get("price"), len(row.get("tags", ())), event["sku"] in TABLE
"""

MODULE_EXTRAS = {
    "plain": "",
    "dataclass": (
        "from dataclasses import dataclass\n\n\n"
        "@dataclass(frozen=True)\nclass Price:\n    sku: str\n    cents: int = 0\n"
    ),
    "namedtuple": ("from typing import NamedTuple\n\n\nclass Price(NamedTuple):\n    sku: str\n"),
    "enum": "import enum\n\n\nclass Stage(enum.Enum):\n    DEV = 'dev'\n    PROD = 'prod'\n",
}


@pytest.mark.parametrize("extra", list(MODULE_EXTRAS))
def test_read_only_data_costs_no_memory(handler_dir: HandlerDir, extra: str) -> None:
    """The guard keeps no copy of a table the handler only reads (100,000 entries here),
    also in modules with classes whose methods Python generates (dataclasses, NamedTuple)."""
    import lambdascope._guard._analysis  # noqa: F401 - imported once per process, not per table

    mod = load(handler_dir, "lookup", LOOKUP.format(extra=MODULE_EXTRAS[extra]))
    tracemalloc.start()
    try:
        assert mod.lambda_handler({"sku": "sku-7"}, None) == (7, 1, True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, f"{peak} bytes"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mod.lambda_handler({"sku": "sku-8"}, None) == (8, 1, True)


# -- writes through aliases, helpers and closures are followed ---------------------------------

ALIASES = """
import json
import logging

from lambdascope import handler

logger = logging.getLogger(__name__)
TABLE = {"a": {"tags": ["x"]}, "b": {"tags": []}}
ROWS = [{"seen": False}]


def tags_of(key):
    return TABLE[key]["tags"]


def mark(row):
    row["seen"] = True


@handler
def via_local(event, context):
    row = TABLE["a"]
    row["tags"].append(event)


@handler
def via_loop(event, context):
    for row in ROWS:
        row["seen"] = event


@handler
def via_returned(event, context):
    tags_of("a").append(event)


@handler
def via_argument(event, context):
    mark(ROWS[0])


@handler
def via_get(event, context):
    TABLE.get("a", {}).setdefault("extra", event)


@handler
def via_comprehension(event, context):
    [row.update(x=event) for row in ROWS]


@handler
def via_closure(event, context):
    rows = ROWS

    def touch():
        rows[0]["seen"] = event

    touch()


@handler
def via_walrus(event, context):
    if (row := TABLE.get("a")) is not None:
        row["x"] = event


@handler
def read_only(event, context):
    row = TABLE.get(event, {})
    tags = [t.upper() for t in row.get("tags", ())]
    logger.info("row %s has %d tags", event, len(tags))
    return json.dumps({"tags": tags, "known": event in TABLE, "rows": len(ROWS)})
"""

ALIAS_WRITES = [
    ("via_local", "TABLE"),
    ("via_loop", "ROWS"),
    ("via_returned", "TABLE"),
    ("via_argument", "ROWS"),
    ("via_get", "TABLE"),
    ("via_comprehension", "ROWS"),
    ("via_closure", "ROWS"),
    ("via_walrus", "TABLE"),
]


@pytest.mark.parametrize(("name", "variable"), ALIAS_WRITES, ids=[w[0] for w in ALIAS_WRITES])
def test_writes_through_aliases_are_caught(
    handler_dir: HandlerDir, name: str, variable: str
) -> None:
    mod = load(handler_dir, "aliases", ALIASES)
    before = json.dumps([mod.TABLE, mod.ROWS], sort_keys=True)
    with pytest.raises(ScopeLeakError, match=rf"`{variable}"):
        getattr(mod, name)("event-data", None)
    assert json.dumps([mod.TABLE, mod.ROWS], sort_keys=True) == before


def test_reads_of_the_same_data_pass(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "aliases", ALIASES)
    results = [json.loads(mod.read_only(key, None)) for key in ("a", "b", "a")]
    assert results[0] == {"tags": ["X"], "known": True, "rows": 1}
    assert results[2] == results[0]


# -- library objects, also when the module subclasses them ------------------------------------

BATCH = """
import abc
import json

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from lambdascope import handler


class CountingProcessor(BatchProcessor):  # the library keeps each batch on the processor
    def success_handler(self, record, result):
        return super().success_handler(record, result)


class Repository(abc.ABC):  # the module's own class, with a structural base: still watched
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)


processor = CountingProcessor(event_type=EventType.SQS)
repository = None


class Memory(Repository):
    pass


REPOSITORY = Memory()


def record_handler(record):
    return json.loads(record.body)


@handler
def batch(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


@handler
def remember(event, context):
    REPOSITORY.add(event)
"""

SQS_EVENT = {
    "Records": [
        {
            "messageId": "1",
            "receiptHandle": "r",
            "body": '{"order": 1}',
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
            "awsRegion": "us-east-1",
        }
    ]
}


def test_a_library_object_subclassed_in_the_module_keeps_its_own_state(
    handler_dir: HandlerDir,
) -> None:
    mod = load(handler_dir, "batching", BATCH)
    results = [mod.batch(SQS_EVENT, LambdaContext()) for _ in range(3)]
    assert results == [{"batchItemFailures": []}] * 3


def test_the_modules_own_classes_with_structural_bases_are_watched(handler_dir: HandlerDir) -> None:
    mod = load(handler_dir, "batching", BATCH)
    with pytest.raises(ScopeLeakError, match=r"list `REPOSITORY.items` was modified in place"):
        mod.remember({"order": 1}, None)
    assert mod.REPOSITORY.items == []
