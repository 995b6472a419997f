"""A property of the guard: whatever a handler does to module-level data, either nothing
changed or the invocation fails and the data is exactly what it was, object for object."""

from __future__ import annotations

import importlib
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import event as note_outcome
from hypothesis import given, settings
from hypothesis import strategies as st

import lambdascope
from lambdascope import ScopeLeakError

if TYPE_CHECKING:
    from pathlib import Path

SOURCE = '''
from collections import deque

from lambdascope import handler

STATE = {"items": [], "table": {}}


class Box:
    def __init__(self, content):
        self.content = content


class Slot:
    __slots__ = ("content",)

    def __init__(self, content):
        self.content = content


def containers(value):
    """Every mutable container inside *value*, in a fixed order."""
    found = [value]
    if isinstance(value, (Box, Slot)):
        inner = [value.content]
    elif isinstance(value, dict):
        inner = list(value.values())
    elif isinstance(value, (set, frozenset)):
        inner = []
    else:
        inner = list(value)
    for item in inner:
        if isinstance(item, (list, dict, set, deque, Box, Slot)):
            found.extend(containers(item))
        elif isinstance(item, tuple):
            for part in item:
                if isinstance(part, (list, dict, set, deque, Box, Slot)):
                    found.extend(containers(part))
    return found


def wrap(kind, arg):
    """A new value of the kind the example asks for."""
    if kind == "box":
        return Box(arg)
    if kind == "slot":
        return Slot(arg)
    if kind == "deque":
        return deque([arg])
    if kind == "set":
        return {repr(arg)}
    if kind == "tuple":
        return ([arg], {"t": arg})
    return arg


def change(target, op, arg):
    if isinstance(target, (Box, Slot)):
        if op == "remove":
            del target.content
        elif op != "same":
            target.content = arg
    elif isinstance(target, set):
        if op == "add":
            target.add(repr(arg))
        elif op == "remove" and target:
            target.pop()
        elif op == "clear":
            target.clear()
    elif isinstance(target, (list, deque)):
        if op == "add":
            target.append(arg)
        elif op == "set" and target:
            target[len(target) // 2] = arg
        elif op == "remove" and target:
            target.pop()
        elif op == "clear":
            target.clear()
        elif op == "same" and target:  # an equal, but different, object
            first = target[0]
            target[0] = type(first)(first) if isinstance(first, (list, dict)) else first
        elif op == "reorder":
            target.reverse()
    elif op == "add":
        target[f"k{len(target)}"] = arg
    elif op == "set" and target:
        target[next(iter(target))] = arg
    elif op == "remove" and target:
        target.pop(next(iter(target)))
    elif op == "clear":
        target.clear()
    elif op == "same" and target:
        key = next(iter(target))
        value = target[key]
        target[key] = type(value)(value) if isinstance(value, (list, dict)) else value
    elif op == "reorder" and target:
        key = next(iter(target))
        target[key] = target.pop(key)


@handler
def apply(event, context):
    for index, op, kind, arg in event:
        targets = containers(STATE)
        change(targets[index % len(targets)], op, wrap(kind, arg))
'''

KINDS = ["value", "box", "slot", "deque", "set", "tuple"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)
states = st.fixed_dictionaries(
    {
        "items": st.lists(json_values, max_size=4),
        "table": st.dictionaries(st.text(max_size=2), json_values, max_size=4),
    }
)
ops = st.lists(
    st.tuples(
        st.integers(0, 20),
        st.sampled_from(["add", "set", "remove", "clear", "same", "reorder"]),
        st.sampled_from(KINDS),
        json_values,
    ),
    max_size=4,
)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder: Path = tmp_path_factory.mktemp("guard_property")
    (folder / "guard_property_app.py").write_text(textwrap.dedent(SOURCE))
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("guard_property_app")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("guard_property_app", None)


def shape(value: Any) -> Any:
    """The value with the identity of every container and object in it."""
    if isinstance(value, dict):
        return (id(value), [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)) or type(value).__name__ == "deque":
        return (id(value), type(value).__name__, [shape(v) for v in value])
    if isinstance(value, set):
        return (id(value), sorted(value))
    if type(value).__name__ in ("Box", "Slot"):
        return (id(value), type(value).__name__, shape(getattr(value, "content", "<empty>")))
    return value


def build(state: dict[str, Any], layout: list[tuple[int, str, Any]], module: Any) -> None:
    """Put objects of every kind into the generated state (outside any invocation)."""
    for index, kind, arg in layout:
        targets = module.containers(state)
        module.change(targets[index % len(targets)], "add", module.wrap(kind, arg))


@settings(max_examples=300, deadline=None)
@given(
    state=states,
    layout=st.lists(st.tuples(st.integers(0, 20), st.sampled_from(KINDS), json_values), max_size=4),
    event=ops,
)
def test_either_nothing_changed_or_it_fails_and_everything_is_restored(
    module: Any, state: dict[str, Any], layout: list[Any], event: list[Any]
) -> None:
    lambdascope.configure(cold_start_report=False)
    build(state, layout, module)
    module.STATE = state  # between invocations: the guard takes it as the new baseline
    before_value = repr(state)
    before_shape = shape(state)
    try:
        module.apply(event, None)
    except ScopeLeakError:
        assert module.STATE is state
        assert shape(module.STATE) == before_shape
        note_outcome("leak: raised and restored")
        return
    note_outcome("no change")
    assert repr(module.STATE) == before_value
    assert shape(module.STATE) == before_shape
