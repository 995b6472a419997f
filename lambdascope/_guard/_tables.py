"""The write analysis' knowledge as data: edge kinds and fact states, builtin and standard
library methods and functions that write nothing (or their receiver only), what gives the
analysis up. No syntax here (see ``_syntax``): the runtime imports it without ``ast``.

Small on purpose: anything not listed is unknown code, a deep write of its arguments.
"""

from __future__ import annotations

from lambdascope._mutators import MUTATING_METHODS, RETURNS_AN_ITEM

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    NodeId = Optional[int]


# Edge kinds: how the value of the destination derives from the source. INNER is INTO
# for what is *inside* the source only (calling a bound method taken from a value may
# return something inside the value; calling a function or class returns nothing of it).
COPY, INTO, HOLD, INNER = 0, 1, 2, 3


# Fact states (bits): the node is the source, holds parts of it, or is inside it; DEEP:
# holds parts of it through one of its elements (a store into ``c[0]``), which also holds
# for what the element came from.
EXACT, HELD, INSIDE, DEEP = 1, 2, 4, 8


HOLDS = HELD | DEEP


# Call results: nothing aliased (FRESH), a fresh container of the arguments (HOLD), or
# something inside the arguments (INTO).
FRESH = 3


def words(*lines: str) -> list[str]:
    """The names in *lines*, separated by white space (keeps the tables below readable)."""
    return " ".join(lines).split()


LOGGING_METHODS = frozenset(words("debug info warning warn error exception critical log fatal"))


# Methods that never write their receiver nor their arguments -> what the result aliases.
READ_ONLY_METHODS: dict[str, int] = dict.fromkeys(
    words(
        # containers
        "count index __contains__ __len__ issubset issuperset isdisjoint __eq__ __ne__",
        # str / bytes
        "startswith endswith format format_map join split rsplit splitlines strip lstrip rstrip",
        "lower upper casefold title capitalize swapcase replace encode decode find rfind rindex",
        "isdigit isalpha isalnum isspace islower isupper isnumeric isdecimal isidentifier",
        "isascii istitle isprintable zfill center ljust rjust partition rpartition removeprefix",
        "removesuffix expandtabs translate hex",
        # numbers, dates
        "isoformat strftime timestamp total_seconds to_bytes bit_length is_integer weekday",
        "isoweekday astimezone",
        # compiled re patterns and match objects (third-party for this purpose: not writes)
        "match search fullmatch findall finditer sub subn group groups groupdict span start end",
        # hashes
        "hexdigest digest",
    ),
    FRESH,
)


READ_ONLY_METHODS.update(
    dict.fromkeys(
        words(
            "copy __copy__ keys values items union intersection difference",
            "symmetric_difference most_common elements",
        ),
        HOLD,
    )
)


READ_ONLY_METHODS.update(dict.fromkeys(words("get __getitem__"), INTO))


# Methods that write their receiver's top level (shallow) -> what the result aliases.
MUTATING_RESULTS: dict[str, int] = {
    name: INTO if name in RETURNS_AN_ITEM else FRESH for name in MUTATING_METHODS
}


# Builtins and stdlib functions that write none of their arguments -> what the result aliases.
_PURE: dict[str, int] = dict.fromkeys(
    words(
        "abs all any ascii bin bool bytes bytearray callable chr complex divmod float format",
        "hasattr hash hex id int isinstance issubclass len oct ord pow print range repr round",
        "str slice object",
        "json.dumps json.loads copy.deepcopy dataclasses.asdict",
        "os.getenv os.path.join os.path.basename os.path.dirname os.path.exists",
        "os.path.splitext os.path.isfile os.path.isdir",
        "time.time time.monotonic time.perf_counter uuid.uuid4 decimal.Decimal",
        "datetime.datetime.now datetime.datetime.fromisoformat datetime.datetime.fromtimestamp",
        "base64.b64encode base64.b64decode hashlib.sha256 hashlib.md5 hashlib.sha1",
        "urllib.parse.quote urllib.parse.unquote urllib.parse.urlencode urllib.parse.urlparse",
        "urllib.parse.parse_qs",
        "re.compile re.escape re.match re.search re.fullmatch re.sub re.subn re.split",
        "re.findall re.finditer",
        "logging.debug logging.info logging.warning logging.error logging.exception",
        "logging.critical logging.log logging.getLogger",
    ),
    FRESH,
)


_PURE.update(
    dict.fromkeys(
        words(
            "dict list tuple set frozenset sorted reversed enumerate zip iter map filter",
            "copy.copy collections.OrderedDict collections.defaultdict collections.Counter",
            "collections.deque itertools.chain itertools.islice",
        ),
        HOLD,
    )
)


_PURE.update(dict.fromkeys(words("getattr next min max sum type memoryview"), INTO))


_PURE_PREFIXES = ("math.",)


# Pure functions that call what they are given (a bound method of an instance, say).
CALLS_ITS_ARGUMENTS = frozenset(words("map filter sorted min max"))


# Using any of these names or qualified names gives up.
GIVE_UP_NAMES = {
    "globals": "uses globals()",
    "vars": "uses vars()",
    "exec": "uses exec()",
    "eval": "uses eval()",
    "__import__": "uses __import__()",
}


GIVE_UP_ATTRS = {
    "__globals__": "uses __globals__",
    "f_globals": "uses a frame's f_globals",
    "f_locals": "uses a frame's f_locals",
    "_getframe": "uses sys._getframe()",
}


GIVE_UP_QUALIFIED = {
    "sys.modules": "uses sys.modules",
    "sys._getframe": "uses sys._getframe()",
    "inspect.currentframe": "uses inspect.currentframe()",
    "inspect.stack": "uses inspect.stack()",
    "inspect.getouterframes": "uses inspect.getouterframes()",
    "inspect.trace": "uses inspect.trace()",
    "importlib.import_module": "uses importlib.import_module()",
    "importlib.__import__": "uses importlib.__import__()",
    "pkgutil.resolve_name": "uses pkgutil.resolve_name()",
    "werkzeug.utils.import_string": "uses werkzeug.utils.import_string()",
    "builtins.globals": "uses globals()",
    "builtins.vars": "uses vars()",
    "builtins.exec": "uses exec()",
    "builtins.eval": "uses eval()",
    "builtins.__import__": "uses __import__()",
}


CHECKED_ATTRS = frozenset(name.rpartition(".")[2] for name in GIVE_UP_QUALIFIED) | {"__dict__"}


# Methods the analysis links explicitly (construction); other dunders run implicitly.
EXPLICIT = frozenset({"__init__", "__post_init__", "__new__", "__init_subclass__"})


# Values that nothing can write into.
IMMUTABLE = frozenset({str, bytes, int, float, complex, bool, type(None), frozenset, range})


HANDLER = frozenset({"lambdascope.handler", "lambdascope._handler.handler"})


FACTORY = frozenset({"lambdascope.init_resource", "lambdascope._resources.init_resource"})


# Bases whose constructor stores its arguments without writing them.
SAFE_BASES = frozenset(
    words(
        "object dict list set tuple str int float bytes frozenset Exception BaseException",
        "NamedTuple TypedDict Enum IntEnum StrEnum Flag IntFlag Generic Protocol ABC",
    )
)


MODULE_SCOPE, FUNCTION_SCOPE, CLASS_SCOPE, COMPREHENSION_SCOPE = 0, 1, 2, 3


def immutable_value(value: object) -> bool:
    """A value nothing can write into (a str, a number, None, a tuple of those...)."""
    kind = type(value)
    if kind is tuple or kind is frozenset:
        return all(immutable_value(item) for item in value)  # type: ignore[attr-defined]
    return kind in IMMUTABLE


def forward_state(bits: int, kind: int) -> int:
    """The state facts *bits* take along an edge of *kind* (0: none)."""
    if kind == COPY:
        return bits
    if kind == INTO:
        return INSIDE
    if kind == HOLD:
        return HELD
    return INSIDE if bits & ~EXACT else 0


def back_state(bits: int, kind: int) -> int:
    """The state a held fact takes going back along an edge of *kind* (0: none)."""
    if not bits & HOLDS:
        return 0
    if kind == COPY:
        return bits & HOLDS
    return bits & DEEP if kind == HOLD else DEEP


def pure_result(qualified: str) -> int | None:
    """What a call of a known pure function returns (None: not known to be pure)."""
    result = _PURE.get(qualified)
    if result is None and qualified.startswith(_PURE_PREFIXES):
        result = FRESH
    if result is None and "." not in qualified:
        import builtins

        value = getattr(builtins, qualified, None)
        if isinstance(value, type) and issubclass(value, BaseException):
            result = HOLD  # an exception keeps its arguments in .args
    return result
