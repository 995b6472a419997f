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
    # §1: outages of the guard's own making
    r"^lazy_import/registers_(route|in_handler_module|on_app_object)/": "issue 27 §1: a module "
    "imported in the handler that registers itself at import time is reported and unregistered",
    r"^library/configures_class_lazily/": "issue 27 §1: a library that adds a class attribute to "
    "a project class on first use (SQLAlchemy's backref) is reported when the class is compared, "
    "and the restore's delattr raises inside the guard",
    # §3: paths to project state
    r"^lazy_import/from_name_append/": "issue 27 §3: a name imported inside a function from a "
    "module loaded at Init, then written: caught only while garbage holds a reference to it "
    "(gc-dependent)",
    r"^lazy_import/(first_import_then_append|module_written)/": "issue 27 §3: a module first "
    "imported in the handler and written is never reported, not even from the next invocation "
    "(nor in the invocation that imports it)",
    r"^module_getattr/pep562_served_name/": "issue 27 §3: a module's data served by a "
    "module-level __getattr__ (PEP 562)",
    r"^module_getattr/serves_submodule/": "issue 27 §3: a submodule a package's __getattr__ "
    "imports during an invocation, written in that invocation",
    r"^module_holder/(class_attribute|instance_attribute)/": "issue 27 §3: a module held in a "
    "class attribute (class Deps: store = store) and written through it",
    r"^resolve/(pkgutil|getattr_package)/": "issue 27 §3: a module's data resolved by dotted "
    "name (pkgutil.resolve_name, getattr(package, name))",
    r"^(bound_method/(instance_only|anonymous_list|other_module_instance_only)"
    r"|partial/instance_only|callable_instance/other_module)/": "issue 27 §3-4: an instance "
    "only behind a module-level bound method, a partial or a callable instance",
    r"^holder/(chainmap|simple_queue|queue|weak_key_dict|userdict|userdict_subclass"
    r"|userlist_subclass)/": "issue 27 §3: the stdlib's data holders (ChainMap, queues, "
    "WeakKeyDictionary, UserDict/UserList and subclasses) are not watched",
    r"^contextvar/(set_not_reset|set_for_some_requests|default_object_written)/": "issue 27 §3: "
    "a project ContextVar set by the handler and not reset is seen by the next invocation",
    r"^exception/(args_carry_list|other_module_raises_its_state)/": "issue 27 §3: module data "
    "reached through an exception's args",
    # §4: the guard never runs the project's code; state behind functions is state
    r"^observer/(len_counts|iter_sorted)": "issue 27 §4: the guard calls the project's "
    "__len__/__bool__/__iter__ (a handler that only reads is reported; a restore, or the "
    "snapshot after any report, rewrites the user's data sorted)",
    r"^observer/(metaclass_getattr_caches|getattr_records)": "issue 27 §4: the guard's attribute "
    "look-ups reach a metaclass's or an object's __getattr__ (on a report, also where the "
    "handler only read)",
    r"^observer/keys_filtered_reads/": "issue 27 §4: on a report, the guard rewrites a dict of "
    "the project whose keys() hides keys (it drops them), where the handler only read",
    r"^observer/(eq_always_equal|keys_filtered)/": "issue 27 §4: the guard compares with the "
    "project's __eq__ / keys(): a write it hides is missed",
    r"^(deque|defaultdict|OrderedDict|Counter|SimpleNamespace|array)_subclass/": "issue 27 §4: "
    "project subclasses of deque, defaultdict, OrderedDict, Counter, SimpleNamespace and array "
    "are not watched",
    r"^function_state/(attribute_(append|counter)|dict_item|defaults_from|kwdefaults|defaults_rebound"
    r"|closure_cell|default_in_container|other_module_returns|decorator_closure)": "issue 27 "
    "§4: state on function objects (attributes, __defaults__, __kwdefaults__, closure cells "
    "written from outside, defaults of functions in a container, another module's decorator)",
    r"^method_of_other_module/writes_argument/": "issue 27 §4: module data passed to a method "
    "of another module's object that writes it",
    # the cost oracle
    r"^cost/readonly_table/(other_module|from_import)/": "issue 27 §5 (cost): a read-only table "
    "of another module is compared on every invocation: imported by name, always; read through "
    "the module, while garbage holds a reference to it at the census (gc-dependent)",
}


def known_hole(construct: str) -> bool:
    return any(re.search(pattern, construct) for pattern in KNOWN_HOLES)
