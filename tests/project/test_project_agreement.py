"""The guard and ``lambdascope check`` on the same code: the 21-module project with a leak
planted in every module, and the writes across modules. The guard catches every one at run
time (tests/project/test_project_modules.py); the checker reports the same variable
statically, including a method of an instance handed out by a registry dict
(``repository_for(kind).save()``) and a helper writing the dict it is given
(``merge_into(config.FLAGS, ...)``). Neither reports anything on the clean project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from test_project_modules import CROSS_MODULE_LEAKS, MODULE_LEAKS

from lambdascope.check import check_paths

if TYPE_CHECKING:
    from project_support import ProjectMaker

LEAKS = {leak.id: leak for leak in [*MODULE_LEAKS, *CROSS_MODULE_LEAKS]}


def _state_findings(root: str) -> list[str]:
    return [str(f) for f in check_paths([root]) if f.code.startswith("LS1")]


def test_the_clean_project_has_no_finding(make_project: ProjectMaker) -> None:
    project = make_project("shop", leaks=())
    assert _state_findings(str(project.root)) == []


@pytest.mark.parametrize("leak_id", list(LEAKS))
def test_the_checker_reports_the_leak_the_guard_catches(
    make_project: ProjectMaker, leak_id: str
) -> None:
    leak = LEAKS[leak_id]
    project = make_project("shop", leaks=(leak.id,))
    found = _state_findings(str(project.root))
    assert any(leak.variable in line for line in found), found
