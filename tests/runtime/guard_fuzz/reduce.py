"""Shrink a failing program to the smallest one that still fails the same way.

Three passes, each kept only while the failure stays of the same kind: drop whole fragments
(every subset of a program's fragments is a program), drop events (invocations), then delete
statements one by one from the source (``ast``), also replacing an ``if`` by its body.
"""

from __future__ import annotations

import ast
import copy
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .program import Case, Program
    from .runner import Outcome, Runner

Check = Callable[["Outcome"], bool]


def reduce_fragments(runner: Runner, program: Program, check: Check) -> Program:
    """Drop fragments while the failure persists."""
    current = program
    changed = True
    while changed and len(current.fragments) > 1:
        changed = False
        for index in range(len(current.fragments)):
            smaller = current.with_fragments(
                current.fragments[:index] + current.fragments[index + 1 :]
            )
            if check(runner.run(smaller.case())):
                current, changed = smaller, True
                break
    return current


def reduce_case(runner: Runner, case: Case, check: Check, *, invocation: int) -> Case:
    """Fewer events, then fewer statements."""
    current = case.with_events(case.events[:invocation])
    if not check(runner.run(current)):
        current = case
    index = len(current.events) - 2
    while index >= 0 and len(current.events) > 1:
        fewer = current.with_events(current.events[:index] + current.events[index + 1 :])
        if check(runner.run(fewer)):
            current = fewer
        index -= 1
    for name in sorted(current.files):
        if name.endswith(".py"):
            current = _reduce_file(runner, current, name, check)
    return current


def _reduce_file(runner: Runner, case: Case, name: str, check: Check) -> Case:
    try:
        tree = ast.parse(case.files[name])
    except SyntaxError:
        return case
    progress = True
    while progress:
        progress = False
        # last statement first: an edit moves only what comes after it in source order, so
        # the locations still to try stay right
        for path in reversed(_statement_paths(tree)):
            for edit in (_delete, _inline_if, _drop_decorators):
                candidate = edit(tree, path)
                if candidate is None:
                    continue
                files = dict(case.files)
                files[name] = _source(candidate)
                trial = case.with_files(files)
                if files[name] != case.files[name] and check(runner.run(trial)):
                    case, tree, progress = trial, candidate, True
                    break
    return case


Path = tuple[tuple[str, int], ...]


def _statement_paths(tree: ast.AST) -> list[Path]:
    """Every statement's location, in source order (parents before children)."""
    found: list[Path] = []

    def visit(node: ast.AST, prefix: Path) -> None:
        for field_name in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field_name, None)
            if not isinstance(children, list):
                continue
            for index, child in enumerate(children):
                path = (*prefix, (field_name, index))
                if isinstance(child, ast.stmt):
                    found.append(path)
                visit(child, path)

    visit(tree, ())
    return found


def _locate(tree: ast.AST, path: Path) -> tuple[Any, str, int]:
    node: Any = tree
    for field_name, index in path[:-1]:
        node = getattr(node, field_name)[index]
    field_name, index = path[-1]
    return node, field_name, index


def _delete(tree: ast.AST, path: Path) -> ast.AST | None:
    candidate = copy.deepcopy(tree)
    parent, field_name, index = _locate(candidate, path)
    body = getattr(parent, field_name)
    del body[index]
    if not body and field_name in ("body", "handlers") and not isinstance(parent, ast.Module):
        if field_name == "handlers":
            return None
        body.append(ast.Pass())
    return candidate


def _inline_if(tree: ast.AST, path: Path) -> ast.AST | None:
    candidate = copy.deepcopy(tree)
    parent, field_name, index = _locate(candidate, path)
    body = getattr(parent, field_name)
    node = body[index]
    if not isinstance(node, ast.If):
        return None
    body[index : index + 1] = node.body
    return candidate


def _drop_decorators(tree: ast.AST, path: Path) -> ast.AST | None:
    candidate = copy.deepcopy(tree)
    parent, field_name, index = _locate(candidate, path)
    node = getattr(parent, field_name)[index]
    kept = [d for d in getattr(node, "decorator_list", []) if _is_handler_decorator(d)]
    if len(kept) == len(getattr(node, "decorator_list", [])):
        return None
    node.decorator_list = kept
    return candidate


def _is_handler_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Name) and target.id == "handler"


def _source(tree: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
