"""One set of rules for what in a function's tree is the project's code (``lambdascope._layout``):
the guard watches the modules ``lambdascope check`` reads as the project's, and neither takes a
test module, a module under ``tests/``, a library vendored without its dist-info or a module in
an environment's folder for the user's code.
"""

from __future__ import annotations

import importlib
import os
import textwrap
from typing import TYPE_CHECKING

import lambdascope
from lambdascope.check._project import discover, is_test_file
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from conftest import HandlerDir

FILES = {
    "app/__init__.py": "",
    "app/handler.py": """
        from lambdascope import handler

        import pika
        from app.routes import orders
        from app.tests import fixtures
        from env.lib import tool

        @handler(watch_tmp=False)
        def lambda_handler(event, context):
            return orders.create(event) + pika.VERSION + fixtures.SAMPLE + tool.RUNS
        """,
    "app/routes/__init__.py": "",
    "app/routes/orders.py": """
        RECENT = []

        def create(event):
            return len(RECENT)
        """,
    "app/tests/__init__.py": "",
    "app/tests/fixtures.py": "SAMPLE = 1\n",
    # a library vendored without its dist-info (left beside the code by a copy, not pip)
    "pika/__init__.py": "VERSION = 6\nSEEN = []\n",
    # a virtual environment inside the tree, importable by accident
    "env/pyvenv.cfg": "home = /usr/bin\n",
    "env/__init__.py": "",
    "env/lib/__init__.py": "",
    "env/lib/tool.py": "RUNS = 0\n",
}

OWN = ["app/__init__.py", "app/handler.py", "app/routes/__init__.py", "app/routes/orders.py"]


def test_the_guard_watches_what_the_checker_reads_as_the_project(
    handler_dir: HandlerDir,
) -> None:
    for relative, text in FILES.items():
        path = handler_dir.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    app = importlib.import_module("app.handler")
    assert app.lambda_handler({}, LambdaContext()) == 7

    guarded = lambdascope.guarded_modules(app.lambda_handler)
    files = sorted(
        os.path.relpath(module.file, handler_dir.path).replace(os.sep, "/") for module in guarded
    )
    assert files == OWN

    found = discover([str(handler_dir.path)])
    read = sorted(
        os.path.relpath(path, handler_dir.path).replace(os.sep, "/") for path in found.sources
    )
    project = [path for path in read if not is_test_file(path)]
    assert project == OWN
    assert "pika/__init__.py" not in read  # vendored: neither reads it
    assert "env/lib/tool.py" not in read  # an environment's folder
