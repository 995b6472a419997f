"""The guard and ``lambdascope check`` on the same code: the 21-module project with a leak
planted in every module, and the writes across modules. The guard catches every one at run
time (tests/project/test_project_modules.py); the checker must report the same variable
statically, or the case is listed below with what the checker does not follow (a strict
``xfail``: when the checker learns it, the list must shrink). Neither reports anything on the
clean project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from test_project_modules import CROSS_MODULE_LEAKS, MODULE_LEAKS

from lambdascope.check import check_paths

if TYPE_CHECKING:
    from project_support import ProjectMaker

LEAKS = {leak.id: leak for leak in [*MODULE_LEAKS, *CROSS_MODULE_LEAKS]}

# What the checker does not follow yet, by case.
NOT_FOLLOWED = {
    "base-deque": "a method of an instance taken from a registry dict (repository_for(...))",
    "repository-cross-module": "the same registry, then a write through another module",
    "notify-helper-argument": "a helper writing what it is given (another module's dict)",
}


def _state_findings(root: str) -> list[str]:
    return [str(f) for f in check_paths([root]) if f.code.startswith("LS1")]


def test_the_clean_project_has_no_finding(make_project: ProjectMaker) -> None:
    project = make_project("shop", leaks=())
    assert _state_findings(str(project.root)) == []


@pytest.mark.parametrize(
    "leak_id",
    [
        pytest.param(
            leak_id,
            marks=pytest.mark.xfail(strict=True, reason=NOT_FOLLOWED[leak_id])
            if leak_id in NOT_FOLLOWED
            else (),
        )
        for leak_id in LEAKS
    ],
)
def test_the_checker_reports_the_leak_the_guard_catches(
    make_project: ProjectMaker, leak_id: str
) -> None:
    leak = LEAKS[leak_id]
    project = make_project("shop", leaks=(leak.id,))
    found = _state_findings(str(project.root))
    assert any(leak.variable in line for line in found), found
