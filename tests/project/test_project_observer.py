"""The guard is a pure observer (issue 27, section 4): its snapshot, comparison and restore
never run a method the project wrote, and project subclasses of every stdlib container are
watched like the builtin ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from project_support import handler_project

from lambdascope import ScopeLeakError

if TYPE_CHECKING:
    from project_support import ProjectMaker

CONTAINERS = """
    class CountingList(list):
        calls = []

        def __len__(self):
            CountingList.calls.append("len")
            return list.__len__(self)

        def __iter__(self):  # a sorted view of what is stored
            CountingList.calls.append("iter")
            return iter(sorted(list.__iter__(self)))

        def __eq__(self, other):
            CountingList.calls.append("eq")
            return list.__eq__(self, other)

        __hash__ = None


    class LoudDict(dict):
        calls = []

        def keys(self):
            LoudDict.calls.append("keys")
            return dict.keys(self)

        def __iter__(self):
            LoudDict.calls.append("iter")
            return dict.__iter__(self)

        def values(self):
            LoudDict.calls.append("values")
            return dict.values(self)

        def items(self):
            LoudDict.calls.append("items")
            return dict.items(self)

        def __len__(self):
            LoudDict.calls.append("len")
            return dict.__len__(self)


    class Caching(type):
        def __getattr__(cls, name):  # every lookup it cannot answer is cached on the class
            value = f"computed {name}"
            setattr(cls, name, value)
            return value


    class Settings(metaclass=Caching):
        region = "eu-west-1"


    class Config:
        def __getattr__(self, name):  # asked for what the instance does not have
            Config.asked.append(name)
            raise AttributeError(name)

        asked = []


    SETTINGS = Settings()
    NUMBERS = CountingList([3, 1, 2])
    TABLE = LoudDict(a=1, b=2)
    CONFIG = Config()
"""


# the recorders of who called what are the test's, not the function's state
RECORDERS = ("app.data.CountingList", "app.data.LoudDict", "app.data.Config")


def _project(make_project: ProjectMaker, body: str) -> Any:
    return handler_project(
        make_project,
        {"app/data.py": CONTAINERS},
        body,
        "from app.data import CONFIG, NUMBERS, SETTINGS, TABLE, Settings",
        decorator=f"@handler(allow={RECORDERS!r})",
    )[1]


def test_reads_through_overridden_dunders_run_only_the_handlers_calls(
    make_project: ProjectMaker,
) -> None:
    lambda_handler = _project(
        make_project,
        """
                    return [len(NUMBERS), list(NUMBERS), sorted(TABLE), Settings.region]
        """,
    )
    from app import data

    def calls(function: object) -> tuple[list[str], list[str]]:
        data.CountingList.calls.clear()
        data.LoudDict.calls.clear()
        assert function({}, None) == [3, [1, 2, 3], ["a", "b"], "eu-west-1"]  # type: ignore[operator]
        return list(data.CountingList.calls), list(data.LoudDict.calls)

    own = calls(lambda_handler.__wrapped__)  # type: ignore[attr-defined]
    assert own[0]
    assert own[1]
    for _ in range(3):  # exactly what the handler's own code asks for, nothing the guard asks
        assert calls(lambda_handler) == own
    assert data.Config.asked == []


def test_a_restore_puts_back_what_was_stored_not_what_an_override_shows(
    make_project: ProjectMaker,
) -> None:
    lambda_handler = _project(
        make_project,
        """
                    NUMBERS.append(event["n"])
                    TABLE["seen"] = event["n"]
                    return "ok"
        """,
    )
    from app import data

    with pytest.raises(ScopeLeakError, match=r"`NUMBERS`"):
        lambda_handler({"n": 7}, None)
    assert list.copy(data.NUMBERS) == [3, 1, 2]  # as stored, not the sorted view
    assert dict(dict.items(data.TABLE)) == {"a": 1, "b": 2}


def test_a_metaclass_that_caches_lookups_gains_nothing_from_the_guard(
    make_project: ProjectMaker,
) -> None:
    lambda_handler = _project(
        make_project,
        """
                    return SETTINGS.region
        """,
    )
    from app import data

    before = set(vars(data.Settings))
    assert [lambda_handler({}, None) for _ in range(2)] == ["eu-west-1"] * 2
    assert set(vars(data.Settings)) == before


SUBCLASSES = """
    import array
    import types
    from collections import Counter, OrderedDict, UserDict, UserList, defaultdict, deque


    class Recent(deque):
        pass


    class Tally(Counter):
        pass


    class Ordered(OrderedDict):
        pass


    class Groups(defaultdict):
        pass


    class Bag(types.SimpleNamespace):
        pass


    class Samples(array.array):
        pass


    class Registry(UserDict):
        pass


    class Log(UserList):
        pass


    RECENT = Recent(["a"])
    TALLY = Tally(a=1)
    ORDERED = Ordered(a=1)
    GROUPS = Groups(list)
    BAG = Bag(a=1)
    SAMPLES = Samples("i", [1, 2])
    REGISTRY = Registry(a=1)
    LOG = Log(["a"])
"""

WRITES = [
    ("RECENT", "RECENT.append(event['v'])"),
    ("TALLY", "TALLY[event['v']] += 1"),
    ("ORDERED", "ORDERED.move_to_end('a', last=False) or ORDERED.update(b=event['v'])"),
    ("GROUPS", "GROUPS['g'].append(event['v'])"),
    ("BAG", "setattr(BAG, 'user', event['v'])"),
    ("SAMPLES", "SAMPLES.append(9)"),
    ("REGISTRY", "REGISTRY.update(b=event['v'])"),
    ("LOG", "LOG.append(event['v'])"),
]


@pytest.mark.parametrize(("name", "write"), WRITES, ids=[name for name, _ in WRITES])
def test_project_subclasses_of_stdlib_containers_are_watched(
    make_project: ProjectMaker, name: str, write: str
) -> None:
    project, lambda_handler = handler_project(
        make_project,
        {"app/data.py": SUBCLASSES},
        f'{write}\nreturn "ok"',
        "from app.data import *  # noqa: F403",
    )
    data = project.loaded()["app.data"]
    before = repr(getattr(data, name))
    with pytest.raises(ScopeLeakError, match=rf"`{name}"):
        lambda_handler({"v": "x"}, None)
    assert repr(getattr(data, name)) == before
