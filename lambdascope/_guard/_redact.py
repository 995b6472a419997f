"""What a leak report may show of a key, a name or a file path: what the function's source
writes, never what a request brought.

A leak message, a warning, a JSON leak line and a metric go to the logs, and Lambda returns
an error's message to the caller: none of them may carry request data. A dict key, an
attribute name or a file name is shown only when it is a word of the source
(:func:`._source.source_words`) of the module that holds the variable, or that defines the
object's class; any other is counted (``1 not written in the source``), stands as its type
in a path (``BY_USER[<str>]``), or as a glob in a file path (``/tmp/report-*.csv``).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = [
    "class_words",
    "code_words",
    "key_text",
    "keys_text",
    "module_words",
    "modules_words",
    "path_pattern",
    "step_key",
]

_MAX_SHOWN = 3  # keys named in one list
_MAX_KEY = 80  # characters of a key's repr shown

_words: dict[str, tuple[dict[str, Any], frozenset[Any]]] = {}


def module_words(name: str, namespace: dict[str, Any]) -> frozenset[Any]:
    """The words of module *name*'s source, read once per module (and namespace)."""
    cached = _words.get(name)
    if cached is None or cached[0] is not namespace:
        from ._source import source_words

        cached = _words[name] = (namespace, source_words(name, namespace))
    return cached[1]


def class_words(cls: type) -> frozenset[Any]:
    """The words of the source of the module that defines *cls* (none for a builtin)."""
    module = sys.modules.get(getattr(cls, "__module__", None) or "")
    if module is None or not isinstance(getattr(module, "__file__", None), str):
        return frozenset()
    return module_words(module.__name__, vars(module))


def modules_words(names: Iterable[str]) -> frozenset[Any]:
    """The words of the sources of the loaded modules *names*, together."""
    found: set[Any] = set()
    for name in names:
        module = sys.modules.get(name)
        if module is not None and isinstance(getattr(module, "__file__", None), str):
            found.update(module_words(name, vars(module)))
    return frozenset(found)


def code_words(func: Any) -> frozenset[Any]:
    """The words *func*'s compiled code writes (with its nested functions): its string and
    integer constants (and their pieces between slashes) and the names it uses. What a
    handler without a source file (run by ``exec``) writes."""
    found: set[Any] = set()
    todo = [getattr(func, "__code__", None)]
    while todo:
        code = todo.pop()
        if code is None:
            continue
        found.update(code.co_names, code.co_varnames)
        for const in code.co_consts:
            if type(const) in (str, int):
                found.add(const)
            if type(const) is str and "/" in const:
                found.update(const.split("/"))
            elif hasattr(const, "co_consts"):
                todo.append(const)
    found.discard("")
    return frozenset(found)


def key_text(key: Any, words: frozenset[Any]) -> str | None:
    """``repr(key)`` when *key* is a word of the source (and short), else ``None``."""
    try:
        if type(key) in (str, int) and key in words:
            text = repr(key)
            if len(text) <= _MAX_KEY:
                return text
    except Exception:  # an unhashable key: not a word
        pass
    return None


def step_key(key: Any, words: frozenset[Any]) -> str:
    """A key in a path: its repr when the source writes it, else its type (``<str>``)."""
    text = key_text(key, words)
    return text if text is not None else f"<{type(key).__name__}>"


def keys_text(keys: list[Any], words: frozenset[Any]) -> str:
    """``'status', 'total'``; keys the source does not write are counted, never shown."""
    shown = [text for text in (key_text(key, words) for key in keys) if text is not None]
    text = ", ".join(shown[:_MAX_SHOWN]) + (", ..." if len(shown) > _MAX_SHOWN else "")
    hidden = len(keys) - len(shown)
    if hidden:
        more = " more" if shown else ""
        text += f"{' and ' if shown else ''}{hidden}{more} not written in the source (not shown)"
    return text


def path_pattern(relative: str, words: frozenset[Any]) -> str:
    """A path under the temp dir as it may be shown: each part the source does not write
    becomes a glob of the literals it starts and ends with (``report-*.csv``, ``*.pdf``,
    ``*``), which ``tmp_allow=`` takes as it is."""
    return "/".join(_part_pattern(part, words) for part in relative.split("/"))


def _part_pattern(part: str, words: frozenset[Any]) -> str:
    if part in words:
        return part
    texts = [w for w in words if type(w) is str and w and len(w) < len(part)]
    prefix = max((w for w in texts if part.startswith(w)), key=len, default="")
    room = len(part) - len(prefix) - 1  # at least one character stays hidden
    suffix = max((w for w in texts if len(w) <= room and part.endswith(w)), key=len, default="")
    return f"{prefix}*{suffix}"
