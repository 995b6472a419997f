"""`import lambdascope` must stay cheap: it is on every cold start of every user."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lambdascope

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {
    "asyncio",
    "boto3",
    "botocore",
    "inspect",
    "logging",
    "typing",
    "typing_extensions",
    "wrapt",
}


def test_import_pulls_in_no_heavy_module() -> None:
    # -S: no site, so nothing but lambdascope's own imports are measured.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); before = set(sys.modules); "
        "import lambdascope; loaded = sorted(set(sys.modules) - before); "
        "import json; print(json.dumps(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, str(ROOT)], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "lambdascope" in loaded
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_public_names_are_sorted_documented_and_rehomed() -> None:
    names = lambdascope.__all__
    assert names == sorted(names)
    for name in names:
        obj = getattr(lambdascope, name)
        assert obj.__doc__, name
        assert getattr(obj, "__module__", None) == "lambdascope", name
    assert repr(lambdascope.handler).startswith("<function handler")
    assert lambdascope.handler.__module__ == "lambdascope"


def test_the_tooling_modules_document_every_public_name() -> None:
    import lambdascope.aws
    import lambdascope.check
    import lambdascope.cli
    import lambdascope.testing

    for module in (lambdascope.testing, lambdascope.aws, lambdascope.check, lambdascope.cli):
        assert module.__doc__
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj):  # classes and functions; RULES is a documented constant
                assert obj.__doc__, f"{module.__name__}.{name}"
                assert obj.__doc__ != type.__doc__, f"{module.__name__}.{name}"
