"""Small helpers about syntax for the write analysis: number and immutable literals,
attribute chains, ``vars(x)``, the ``if __name__ == "__main__":`` test."""

from __future__ import annotations

import ast

from ._tables import words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container


#: Builtins whose result is always a number (``len(x)``: an ``int``, whatever ``x`` is).
NUMBER_BUILTINS = frozenset(words("len int float ord hash id"))


def number_literal(node: ast.expr, shadowed: Container[str] = ()) -> bool:
    """``1``, ``-2.5``, or a call of a builtin that returns a number (``len(x)``) unless
    the module binds that name (*shadowed*): no builtin container takes one in place."""
    if type(node) is ast.UnaryOp:
        node = node.operand
    if type(node) is ast.Call and type(node.func) is ast.Name:
        return node.func.id in NUMBER_BUILTINS and node.func.id not in shadowed
    return type(node) is ast.Constant and type(node.value) in (int, float, complex)


def immutable_literal(node: ast.expr) -> bool:
    """A literal whose value nothing can write into (a default worth no watching)."""
    if type(node) is ast.Constant:
        return True
    if type(node) is ast.UnaryOp:
        return type(node.operand) is ast.Constant
    if type(node) is ast.Tuple:
        return all(immutable_literal(element) for element in node.elts)
    return False


def attribute_chain(node: ast.expr) -> tuple[str | None, str | None]:
    """``a.b.c`` -> ("a", "a.b.c"); anything else -> (None, None)."""
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return None, None
    parts.append(node.id)
    return node.id, ".".join(reversed(parts))


def vars_of_chain(node: ast.Call) -> bool:
    """``vars(x)`` or ``vars(x.y)``: one argument, a name or an attribute chain."""
    func = node.func
    return (
        type(func) is ast.Name
        and func.id == "vars"
        and len(node.args) == 1
        and not node.keywords
        and attribute_chain(node.args[0])[0] is not None
    )


def is_main_test(test: ast.expr) -> bool:
    if type(test) is not ast.Compare or len(test.comparators) != 1:
        return False
    if type(test.ops[0]) is not ast.Eq:
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if type(s) is ast.Name and s.id == "__name__"]
    consts = [s for s in sides if type(s) is ast.Constant and s.value == "__main__"]
    return len(names) == 1 and len(consts) == 1
