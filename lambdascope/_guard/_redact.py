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
    from collections.abc import Iterable, Iterator, Sequence
    from collections.abc import Set as AbstractSet
    from typing import Any, Protocol

    class Owner(Protocol):
        """A guarded module (a :class:`~._census.Space`)."""

        name: str
        namespace: dict[str, Any]


__all__ = [
    "Words",
    "class_words",
    "code_words",
    "key_text",
    "keys_text",
    "module_words",
    "modules_words",
    "note_project",
    "path_pattern",
    "project_words",
    "step_key",
]

_MAX_SHOWN = 3  # keys named in one list
_MAX_KEY = 80  # characters of a key's repr shown


class Words:
    """Sets of words seen as one, without a copy: ``key in words``, ``iter(words)``."""

    __slots__ = ("_sets",)

    def __init__(self, *sets: AbstractSet[Any]) -> None:
        self._sets = sets

    def __contains__(self, item: object) -> bool:
        try:
            return any(item in words for words in self._sets)
        except TypeError:  # an unhashable key: not a word
            return False

    def __iter__(self) -> Iterator[Any]:
        for words in self._sets:
            yield from words

    def __or__(self, other: Words) -> Words:
        return Words(*self._sets, *other._sets)


_words: dict[str, tuple[dict[str, Any], frozenset[Any]]] = {}
#: module name -> the words of every module of its project (:func:`note_project`)
_projects: dict[str, Words] = {}
_noted: list[object] = [None]  # the last project noted (its list of modules)


def module_words(name: str, namespace: dict[str, Any]) -> frozenset[Any]:
    """The words of module *name*'s source, read once per module (and namespace)."""
    cached = _words.get(name)
    if cached is None or cached[0] is not namespace:
        from ._source import source_words

        cached = _words[name] = (namespace, source_words(name, namespace))
    return cached[1]


def note_project(spaces: Sequence[Owner]) -> None:
    """The guarded modules *spaces* make one project: a key or a name one module's source
    writes may be shown in a report about another's variable (``store.ITEMS[k]`` written in
    ``app``). Noted once per census."""
    if _noted[0] is spaces:
        return
    words = Words(*(module_words(space.name, space.namespace) for space in spaces))
    for space in spaces:
        _projects[space.name] = words
    _noted[0] = spaces


def project_words(space: Owner) -> Words:
    """The words of *space*'s project (:func:`note_project`), else of its module alone."""
    words = _projects.get(space.name)
    return words if words is not None else Words(module_words(space.name, space.namespace))


def class_words(cls: type) -> Words:
    """The words of the sources of the modules that define *cls* and its bases."""
    found = []
    for klass in getattr(cls, "__mro__", ()):
        module = sys.modules.get(getattr(klass, "__module__", None) or "")
        if module is not None and isinstance(getattr(module, "__file__", None), str):
            found.append(module_words(module.__name__, vars(module)))
    return Words(*found)


def modules_words(names: Iterable[str]) -> Words:
    """The words of the sources of the loaded modules *names*, together."""
    found = []
    for name in names:
        module = sys.modules.get(name)
        if module is not None and isinstance(getattr(module, "__file__", None), str):
            found.append(module_words(name, vars(module)))
    return Words(*found)


def code_words(func: Any) -> Words:
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
    return Words(found)


def key_text(key: Any, words: Words) -> str | None:
    """``repr(key)`` when *key* is a word of the source (and short), else ``None``."""
    if type(key) in (str, int) and key in words:
        text = repr(key)
        if len(text) <= _MAX_KEY:
            return text
    return None


def step_key(key: Any, words: Words) -> str:
    """A key in a path: its repr when the source writes it, else its type (``<str>``)."""
    text = key_text(key, words)
    return text if text is not None else f"<{type(key).__name__}>"


def keys_text(keys: list[Any], words: Words) -> str:
    """``'status', 'total'``; keys the source does not write are counted, never shown."""
    shown = [text for text in (key_text(key, words) for key in keys) if text is not None]
    text = ", ".join(shown[:_MAX_SHOWN]) + (", ..." if len(shown) > _MAX_SHOWN else "")
    hidden = len(keys) - len(shown)
    if hidden:
        more = " more" if shown else ""
        text += f"{' and ' if shown else ''}{hidden}{more} not written in the source (not shown)"
    return text


def path_pattern(relative: str, words: Words) -> str:
    """A path under the temp dir as it may be shown: each part the source does not write
    becomes a glob of the literals it starts and ends with (``report-*.csv``, ``*.pdf``,
    ``*``), which ``tmp_allow=`` takes as it is."""
    return "/".join(_part_pattern(part, words) for part in relative.split("/"))


def _part_pattern(part: str, words: Words) -> str:
    if part in words:
        return part
    texts = [w for w in words if type(w) is str and w and len(w) < len(part)]
    prefix = max(
        (w for w in texts if part.startswith(w) and _boundary(w[-1], part[len(w)])),
        key=len,
        default="",
    )
    room = len(part) - len(prefix) - 1  # at least one character stays hidden
    suffix = max(
        (
            w
            for w in texts
            if len(w) <= room and part.endswith(w) and _boundary(part[-len(w) - 1], w[0])
        ),
        key=len,
        default="",
    )
    return f"{prefix}*{suffix}"


def _boundary(before: str, after: str) -> bool:
    """A literal ends (or starts) a glob only where a word ends: ``invoice-`` in
    ``invoice-4711``, ``.pdf``; not ``1`` at the end of ``a7f31``."""
    return not (before.isalnum() and after.isalnum())
