"""State behind functions is state (issue 27, section 4): attributes and defaults of the
project's functions, what a bound method or a partial holds, a decorator's closure from
another module, the stdlib's data holders. Each shape is written by the handler and must be
reported, named and undone; the same shape only read runs clean."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from project_support import handler_project

from lambdascope import ScopeLeakError

if TYPE_CHECKING:
    from project_support import ProjectMaker

# (id, module app/state.py, the handler's body, the variable the message names)
SHAPES = [
    (
        "function-attribute-list",
        "def helper(v):\n    return v\n\nhelper.seen = []\n",
        "state.helper.seen.append(event['v'])",
        "helper",
    ),
    (
        "function-attribute-counter",
        "def helper(v):\n    return v\n\nhelper.calls = 0\n",
        "state.helper.calls += 1",
        "helper",
    ),
    (
        "function-dict",
        "def helper(v):\n    return v\n",
        "state.helper.__dict__['last'] = event['v']",
        "helper",
    ),
    (
        "defaults-replaced",
        "def greet(name, greeting='hi'):\n    return greeting + name\n",
        "state.greet.__defaults__ = (event['v'],)",
        "greet",
    ),
    (
        "cell-written-from-outside",
        "def make():\n    seen = None\n\n    def inner():\n        return seen\n\n"
        "    return inner\n\n\nINNER = make()\n",
        "state.INNER.__closure__[0].cell_contents = event['v']",
        "INNER",
    ),
    (
        "default-of-a-function-in-a-table",
        "ROUTES = {'add': lambda v, acc=[]: acc.append(v) or len(acc)}\n",
        "state.ROUTES['add'](event['v'])",
        "acc",
    ),
    (
        "function-returning-its-default",
        "def cache(store={}):\n    return store\n",
        "state.cache()[event['v']] = 1",
        "store",
    ),
    (
        "bound-method-of-a-list",
        "record = [].append\n",
        "state.record(event['v'])",
        "record",
    ),
    (
        "bound-method-of-an-instance",
        "class Log:\n    def __init__(self):\n        self.lines = []\n\n"
        "    def add(self, line):\n        self.lines.append(line)\n\n\nadd_line = Log().add\n",
        "state.add_line(event['v'])",
        "add_line",
    ),
    (
        "partial",
        "import functools\n\n\nclass Outbox:\n    def __init__(self):\n        self.sent = []\n\n"
        "    def send(self, message):\n        self.sent.append(message)\n\n\n"
        "notify = functools.partial(Outbox.send, Outbox())\n",
        "state.notify(event['v'])",
        "notify",
    ),
    (
        "chainmap",
        "from collections import ChainMap\n\nSETTINGS = ChainMap({}, {'region': 'eu'})\n",
        "state.SETTINGS['user'] = event['v']",
        "SETTINGS",
    ),
    (
        "queue",
        "import queue\n\nPENDING = queue.Queue()\n",
        "state.PENDING.put(event['v'])",
        "PENDING",
    ),
]


def _project(make_project: ProjectMaker, state: str, body: str) -> Any:
    return handler_project(
        make_project, {"app/state.py": state}, f'{body}\nreturn "ok"', "from app import state"
    )[1]


@pytest.mark.parametrize(
    ("state", "body", "variable"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES]
)
def test_state_behind_a_function_or_holder_is_reported_and_undone(
    make_project: ProjectMaker, state: str, body: str, variable: str
) -> None:
    lambda_handler = _project(make_project, state, body)
    import app.state as module

    before = _state_of(module)
    with pytest.raises(ScopeLeakError, match=rf"`[^`]*{variable}"):
        lambda_handler({"v": "x"}, None)  # type: ignore[operator]
    assert _state_of(module) == before


def _state_of(module: object) -> str:
    """Everything the shapes keep, as text: function attributes, defaults, cells, holders."""
    import functools
    import queue
    import types

    parts = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("__"):
            continue
        if isinstance(value, types.FunctionType):
            cells = [c.cell_contents for c in value.__closure__ or ()]
            parts.append(f"{name}: {value.__dict__} {value.__defaults__} {cells}")
        elif isinstance(value, dict):
            parts.append(f"{name}: {[(k, f.__defaults__) for k, f in value.items()]}")
        elif isinstance(value, types.BuiltinMethodType):
            parts.append(f"{name}: {value.__self__}")
        elif isinstance(value, types.MethodType):
            parts.append(f"{name}: {vars(value.__self__)}")
        elif isinstance(value, functools.partial):
            parts.append(f"{name}: {[vars(a) for a in value.args]}")
        elif isinstance(value, queue.Queue):
            parts.append(f"{name}: {list(value.queue)}")
        else:
            parts.append(f"{name}: {value!r}")
    return "\n".join(parts)


def test_a_decorator_of_another_module_keeps_its_closure_watched(
    make_project: ProjectMaker,
) -> None:
    tracing = """
        import functools


        def recorded(func):
            events = []

            @functools.wraps(func)
            def wrapper(event, context):
                events.append(event)
                return func(event, context)

            return wrapper
    """
    _, lambda_handler = handler_project(
        make_project,
        {"app/tracing.py": tracing},
        'return "ok"',
        "from app.tracing import recorded",
        decorator="@handler\n@recorded",
    )
    with pytest.raises(ScopeLeakError, match=r"`[^`]*events"):
        lambda_handler({"v": "x"}, None)
    with pytest.raises(ScopeLeakError):
        lambda_handler({"v": "y"}, None)  # still watched, and still empty before


READS = [
    (
        "function-attribute",
        "def helper(v):\n    return v\n\nhelper.seen = []\n",
        "len(state.helper.seen)",
    ),
    ("bound-method-read", "LINES = ['a']\ncount = LINES.count\n", "state.count('a')"),
    (
        "table-of-functions",
        "ROUTES = {'add': lambda v, acc=(): len(acc) + v}\n",
        "state.ROUTES['add'](1)",
    ),
    (
        "chainmap-read",
        "from collections import ChainMap\n\nSETTINGS = ChainMap({}, {'r': 'eu'})\n",
        "state.SETTINGS['r']",
    ),
]


@pytest.mark.parametrize(("state", "body"), [r[1:] for r in READS], ids=[r[0] for r in READS])
def test_the_same_shapes_only_read_run_clean(
    make_project: ProjectMaker, state: str, body: str
) -> None:
    lambda_handler = _project(make_project, state, body)
    assert [lambda_handler({}, None) for _ in range(3)] == ["ok"] * 3  # type: ignore[operator]
