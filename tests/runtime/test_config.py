"""One rule for every LAMBDASCOPE_* environment variable: a value lambdascope does not know is
one ConfigurationError (a variable that decides what an invocation does) or one
ConfigurationWarning (where failing would be worse: the default applies), naming the variable
and the values it accepts. An unknown LAMBDASCOPE_* name is warned about too."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import lambdascope
from lambdascope import ConfigurationError, ConfigurationWarning, LambdascopeError, handler
from lambdascope.cli import main

if TYPE_CHECKING:
    from conftest import HandlerDir

ROOT = Path(__file__).resolve().parents[2]


def leaky() -> object:
    """A handler that keeps no state (test modules are not guarded)."""

    def lambda_handler(event: object, context: object) -> object:
        return event

    return lambda_handler


LEAKY = """
seen = []


def lambda_handler(event, context):
    seen.append(event)
    return len(seen)
"""


def leaky_module(handler_dir: HandlerDir) -> object:
    """An undecorated handler of a guarded module that leaks each event."""
    import importlib

    handler_dir.write("app", LEAKY)
    return importlib.import_module("app").lambda_handler


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LAMBDASCOPE_"):
            monkeypatch.delenv(name)


# -- the variables that decide what an invocation does: an error --------------------------


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        (
            "LAMBDASCOPE_GUARD",
            "loud",
            "environment variable LAMBDASCOPE_GUARD='loud' is not a guard mode. Set it to one "
            "of 'raise', 'warn' or 'off' (or unset it for the default 'raise').",
        ),
        (
            "LAMBDASCOPE_WATCH_TMP",
            "sometimes",
            "environment variable LAMBDASCOPE_WATCH_TMP='sometimes' is not a switch: set it to "
            "'on' or 'off' (also 1/0, true/false, yes/no), or unset it for the default (on).",
        ),
    ],
)
def test_a_value_that_decides_the_invocation_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as info:
        handler(leaky())
    assert str(info.value) == words
    assert isinstance(info.value, LambdascopeError)
    assert isinstance(info.value, ValueError)  # what these raised before


def test_values_are_read_without_case_or_spaces(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_GUARD", " Warn ")
    monkeypatch.setenv("LAMBDASCOPE_WATCH_TMP", "OFF")
    with pytest.warns(lambdascope.ScopeLeakWarning):
        assert handler(leaky_module(handler_dir))("a", None) == 1


# -- the others: one warning, and the default ------------------------------------------------


def test_an_unknown_cold_start_report_value_warns_and_the_report_stays_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_COLD_START_REPORT", "disabled")
    with pytest.warns(ConfigurationWarning) as caught:
        wrapped = handler(guard="off")(leaky())
    (warning,) = caught
    assert str(warning.message) == (
        "environment variable LAMBDASCOPE_COLD_START_REPORT='disabled' is not a switch: set it "
        "to 'on' or 'off' (also 1/0, true/false, yes/no), or unset it for the default (on); "
        "the default applies."
    )
    assert warning.filename == __file__  # where @handler was applied, not lambdascope
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per variable and value
        wrapped("a", None)
        handler(guard="off")(leaky())
    assert '"message": "lambdascope cold start report"' in capsys.readouterr().out
    monkeypatch.setenv("LAMBDASCOPE_COLD_START_REPORT", "off")
    lambdascope.testing.new_environment()
    handler(guard="off")(leaky())("a", None)
    assert capsys.readouterr().out == ""


def test_an_unknown_leak_metrics_value_warns_and_no_metric_is_written(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lambdascope.configure(cold_start_report=False)
    monkeypatch.setenv("LAMBDASCOPE_LEAK_METRICS", "enabled")
    with pytest.warns(ConfigurationWarning, match=r"LAMBDASCOPE_LEAK_METRICS='enabled' is not"):
        wrapped = handler(guard="warn", watch_tmp=False)(leaky_module(handler_dir))
    with pytest.warns(lambdascope.ScopeLeakWarning):
        wrapped("a", None)
    out = capsys.readouterr().out
    assert '"message": "lambdascope scope leak"' in out
    assert '"_aws"' not in out


@pytest.mark.parametrize("value", ["AWS/Lambda", "shop metrics!", "x" * 256])
def test_a_namespace_cloudwatch_would_refuse_warns_and_the_default_is_used(
    handler_dir: HandlerDir,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    lambdascope.configure(cold_start_report=False)
    monkeypatch.setenv("LAMBDASCOPE_LEAK_METRICS", "on")
    monkeypatch.setenv("LAMBDASCOPE_METRICS_NAMESPACE", value)
    with pytest.warns(ConfigurationWarning, match=r"LAMBDASCOPE_METRICS_NAMESPACE=.* is not a "):
        wrapped = handler(guard="warn", watch_tmp=False)(leaky_module(handler_dir))
    with pytest.warns(lambdascope.ScopeLeakWarning):
        wrapped("a", None)
    (metric,) = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "lambdascope"


def test_an_unknown_warn_clients_value_warns_and_the_warning_stays_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_WARN_CLIENTS", "quiet")
    with pytest.warns(ConfigurationWarning, match=r"LAMBDASCOPE_WARN_CLIENTS='quiet' is not a"):
        handler(guard="off")(leaky())
    from lambdascope.aws import install_client_warning

    assert install_client_warning()


def test_a_relative_private_tmpdir_warns_and_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDASCOPE_PRIVATE_TMPDIR", "tmp/mine")
    with pytest.warns(ConfigurationWarning) as caught:
        handler(guard="off")(leaky())
    assert "LAMBDASCOPE_PRIVATE_TMPDIR='tmp/mine' is not an absolute path" in str(caught[0].message)


def test_an_unknown_check_python_warns_and_check_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app.py").write_text("def lambda_handler(event, context)\n    return 1\n")
    monkeypatch.setenv("LAMBDASCOPE_CHECK_PYTHON", str(tmp_path / "python9"))
    with pytest.warns(ConfigurationWarning, match=r"LAMBDASCOPE_CHECK_PYTHON=.* is not an"):
        main(["check", str(tmp_path / "app.py")])
    assert "syntax error" in capsys.readouterr().out


def test_a_malformed_handler_setting_names_the_variable(
    handler_dir: HandlerDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import sys

    monkeypatch.setenv("LAMBDASCOPE_HANDLER", "app")
    monkeypatch.delitem(sys.modules, "lambdascope.redirect", raising=False)
    # not under the runtime client (an earlier test may have imported it): a plain ImportError
    monkeypatch.delitem(sys.modules, "awslambdaric.lambda_runtime_exception", raising=False)
    with pytest.raises(ImportError, match=r"Bad handler 'app' in LAMBDASCOPE_HANDLER: write it"):
        importlib.import_module("lambdascope.redirect")


def test_an_unknown_lambdascope_name_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDASCOPE_GAURD", "warn")
    with pytest.warns(ConfigurationWarning) as caught:
        handler(leaky())
    message = str(caught[0].message)
    assert message.startswith(
        "environment variable LAMBDASCOPE_GAURD is not one lambdascope reads; it is ignored. "
        "Did you mean LAMBDASCOPE_GUARD?"
    )


def test_every_variable_the_code_reads_is_tested_here() -> None:
    """A new LAMBDASCOPE_* variable must get its test in this file (and in VARIABLES)."""
    from lambdascope._config import VARIABLES

    read = set()
    for path in (ROOT / "lambdascope").rglob("*"):
        if path.suffix == ".py" or path.name == "exec-wrapper":
            read.update(re.findall(r"LAMBDASCOPE_[A-Z_]*[A-Z]", path.read_text()))
    tested = set(re.findall(r"LAMBDASCOPE_[A-Z_]*[A-Z]", Path(__file__).read_text()))
    assert read == set(VARIABLES)
    assert read <= tested
