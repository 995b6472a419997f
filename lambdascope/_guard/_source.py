"""The source of a guarded module, and whether the running code comes from it.

The analysis reads the source file (or the loader's source) once; every function sharing the
module's globals must be a def of that source (by file, name, first line, parameters and the
names its code uses), else the analysis gives up. Also: the functions of a module (every
layer under decorators) and the literals of its source, for the runtime.
"""

from __future__ import annotations

import functools
import types

from ._facts import Func, GiveUp, Graph
from ._tables import words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    NodeId = Optional[int]


def module_source(module_name: str, namespace: dict[str, Any]) -> tuple[str | bytes, str]:
    """The module's source text and file name, or :class:`GiveUp`."""
    filename = namespace.get("__file__")
    filename = filename if isinstance(filename, str) else f"<{module_name}>"
    loader = namespace.get("__loader__")
    get_source = getattr(loader, "get_source", None)
    if get_source is not None:
        try:
            text = get_source(module_name)
        except Exception:
            text = None
        if isinstance(text, str):
            return text, filename
    if filename.endswith(".py"):
        try:
            with open(filename, "rb") as fh:
                return fh.read(), filename
        except OSError as exc:
            raise GiveUp(f"no source file ({exc.strerror}: {filename})") from None
    raise GiveUp("no source file")


_ALWAYS_NAMES = frozenset({"AssertionError", ""})


_DATACLASS_METHODS = frozenset(
    words(
        "__init__ __repr__ __eq__ __lt__ __le__ __gt__ __ge__ __hash__ __setattr__",
        "__delattr__ __getstate__ __setstate__ __replace__ __create_fn__",
    )
)


class SourceDefs:
    """What a source defines, to compare with the running code: the defs by (name, first
    line), the lambdas by line, the class statements (a builder has the same three)."""

    __slots__ = ("class_keys", "def_keys", "lambda_lines")

    def __init__(self) -> None:
        self.def_keys: dict[tuple[str, int], list[Func]] = {}
        self.lambda_lines: dict[int, list[Func]] = {}
        self.class_keys: set[tuple[str, int]] = set()


def check_code(module_name: str, namespace: dict[str, Any], builder: Graph | SourceDefs) -> None:
    """Give up unless every function sharing *namespace* is a def of the parsed source."""
    filename = namespace.get("__file__")
    for code in _shared_code(module_name, namespace):
        if isinstance(filename, str) and code.co_filename != filename:
            raise GiveUp(
                f"function {code.co_name} shares the module's globals but was compiled from "
                f"{code.co_filename!r}"
            )
        _check_one(code, builder, None)


def _shared_code(module_name: str, namespace: dict[str, Any]) -> list[Any]:
    """Code of the functions reachable from *namespace* whose globals are *namespace*."""
    return [code for _, code in _functions_and_code(module_name, namespace) if code is not None]


def shared_functions(module_name: str, namespace: dict[str, Any]) -> list[Any]:
    """The functions of the module: reachable from *namespace* (module-level values, the
    methods of its classes, every layer under decorators, partials and properties) with
    *namespace* as their globals. The guard reads their defaults and closures."""
    return [func for func, code in _functions_and_code(module_name, namespace) if code is not None]


def _functions_and_code(module_name: str, namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    """``(function, code)`` of :func:`shared_functions`; code is None for the methods that
    ``dataclasses`` compiles with the module's globals (not the module's source)."""
    seen: set[int] = set()
    todo: list[tuple[Any, bool]] = [(value, False) for value in namespace.values()]
    found: list[tuple[Any, Any]] = []
    while todo:
        value, in_dataclass = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if type(value) is types.FunctionType and value.__globals__ is namespace:
            code = value.__code__
            generated = (
                in_dataclass
                and code.co_name in _DATACLASS_METHODS
                and code.co_filename == "<string>"
            )
            found.append((value, None if generated else code))
        if isinstance(value, type):
            in_dataclass = "__dataclass_fields__" in value.__dict__
        todo.extend((inner, in_dataclass) for inner in _inner_functions(value, module_name))
    return found


def _parsed(module_name: str, namespace: dict[str, Any]) -> Any:
    """The module's syntax tree (``None`` without a source that parses)."""
    import ast

    try:
        source, filename = module_source(module_name, namespace)
        return ast.parse(source, filename)
    except (GiveUp, SyntaxError, ValueError, RecursionError):
        return None


def source_constants(module_name: str, namespace: dict[str, Any]) -> frozenset[Any]:
    """The strings and integers written as literals in the module's source (empty without
    a source). Dict keys among them are not request data: messages may show them."""
    import ast

    tree = _parsed(module_name, namespace)
    if tree is None:
        return frozenset()
    return frozenset(
        node.value
        for node in ast.walk(tree)
        if type(node) is ast.Constant and type(node.value) in (str, int)
    )


def source_words(module_name: str, namespace: dict[str, Any]) -> frozenset[Any]:
    """What the module's source writes that a leak report may show: its string and integer
    literals, the pieces of its string literals between slashes (``"/tmp/"`` gives ``tmp``),
    and every identifier it names (variables, attributes, functions, classes, parameters,
    keyword arguments, imports). Empty without a source. A key, a name or a file name
    among them was written by the programmer, not brought by a request."""
    import ast

    tree = _parsed(module_name, namespace)
    if tree is None:
        return frozenset()
    found: set[Any] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            value = node.value
            if type(value) in (str, int):
                found.add(value)
            if type(value) is str and "/" in value:
                found.update(value.split("/"))
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.arg, ast.keyword)):
            found.add(node.arg)
        elif isinstance(node, ast.alias):
            found.update((node.asname or node.name).split("."))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found.update(node.names)
    found.discard("")
    found.discard(None)  # a keyword of **kwargs
    return frozenset(found)


def _inner_functions(value: Any, module_name: str) -> list[Any]:
    """What *value* wraps or holds that may be a function of the module (never runs code)."""
    kind = type(value)
    found: list[Any]
    if kind is types.FunctionType:
        found = [value.__dict__.get("__wrapped__")]
    elif kind is types.MethodType or kind is staticmethod or kind is classmethod:
        found = [value.__func__]
    elif kind is property:
        found = [value.fget, value.fset, value.fdel]
    elif kind is functools.partial:
        found = [value.func]
    elif isinstance(value, type):
        own = value.__dict__
        found = list(own.values()) if own.get("__module__") == module_name else []

    else:
        found = [_own_wrapped(value)]
    return [f for f in found if f is not None]


def _own_wrapped(value: Any) -> Any:
    """``__wrapped__`` (or ``func``: ``functools.cached_property``) from an object's own
    dict, without running a proxy's ``__getattr__``."""
    try:
        attrs = object.__getattribute__(value, "__dict__")
    except Exception:
        return None
    if type(attrs) is not dict:
        return None
    return attrs.get("__wrapped__") or attrs.get("func")


def _check_one(code: Any, builder: Graph | SourceDefs, parent: set[str] | None) -> None:
    name = code.co_name
    idents: set[str] | None
    if name == "<lambda>":
        funcs = builder.lambda_lines.get(code.co_firstlineno)
        if not funcs:
            raise GiveUp(
                f"source does not match the running code (lambda line {code.co_firstlineno})"
            )
        idents = set().union(*(f.idents for f in funcs))
        _check_params(code, funcs)
    elif name.startswith("<"):  # comprehensions (3.11 and older), annotation scopes
        idents = parent
    elif (name, code.co_firstlineno) in builder.def_keys:
        funcs = builder.def_keys[name, code.co_firstlineno]
        idents = set().union(*(f.idents for f in funcs))
        _check_params(code, funcs)
    elif (name, code.co_firstlineno) in builder.class_keys:
        idents = None  # a class body or a type alias: implicit names not worth modelling
    else:
        raise GiveUp(
            f"source does not match the running code ({name} at line {code.co_firstlineno})"
        )
    if idents is not None:
        for used in code.co_names:
            if used in idents or used in _ALWAYS_NAMES or _demangled(used) in idents:
                continue
            raise GiveUp(
                f"source does not match the running code ({name} uses {used!r}, "
                "absent from its source)"
            )
    for const in code.co_consts:
        if type(const) is type(code):
            _check_one(const, builder, idents)


def _check_params(code: Any, funcs: list[Func]) -> None:
    count = code.co_argcount + code.co_kwonlyargcount
    flags = code.co_flags
    count += bool(flags & 0x04) + bool(flags & 0x08)  # CO_VARARGS, CO_VARKEYWORDS
    names = sorted(_demangled(name) for name in code.co_varnames[:count])
    for func in funcs:
        expected = [*func.positional, *func.kwonly, func.vararg, func.kwarg]
        if sorted(name for name in expected if name is not None) == names:
            return
    raise GiveUp(f"source does not match the running code (parameters of {code.co_name} changed)")


def _demangled(name: str) -> str:
    """``_Class__name`` -> ``__name`` (private names are mangled in the code, not the source)."""
    start = name.find("__", 1)
    if name.startswith("_") and start > 0 and not name.endswith("__"):
        return name[start:]
    return name
