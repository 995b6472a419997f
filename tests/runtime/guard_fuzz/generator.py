"""Random handler programs, from a small grammar of the idioms real handlers use.

Program number *n* is always the same program (``random.Random(n)`` drives every choice), on
every Python version that supports all of its fragments.

The grammar has two parts:

- **container fragments**: a container *kind* (list, dict, set, bytearray, deque,
  defaultdict, OrderedDict, Counter, SimpleNamespace, array, and subclasses the module
  defines), a *holder* (how the module keeps it: a name, inside a dict, list, tuple,
  namedtuple, instance, dataclass, class attribute, another module of the package...), an
  *access* path (how handler code reaches it: directly, through a local alias, a helper's
  parameter or return value, a comprehension, a lambda, a loop, a generator, a method with a
  read-only-looking name, a property, a bound method kept at module level, an async helper, a
  helper of another module) and an *operation* (a write, or a read; writes include unbound
  methods, bound methods passed as values, in-place operators, reads that insert);
- **special fragments**: global rebinding, lazy init, ``cached_property``, closures,
  decorators with state, mutable defaults, objects with methods named like reads, instance and
  class attributes, enum flags, opaque library objects, lazy imports, and code the write
  analysis is expected to give up on.

Reads are the common case: most programs are clean or have one write buried in a helper.
:func:`catalogue` lists one fragment per operation, holder, access path and special variant
(the oracle's self-test runs them all).
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .layouts import LAYOUTS, PACKAGE_LAYOUTS
from .program import HANDLER_MODULE, Fragment, Program

if TYPE_CHECKING:
    from collections.abc import Iterator

APP = HANDLER_MODULE


# -- operations on containers ------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One operation on a container: ``$c`` is the container, ``$v`` a request value, ``$k`` a
    key, ``$n`` a request number, ``$items`` a request list."""

    name: str
    form: str  # "e": an expression; "s": a statement; "a": an augmented assignment to $c
    template: str
    write: bool
    imports: tuple[str, ...] = ()
    min_version: tuple[int, int] = (3, 9)


def W(name: str, form: str, template: str, *imports: str, since: tuple[int, int] = (3, 9)) -> Op:
    return Op(name, form, template, True, imports, since)


def R(name: str, form: str, template: str, *imports: str, since: tuple[int, int] = (3, 9)) -> Op:
    return Op(name, form, template, False, imports, since)


LIST_OPS = (
    W("append", "e", "$c.append($v)"),
    W("append_event", "e", "$c.append(event)"),
    W("extend", "e", "$c.extend([$v])"),
    W("insert", "e", "$c.insert(0, $v)"),
    W("pop", "e", "$c.pop()"),
    W("remove_first", "e", "$c.remove($c[0])"),
    W("sort", "e", "$c.sort(reverse=True)"),
    W("reverse", "e", "$c.reverse()"),
    W("clear", "e", "$c.clear()"),
    W("setitem", "s", "$c[0] = $v"),
    W("setslice", "s", "$c[:] = [$v]"),
    W("delitem", "s", "del $c[0]"),
    W("iadd", "a", "$c += [$v]"),
    W("iadd_request_list", "a", "$c += $items"),
    W("imul_zero", "a", "$c *= 0"),
    W("imul", "a", "$c *= 2"),
    W("unbound_append", "e", "list.append($c, $v)"),
    W("unbound_setitem", "e", "list.__setitem__($c, 0, $v)"),
    W("dunder_setitem", "e", "$c.__setitem__(0, $v)"),
    W("dunder_iadd", "e", "$c.__iadd__([$v])"),
    W("operator_setitem", "e", "operator.setitem($c, 0, $v)", "import operator"),
    W("operator_iadd", "e", "operator.iadd($c, [$v])", "import operator"),
    W("heappush", "e", "heapq.heappush($c, $v)", "import heapq"),
    W("insort", "e", "bisect.insort($c, $v)", "import bisect"),
    W("map_bound_append", "e", "list(map($c.append, $items))"),
    W("filter_bound_append", "e", "list(filter($c.append, $items))"),
    W("getattr_append", "e", 'getattr($c, "append")($v)'),
    W("extend_genexp", "e", "$c.extend(x for x in [$v])"),
    R("len", "e", "len($c)"),
    R("index", "e", "$c[0]"),
    R("sorted", "e", "sorted($c)"),
    R("count", "e", "$c.count($v)"),
    R("contains", "e", "$v in $c"),
    R("copy_append", "e", "$c.copy().append($v)"),
    R("list_append", "e", "list($c).append($v)"),
    R("slice_append", "e", "$c[:].append($v)"),
    R("concat", "e", "$c + [$v]"),
    R("join", "e", '",".join($c)'),
    R("json", "e", "json.dumps($c)", "import json"),
    R("nsmallest", "e", "heapq.nsmallest(1, $c)", "import heapq"),
    R("lazy_map_unconsumed", "e", "map($c.append, $items)"),
    R("max", "e", "max($c)"),
    R("comprehension", "e", "[x.upper() for x in $c]"),
    R("copy_module_append", "e", "copy.copy($c).append($v)", "import copy"),
    R("deepcopy_append", "e", "copy.deepcopy($c).append($v)", "import copy"),
    R("bound_method_unused", "e", "$c.append"),
    R("noop_extend_empty", "e", "$c.extend([])"),
    R("noop_imul_one", "a", "$c *= 1"),
    R("noop_iadd_empty", "a", "$c += []"),
    R("noop_same_item", "s", "$c[0] = $c[0]"),
)

DICT_OPS = (
    W("setitem", "s", "$c[$k] = $v"),
    W("setitem_event", "s", "$c[$k] = event"),
    W("update", "e", "$c.update({$k: $v})"),
    W("update_kwargs", "e", "$c.update(extra=$v)"),
    W("setdefault", "e", "$c.setdefault($k, $v)"),
    W("pop", "e", '$c.pop("a", None)'),
    W("popitem", "e", "$c.popitem()"),
    W("clear", "e", "$c.clear()"),
    W("delitem", "s", 'del $c["a"]'),
    W("ior", "a", "$c |= {$k: $v}"),
    W("unbound_update", "e", "dict.update($c, {$k: $v})"),
    W("unbound_setitem", "e", "dict.__setitem__($c, $k, $v)"),
    W("unbound_setdefault", "e", "dict.setdefault($c, $k, $v)"),
    W("dunder_setitem", "e", "$c.__setitem__($k, $v)"),
    W("operator_setitem", "e", "operator.setitem($c, $k, $v)", "import operator"),
    W("map_bound_setdefault", "e", "list(map($c.setdefault, $items))"),
    W("sorted_key_setdefault", "e", "sorted([$v], key=$c.setdefault)"),
    W("update_zip", "e", "$c.update(zip([$k], [$v]))"),
    W("chainmap_first", "s", "collections.ChainMap($c)[$k] = $v", "import collections"),
    R("get", "e", "$c.get($k)"),
    R("get_default", "e", '$c.get($k, "")'),
    R("contains", "e", "$k in $c"),
    R("len", "e", "len($c)"),
    R("items", "e", "sorted($c.items())"),
    R("copy_update", "e", "$c.copy().update({$k: $v})"),
    R("dict_update", "e", "dict($c).update({$k: $v})"),
    R("merge", "e", "{**$c, $k: $v}"),
    R("union", "e", "$c | {$k: $v}"),
    R("json", "e", "json.dumps($c, sort_keys=True)", "import json"),
    R("format_map", "e", '"{a}".format_map($c)'),
    R("chainmap_local", "s", "collections.ChainMap({}, $c)[$k] = $v", "import collections"),
    R("keys_and", "e", "$c.keys() & {$k}"),
    R("values", "e", "list($c.values())"),
    R("lazy_map_unconsumed", "e", "map($c.setdefault, $items)"),
    R("fromkeys", "e", "dict.fromkeys($c, $v)"),
    R("noop_same_value", "s", '$c["a"] = "1"'),
    R("noop_update_empty", "e", "$c.update({})"),
    R("noop_setdefault_present", "e", '$c.setdefault("a", $v)'),
)

SET_OPS = (
    W("add", "e", "$c.add($v)"),
    W("update", "e", "$c.update([$v])"),
    W("discard", "e", '$c.discard("a")'),
    W("remove", "e", '$c.remove("a")'),
    W("difference_update", "e", '$c.difference_update({"a"})'),
    W("intersection_update", "e", '$c.intersection_update({"a"})'),
    W("symmetric_difference_update", "e", "$c.symmetric_difference_update({$v})"),
    W("pop", "e", "$c.pop()"),
    W("clear", "e", "$c.clear()"),
    W("unbound_add", "e", "set.add($c, $v)"),
    W("unbound_update", "e", "set.update($c, $items)"),
    W("map_bound_add", "e", "list(map($c.add, $items))"),
    W("dunder_ior", "e", "$c.__ior__({$v})"),
    W("ior", "a", "$c |= {$v}"),
    W("isub", "a", '$c -= {"a"}'),
    W("iand", "a", '$c &= {"a"}'),
    W("ixor", "a", "$c ^= {$v}"),
    R("contains", "e", "$v in $c"),
    R("len", "e", "len($c)"),
    R("union", "e", "$c | {$v}"),
    R("union_method", "e", "$c.union([$v])"),
    R("sorted", "e", "sorted($c)"),
    R("issubset", "e", "$c.issubset({$v})"),
    R("copy_add", "e", "$c.copy().add($v)"),
    R("frozenset", "e", "frozenset($c)"),
    R("difference", "e", "$c - {$v}"),
    R("set_add", "e", "set($c).add($v)"),
    R("isdisjoint", "e", "$c.isdisjoint([$v])"),
    R("noop_add_present", "e", '$c.add("a")'),
    R("noop_discard_absent", "e", '$c.discard("absent")'),
)

BYTEARRAY_OPS = (
    W("extend", "e", "$c.extend($v.encode())"),
    W("append", "e", "$c.append(65)"),
    W("insert", "e", "$c.insert(0, 66)"),
    W("clear", "e", "$c.clear()"),
    W("reverse", "e", "$c.reverse()"),
    W("pop", "e", "$c.pop()"),
    W("unbound_extend", "e", "bytearray.extend($c, $v.encode())"),
    W("setitem", "s", "$c[0] = 66"),
    W("setslice", "s", "$c[:] = $v.encode()"),
    W("delitem", "s", "del $c[0]"),
    W("iadd_literal", "a", '$c += b"x"'),
    W("iadd_request", "a", "$c += $v.encode()"),
    W("imul", "a", "$c *= 2"),
    W("dunder_iadd", "e", '$c.__iadd__(b"x")'),
    R("bytes", "e", "bytes($c)"),
    R("len", "e", "len($c)"),
    R("decode", "e", "$c.decode()"),
    R("find", "e", '$c.find(b"a")'),
    R("concat", "e", '$c + b"x"'),
    R("upper", "e", "$c.upper()"),
    R("copy_extend", "e", '$c.copy().extend(b"x")'),
    R("hex", "e", "$c.hex()"),
    R("noop_iadd_empty", "a", '$c += b""'),
)

DEQUE_OPS = (
    W("append", "e", "$c.append($v)"),
    W("appendleft", "e", "$c.appendleft($v)"),
    W("extend", "e", "$c.extend([$v])"),
    W("extendleft", "e", "$c.extendleft([$v])"),
    W("pop", "e", "$c.pop()"),
    W("popleft", "e", "$c.popleft()"),
    W("rotate", "e", "$c.rotate(1)"),
    W("clear", "e", "$c.clear()"),
    W("unbound_append", "e", "deque.append($c, $v)"),
    W("map_bound_append", "e", "list(map($c.append, $items))"),
    W("setitem", "s", "$c[0] = $v"),
    W("delitem", "s", "del $c[0]"),
    W("iadd", "a", "$c += [$v]"),
    R("list", "e", "list($c)"),
    R("len", "e", "len($c)"),
    R("index", "e", "$c[0]"),
    R("contains", "e", "$v in $c"),
    R("count", "e", "$c.count($v)"),
    R("copy_append", "e", "$c.copy().append($v)"),
    R("maxlen", "e", "$c.maxlen"),
    R("sorted", "e", "sorted($c)"),
    R("noop_rotate_zero", "e", "$c.rotate(0)"),
)

DEFAULTDICT_OPS = (
    W("subscript_append", "e", "$c[$k].append($v)"),
    W("read_inserts", "e", "$c[$k]"),
    W("len_of_missing_inserts", "e", "len($c[$k])"),
    W("format_map_inserts", "e", '"{zz}".format_map($c)'),
    W("setdefault", "e", "$c.setdefault($k, [$v])"),
    W("pop", "e", '$c.pop("a", None)'),
    W("setitem", "s", "$c[$k] = [$v]"),
    W("existing_append", "e", '$c["a"].append($v)'),
    W("existing_iadd", "s", '$c["a"] += [$v]'),
    R("get", "e", "$c.get($k)"),
    R("contains", "e", "$k in $c"),
    R("len", "e", "len($c)"),
    R("dict", "e", "dict($c)"),
    R("get_default", "e", '$c.get("a", [])'),
    R("sorted", "e", "sorted($c)"),
    R("format_map_present", "e", '"{a}".format_map($c)'),
    R("copy_subscript", "e", "$c.copy()[$k]"),
    R("existing_read", "e", 'len($c["a"])'),
)

NESTED_DEFAULTDICT_OPS = (
    W("nested_increment", "s", '$c["by_user"][$v] += 1'),
    W("nested_read_inserts", "e", '$c["by_user"][$v]'),
    W("outer_read_inserts", "e", '$c["by_user"]'),
    R("nested_get", "e", '$c.get("by_user", {}).get($v)'),
    R("len", "e", "len($c)"),
)

ORDERED_OPS = (
    W("setitem", "s", "$c[$k] = $v"),
    W("update", "e", "$c.update({$k: $v})"),
    W("setdefault", "e", "$c.setdefault($k, $v)"),
    W("pop", "e", '$c.pop("a", None)'),
    W("move_to_end", "e", '$c.move_to_end("a")'),
    W("popitem_first", "e", "$c.popitem(last=False)"),
    W("unbound_setitem", "e", "OrderedDict.__setitem__($c, $k, $v)"),
    W("clear", "e", "$c.clear()"),
    W("delitem", "s", 'del $c["a"]'),
    R("get", "e", "$c.get($k)"),
    R("contains", "e", "$k in $c"),
    R("keys", "e", "list($c)"),
    R("first", "e", "next(iter($c))"),
    R("dict", "e", "dict($c)"),
    R("len", "e", "len($c)"),
    R("copy_move", "e", '$c.copy().move_to_end("a")'),
    R("noop_move_last", "e", '$c.move_to_end("c")'),
)

COUNTER_OPS = (
    W("increment", "s", "$c[$k] += 1"),
    W("update", "e", "$c.update([$v])"),
    W("subtract", "e", '$c.subtract(["a"])'),
    W("setitem", "s", "$c[$k] = 5"),
    W("delitem", "s", 'del $c["a"]'),
    W("clear", "e", "$c.clear()"),
    W("unbound_update", "e", "Counter.update($c, [$v])"),
    W("pop", "e", '$c.pop("a", None)'),
    W("update_mapping", "e", "$c.update({$k: 1})"),
    W("iadd", "a", "$c += Counter([$v])"),
    W("isub", "a", '$c -= Counter(["a"])'),
    W("ior", "a", "$c |= Counter([$v])"),
    R("missing_read", "e", "$c[$k]"),
    R("most_common", "e", "$c.most_common(1)"),
    R("sum", "e", "sum($c.values())"),
    R("add", "e", "$c + Counter([$v])"),
    R("unary_plus", "e", "+$c"),
    R("get", "e", "$c.get($k, 0)"),
    R("elements", "e", "list($c.elements())"),
    R("total", "e", "$c.total()", since=(3, 10)),
    R("copy_update", "e", "$c.copy().update([$v])"),
    R("noop_update_empty", "e", "$c.update([])"),
)

NAMESPACE_OPS = (
    W("setattr_stmt", "s", "$c.last = $v"),
    W("iadd_attr", "s", "$c.count += 1"),
    W("setattr_builtin", "e", 'setattr($c, "last", $v)'),
    W("vars_update", "e", "vars($c).update(last=$v)"),
    W("dict_setitem", "s", '$c.__dict__["last"] = $v'),
    W("vars_setitem", "s", 'vars($c)["extra"] = $v'),
    W("dict_setdefault", "e", '$c.__dict__.setdefault("extra", $v)'),
    W("dunder_setattr", "e", '$c.__setattr__("last", $v)'),
    W("object_setattr", "e", 'object.__setattr__($c, "last", $v)'),
    R("getattr_stmt", "e", "$c.count"),
    R("getattr_default", "e", 'getattr($c, "last", None)'),
    R("vars_get", "e", 'vars($c).get("last")'),
    R("dict_copy", "e", "$c.__dict__.copy()"),
    R("rebuild", "e", "SimpleNamespace(**vars($c))"),
    R("dict_copy_update", "e", "dict(vars($c)).update(last=$v)"),
    R("noop_same_value", "s", "$c.count = 0"),
)

ARRAY_OPS = (
    W("append", "e", "$c.append($n)"),
    W("extend", "e", "$c.extend([$n])"),
    W("insert", "e", "$c.insert(0, $n)"),
    W("pop", "e", "$c.pop()"),
    W("reverse", "e", "$c.reverse()"),
    W("unbound_append", "e", "array.append($c, $n)"),
    W("setitem", "s", "$c[0] = $n"),
    W("delitem", "s", "del $c[0]"),
    W("iadd", "a", '$c += array("i", [$n])'),
    W("imul", "a", "$c *= 2"),
    W("frombytes", "e", '$c.frombytes(array("i", [$n]).tobytes())'),
    R("tolist", "e", "$c.tolist()"),
    R("len", "e", "len($c)"),
    R("sum", "e", "sum($c)"),
    R("index", "e", "$c[0]"),
    R("count", "e", "$c.count(1)"),
    R("contains", "e", "$n in $c"),
    R("tobytes", "e", "$c.tobytes()"),
    R("copy_append", "e", 'array("i", $c).append($n)'),
)


@dataclass(frozen=True)
class Kind:
    """A container kind: how to make one at Init, what can be done to it."""

    name: str
    init: str
    ops: tuple[Op, ...]
    imports: tuple[str, ...] = ()
    classdef: str = ""  # a subclass the module defines ($S is its name)
    class_name: str = ""
    label: str = "ITEMS"  # the module-level name it gets


SUBCLASS_OPS = {
    "dict": (
        W("method_register", "e", "$c.register($k, $v)"),
        R("method_lookup", "e", "$c.lookup($k)"),
        W("attribute", "s", "$c.note = $v"),
    ),
    "list": (
        W("method_add", "e", "$c.add($v)"),
        R("method_first", "e", "$c.first()"),
        W("attribute", "s", "$c.note = $v"),
    ),
    "set": (
        W("method_mark", "e", "$c.mark($v)"),
        R("method_has", "e", "$c.has($v)"),
        W("attribute", "s", "$c.note = $v"),
    ),
}

SUBCLASSES = {
    "dict": """
        class $S(dict):
            $slots
            def register(self, key, value):
                self[key] = value

            def lookup(self, key):
                return self.get(key)
        """,
    "list": """
        class $S(list):
            $slots
            def add(self, item):
                self.append(item)

            def first(self):
                return self[0]
        """,
    "set": """
        class $S(set):
            $slots
            def mark(self, item):
                self.add(item)

            def has(self, item):
                return item in self
        """,
}

KINDS = (
    Kind("list", '["a", "b", "c"]', LIST_OPS, label="ITEMS"),
    Kind("dict", '{"a": "1", "b": "2", "c": "3"}', DICT_OPS, label="CONFIG"),
    Kind("set", '{"a", "b", "c"}', SET_OPS, label="SEEN"),
    Kind("bytearray", 'bytearray(b"abc")', BYTEARRAY_OPS, label="BUFFER"),
    Kind(
        "deque",
        'deque(["a", "b", "c"])',
        DEQUE_OPS,
        ("from collections import deque",),
        label="RECENT",
    ),
    Kind(
        "deque_maxlen",
        'deque(["a", "b", "c"], maxlen=10)',
        DEQUE_OPS,
        ("from collections import deque",),
        label="RECENT",
    ),
    Kind(
        "defaultdict",
        'defaultdict(list, {"a": ["x"]})',
        DEFAULTDICT_OPS,
        ("from collections import defaultdict",),
        label="GROUPS",
    ),
    Kind(
        "nested_defaultdict",
        "defaultdict(lambda: defaultdict(int))",
        NESTED_DEFAULTDICT_OPS,
        ("from collections import defaultdict",),
        label="METRICS",
    ),
    Kind(
        "OrderedDict",
        'OrderedDict(a="1", b="2", c="3")',
        ORDERED_OPS,
        ("from collections import OrderedDict",),
        label="ORDER",
    ),
    Kind(
        "Counter",
        "Counter(a=1, b=2)",
        COUNTER_OPS,
        ("from collections import Counter",),
        label="COUNTS",
    ),
    Kind(
        "SimpleNamespace",
        'SimpleNamespace(count=0, last="")',
        NAMESPACE_OPS,
        ("from types import SimpleNamespace",),
        label="STATS",
    ),
    Kind(
        "array", 'array("i", [1, 2, 3])', ARRAY_OPS, ("from array import array",), label="SAMPLES"
    ),
)


def _subclass_kind(base: Kind, slots: bool) -> Kind:
    inner = base.name
    class_name = {"dict": "Registry", "list": "Entries", "set": "Tags"}[inner]
    return Kind(
        f"{inner}_subclass" + ("_slots" if slots else ""),
        f"$S({base.init})",
        base.ops + SUBCLASS_OPS[inner],
        base.imports,
        classdef=SUBCLASSES[inner].replace("$slots", '__slots__ = ("note",)\n\n' if slots else ""),
        class_name=class_name,
        label=base.label,
    )


def _plain_subclass_kind(base: Kind) -> Kind:
    """A subclass the module defines of a stdlib container, adding nothing (issue 27)."""
    opening = base.init.index("(")
    return Kind(
        f"{base.name}_subclass",
        "$S" + base.init[opening:],
        base.ops,
        base.imports,
        classdef=f"class $S({base.init[:opening]}):\n    pass",
        class_name=f"My{base.name[0].upper()}{base.name[1:]}",
        label=base.label,
    )


PLAIN_SUBCLASS_KINDS = tuple(
    _plain_subclass_kind(kind)
    for kind in KINDS
    if kind.name in ("deque", "defaultdict", "OrderedDict", "Counter", "SimpleNamespace", "array")
)
SUBCLASS_KINDS = (
    tuple(
        _subclass_kind(kind, slots)
        for kind in KINDS
        if kind.name in ("dict", "list", "set")
        for slots in (False, True)
    )
    + PLAIN_SUBCLASS_KINDS
)
ALL_KINDS = KINDS + SUBCLASS_KINDS


# -- holders: how the module keeps the container -------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """Where the container lives at Init. ``$N``/``$T`` are fresh names, ``$init`` the value."""

    name: str
    top: str
    expr: str
    aug: str = "ok"  # "global": `$c += ...` needs `global $N`; "ok"; "no": invalid Python
    imports: tuple[str, ...] = ()
    module: str = APP
    app_import: str = ""
    min_version: tuple[int, int] = (3, 9)
    package_only: bool = False


HOLDERS = (
    Holder("name", "$N = $init", "$N", aug="global"),
    Holder("module_alias", "$N0 = $init\n$N = $N0", "$N", aug="global"),
    Holder("dict_value", '$N = {"inner": $init, "other": "x"}', '$N["inner"]'),
    Holder("list_item", "$N = [$init]", "$N[0]"),
    Holder("nested", '$N = {"groups": [$init]}', '$N["groups"][0]'),
    Holder("tuple", '$N = ($init, "x")', "$N[0]", aug="no"),
    Holder(
        "namedtuple",
        '$T = namedtuple("$T", ["data", "label"])\n$N = $T($init, "x")',
        "$N.data",
        aug="no",
        imports=("from collections import namedtuple",),
    ),
    Holder(
        "typing_namedtuple",
        'class $T(NamedTuple):\n    data: Any\n    label: str = "x"\n\n\n$N = $T($init)',
        "$N.data",
        aug="no",
        imports=("from typing import Any, NamedTuple",),
    ),
    Holder(
        "instance",
        "class $T:\n    def __init__(self):\n        self.data = $init\n\n\n$N = $T()",
        "$N.data",
    ),
    Holder(
        "slots_instance",
        'class $T:\n    __slots__ = ("data",)\n\n    def __init__(self):\n'
        "        self.data = $init\n\n\n$N = $T()",
        "$N.data",
    ),
    Holder(
        "dataclass",
        "@dataclass\nclass $T:\n"
        "    data: Any = field(default_factory=lambda: $init)\n\n\n$N = $T()",
        "$N.data",
        imports=("from dataclasses import dataclass, field", "from typing import Any"),
    ),
    Holder(
        "dataclass_slots",
        "@dataclass(slots=True)\nclass $T:\n"
        "    data: Any = field(default_factory=lambda: $init)\n\n\n$N = $T()",
        "$N.data",
        imports=("from dataclasses import dataclass, field", "from typing import Any"),
        min_version=(3, 10),
    ),
    Holder(
        "frozen_dataclass",
        "@dataclass(frozen=True)\nclass $T:\n"
        "    data: Any = field(default_factory=lambda: $init)\n\n\n$N = $T()",
        "$N.data",
        aug="no",
        imports=("from dataclasses import dataclass, field", "from typing import Any"),
    ),
    Holder("class_attribute", "class $T:\n    data = $init", "$T.data"),
    Holder(
        "namespace",
        "$N = SimpleNamespace(data=$init)",
        "$N.data",
        imports=("from types import SimpleNamespace",),
    ),
    Holder(
        "other_module",
        "$N = $init",
        "store.$N",
        module="store",
        app_import="from . import store",
        package_only=True,
    ),
    Holder(
        "other_module_from_import",
        "$N = $init",
        "$N",
        aug="global",
        module="store",
        app_import="from .store import $N",
        package_only=True,
    ),
)

READ_LIKE = ("get", "find", "info", "lookup", "fetch", "load", "check", "render", "debug", "peek")

ACCESSES = (
    "direct",
    "local_alias",
    "parameter",
    "returned",
    "comprehension",
    "lambda",
    "loop",
    "generator",
    "generator_unconsumed",
    "method",
    "staticmethod",
    "classmethod",
    "property",
    "bound_method_global",
    "async_helper",
    "other_module_helper",
)
EXPRESSION_ONLY = {"comprehension", "lambda", "bound_method_global"}
NO_AUG = {"returned", "comprehension", "lambda", "bound_method_global", "property"}
ON_CONTAINER = {
    "direct",
    "generator",
    "generator_unconsumed",
    "method",
    "staticmethod",
    "classmethod",
}
ACCESS_NEEDS = {"async_helper": "async", "other_module_helper": "package"}
BOUND_CALL = re.compile(r"^\$c\.(\w+)\((.*)\)$")


# -- names ---------------------------------------------------------------------------------------


class Names:
    """Fresh module-level names for one program (fragments never share a name)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def fresh(self, base: str) -> str:
        name, number = base, 1
        while name in self.used:
            number += 1
            name = f"{base}{number}" if base[-1].isalpha() else f"{base}_{number}"
        self.used.add(name)
        return name


def fill(template: str, **parts: str) -> str:
    return re.sub(r"\$(\w+)", lambda m: parts[m.group(1)], template)


@dataclass
class Context:
    """What a fragment may use: the program's shape and Python version."""

    names: Names
    version: tuple[int, int]
    package: bool
    async_handler: bool
    in_handler: bool = False  # the fragment's code goes in the handler's body, not a helper
    layout: str = "module"  # see layouts.LAYOUTS

    def allows(self, needs: str) -> bool:
        """Whether a fragment that *needs* ``""``, ``"package"``, ``"project"`` (a package
        whose guarded set the guard chooses) or ``"layer"`` fits this program."""
        if needs == "layer":
            return bool(LAYOUTS[self.layout].layer)
        if needs == "project":
            return self.package and LAYOUTS[self.layout].automatic
        return self.package or needs != "package"


# -- container fragments ------------------------------------------------------------------------


def valid_combination(  # noqa: PLR0911 - one return per rule
    kind: Kind, holder: Holder, access: str, op: Op, ctx: Context
) -> bool:
    """Whether kind/holder/access/op make a valid program in this context."""
    if ctx.version < max(op.min_version, holder.min_version):
        return False
    if holder.package_only and not ctx.package:
        return False
    needs = ACCESS_NEEDS.get(access)
    if (needs == "async" and not ctx.async_handler) or (needs == "package" and not ctx.package):
        return False
    if access in EXPRESSION_ONLY and op.form != "e":
        return False
    if access == "bound_method_global" and not BOUND_CALL.match(op.template):
        return False
    if op.form == "a" and access in NO_AUG:
        return False
    # `$c += ...` straight on a tuple's or frozen object's item fails after the write is done
    return not (op.form == "a" and holder.aug == "no" and access in ON_CONTAINER)


def container_fragment(
    kind: Kind, holder: Holder, access: str, op: Op, ctx: Context, *, key: str, conditional: bool
) -> Fragment:
    """One container idiom, as a fragment."""
    names = ctx.names
    writes = op.write and access != "generator_unconsumed"
    package = holder.package_only or ACCESS_NEEDS.get(access) == "package"
    fragment = Fragment(
        f"{kind.name}/{holder.name}/{access}/{op.name}",
        writes,
        min_version=max(op.min_version, holder.min_version),
        needs="package" if package else "",
    )
    home = holder.module
    fragment.need(home, *kind.imports, *holder.imports)
    fragment.need(APP, *kind.imports)  # operations name the kind too (`Counter.update(...)`)
    init = kind.init
    if kind.classdef:
        sub = names.fresh(kind.class_name)
        fragment.block(home, kind.classdef.replace("$S", sub))
        init = init.replace("$S", sub)
    label = names.fresh(kind.label)
    type_name = names.fresh(_holder_type(holder.name))
    parts = {"N": label, "T": type_name, "N0": names.fresh(f"{kind.label}_ORIGINAL")}
    parts["init"] = init
    fragment.block(home, fill(holder.top, **parts))
    if holder.app_import:
        fragment.need(APP, fill(holder.app_import, **parts))
    container = fill(holder.expr, **parts)
    global_name = label if holder.aug == "global" and op.form == "a" else None

    def run(target: str) -> str:
        return fill(
            op.template,
            c=target,
            v='event["user"]',
            k=key,
            n='event["id"]',
            items='event["items"]',
        )

    body = _access(
        fragment, access, container, run, global_name=global_name, op=op, ctx=ctx, kind=kind
    )
    for line in op.imports:
        fragment.need(APP, line)
        if access == "other_module_helper":
            fragment.need("store", line)
    put_in_handler(fragment, ctx, body, conditional=conditional and writes)
    return fragment


def _holder_type(holder: str) -> str:
    return {
        "namedtuple": "Holder",
        "typing_namedtuple": "Pair",
        "instance": "Store",
        "slots_instance": "Slots",
        "dataclass": "Box",
        "dataclass_slots": "SlotBox",
        "frozen_dataclass": "Frozen",
        "class_attribute": "Settings",
    }.get(holder, "Kept")


def _access(  # noqa: PLR0911 - one return per access path
    fragment: Fragment,
    access: str,
    container: str,
    run: Callable[[str], str],
    *,
    global_name: str | None,
    op: Op,
    ctx: Context,
    kind: Kind,
) -> list[str]:
    """The handler-side lines reaching *container* the *access* way (helpers go to blocks)."""
    names = ctx.names
    glob = [f"global {global_name}"] if global_name else []
    if access == "direct":
        return [*glob, run(container)]
    if access == "local_alias":
        return ["target = " + container, run("target")]
    if access == "loop":
        return [f"for target in [{container}]:", "    " + run("target")]
    if access == "comprehension":
        return [f"[{run(container)} for _ in range(1)]"]
    if access == "lambda":
        return [f"(lambda target: {run('target')})({container})"]
    if access in ("parameter", "async_helper", "other_module_helper"):
        helper = names.fresh("put")
        head = "async def" if access == "async_helper" else "def"
        fragment.block(
            "store" if access == "other_module_helper" else APP,
            f"{head} {helper}(target, event):\n    {run('target')}",
        )
        if access == "other_module_helper":
            fragment.need(APP, "from . import store")
            fragment.need("store", *kind.imports)
            return [f"store.{helper}({container}, event)"]
        prefix = "await " if access == "async_helper" else ""
        return [f"{prefix}{helper}({container}, event)"]
    if access == "returned":
        helper = names.fresh("current")
        fragment.block(APP, f"def {helper}():\n    return {container}")
        return [run(f"{helper}()")]
    if access in ("generator", "generator_unconsumed"):
        helper = names.fresh("each")
        inner = "\n    ".join([*glob, run(container)])
        fragment.block(APP, f"def {helper}(event):\n    {inner}\n    yield event")
        if access == "generator":
            return [f"list({helper}(event))"]
        return [f"{helper}(event)"]
    if access in ("method", "staticmethod", "classmethod", "property"):
        return _member_access(fragment, access, container, run, glob=glob, names=names)
    if access == "bound_method_global":
        found = BOUND_CALL.match(op.template)
        assert found is not None
        bound = names.fresh(found.group(1).upper())
        fragment.block(APP, f"{bound} = {container}.{found.group(1)}")
        call = fill(
            found.group(2),
            c=container,
            v='event["user"]',
            k='"k1"',
            n='event["id"]',
            items='event["items"]',
        )
        return [f"{bound}({call})"]
    raise AssertionError(access)


def _member_access(
    fragment: Fragment,
    access: str,
    container: str,
    run: Callable[[str], str],
    *,
    glob: list[str],
    names: Names,
) -> list[str]:
    cls = names.fresh("Worker")
    instance = names.fresh("WORKER")
    member = READ_LIKE[len(names.used) % len(READ_LIKE)]
    inner = "\n        ".join([*glob, run(container)])
    if access == "method":
        method = f"def {member}(self, event):\n        {inner}\n        return None"
        call = f"{instance}.{member}(event)"
    elif access == "staticmethod":
        method = f"@staticmethod\n    def {member}(event):\n        {inner}\n        return None"
        call = f"{cls}.{member}(event)"
    elif access == "classmethod":
        method = (
            f"@classmethod\n    def {member}(cls, event):\n        {inner}\n        return None"
        )
        call = f"{instance}.{member}(event)"
    else:  # a property gets no request: it writes constants
        for field_name, constant in (("id", "7"), ("items", '["seen"]'), ("user", '"seen"')):
            inner = inner.replace(f'event["{field_name}"]', constant)
        inner = inner.replace("event", '{"user": "seen"}')
        method = f"@property\n    def {member}(self):\n        {inner}\n        return None"
        call = f"{instance}.{member}"
    fragment.block(APP, f"class {cls}:\n    {method}\n\n\n{instance} = {cls}()")
    return call.split("\n")


def put_in_handler(fragment: Fragment, ctx: Context, body: list[str], *, conditional: bool) -> None:
    """Put *body* in the handler, or in a helper the handler calls (async when it awaits);
    the construct's last part says which: ``/handler`` or ``/helper``."""
    lines = list(body)
    globals_ = [line for line in lines if line.startswith("global ")]
    lines = [line for line in lines if not line.startswith("global ")]
    if conditional:
        lines = ['if event["kind"] == "b":', *("    " + line for line in lines)]
    fragment.construct += "/handler" if ctx.in_handler else "/helper"
    if ctx.in_handler:
        fragment.calls.extend([*globals_, *(part for line in lines for part in line.split("\n"))])
        return
    name = ctx.names.fresh("step")
    awaits = any("await " in line for line in lines)
    head = "async def" if awaits else "def"
    text = "\n    ".join([*globals_, *lines, "return None"])
    fragment.block(APP, f"{head} {name}(event):\n    {text}")
    fragment.calls.append(f"{'await ' if awaits else ''}{name}(event)")


# -- special fragments -------------------------------------------------------------------------

SpecialMaker = Callable[[Fragment, Context], None]


@dataclass(frozen=True)
class Special:
    """A fragment that does not fit the container grid."""

    construct: str
    writes: bool
    make: SpecialMaker
    min_version: tuple[int, int] = (3, 9)
    needs: str = ""  # "package", "project" or "layer": see Context.allows
    weight: float = 1.0

    @property
    def package_only(self) -> bool:
        return bool(self.needs)


SPECIALS: list[Special] = []


def special(
    construct: str,
    writes: bool,
    *,
    since: tuple[int, int] = (3, 9),
    package: bool = False,
    needs: str = "",
    weight: float = 1.0,
) -> Callable[[SpecialMaker], SpecialMaker]:
    def register(make: SpecialMaker) -> SpecialMaker:
        wanted = needs or ("package" if package else "")
        SPECIALS.append(Special(construct, writes, make, since, wanted, weight))
        return make

    return register


def _simple(
    construct: str,
    writes: bool,
    top: str,
    step: str,
    *imports: str,
    since: tuple[int, int] = (3, 9),
    weight: float = 1.0,
    store: str = "",
) -> None:
    """A special fragment from a template: names in `$UPPER`/`$lower` become fresh names.
    *top* goes to the handler's module; *store*, when given, to the package's other module
    ``store`` (a package program)."""

    def make(fragment: Fragment, ctx: Context) -> None:
        request = {"v": 'event["user"]', "k": 'event["user"]', "n": 'event["id"]'}
        text = "\n".join([top, step, store, *imports])
        tokens = sorted(set(re.findall(r"\$(\w+)", text)) - set(request))
        parts = {t: ctx.names.fresh(t) for t in tokens}
        parts.update(request)
        fragment.need(APP, *(fill(line, **parts) for line in imports))
        if store:
            fragment.block("store", fill(store, **parts))
        if top:
            fragment.block(APP, fill(top, **parts))
        put_in_handler(fragment, ctx, fill(step, **parts).split("\n"), conditional=False)

    special(construct, writes, since=since, weight=weight, package=bool(store))(make)


# global rebinding
_simple("global/increment", True, "$COUNT = 0", "global $COUNT\n$COUNT += 1")
_simple("global/store_request", True, "$LAST = None", "global $LAST\n$LAST = $v")
_simple("global/equal_scalar", False, '$MODE = "fast"', 'global $MODE\n$MODE = "fast"')
_simple("global/equal_computed", False, "$LIMIT = 10", "global $LIMIT\n$LIMIT = 5 + 5")
_simple("global/rebind_concat", True, '$ITEMS = ["a"]', "global $ITEMS\n$ITEMS = $ITEMS + [$v]")
_simple("global/rebind_equal_copy", True, '$ITEMS = ["a"]', "global $ITEMS\n$ITEMS = list($ITEMS)")
_simple("global/create_name", True, "", "global $NEW\n$NEW = $v")
_simple("global/create_then_delete", False, "", "global $TEMP\n$TEMP = $v\ndel $TEMP")
_simple("global/delete", True, '$OLD = "x"', "global $OLD\ndel $OLD")
_simple("global/equal_tuple", False, '$PAIR = ("a", 1)', 'global $PAIR\n$PAIR = ("a", 1)')
_simple("global/local_shadow", False, "$ITEMS = []", "$ITEMS = []\n$ITEMS.append($v)")
_simple(
    "global/augment_str",
    True,
    '$PREFIX = "p"',
    "global $PREFIX\n$PREFIX += $v",
)

# lazy init (docs: accepted once) and its look-alikes
_CLIENT = 'class $Client:\n    def __init__(self):\n        self.region = "eu-west-1"\n\n\n'
_simple(
    "lazy/client_is_none",
    False,
    _CLIENT + "$client = None",
    "global $client\nif $client is None:\n    $client = $Client()\n$client.region",
)
_simple(
    "lazy/client_unbound",
    False,
    _CLIENT.rstrip(),
    "global $client\ntry:\n    $client\nexcept NameError:\n    $client = $Client()",
)
_simple(
    "lazy/lock",
    False,
    "$lock = None",
    "global $lock\nif $lock is None:\n    $lock = threading.Lock()",
    "import threading",
)
_simple(
    "lazy/logger",
    False,
    "$logger = None",
    'global $logger\nif $logger is None:\n    $logger = logging.getLogger("fuzz.lazy")',
    "import logging",
)
_simple(
    "lazy/config_dict",
    True,
    "$config = None",
    'global $config\nif $config is None:\n    $config = {"region": "eu-west-1"}',
)
_simple(
    "lazy/request_value",
    True,
    "$last_user = None",
    "global $last_user\nif $last_user is None:\n    $last_user = $v",
)
_simple(
    "lazy/reinit_every_time",
    True,
    _CLIENT + "$client = None",
    "global $client\n$client = $Client()",
)
_simple(
    "lazy/client_then_written",
    True,
    "class $Client:\n    def __init__(self):\n        self.calls = []\n\n\n$client = None",
    "global $client\nif $client is None:\n    $client = $Client()\n$client.calls.append($v)",
)
_simple(
    "lazy/dict_memo_clients",
    False,  # docs: clients memoised in a dict under a key of the source are lazy init
    _CLIENT + "$CLIENTS = {}",
    'name = "s3"\nif name not in $CLIENTS:\n    $CLIENTS[name] = $Client()\n$CLIENTS[name].region',
)
_simple(
    "lazy/cached_property",
    False,
    "class $Settings:\n    @functools.cached_property\n    def table(self):\n"
    '        return {"region": "eu-west-1"}\n\n\n$SETTINGS = $Settings()',
    '$SETTINGS.table["region"]',
    "import functools",
)
_simple(
    "lazy/cached_property_written",
    True,
    "class $Settings:\n    @functools.cached_property\n    def table(self):\n"
    '        return {"region": "eu-west-1"}\n\n\n$SETTINGS = $Settings()',
    "$SETTINGS.table[$k] = $v",
    "import functools",
)

# closures and factories
_simple(
    "closure/recorder",
    True,
    "def $make_recorder():\n    seen = []\n\n    def record(value):\n        seen.append(value)\n\n"
    "    return record\n\n\n$RECORD = $make_recorder()",
    "$RECORD($v)",
)
_simple(
    "closure/nonlocal_counter",
    True,
    "def $make_counter():\n    count = 0\n\n    def bump():\n        nonlocal count\n"
    "        count += 1\n        return count\n\n    return bump\n\n\n$BUMP = $make_counter()",
    "$BUMP()",
)
_simple(
    "closure/reader",
    False,
    'def $make_lookup():\n    table = {"a": "1"}\n\n    def lookup(key):\n'
    "        return table.get(key)\n\n    return lookup\n\n\n$LOOKUP = $make_lookup()",
    "$LOOKUP($k)",
)
_simple(
    "closure/local_only",
    False,
    "",
    "kept = []\n\ndef add(value):\n    kept.append(value)\n\nadd($v)",
)
_simple(
    "closure/decorator_counts",
    True,
    "def $counted(func):\n    calls = {}\n\n    @functools.wraps(func)\n    def wrapper(event):\n"
    '        calls[event["user"]] = calls.get(event["user"], 0) + 1\n        return func(event)\n\n'
    '    return wrapper\n\n\n@$counted\ndef $work(event):\n    return len(event["items"])',
    "$work(event)",
    "import functools",
)
_simple(
    "closure/decorator_reads",
    False,
    'def $retried(func):\n    options = {"retries": 3}\n\n    @functools.wraps(func)\n'
    '    def wrapper(event):\n        options["retries"]\n        return func(event)\n\n'
    '    return wrapper\n\n\n@$retried\ndef $work(event):\n    return len(event["items"])',
    "$work(event)",
    "import functools",
)
_simple(
    "closure/partial_of_module_list",
    True,
    "$ITEMS = []\n$RECORD = functools.partial(list.append, $ITEMS)",
    "$RECORD($v)",
    "import functools",
)

# mutable default arguments
_simple(
    "default/positional",
    True,
    "def $remember(value, seen=[]):\n    seen.append(value)\n    return len(seen)",
    "$remember($v)",
)
_simple(
    "default/keyword_only",
    True,
    "def $remember(value, *, seen={}):\n    seen[value] = True\n    return len(seen)",
    "$remember($v)",
)
_simple(
    "default/method",
    True,
    "class $Cache:\n    def get(self, key, memo={}):\n"
    "        return memo.setdefault(key, key.upper())\n\n\n$CACHE = $Cache()",
    "$CACHE.get($v)",
)
_simple(
    "default/lambda",
    True,
    "$REMEMBER = lambda value, seen=[]: seen.append(value)",
    "$REMEMBER($v)",
)
_simple(
    "default/passed_explicitly",
    False,
    "def $remember(value, seen=[]):\n    seen.append(value)\n    return len(seen)",
    "$remember($v, [])",
)
_simple(
    "default/read_only",
    False,
    'def $lookup(key, table={"a": "1"}):\n    return table.get(key)',
    "$lookup($k)",
)

# enums: reading members and combining flags is no write
_FLAG = "class $Perm(enum.Flag):\n    R = 1\n    W = 2\n    X = 4"
_simple("enum/flag_or", False, _FLAG, "mode = $Perm.R | $Perm.W\n$Perm.R in mode", "import enum")
_simple("enum/flag_from_request", False, _FLAG, "$Perm($n % 8)", "import enum")
_simple("enum/flag_invert", False, _FLAG, "~$Perm.R", "import enum")
_simple(
    "enum/intflag",
    False,
    "class $Level(enum.IntFlag):\n    LOW = 1\n    HIGH = 2",
    "$Level.LOW | $Level.HIGH\n$Level(3)",
    "import enum",
)
_simple(
    "enum/lookup",
    False,
    'class $Color(enum.Enum):\n    RED = "red"\n    BLUE = "blue"',
    '$Color("red")\n$Color["BLUE"]',
    "import enum",
)

# opaque library objects mutating their own internals
_simple(
    "opaque/logger",
    False,
    '$log = logging.getLogger("fuzz.app")',
    '$log.info("user %s", $v)',
    "import logging",
)
_simple(
    "opaque/regex", False, '$PATTERN = re.compile(r"u-(\\d+)")', "$PATTERN.match($v)", "import re"
)
_simple("opaque/random", False, "$rng = random.Random(7)", "$rng.random()", "import random")
_simple(
    "opaque/itertools_count", False, "$ids = itertools.count()", "next($ids)", "import itertools"
)
_simple(
    "opaque/lock", False, "$lock = threading.Lock()", "with $lock:\n    pass", "import threading"
)
_simple(
    "opaque/lru_cache",
    False,
    "@functools.lru_cache(maxsize=None)\ndef $upper(value):\n    return value.upper()",
    "$upper($v)",
    "import functools",
)
_simple(
    "opaque/library_subclass",
    False,
    "class $Remember(logging.Filter):\n    def __init__(self):\n        super().__init__()\n"
    "        self.seen = []\n\n\n$remember = $Remember()",
    "$remember.seen.append($v)",
    "import logging",
)

# code the write analysis cannot follow: it must fall back to watching everything
_simple("fallback/globals_write", True, "", 'globals()["$LAST"] = $v', weight=0.2)
_simple("fallback/globals_read", False, '$MODE = "fast"', 'globals().get("$MODE")', weight=0.2)
_simple("fallback/eval_read", False, '$ITEMS = ["a"]', 'eval("len($ITEMS)")', weight=0.2)
_simple(
    "fallback/sys_modules_write",
    True,
    "$COUNT = 0",
    "sys.modules[__name__].$COUNT += 1",
    "import sys",
    weight=0.2,
)


def _handler_decorator(keeps: str) -> SpecialMaker:
    def make(fragment: Fragment, ctx: Context) -> None:
        name = ctx.names.fresh("audited")
        fragment.need(APP, "import functools")
        fragment.block(
            APP,
            f'def {name}(func):\n    calls = []\n    options = {{"level": 1}}\n\n'
            "    @functools.wraps(func)\n    def wrapper(event, context):\n"
            f"        {keeps}\n        return func(event, context)\n\n    return wrapper",
        )
        fragment.decorates_handler = name
        fragment.construct += "/handler"  # the handler's own decorator: no helper

    return make


special("closure/decorator_on_handler", True)(_handler_decorator('calls.append(event["user"])'))
special("closure/decorator_on_handler_reads", False)(_handler_decorator('options["level"]'))


@special("package/lazy_import", False, package=True)
def _lazy_import(fragment: Fragment, ctx: Context) -> None:
    fragment.block("extra", "LOADED = True")
    put_in_handler(fragment, ctx, ["from . import extra", "extra.LOADED"], conditional=False)


_STORE = "from . import store"
_simple("package/rebind_other_module", True, "", "store.$COUNT += 1", _STORE, store="$COUNT = 0")
_simple(
    "package/other_module_function",
    True,
    "",
    "store.$remember($v)",
    _STORE,
    store="$ITEMS = []\n\n\ndef $remember(value):\n    $ITEMS.append(value)",
)
_simple(
    "package/other_module_returned",
    True,
    "",
    "store.$current().append($v)",
    _STORE,
    store="$ITEMS = []\n\n\ndef $current():\n    return $ITEMS",
)
_simple(
    "package/other_module_function_imported",
    True,
    "",
    "$table()[$v] = 1",
    "from .store import $table",
    store="$TABLE = {}\n\n\ndef $table():\n    return $TABLE",
)
_simple(
    "package/other_module_aliased",
    True,
    "",
    "module = store\nmodule.$ITEMS.append($v)",
    _STORE,
    store="$ITEMS = []",
)
_simple(
    "package/other_module_passed",
    True,
    "def $put_into(module, value):\n    module.$ITEMS.add(value)",
    "$put_into(store, $v)",
    _STORE,
    store="$ITEMS = set()",
)
_simple(
    "package/other_module_setattr",
    True,
    "",
    'setattr(store, "$FLAG", $v)',
    _STORE,
    store="$FLAG = None",
)
_simple(
    "package/other_module_reads",
    False,
    "",
    "store.$TABLE.get($v, [])\nstore.$ITEMS.count($v)",
    _STORE,
    store='$TABLE = {"a": [1]}\n$ITEMS = ["a", "b"]',
)
_simple(
    "package/other_module_shadowed",
    True,
    "$ITEMS = []",
    "store = SimpleNamespace(VALUE=$ITEMS)\nstore.VALUE.append($v)",
    _STORE,
    "from types import SimpleNamespace",
    store="VALUE = 1",
)


# class objects: what the code may write of a class itself (the guard leaves the classes it
# can vouch for uncompared, so each way of writing one must be seen)
_simple(
    "class/subclass_of_other_module_appends",
    True,
    "class $Sub(store.$Base):\n    def $add(self, value):\n        self.$items.append(value)",
    "$Sub().$add($v)",
    _STORE,
    store="class $Base:\n    $items = []",
)
_simple(
    "class/other_module_instance_returned",
    True,
    "",
    "store.$make().$items.append($v)",
    _STORE,
    store="class $Box:\n    $items = []\n\n\ndef $make():\n    return $Box()",
)
_simple(
    "class/other_module_constructs",
    True,
    "",
    "store.$Box().$items.append($v)",
    _STORE,
    store="class $Box:\n    $items = []",
)
_simple(
    "class/base_classmethod_sets_on_subclass",
    True,
    "class $Sub(store.$Base):\n    pass",
    "$Sub.$register($v)",
    _STORE,
    store="class $Base:\n    @classmethod\n    def $register(cls, value):\n"
    "        cls.$seen = value",
)
_simple(
    "class/dunder_class_increment",
    True,
    "class $Box:\n    $count = 0\n\n    def $bump(self):\n        self.__class__.$count += 1",
    "$Box().$bump()",
)
_simple(
    "class/cls_rebinds",
    True,
    "class $Box:\n    $count = 0\n\n    @classmethod\n    def $bump(cls):\n"
    "        cls.$count = cls.$count + 1",
    "$Box.$bump()",
)
_simple(
    "class/library_writes_class",
    True,
    "class $Box:\n    $flag = None",
    'functools.partial(setattr, $Box)("$flag", $v)',
    "import functools",
)
_simple(
    "class/instance_passed_to_library",
    True,
    "class $Box:\n    $count = 0",
    "$b = $Box()\nsetattr(type($b), '$count', len($v))",
)
_simple(
    "class/base_through_mro",
    True,
    "class $Base:\n    $count = 0\n\n\nclass $Sub($Base):\n    def $bump(self):\n"
    "        type(self).__mro__[1].$count += 1",
    "$Sub().$bump()",
)
_simple(
    "class/subclass_through_subclasses",
    True,
    "class $Base:\n    pass\n\n\nclass $Sub($Base):\n    $seen = []",
    "$Base.__subclasses__()[0].$seen.append($v)",
)
_simple(
    "class/read_only_class",
    False,
    "class $Box:\n    $LIMIT = 3\n\n    def __init__(self, value):\n        self.value = value\n\n"
    "    def $size(self):\n        return len(self.value) + self.$LIMIT",
    "$Box($v).$size()",
)
_simple(
    "class/instance_attribute_appends",
    False,
    "class $Box:\n    def __init__(self):\n        self.items = []\n\n"
    "    def $add(self, value):\n        self.items.append(value)",
    "$b = $Box()\n$b.$add($v)",
)
_simple(
    "class/dataclass_made",
    False,
    "@dataclass\nclass $Point:\n    x: int = 0",
    "$Point(x=len($v))",
    "from dataclasses import dataclass",
)
_simple(
    "class/other_module_class_read",
    False,
    "",
    "store.$Box($v).$size()",
    _STORE,
    store="class $Box:\n    def __init__(self, value):\n        self.value = value\n\n"
    "    def $size(self):\n        return len(self.value)",
)


# the shapes real deployments break on (issue 27): they use the helpers above
from . import shapes  # noqa: E402, F401

# -- objects of the module's own classes ---------------------------------------------------------

OBJECT_CLASSES = {
    "plain": (
        "class $C:\n    $registry\n    def __init__(self):\n        self.cache = {}\n"
        "        self.lines = []\n        self.hits = 0\n\n    $members",
        (3, 9),
    ),
    "slots": (
        'class $C:\n    __slots__ = ("cache", "lines", "hits")\n    $registry\n'
        "    def __init__(self):\n        self.cache = {}\n        self.lines = []\n"
        "        self.hits = 0\n\n    $members",
        (3, 9),
    ),
    "dataclass": (
        "@dataclass\nclass $C:\n    $registry\n"
        "    cache: dict = field(default_factory=dict)\n"
        "    lines: list = field(default_factory=list)\n    hits: int = 0\n\n    $members",
        (3, 9),
    ),
    "dataclass_slots": (
        "@dataclass(slots=True)\nclass $C:\n    $registry\n"
        "    cache: dict = field(default_factory=dict)\n"
        "    lines: list = field(default_factory=list)\n    hits: int = 0\n\n"
        "    $members",
        (3, 10),
    ),
    "inherited": (
        "class $C_Base:\n    $registry\n    def __init__(self):\n        self.cache = {}\n"
        "        self.lines = []\n        self.hits = 0\n\n    $members\n\n\n"
        "class $C($C_Base):\n    pass",
        (3, 9),
    ),
}

OBJECT_HOLDERS = {
    "name": ("$O = $C()", "$O"),
    "dict_value": ('$O = {"main": $C()}', '$O["main"]'),
    "list_item": ("$O = [$C()]", "$O[0]"),
    "tuple": ("$O = ($C(),)", "$O[0]"),
    "class_attribute": ("class $H:\n    repo = $C()", "$H.repo"),
    "namespace": ("$O = SimpleNamespace(repo=$C())", "$O.repo"),
}

# member kind -> (write body, read body, call); $m is the member name, $o the object
OBJECT_MEMBERS = {
    "method_memoises": (
        "def $m(self, key):\n        if key not in self.cache:\n"
        "            self.cache[key] = key.upper()\n        return self.cache[key]",
        "def $m(self, key):\n        return self.cache.get(key)",
        "$o.$m($v)",
    ),
    "method_appends": (
        "def $m(self, message):\n        self.lines.append(message)",
        "def $m(self, message):\n        return len(self.lines)",
        "$o.$m($v)",
    ),
    "method_counts": (
        "def $m(self, key):\n        self.hits += 1\n        return self.hits",
        "def $m(self, key):\n        return self.hits",
        "$o.$m($v)",
    ),
    "property_getter": (
        "@property\n    def $m(self):\n        self.hits += 1\n        return self.hits",
        "@property\n    def $m(self):\n        return len(self.cache)",
        "$o.$m",
    ),
    "property_setter": (
        "@property\n    def $m(self):\n        return self.lines\n\n"
        "    @$m.setter\n    def $m(self, value):\n        self.lines.append(value)",
        "@property\n    def $m(self):\n        return self.lines\n\n"
        "    @$m.setter\n    def $m(self, value):\n        pass",
        "$o.$m = $v",
    ),
    "classmethod_registry": (
        "@classmethod\n    def $m(cls, key):\n        cls.registry.append(key)",
        "@classmethod\n    def $m(cls, key):\n        return key in cls.registry",
        "$o.$m($v)",
    ),
    "staticmethod_module_list": (
        "@staticmethod\n    def $m(key):\n        $NOTES.append(key)",
        "@staticmethod\n    def $m(key):\n        return key in $NOTES",
        "$o.$m($v)",
    ),
}

ATTRIBUTE_OPS = (
    W("iadd", "s", "$o.hits += 1"),
    W("setattr_stmt", "s", "$o.hits = len($v)"),
    W("setattr_builtin", "e", 'setattr($o, "hits", len($v))'),
    W("object_setattr", "e", 'object.__setattr__($o, "hits", len($v))'),
    W("dict_setitem", "s", '$o.__dict__["hits"] = len($v)'),
    W("vars_update", "e", "vars($o).update(hits=len($v))"),
    W("store_request_object", "s", "$o.lines = $items"),
    W("class_attribute_iadd", "s", "type($o).total += 1"),
    R("getattr", "e", "$o.hits"),
    R("getattr_default", "e", 'getattr($o, "missing", None)'),
    R("noop_equal_value", "s", "$o.hits = 0"),
    R("class_attribute_read", "e", "type($o).total"),
)
NO_DICT_OPS = {"dict_setitem", "vars_update"}


def object_fragment(
    cls_kind: str, holder: str, member: str, write: bool, ctx: Context, *, method_name: str
) -> Fragment:
    names = ctx.names
    template, since = OBJECT_CLASSES[cls_kind]
    fragment = Fragment(
        f"object/{cls_kind}/{holder}/{member}/{'write' if write else 'read'}/{method_name}",
        write,
        min_version=since,
    )
    write_body, read_body, call = OBJECT_MEMBERS[member]
    parts = {
        "C": names.fresh("Repo"),
        "O": names.fresh("REPO"),
        "H": names.fresh("Registry"),
        "NOTES": names.fresh("NOTES"),
        "m": method_name,
        "v": 'event["user"]',
    }
    parts["C_Base"] = parts["C"] + "Base"
    parts["registry"] = "registry = []\n" if member == "classmethod_registry" else ""
    parts["members"] = fill(write_body if write else read_body, **parts)
    if member == "staticmethod_module_list":
        fragment.block(APP, f"{parts['NOTES']} = []")
    if cls_kind.startswith("dataclass"):
        fragment.need(APP, "from dataclasses import dataclass, field")
        if member == "classmethod_registry":
            parts["registry"] = "registry: ClassVar[list] = []\n"
            fragment.need(APP, "from typing import ClassVar")
    if holder == "namespace":
        fragment.need(APP, "from types import SimpleNamespace")
    fragment.block(APP, fill(template, **parts))
    top, expr = OBJECT_HOLDERS[holder]
    fragment.block(APP, fill(top, **parts))
    parts["o"] = fill(expr, **parts)
    put_in_handler(fragment, ctx, fill(call, **parts).split("\n"), conditional=False)
    return fragment


def attribute_fragment(cls_kind: str, holder: str, op: Op, ctx: Context) -> Fragment:
    names = ctx.names
    template, since = OBJECT_CLASSES[cls_kind]
    fragment = Fragment(f"attribute/{cls_kind}/{holder}/{op.name}", op.write, min_version=since)
    parts = {"C": names.fresh("Record"), "O": names.fresh("RECORD"), "H": names.fresh("Holder")}
    parts["C_Base"] = parts["C"] + "Base"
    parts["registry"] = "total = 0\n" if not cls_kind.startswith("dataclass") else ""
    parts["members"] = "def describe(self):\n        return self.hits"
    if cls_kind.startswith("dataclass"):
        fragment.need(APP, "from dataclasses import dataclass, field")
        parts["registry"] = "total: ClassVar[int] = 0\n"
        fragment.need(APP, "from typing import ClassVar")
    if holder == "namespace":
        fragment.need(APP, "from types import SimpleNamespace")
    fragment.block(APP, fill(template, **parts))
    top, expr = OBJECT_HOLDERS[holder]
    fragment.block(APP, fill(top, **parts))
    line = fill(op.template, o=fill(expr, **parts), v='event["user"]', items='event["items"]')
    put_in_handler(fragment, ctx, [line], conditional=False)
    return fragment


def valid_attribute(cls_kind: str, op: Op) -> bool:
    return not ("slots" in cls_kind and op.name in NO_DICT_OPS)


# -- programs ----------------------------------------------------------------------------------


def make_events(rng: random.Random, count: int) -> list[dict[str, Any]]:
    return [
        {
            "user": f"u-{rng.randrange(10**6)}",
            "id": rng.randrange(1, 10**5),
            "kind": rng.choice("ab"),
            "items": [f"i-{rng.randrange(10**6)}" for _ in range(rng.randint(1, 2))],
        }
        for _ in range(count)
    ]


class Generator:
    """Makes program number *n*; *exclude* drops constructs (a predicate on their names)."""

    def __init__(
        self,
        version: tuple[int, int] | None = None,
        exclude: Callable[[str], bool] | None = None,
    ) -> None:
        self.version = version or sys.version_info[:2]
        self.exclude = exclude or (lambda construct: False)

    def program(self, number: int) -> Program:
        rng = random.Random(number)
        package = rng.random() < 0.3
        async_handler = rng.random() < 0.15
        layout = self._layout(rng) if package else "module"
        ctx = Context(Names(), self.version, package, async_handler, layout=layout)
        ctx.names.used.update({"lambda_handler", "handler", "event", "context", "store", "extra"})
        count = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
        fragments: list[Fragment] = []
        attempts = 0
        while len(fragments) < count and attempts < 50:
            attempts += 1
            wants_write = rng.random() < (0.35 if not any(f.writes for f in fragments) else 0.08)
            fragment = self.fragment(rng, ctx, wants_write)
            if fragment is not None and not self.exclude(fragment.construct):
                fragments.append(fragment)
        events = make_events(rng, rng.choice((3, 4, 4, 5)))
        return Program(
            fragments,
            events,
            package=package,
            async_handler=async_handler,
            raises=rng.random() < 0.05,
            number=number,
            layout=layout,
        )

    def _layout(self, rng: random.Random) -> str:
        names = list(PACKAGE_LAYOUTS)
        chosen = rng.choices(names, weights=[PACKAGE_LAYOUTS[n] for n in names])[0]
        return "explicit" if self.exclude(f"layout/{chosen}") else chosen

    def fragment(self, rng: random.Random, ctx: Context, write: bool) -> Fragment | None:
        ctx.in_handler = rng.random() < 0.4
        family = rng.choices(
            ("container", "object", "attribute", "special"), weights=(60, 12, 8, 20)
        )[0]
        if family == "container":
            return self._container(rng, ctx, write)
        if family == "object":
            cls_kind = rng.choice(list(OBJECT_CLASSES))
            if ctx.version < OBJECT_CLASSES[cls_kind][1]:
                return None
            return object_fragment(
                cls_kind,
                rng.choice(list(OBJECT_HOLDERS)),
                rng.choice(list(OBJECT_MEMBERS)),
                write,
                ctx,
                method_name=rng.choice(READ_LIKE),
            )
        if family == "attribute":
            cls_kind = rng.choice(list(OBJECT_CLASSES))
            ops = [
                op for op in ATTRIBUTE_OPS if op.write == write and valid_attribute(cls_kind, op)
            ]
            if ctx.version < OBJECT_CLASSES[cls_kind][1] or not ops:
                return None
            return attribute_fragment(
                cls_kind, rng.choice(list(OBJECT_HOLDERS)), rng.choice(ops), ctx
            )
        choices = [
            s
            for s in SPECIALS
            if s.writes == write and ctx.version >= s.min_version and ctx.allows(s.needs)
        ]
        chosen = rng.choices(choices, weights=[s.weight for s in choices])[0]
        return make_special(chosen, ctx)

    def _container(self, rng: random.Random, ctx: Context, write: bool) -> Fragment | None:
        kind = rng.choice(ALL_KINDS)
        holder = rng.choice(HOLDERS) if rng.random() < 0.6 else HOLDERS[0]
        access = rng.choice(ACCESSES) if rng.random() < 0.6 else "direct"
        ops = [op for op in kind.ops if op.write == write] or list(kind.ops)
        op = rng.choice(ops)
        if not valid_combination(kind, holder, access, op, ctx):
            return None
        key = rng.choice(('"k1"', 'event["user"]'))
        return container_fragment(
            kind, holder, access, op, ctx, key=key, conditional=rng.random() < 0.5
        )


def make_special(chosen: Special, ctx: Context) -> Fragment:
    fragment = Fragment(
        chosen.construct, chosen.writes, min_version=chosen.min_version, needs=chosen.needs
    )
    chosen.make(fragment, ctx)
    return fragment


# -- the catalogue: every idiom once -------------------------------------------------------------


def catalogue(
    version: tuple[int, int] | None = None, *, package: bool = False, async_handler: bool = False
) -> Iterator[Program]:
    """One single-fragment program per idiom (unconditional writes), for this version: every
    operation of every kind; every holder and every access path (with a write, a read and an
    augmented assignment); every object member and class kind; every attribute operation;
    every special fragment. With *package* or *async_handler*, only the idioms that need it."""
    version = version or sys.version_info[:2]
    events = make_events(random.Random(0), 2)
    shaped = package or async_handler

    made = [0]
    base_layout = "explicit" if package else "module"

    def context(layout: str = base_layout) -> Context:
        ctx = Context(
            Names(), version, package, async_handler, in_handler=made[0] % 2 == 1, layout=layout
        )
        ctx.names.used.update({"lambda_handler", "handler", "event", "context", "store", "extra"})
        made[0] += 1
        return ctx

    def program(fragment: Fragment, layout: str = base_layout) -> Program:
        return Program(
            [fragment], events, package=package, async_handler=async_handler, layout=layout
        )

    list_kind = ALL_KINDS[0]
    basic = [next(op for op in LIST_OPS if op.name == name) for name in ("append", "len", "iadd")]
    grid = [(kind, HOLDERS[0], "direct", op) for kind in ALL_KINDS for op in _catalogued(kind)]
    grid += [(list_kind, holder, "direct", op) for holder in HOLDERS for op in basic]
    grid += [(list_kind, HOLDERS[0], access, op) for access in ACCESSES for op in basic]
    for kind, holder, access, op in grid:
        if shaped and not (holder.package_only or access in ACCESS_NEEDS):
            continue
        ctx = context()
        if valid_combination(kind, holder, access, op, ctx):
            yield program(
                container_fragment(
                    kind, holder, access, op, ctx, key='event["user"]', conditional=False
                )
            )
    if not shaped:
        yield from _object_catalogue(version, context, program)
    for chosen in SPECIALS:
        if version >= chosen.min_version and (package or not chosen.package_only):
            if shaped and not chosen.package_only and not chosen.construct.startswith("lazy/"):
                continue
            layout = CATALOGUE_LAYOUTS.get(chosen.needs, base_layout)
            yield program(make_special(chosen, context(layout)), layout)


def _catalogued(kind: Kind) -> tuple[Op, ...]:
    """Every operation of a kind; of a plain subclass of one, a write and a read (the oracle
    reads a subclass's items as its base's: the base's entries cover its operations)."""
    if kind not in PLAIN_SUBCLASS_KINDS:
        return kind.ops
    return (next(o for o in kind.ops if o.write), next(o for o in kind.ops if not o.write))


#: The layout a special that needs one is catalogued in.
CATALOGUE_LAYOUTS = {"project": "root", "layer": "layer"}


def _object_catalogue(
    version: tuple[int, int],
    context: Callable[[], Context],
    program: Callable[[Fragment], Program],
) -> Iterator[Program]:
    classes = [c for c, (_, since) in OBJECT_CLASSES.items() if version >= since]
    for cls_kind in classes:
        for member in OBJECT_MEMBERS:
            for write in (True, False):
                yield program(
                    object_fragment(cls_kind, "name", member, write, context(), method_name="get")
                )
        for op in ATTRIBUTE_OPS:
            if valid_attribute(cls_kind, op):
                yield program(attribute_fragment(cls_kind, "name", op, context()))
    for holder in OBJECT_HOLDERS:
        for write in (True, False):
            yield program(
                object_fragment(
                    "plain", holder, "method_memoises", write, context(), method_name="info"
                )
            )
        for op in ATTRIBUTE_OPS[:2] + ATTRIBUTE_OPS[-4:-2]:
            yield program(attribute_fragment("plain", holder, op, context()))


# -- rebuilding a fragment from its construct name ---------------------------------------------

KINDS_BY_NAME = {k.name: k for k in ALL_KINDS}
HOLDERS_BY_NAME = {h.name: h for h in HOLDERS}


def rebuild(construct: str, ctx: Context) -> Fragment | None:  # noqa: PLR0911 - one per family
    """The fragment a construct name stands for (unconditional, constant keys), if valid."""
    construct, _, placement = construct.rpartition("/")
    if placement not in ("handler", "helper"):
        return None
    ctx.in_handler = placement == "handler"
    parts = construct.split("/")
    specials = {s.construct: s for s in SPECIALS}
    if construct in specials:
        chosen = specials[construct]
        if ctx.version < chosen.min_version or not ctx.allows(chosen.needs):
            return None
        return make_special(chosen, ctx)
    if parts[0] == "object" and len(parts) == 6:
        cls_kind, holder, member, write, method = parts[1:]
        if ctx.version < OBJECT_CLASSES[cls_kind][1]:
            return None
        return object_fragment(cls_kind, holder, member, write == "write", ctx, method_name=method)
    if parts[0] == "attribute" and len(parts) == 4:
        cls_kind, holder, name = parts[1:]
        op = next((o for o in ATTRIBUTE_OPS if o.name == name), None)
        if (
            op is None
            or ctx.version < OBJECT_CLASSES[cls_kind][1]
            or not valid_attribute(cls_kind, op)
        ):
            return None
        return attribute_fragment(cls_kind, holder, op, ctx)
    if len(parts) != 4 or parts[0] not in KINDS_BY_NAME or parts[1] not in HOLDERS_BY_NAME:
        return None
    kind, holder = KINDS_BY_NAME[parts[0]], HOLDERS_BY_NAME[parts[1]]
    op = next((o for o in kind.ops if o.name == parts[3]), None)
    if (
        op is None
        or parts[2] not in ACCESSES
        or not valid_combination(kind, holder, parts[2], op, ctx)
    ):
        return None
    return container_fragment(kind, holder, parts[2], op, ctx, key='"k1"', conditional=False)


def simpler(construct: str) -> list[tuple[int, str]]:
    """The plainer variants of a construct to try, one part at a time: (part index, value).

    A part that can be made plain without the failure going away is not its cause.
    """
    construct, _, _ = construct.rpartition("/")
    where = construct.count("/") + 1
    # the handler's body is the plainer place; code there that fails in a helper too does
    # not depend on the place either (the last entry: tried, but the program kept)
    return [(where, "handler"), *_simpler(construct), (where, "helper")]


def _simpler(construct: str) -> list[tuple[int, str]]:
    parts = construct.split("/")
    if parts[0] == "object" and len(parts) == 6:
        return [(1, "plain"), (2, "name"), (5, "record")]
    if parts[0] == "attribute":
        return [(1, "plain"), (2, "name")]
    if len(parts) != 4 or parts[0] not in KINDS_BY_NAME:
        return []
    kind = KINDS_BY_NAME[parts[0]]
    op = next((o for o in kind.ops if o.name == parts[3]), None)
    write = op is not None and op.write
    baseline = next(o.name for o in kind.ops if o.write == write)
    base = parts[0].replace("_subclass", "").replace("_slots", "").replace("_maxlen", "")
    if base == parts[0]:
        base = "list"
    return [(1, "name"), (2, "direct"), (3, baseline), (0, base)]


def baseline_op(kind_name: str, write: bool) -> str:
    return next(o.name for o in KINDS_BY_NAME[kind_name].ops if o.write == write)
