"""One handler per kind of write to module-level state. Each test imports this module afresh."""

from __future__ import annotations

import heapq
from collections import Counter, OrderedDict, defaultdict, deque

from lambdascope import handler

ITEMS: list[int] = []
HEAP: list[int] = [5, 9]
TABLE: dict[str, int] = {"a": 1}
TAGS: set[str] = {"x"}
BUFFER = bytearray(b"ab")
RECENT: deque[int] = deque(maxlen=10)
GROUPS: defaultdict[str, list[int]] = defaultdict(list)
COUNTS: Counter[str] = Counter()
ORDER: OrderedDict[str, int] = OrderedDict(a=1, b=2)
STATE: dict[str, list[int]] = {"items": []}
NESTED = ({"deep": [1]},)
n = 0


class Settings:
    registry: list[str] = []  # noqa: RUF012 - a mutable class attribute, on purpose
    count = 0

    def __init__(self) -> None:
        self.region = "eu-west-1"


SETTINGS = Settings()


def remember(value: int) -> None:
    ITEMS.append(value)


@handler
def append(event, context):
    ITEMS.append(event)


@handler
def extend_via_iadd(event, context):
    STATE["items"] += [event]


@handler
def heappush(event, context):
    heapq.heappush(HEAP, event)


@handler
def setitem(event, context):
    TABLE["b"] = event


@handler
def delitem(event, context):
    del TABLE["a"]


@handler
def dict_update(event, context):
    TABLE.update(z=event)


@handler
def setdefault(event, context):
    TABLE.setdefault("c", event)


@handler
def replace_value(event, context):
    TABLE["a"] = 1000 + event


@handler
def set_add(event, context):
    TAGS.add(str(event))


@handler
def set_ior(event, context):
    TAGS.update({"y"})


@handler
def bytearray_extend(event, context):
    BUFFER.extend(b"c")


@handler
def deque_append(event, context):
    RECENT.append(event)


@handler
def defaultdict_missing(event, context):
    GROUPS["new"].append(event)


@handler
def counter_update(event, context):
    COUNTS.update(["hit"])


@handler
def ordereddict_move(event, context):
    ORDER.move_to_end("a")


@handler
def list_sort(event, context):
    HEAP.sort(reverse=True)


@handler
def nested_append(event, context):
    STATE["items"].append(event)


@handler
def deep_in_tuple(event, context):
    NESTED[0]["deep"].append(event)


@handler
def rebind(event, context):
    global n
    n += 1


@handler
def create_global(event, context):
    global created_later
    created_later = event


@handler
def delete_global(event, context):
    global n
    del n


@handler
def instance_attribute(event, context):
    SETTINGS.region = "us-east-1"


@handler
def class_attribute_mutation(event, context):
    Settings.registry.append("x")


@handler
def class_attribute_rebind(event, context):
    Settings.count += 1


@handler
def via_helper(event, context):
    remember(event)


@handler
async def async_append(event, context):
    ITEMS.append(event)


class Service:
    @handler
    def handle(self, event, context):
        ITEMS.append(event)


class Ambiguous:
    """Compares like numpy arrays: ``==`` returns something that has no truth value."""

    def __eq__(self, other: object) -> Ambiguous:  # type: ignore[override]
        return self

    def __bool__(self) -> bool:
        raise ValueError("truth value is ambiguous")

    __hash__ = object.__hash__


SLOTS: list[object] = [Ambiguous()]


@handler
def replace_with_ambiguous(event, context):
    SLOTS[0] = Ambiguous()


@handler
def dunder_on_class(event, context):
    Settings.__lazy_flag__ = True  # what libraries do (e.g. pydantic's __pydantic_complete__)
    return "ok"


class CallableHandler:
    def __call__(self, event, context):
        ITEMS.append(event)


def plain_handler(event, context, extra=None):
    ITEMS.append(event)
