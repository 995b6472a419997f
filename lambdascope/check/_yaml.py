"""A tolerant reader of the YAML that deployment files use (no PyYAML needed).

It reads block mappings and sequences, plain and quoted scalars, simple flow collections and
block scalars, and treats CloudFormation tags (``!Ref X``, ``!GetAtt A.B``, ``!Sub |``) as
the value that follows them. Anchors are dropped, aliases stay strings. It never raises on odd
input: what it cannot read, it skips. Enough to find ``Handler``/``handler`` settings, not a
general YAML parser.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["load"]

_TAG = re.compile(r"^!!?[\w:.-]*\s*")
_ANCHOR = re.compile(r"^&\S+\s*")
_KEY = re.compile(
    r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#\[\]{},&*!|>-][^#]*?|-[^\s#][^#]*?)\s*:(?:\s+(.*)|$)"""
)
_BLOCK_SCALAR = re.compile(r"^[|>][-+0-9]*$")

_Lines = list[tuple[int, str]]


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def load(text: str) -> Any:
    """The first document of *text* as dicts, lists and strings (None for an empty value)."""
    lines: _Lines = []
    for raw in text.splitlines():
        if raw.startswith(("---", "...")) and lines:
            break  # the first document only
        line = _strip_comment(raw.replace("\t", "    ")).rstrip()
        if line.strip() and not line.startswith(("%", "---")):
            lines.append((len(line) - len(line.lstrip()), line.strip()))
    value, _ = _block(lines, 0, 0)
    return value


def _is_item(text: str) -> bool:
    return text == "-" or text.startswith("- ")


def _block(lines: _Lines, i: int, indent: int) -> tuple[Any, int]:
    if i >= len(lines) or lines[i][0] < indent:
        return None, i
    indent = lines[i][0]
    if _is_item(lines[i][1]):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _mapping(lines: _Lines, i: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] >= indent:
        if lines[i][0] > indent:
            i += 1  # what it could not place
            continue
        key = _KEY.match(lines[i][1])
        i += 1
        if key is None:
            continue
        out[str(_scalar(key[1]))], i = _value(lines, i, indent, key[2] or "")
    return out, i


def _sequence(lines: _Lines, i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(lines) and lines[i][0] == indent and _is_item(lines[i][1]):
        text = lines[i][1]
        item = text[1:].lstrip()
        if not item:
            value, i = _block(lines, i + 1, indent + 1)
        elif _is_item(item) or (_KEY.match(item) and not item.startswith(("{", "[", "!"))):
            lines[i] = (indent + len(text) - len(item), item)  # read it as a line of its own
            value, i = _block(lines, i, lines[i][0])
        else:
            value, i = _value(lines, i + 1, indent, item)
        out.append(value)
    return out, i


def _value(lines: _Lines, i: int, indent: int, rest: str) -> tuple[Any, int]:
    rest = _ANCHOR.sub("", _TAG.sub("", rest.strip()))
    if _BLOCK_SCALAR.match(rest):
        parts = []
        while i < len(lines) and lines[i][0] > indent:
            parts.append(lines[i][1])
            i += 1
        return "\n".join(parts), i
    if rest:
        return _scalar(rest), i
    if i < len(lines) and (
        lines[i][0] > indent or (lines[i][0] == indent and _is_item(lines[i][1]))
    ):
        return _block(lines, i, lines[i][0])
    return None, i


def _split(text: str) -> list[str]:
    """Split a flow collection's inside on top-level commas."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _scalar(text: str) -> Any:
    text = _ANCHOR.sub("", _TAG.sub("", text.strip()))
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(part) for part in _split(text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        pairs = (_KEY.match(part) for part in _split(text[1:-1]))
        return {str(_scalar(p[1])): _scalar(p[2] or "") for p in pairs if p}
    return text
