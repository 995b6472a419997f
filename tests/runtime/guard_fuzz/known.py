"""Constructs of known holes of the guard that are still open (issues 19 and 27).

The suite's bounded fuzz run leaves these out, so it stays green while they are open and
fails on anything new; each has a named, strict-xfail regression test in
tests/runtime/test_guard_fuzz_regressions.py. When a hole is closed, remove its entry here
(and the xfail mark there): the bounded run then covers the construct again. A layout is
matched as ``layout/<name>`` (see guard_fuzz/layouts.py): the generator then picks another.
"""

from __future__ import annotations

import re

# construct pattern (a regular expression searched in the construct name) -> the issue item
KNOWN_HOLES: dict[str, str] = {
    # §3: paths to project state
    r"^module_getattr/pep562_served_name/": "issue 27 §3: a module's data served by a "
    "module-level __getattr__ (PEP 562)",
    r"^module_getattr/serves_submodule/": "issue 27 §3: a submodule a package's __getattr__ "
    "imports during an invocation, written in that invocation",
    r"^module_holder/(class_attribute|instance_attribute)/": "issue 27 §3: a module held in a "
    "class attribute (class Deps: store = store) and written through it",
    r"^resolve/(pkgutil|getattr_package)/": "issue 27 §3: a module's data resolved by dotted "
    "name (pkgutil.resolve_name, getattr(package, name))",
    r"^holder/(simple_queue|weak_key_dict|userdict)/": "issue 27 §3: the stdlib's data holders "
    "SimpleQueue, WeakKeyDictionary and a plain UserDict are not watched",
    r"^contextvar/default_object_written/": "issue 27 §3: the mutable default object of a "
    "ContextVar, written",
    r"^exception/(args_carry_list|other_module_raises_its_state)/": "issue 27 §3: module data "
    "reached through an exception's args",
    # §4: the guard never runs the project's code; state behind functions is state
    r"^observer/(metaclass_getattr_caches|getattr_records)": "issue 27 §4: the guard's attribute "
    "look-ups reach a metaclass's or an object's __getattr__ (on a report, also where the "
    "handler only read)",
    r"^method_of_other_module/writes_argument/": "issue 27 §4: module data passed to a method "
    "of another module's object that writes it",
}


def known_hole(construct: str) -> bool:
    return any(re.search(pattern, construct) for pattern in KNOWN_HOLES)
