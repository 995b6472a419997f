"""The shapes real deployments break on (issue 27, section 5), as special fragments.

Each :func:`shape` is one idiom: module sources by module key (see :mod:`.program`: the
package's ``app``/``store``, or a path such as ``$PKG/$repo.py``, a top-level ``$profile.py``
beside the package, ``$LAYER/...`` in a layer, a library's ``$lib/__init__.py``), the lines the
handler runs, and what else the tree holds (markers, a library's dist-info). ``$Name`` tokens
become names of their own for each fragment (``$v``, ``$k``, ``$n`` are request values); a
module file named by a token gets its own name too, so fragments never share one.

The families: membership and packaging (``project/``, ``library/``, ``layer/``), lazy and
function-level imports (``lazy_import/``), modules reached another way (``module_holder/``,
``module_getattr/``, ``resolve/``, ``getattr_name/``), state behind callables
(``bound_method/``, ``partial/``, ``callable_instance/``, ``method_of_other_module/``), the
standard library's data holders (``holder/``), ContextVars (``contextvar/``), exceptions
(``exception/``), the program's own dunders and metaclasses with side effects (``observer/``:
the guard must be a pure observer), state on function objects (``function_state/``) and
read-only tables for the cost report (``cost/``). The container grid of :mod:`.generator` adds
the project subclasses of every stdlib container.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING

from .generator import APP, fill, put_in_handler, special

if TYPE_CHECKING:
    from .generator import Context
    from .program import Fragment

_REQUEST = {
    "v": 'event["user"]',
    "k": 'event["user"]',
    "n": 'event["id"]',
    "items": 'event["items"]',
}
_PLACES = ("PKG", "LAYER")  # folder placeholders, not names
_SHARED = (APP, "store", "extra", "__init__")  # modules other fragments write into too


def shape(
    construct: str,
    writes: bool,
    *,
    run: str,
    modules: dict[str, str] | None = None,
    needs: str = "",
    since: tuple[int, int] = (3, 9),
    weight: float = 1.0,
    files: dict[str, str] | None = None,
    library: tuple[str, ...] = (),
    tables: tuple[tuple[str, str], ...] = (),
    decorates: str = "",
) -> None:
    """Register a special fragment: *modules* (key -> source, leading import lines kept
    apart), the handler's lines *run* (``""`` when *decorates* names a decorator to put under
    ``@handler``), other *files*, the *library*'s paths and read-only *tables*."""
    modules = {key: textwrap.dedent(text).strip("\n") for key, text in (modules or {}).items()}
    files = files or {}

    def make(fragment: Fragment, ctx: Context) -> None:
        texts = [run, decorates, *modules, *modules.values(), *files, *files.values(), *library]
        texts += [part for table in tables for part in table]
        tokens = sorted(set(re.findall(r"\$(\w+)", "\n".join(texts))) - set(_REQUEST) - {*_PLACES})
        parts = {t: ctx.names.fresh(t) for t in tokens}
        parts.update(_REQUEST)
        parts.update({place: f"${place}" for place in _PLACES})
        for key, text in modules.items():
            module = fill(key, **parts)
            imports, body = _split_imports(fill(text, **parts))
            if module in _SHARED:
                fragment.need(module, *imports)
                if body:
                    fragment.block(module, body)
            else:  # a module of its own: imports stay in place
                fragment.block(module, "\n".join([*imports, "", "", body]) if imports else body)
        for path, text in files.items():
            fragment.files[fill(path, **parts)] = fill(text, **parts)
        fragment.library.update(fill(path, **parts) for path in library)
        fragment.tables += [(fill(key, **parts), fill(name, **parts)) for key, name in tables]
        if decorates:
            fragment.decorates_handler = fill(decorates, **parts)
            fragment.construct += "/handler"  # the handler's own decorator: no helper
            return
        put_in_handler(fragment, ctx, fill(run, **parts).split("\n"), conditional=False)

    special(construct, writes, since=since, needs=needs, weight=weight)(make)


def without_tokens(template: str) -> str:
    """A template's source with its ``$Name`` tokens as plain names."""
    return re.sub(r"\$(\w+)", r"\1", template)


def _split_imports(text: str) -> tuple[list[str], str]:
    lines = text.split("\n")
    count = 0
    while count < len(lines) and lines[count].startswith(("import ", "from ")):
        count += 1
    return lines[:count], "\n".join(lines[count:]).strip("\n")


def _dist_info(name: str, version: str, paths: tuple[str, ...], *, top_level: bool = True) -> dict:
    """The files ``pip install -t`` leaves beside a library: its ``*.dist-info``."""
    folder = f"{name}-{version}.dist-info"
    files = {
        f"{folder}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{folder}/INSTALLER": "pip\n",
        f"{folder}/RECORD": "".join(f"{path},,\n" for path in (*paths, f"{folder}/RECORD")),
    }
    if top_level:
        files[f"{folder}/top_level.txt"] = f"{name}\n"
    return files


# -- which modules are the project: layouts and packaging -----------------------------------------

_STATE = "RECENT = []\nENTRIES = {}"
for _name, _path, _import in (
    ("nested_subpackage", "$PKG/$services/deep/$repo.py", "from .$services.deep import $repo"),
    ("stdlib_name/profile", "$profile.py", "import $profile"),
    ("stdlib_name/calendar", "$calendar.py", "import $calendar"),
    ("vendored_folder/redis", "$PKG/$redis/$cache.py", "from .$redis import $cache"),
    ("vendored_folder/requests", "$PKG/$requests/$audit.py", "from .$requests import $audit"),
    ("test_named/ab_test", "$PKG/$ab_test.py", "from . import $ab_test"),
    ("test_named/split_test", "$PKG/$split_test.py", "from . import $split_test"),
    ("test_named/test_mode", "$PKG/$test_mode.py", "from . import $test_mode"),
):
    _module = _import.split()[-1]
    shape(
        f"project/{_name}",
        True,
        modules={_path: _STATE, APP: _import},
        run=f"{_module}.RECENT.append($v)\n{_module}.ENTRIES[$k] = $n",
        needs="project",
    )
    shape(
        f"project/{_name}_reads",
        False,
        modules={_path: _STATE, APP: _import},
        run=f"len({_module}.RECENT)\n{_module}.ENTRIES.get($k)",
        needs="project",
    )

shape(
    "project/init_reexport",
    True,
    modules={
        "$PKG/$services/__init__.py": "from .$repo import $RECENT",
        "$PKG/$services/$repo.py": "$RECENT = []",
        APP: "from .$services import $RECENT",
    },
    run="$RECENT.append($v)",
    needs="project",
)
shape(
    "project/package_init_reexport",
    True,
    modules={"__init__": "from .store import $ITEMS", "store": "$ITEMS = []", APP: ""},
    run="from . import $ITEMS\n$ITEMS.append($v)",
    needs="project",
)
_SELF_REPLACING = """
import sys


$SEEN = []


class _$Settings:
    def __init__(self):
        self.values = {}

    def remember(self, key, value):
        self.values[key] = value

    def note(self, value):
        $SEEN.append(value)

    def lookup(self, key):
        return self.values.get(key)


sys.modules[__name__] = _$Settings()
"""
for _name, _run, _writes in (
    ("attribute", "$settings.remember($k, $v)", True),
    ("module_global", "$settings.note($v)", True),
    ("reads", "$settings.lookup($k)", False),
):
    shape(
        f"project/replaces_itself/{_name}",
        _writes,
        modules={"$PKG/$settings.py": _SELF_REPLACING, APP: "from . import $settings"},
        run=_run,
        needs="project",
    )

shape(
    "layer/module_state",
    True,
    modules={"$LAYER/$common.py": "CACHE = {}", APP: "import $common"},
    run="$common.CACHE[$k] = $v",
    needs="layer",
)
shape(
    "layer/module_reads",
    False,
    modules={"$LAYER/$common.py": 'CACHE = {"a": 1}', APP: "import $common"},
    run="$common.CACHE.get($k)",
    needs="layer",
)

# libraries in the function's folder keep their own state: never the project's, never reported
_LIBRARY = """
__version__ = "2.1.0"

_SEEN = []
_BY_KEY = {}


def remember(value):
    _SEEN.append(value)
    _BY_KEY[value] = len(_SEEN)
    return len(_SEEN)
"""
_PLAIN_LIBRARY = _LIBRARY.replace('__version__ = "2.1.0"\n', "")
_SO = "$tinycache/_speedups.cpython-311-x86_64-linux-gnu.so"
for _name, _source, _markers in (
    ("slim_version", _LIBRARY, {}),
    ("slim_license", _PLAIN_LIBRARY, {"$tinycache/LICENSE": "MIT License\n"}),
    ("slim_so_marker", _PLAIN_LIBRARY, {_SO: ""}),
    ("dist_info", _LIBRARY, _dist_info("$tinycache", "2.1.0", ("$tinycache/__init__.py",))),
):
    shape(
        f"library/{_name}",
        False,
        modules={"$tinycache/__init__.py": _source, APP: "import $tinycache"},
        run="$tinycache.remember($v)",
        files=_markers,
        library=("$tinycache/",),
    )

# a library that configures the user's classes on first use (SQLAlchemy's backref)
#: A library that configures the user's classes on first use, as SQLAlchemy's mappers do (the
#: regression test of the same name uses it too).
ORM_LIBRARY = """
__version__ = "1.4.0"

_REGISTRY = {}
_PENDING = []
_CONFIGURED = []


class _Mapped(type):
    def __delattr__(cls, name):
        raise NotImplementedError("a mapped attribute cannot be removed")


class Model(metaclass=_Mapped):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls


class _Relationship:
    def __init__(self, target, backref):
        self.target = target
        self.backref = backref
        _PENDING.append(self)

    def __set_name__(self, owner, name):
        self.owner = owner


class _Backref:
    def __init__(self, source):
        self.source = source

    def __get__(self, obj, owner=None):
        return self if obj is None else []


def relationship(target, backref):
    return _Relationship(target, backref)


def query(model, key):
    if not _CONFIGURED:
        while _PENDING:
            found = _PENDING.pop()
            setattr(_REGISTRY[found.target], found.backref, _Backref(found.owner))
        _CONFIGURED.append(True)
    return (model.__name__, key)
"""
shape(
    "library/configures_class_lazily",
    False,
    modules={
        "$orm/__init__.py": ORM_LIBRARY,
        APP: """
            import $orm


            class $Customer($orm.Model):
                pass


            class $Order($orm.Model):
                customer = $orm.relationship("$Customer", backref="orders")
            """,
    },
    run="$orm.query($Order, $n)",
    files=_dist_info("$orm", "1.4.0", ("$orm/__init__.py",)),
    library=("$orm/",),
)


# -- lazy and function-level imports --------------------------------------------------------------

shape(
    "lazy_import/from_name_append",
    True,
    modules={"$PKG/$common.py": "$RECENT = []", APP: "from . import $common"},
    run="from .$common import $RECENT\n$RECENT.append($v)",
    needs="package",
)
shape(
    "lazy_import/from_name_reads",
    False,
    modules={"$PKG/$common.py": '$RECENT = ["a"]', APP: "from . import $common"},
    run="from .$common import $RECENT\nlen($RECENT)",
    needs="package",
)
shape(
    "lazy_import/first_import_then_append",
    True,
    modules={"$PKG/$common.py": "$RECENT = []"},
    run="from .$common import $RECENT\n$RECENT.append($v)",
    needs="package",
)
shape(
    "lazy_import/module_written",
    True,
    modules={"$PKG/$late.py": "ITEMS = []"},
    run="from . import $late\n$late.ITEMS.append($v)",
    needs="package",
)
#: A route decorator filling its module's ROUTES (the regression tests use it too).
ROUTING_MODULE = """
ROUTES = {}


def route(name):
    def register(func):
        ROUTES[name] = func
        return func

    return register
"""
shape(
    "lazy_import/registers_route",
    False,
    modules={
        "$PKG/$routing.py": ROUTING_MODULE,
        "$PKG/$refunds.py": """
            from .$routing import route


            @route("refund")
            def refund(event):
                return event["id"]
            """,
        APP: "from . import $routing",
    },
    run='from . import $refunds\n$routing.ROUTES["refund"](event)',
    needs="package",
)
shape(
    "lazy_import/registers_in_handler_module",
    False,
    modules={
        "$PKG/$plugins.py": 'from .app import $ROUTES\n\n$ROUTES["plugin"] = len',
        APP: "$ROUTES = {}",
    },
    run='from . import $plugins\n$ROUTES["plugin"]($v)',
    needs="package",
)
shape(
    "lazy_import/registers_on_app_object",
    False,
    modules={
        "$PKG/$web.py": """
            class App:
                def __init__(self):
                    self.routes = {}

                def route(self, path):
                    def register(func):
                        self.routes[path] = func
                        return func

                    return register


            APP = App()
            """,
        "$PKG/$views.py": """
            from .$web import APP


            @APP.route("/orders")
            def orders(event):
                return len(event["items"])
            """,
        APP: "from . import $web",
    },
    run='from . import $views\n$web.APP.routes["/orders"](event)',
    needs="package",
)
shape(
    "lazy_import/registers_then_handler_writes",
    True,
    modules={
        "$PKG/$routing.py": "ROUTES = {}",
        "$PKG/$refunds.py": 'from .$routing import ROUTES\n\nROUTES["refund"] = len',
        APP: "from . import $routing",
    },
    run="from . import $refunds\n$routing.ROUTES[$k] = $n",
    needs="package",
)


# -- modules held, served and resolved ------------------------------------------------------------

_STORE = "from . import store"
for _name, _holder, _reach in (
    ("class_attribute", "class $Deps:\n    store = store", "$Deps.store"),
    ("instance_attribute", "class $Deps:\n    store = store\n\n\n$DEPS = $Deps()", "$DEPS.store"),
    ("dict_value", '$MODULES = {"store": store}', '$MODULES["store"]'),
    ("tuple_item", "$MODULES = (store,)", "$MODULES[0]"),
):
    shape(
        f"module_holder/{_name}",
        True,
        modules={"store": "$ITEMS = []", APP: f"{_STORE}\n{_holder}"},
        run=f"{_reach}.$ITEMS.append($v)",
        needs="package",
    )
shape(
    "module_holder/class_attribute_reads",
    False,
    modules={"store": '$ITEMS = ["a"]', APP: f"{_STORE}\nclass $Deps:\n    store = store"},
    run="$Deps.store.$ITEMS.count($v)",
    needs="package",
)
#: A module serving its names from a dict with a module-level __getattr__ (PEP 562).
SERVED_MODULE = """
_REGISTRY = {"RECORDS": []}


def __getattr__(name):
    try:
        return _REGISTRY[name]
    except KeyError:
        raise AttributeError(name) from None
"""
shape(
    "module_getattr/pep562_served_name",
    True,
    modules={
        "$PKG/$lazy.py": SERVED_MODULE,
        APP: "from . import $lazy",
    },
    run="$lazy.RECORDS.append($v)",
    needs="package",
)
shape(
    "module_getattr/serves_submodule",
    True,
    modules={
        "$PKG/$plugins/__init__.py": """
            import importlib


            def __getattr__(name):
                return importlib.import_module(f".{name}", __name__)
            """,
        "$PKG/$plugins/audit.py": "RECORDS = []",
        APP: "from . import $plugins",
    },
    run="$plugins.audit.RECORDS.append($v)",
    needs="package",
)
for _name, _reach, _imports in (
    ("pkgutil", 'pkgutil.resolve_name(f"{__package__}.store:$RECORDS")', "import pkgutil"),
    (
        "import_module",
        'importlib.import_module(f"{__package__}.store").$RECORDS',
        "import importlib",
    ),
    ("getattr_package", 'getattr($package, "store").$RECORDS', "import fuzz_pkg as $package"),
):
    shape(
        f"resolve/{_name}",
        True,
        modules={"store": "$RECORDS = []", APP: f"{_imports}\n{_STORE}"},
        run=f"{_reach}.append($v)",
        needs="package",
    )
shape(
    "getattr_name/literal",
    True,
    modules={"store": "$ITEMS = []", APP: _STORE},
    run='getattr(store, "$ITEMS").append($v)',
    needs="package",
)
shape(
    "getattr_name/computed",
    True,
    modules={
        "store": "$ITEMS = []",
        APP: f'{_STORE}\n$WHICH = "$ITEMS"\n\n\n'
        "def $pick(module, name):\n    return getattr(module, name)",
    },
    run="$pick(store, $WHICH).append($v)",
    needs="package",
)
shape(
    "getattr_name/computed_reads",
    False,
    modules={
        "store": '$ITEMS = ["a"]',
        APP: f'{_STORE}\n$WHICH = "$ITEMS"',
    },
    run="len(getattr(store, $WHICH))",
    needs="package",
)
shape(
    "method_of_other_module/writes_argument",
    True,
    modules={
        "store": """
            class $Service:
                def get(self, event, table):
                    table[event["user"]] = event["id"]
                    return table


            $SERVICE = $Service()
            """,
        APP: f"{_STORE}\n$TABLE = {{}}",
    },
    run="store.$SERVICE.get(event, $TABLE)",
    needs="package",
)
shape(
    "method_of_other_module/reads_argument",
    False,
    modules={
        "store": """
            class $Service:
                def get(self, event, table):
                    return table.get(event["user"])


            $SERVICE = $Service()
            """,
        APP: f'{_STORE}\n$TABLE = {{"a": 1}}',
    },
    run="store.$SERVICE.get(event, $TABLE)",
    needs="package",
)


# -- instances only behind callables --------------------------------------------------------------

_AUDIT = """
class $AuditLog:
    def __init__(self):
        self.entries = []

    def record(self, value):
        self.entries.append(value)

    def size(self):
        return len(self.entries)
"""
shape(
    "bound_method/instance_only",
    True,
    modules={APP: _AUDIT + "\n\n$record = $AuditLog().record"},
    run="$record($v)",
)
shape(
    "bound_method/instance_only_reads",
    False,
    modules={APP: _AUDIT + "\n\n$size = $AuditLog().size"},
    run="$size()",
)
shape(
    "bound_method/other_module_instance_only",
    True,
    modules={"store": _AUDIT + "\n\n$record = $AuditLog().record", APP: _STORE},
    run="store.$record($v)",
    needs="package",
)
shape(
    "bound_method/anonymous_list",
    True,
    modules={APP: "$record = [].append"},
    run="$record($v)",
)
shape(
    "partial/instance_only",
    True,
    modules={
        APP: "import functools\n"
        + _AUDIT.replace("$AuditLog", "$Outbox")
        + "\n\n$notify = functools.partial($Outbox.record, $Outbox())"
    },
    run="$notify($v)",
)
shape(
    "callable_instance/other_module",
    True,
    modules={
        "store": """
            class $Recorder:
                def __init__(self):
                    self.seen = []

                def __call__(self, value):
                    self.seen.append(value)


            $RECORDER = $Recorder()
            """,
        APP: _STORE,
    },
    run="store.$RECORDER($v)",
    needs="package",
)


# -- the standard library's data holders ----------------------------------------------------------

for _name, _top, _write, _read, _imports in (
    ("chainmap", '$SETTINGS = collections.ChainMap({}, {"region": "eu"})', "$SETTINGS[$k] = $v",
     '$SETTINGS.get("region")', "import collections"),
    ("queue", "$JOBS = queue.Queue()", "$JOBS.put($v)", "$JOBS.qsize()", "import queue"),
    ("userdict_subclass",
     "class $Registry(collections.UserDict):\n    pass\n\n\n$REGISTRY = $Registry()",
     "$REGISTRY[$k] = $v", "$REGISTRY.get($k)", "import collections"),
    ("userlist_subclass",
     "class $Entries(collections.UserList):\n    pass\n\n\n$ENTRIES = $Entries()",
     "$ENTRIES.append($v)", "len($ENTRIES)", "import collections"),
    ("userdict", "$REGISTRY = collections.UserDict()", "$REGISTRY[$k] = $v", "$REGISTRY.get($k)",
     "import collections"),
):  # fmt: skip
    shape(f"holder/{_name}", True, modules={APP: f"{_imports}\n{_top}"}, run=_write)
    shape(f"holder/{_name}_reads", False, modules={APP: f"{_imports}\n{_top}"}, run=_read)

# Not watched (docs/guard.md, "What it cannot see"): generated so that a write there is never
# a false report, and so that the oracle (which does not follow them either) agrees.
for _name, _top, _write, _imports in (
    ("simple_queue", "$JOBS = queue.SimpleQueue()", "$JOBS.put($v)", "import queue"),
    ("weak_key_dict",
     "class $Key:\n    pass\n\n\n$KEY = $Key()\n$CACHE = weakref.WeakKeyDictionary()",
     "$CACHE[$KEY] = $v", "import weakref"),
):  # fmt: skip
    shape(f"holder/{_name}_unwatched", False, modules={APP: f"{_imports}\n{_top}"}, run=_write)


# -- ContextVars: the value the next invocation sees ----------------------------------------------

# @handler runs each invocation in a copy of the caller's context (docs/request.md): what the
# handler sets is gone when it returns, not a write the next invocation sees.
_CTX = 'import contextvars\n$USER = contextvars.ContextVar("$USER", default=None)'
shape("contextvar/set_not_reset", False, modules={APP: _CTX}, run="$USER.set($v)")
shape(
    "contextvar/set_for_some_requests",
    False,
    modules={APP: _CTX},
    run='if event["kind"] == "b":\n    $USER.set($v)\n$USER.get()',
)
shape(
    "contextvar/set_and_reset",
    False,
    modules={APP: _CTX},
    run="token = $USER.set($v)\n$USER.get()\n$USER.reset(token)",
)
shape("contextvar/read", False, modules={APP: _CTX}, run="$USER.get()")
shape(
    "contextvar/default_object_written",
    True,
    modules={APP: 'import contextvars\n$SEEN = contextvars.ContextVar("$SEEN", default=[])'},
    run="$SEEN.get().append($v)",
)


# -- exceptions carrying module state -------------------------------------------------------------

shape(
    "exception/args_carry_list",
    True,
    modules={APP: "$ITEMS = []"},
    run="try:\n    raise ValueError($ITEMS)\nexcept ValueError as e:\n    e.args[0].append($v)",
)
shape(
    "exception/args_carry_list_reads",
    False,
    modules={APP: '$ITEMS = ["a"]'},
    run="try:\n    raise ValueError($ITEMS)\nexcept ValueError as e:\n    len(e.args[0])",
)
shape(
    "exception/other_module_raises_its_state",
    True,
    modules={
        "store": "$PENDING = {}\n\n\ndef $check():\n    raise LookupError($PENDING)",
        APP: _STORE,
    },
    run="try:\n    store.$check()\nexcept LookupError as e:\n    e.args[0][$k] = $n",
    needs="package",
)
shape(
    "exception/attribute_carries_dict",
    True,
    modules={
        APP: """
            $TABLE = {}


            class $Failed(Exception):
                def __init__(self, table):
                    super().__init__("failed")
                    self.table = table
            """
    },
    run="try:\n    raise $Failed($TABLE)\nexcept $Failed as e:\n    e.table[$k] = $n",
)


# -- the program's dunders and metaclasses: the guard must only look ------------------------------

#: A list subclass whose __len__ and __bool__ count their calls (the regression tests use it).
SIZED_CLASS = """
class $Sized(list):
    def __init__(self, items):
        super().__init__(items)
        self.len_calls = 0
        self.bool_calls = 0

    def __len__(self):
        self.len_calls += 1
        return list.__len__(self)

    def __bool__(self):
        self.bool_calls += 1
        return list.__len__(self) > 0
"""
_SIZED = SIZED_CLASS + '\n\n$ITEMS = $Sized(["a", "b"])\n'
shape("observer/len_counts", False, modules={APP: _SIZED}, run="$ITEMS[0]\n$v in $ITEMS")
shape("observer/len_counts_written", True, modules={APP: _SIZED}, run="$ITEMS.append($v)")
_SORTED = """
class $SortedView(list):
    def __iter__(self):
        return iter(sorted(list.__iter__(self)))


$ITEMS = $SortedView([3, 1, 2])
"""
shape("observer/iter_sorted", False, modules={APP: _SORTED}, run="$ITEMS[0]")
shape("observer/iter_sorted_written", True, modules={APP: _SORTED}, run="$ITEMS.append($n)")
_LOOSE = """
class $Loose(set):
    def __eq__(self, other):
        return True

    __hash__ = None


class $LooseDict(dict):
    def __eq__(self, other):
        return True

    __hash__ = None


$SEEN = $Loose({"a"})
$TABLE = $LooseDict(a=1)
"""
shape("observer/eq_always_equal", True, modules={APP: _LOOSE}, run="$SEEN.add($v)")
shape("observer/eq_always_equal_dict", True, modules={APP: _LOOSE}, run="$TABLE[$k] = $n")
shape("observer/eq_always_equal_reads", False, modules={APP: _LOOSE}, run="$v in $SEEN")
_PUBLIC = """
class $Public(dict):
    def keys(self):
        return [key for key in dict.keys(self) if not key.startswith("_")]

    def __iter__(self):
        return iter(self.keys())

    def items(self):
        return [(key, self[key]) for key in self.keys()]


$CONFIG = $Public(a="1", _internal="x")
"""
shape("observer/keys_filtered", True, modules={APP: _PUBLIC}, run='$CONFIG["_" + $v] = 1')
shape("observer/keys_filtered_reads", False, modules={APP: _PUBLIC}, run='$CONFIG.get("a")')
_LAZY_META = """
class $Lazy(type):
    def __getattr__(cls, name):
        cache = type.__getattribute__(cls, "computed")
        if name not in cache:
            cache[name] = name.upper()
        return cache[name]


class $Settings(metaclass=$Lazy):
    computed = {}


$Settings.region
"""
shape("observer/metaclass_getattr_caches", False, modules={APP: _LAZY_META}, run="$Settings.region")
shape(
    "observer/metaclass_getattr_caches_written",
    True,
    modules={APP: _LAZY_META},
    run="$Settings.computed[$k] = $n",
)
_RECORDING = """
class $Flexible:
    def __init__(self):
        self.asked = []

    def __getattr__(self, name):
        self.asked.append(name)
        raise AttributeError(name)


$OPTIONS = $Flexible()
"""
shape("observer/getattr_records", False, modules={APP: _RECORDING}, run="len($OPTIONS.asked)")
shape(
    "observer/getattr_records_written",
    True,
    modules={APP: _RECORDING},
    run="$OPTIONS.asked.append($v)",
)
_NOISY = """
class $Noisy(list):
    reprs = [0]

    def __repr__(self):
        self.reprs[0] += 1
        return "Noisy(...)"


$ITEMS = $Noisy(["a"])
"""
shape("observer/repr_counts_written", True, modules={APP: _NOISY}, run="$ITEMS.append($v)")


# -- state on function objects --------------------------------------------------------------------

_HELPER = "def $helper(value):\n    return value\n\n\n$helper.seen = []\n$helper.calls = 0"
shape(
    "function_state/attribute_append", True, modules={APP: _HELPER}, run="$helper.seen.append($v)"
)
shape("function_state/attribute_counter", True, modules={APP: _HELPER}, run="$helper.calls += 1")
shape(
    "function_state/dict_item",
    True,
    modules={APP: _HELPER},
    run='$helper.__dict__["last"] = $v',
)
shape("function_state/attribute_reads", False, modules={APP: _HELPER}, run="len($helper.seen)")
_REMEMBER = "def $remember(value, seen=[], *, keys=set()):\n    return len(seen) + len(keys)"
shape(
    "function_state/defaults_from_outside",
    True,
    modules={APP: _REMEMBER},
    run="$remember.__defaults__[0].append($v)",
)
shape(
    "function_state/kwdefaults_from_outside",
    True,
    modules={APP: _REMEMBER},
    run='$remember.__kwdefaults__["keys"].add($v)',
)
shape(
    "function_state/defaults_rebound",
    True,
    modules={APP: _REMEMBER},
    run="$remember.__defaults__ = ([$v],)",
)
shape(
    "function_state/defaults_reads",
    False,
    modules={APP: _REMEMBER},
    run="$remember($v)\nlen($remember.__defaults__[0])",
)
shape(
    "function_state/closure_cell_from_outside",
    True,
    modules={
        APP: "def $make():\n    seen = []\n\n    def size():\n        return len(seen)\n\n"
        "    return size\n\n\n$size = $make()"
    },
    run="$size.__closure__[0].cell_contents.append($v)",
)
shape(
    "function_state/default_in_container",
    True,
    modules={APP: '$ROUTES = {"add": lambda value, acc=[]: acc.append(value)}'},
    run='$ROUTES["add"]($v)',
)
shape(
    "function_state/other_module_returns_own_default",
    True,
    modules={"store": "def $bucket(found=[]):\n    return found", APP: _STORE},
    run="store.$bucket().append($v)",
    needs="package",
)
#: A decorator keeping every call's user in its closure (the regression tests use it too).
RECORDED_MODULE = """
import functools


def $recorded(func):
    calls = []

    @functools.wraps(func)
    def wrapper(*args):
        calls.append(args[0]["user"])
        return func(*args)

    return wrapper
"""
shape(
    "function_state/decorator_closure_other_module",
    True,
    modules={
        "store": RECORDED_MODULE,
        APP: f'{_STORE}\n@store.$recorded\ndef $work(event):\n    return len(event["items"])',
    },
    run="$work(event)",
    needs="package",
)
shape(
    "function_state/decorator_closure_other_module_on_handler",
    True,
    modules={"store": RECORDED_MODULE, APP: _STORE},
    run="",
    decorates="store.$recorded",
    needs="package",
)


# -- read-only tables: what the guard compares for data the handler never writes (the cost report)

_TABLE = '$TABLE = {f"k{i}": {"n": i, "tags": [str(i)]} for i in range(20)}'
for _name, _app, _run in (
    ("get", _TABLE, '$TABLE.get($k, {}).get("n")'),
    ("subscript", _TABLE, '$TABLE["k1"]["n"]'),
    ("loop", _TABLE, 'sum(row["n"] for row in $TABLE.values())'),
    ("contains", _TABLE, "$k in $TABLE"),
    ("json", f"import json\n{_TABLE}", 'json.dumps($TABLE["k2"])'),
    ("nested_list", _TABLE, '$TABLE["k3"]["tags"][0]'),
    ("copied_then_written", _TABLE, "dict($TABLE)[$k] = 1"),
    ("helper_parameter", f"{_TABLE}\n\n\ndef $lookup(table, key):\n    return table.get(key)",
     "$lookup($TABLE, $k)"),
    ("returned", f"{_TABLE}\n\n\ndef $table():\n    return $TABLE", "$table().get($k)"),
):  # fmt: skip
    shape(
        f"cost/readonly_table/{_name}",
        False,
        modules={APP: _app},
        run=_run,
        tables=((APP, "$TABLE"),),
    )
shape(
    "cost/readonly_table/other_module",
    False,
    modules={"store": _TABLE, APP: _STORE},
    run="store.$TABLE.get($k)",
    tables=(("store", "$TABLE"),),
    needs="package",
)
shape(
    "cost/readonly_table/from_import",
    False,
    modules={"store": _TABLE, APP: "from .store import $TABLE"},
    run="$TABLE.get($k)",
    tables=(("store", "$TABLE"),),
    needs="package",
)
