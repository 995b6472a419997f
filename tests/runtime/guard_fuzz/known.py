"""Constructs of known holes of the guard that are still open (issue 19).

The suite's bounded fuzz run leaves these out, so it stays green while they are open and
fails on anything new; each has a named, strict-xfail regression test in
tests/runtime/test_guard_fuzz_regressions.py. When a hole is closed, remove its entry here
(and the xfail mark there): the bounded run then covers the construct again.
"""

from __future__ import annotations

import re

# construct pattern (a regular expression searched in the construct name) -> the issue item
KNOWN_HOLES: dict[str, str] = {
    r"^object/[^/]+/(dict_value|list_item|tuple)/(method_\w+|property_getter)/write/":
        "item 1: the module's objects in a container, written by read-looking methods",
    r"/(map|filter)_bound_\w+/|/sorted_key_setdefault/": "item 2: bound methods as values",
    r"/unbound_\w+/": "item 3: unbound methods of builtin types",
    r"/(imul|imul_zero|iadd_literal)/": "item 4: in-place operators with a literal operand",
    r"defaultdict/.*/(\w*read_inserts|len_of_missing_inserts|format_map_inserts)/":
        "item 5: reads that insert into a defaultdict",
    r"/(namedtuple|typing_namedtuple)/": "item 6: containers inside namedtuples",
    r"^(dict|list|set)_subclass": "item 7: items of the module's container subclasses",
    r"^closure/(recorder|nonlocal_counter|decorator_counts|decorator_on_handler)/": (
        "item 8: closure cells"
    ),
    r"^enum/(flag_\w+|intflag)/": "item 9: enum flag combinations",
    r"^SimpleNamespace/|/namespace/": "issue 19 (fuzzer): state in a SimpleNamespace",
    r"^array/": "issue 19 (fuzzer): array.array contents",
    r"/other_module/": "issue 19 (fuzzer): another guarded module writing through the module",
    r"^default/lambda/": "issue 19 (fuzzer): a lambda's default named `<lambda>.seen`",
}  # fmt: skip


def known_hole(construct: str) -> bool:
    return any(re.search(pattern, construct) for pattern in KNOWN_HOLES)
