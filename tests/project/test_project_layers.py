"""Code in a Lambda layer is the function's code too. Off Lambda, as ``sam build`` and a
local test lay a serverless project out (the function's code folder on ``sys.path``, each
layer's ``python`` folder too, ``template.yaml`` above them), the layers' modules are
guarded; so, on Lambda, are the modules under ``/opt/python`` whichever module applies
``handler()``: a test or a driver outside the task root included.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope import ScopeLeakError
from lambdascope._guard import _project
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import HandlerDir

APP = """
from lambdascope import handler

from common import db


def lambda_handler(event, context):
    return db.remember(event["id"])


guarded = handler(lambda_handler, watch_tmp=False)
"""

LAYER = """
SEEN = []


def remember(value):
    SEEN.append(value)
    return len(SEEN)
"""


def _tree(top: Path, *, marker: bool) -> tuple[Path, Path]:
    code = top / "src" / "orders"
    layer = top / "layers" / "common" / "python"
    (layer / "common").mkdir(parents=True)
    code.mkdir(parents=True)
    (code / "app.py").write_text(textwrap.dedent(APP))
    (layer / "common" / "__init__.py").write_text("")
    (layer / "common" / "db.py").write_text(textwrap.dedent(LAYER))
    if marker:
        (top / "template.yaml").write_text("Transform: AWS::Serverless-2016-10-31\n")
    return code, layer


@pytest.mark.parametrize("marker", [True, False])
def test_a_layer_of_the_same_project_on_sys_path_is_guarded(
    handler_dir: HandlerDir, marker: bool
) -> None:
    code, layer = _tree(handler_dir.path / "service", marker=marker)
    sys.path[:0] = [str(code), str(layer)]
    app = importlib.import_module("app")
    names = [module.name for module in lambdascope.guarded_modules(app.guarded)]
    if not marker:  # nothing says the layer folder belongs to this project
        assert names == ["app"]
        return
    assert names == ["app", "common", "common.db"]
    with pytest.raises(ScopeLeakError, match="SEEN"):
        app.guarded({"id": 1}, LambdaContext())
    assert sys.modules["common.db"].SEEN == []


def test_on_lambda_the_layers_are_guarded_when_a_driver_applies_handler(
    handler_dir: HandlerDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = handler_dir.path / "task"
    opt = tmp_path / "opt" / "python"
    (opt / "common").mkdir(parents=True)
    task.mkdir()
    (task / "app.py").write_text(
        "from common import db\n\n\n"
        "def lambda_handler(event, context):\n    return db.remember(event['id'])\n"
    )
    (opt / "common" / "__init__.py").write_text("")
    (opt / "common" / "db.py").write_text(textwrap.dedent(LAYER))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(task))
    monkeypatch.setattr(_project, "LAYER_ROOT", str(opt))
    sys.path[:0] = [str(task), str(opt)]
    app = importlib.import_module("app")
    wrapped = lambdascope.handler(app.lambda_handler, watch_tmp=False)  # applied here, a test
    names = [module.name for module in lambdascope.guarded_modules(wrapped)]
    assert names == ["app", "common", "common.db"]
    with pytest.raises(ScopeLeakError, match="SEEN"):
        wrapped({"id": 1}, LambdaContext())
