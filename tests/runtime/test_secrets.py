"""No secret reaches a log line, a repr, an error message or a report.

Every test searches *all* the output it can collect (stdout, stderr, log records, warnings,
reprs, records, reports) for the secret values themselves.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import traceback
import warnings
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

import lambdascope
from lambdascope import aws as lsaws
from lambdascope import handler
from lambdascope.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import HandlerDir

ACCESS_KEY = "AKIAZZSECRETACCESSID"
SECRET_KEY = "wJalrXUtnFEMI-K7MDENG-secretKEYvalue0001"
SESSION_TOKEN = "FwoGZXIvYXdzSESSIONtokenSECRETvalue0002"
PROXY_PASSWORD = "proxyPa55wordSECRET0003"
SECRETS = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, PROXY_PASSWORD)

CLIENT_CALL = f"""
lsaws.client(
    "s3",
    region_name="eu-west-1",
    aws_access_key_id={ACCESS_KEY!r},
    aws_secret_access_key={SECRET_KEY!r},
    aws_session_token={SESSION_TOKEN!r},
    endpoint_url="https://deploy:{PROXY_PASSWORD}@s3.example.com/base",
    config=Config(
        connect_timeout=2,
        proxies={{"https": "http://proxyuser:{PROXY_PASSWORD}@proxy.local:3128"}},
    ),
)
"""


def assert_no_secret(*outputs: object) -> None:
    text = "\n".join(str(o) for o in outputs)
    for secret in SECRETS:
        assert secret not in text, f"a secret leaked: ...{secret[-6:]}"


@pytest.fixture(autouse=True)
def _aws(aws_credentials: None) -> Iterator[None]:
    lsaws.clear_caches()
    with mock_aws():
        yield
    lsaws.clear_caches()


def test_client_credentials_never_reach_names_records_reports_or_logs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    namespace: dict[str, Any] = {"lsaws": lsaws, "Config": Config}

    @handler
    def lambda_handler(event: object, context: object) -> str:
        s3 = eval(CLIENT_CALL, namespace)  # the user's call, written once above
        return str(s3.meta.region_name)

    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert lambda_handler({}, None) == "eu-west-1"  # the cold start writes the report
        assert lambda_handler({}, None) == "eu-west-1"
    out = capsys.readouterr()
    records = lambdascope.resource_records()
    (record,) = [r for r in records if "client('s3'" in r.name]
    report = lambdascope.init_report()
    assert_no_secret(
        out.out,
        out.err,
        caplog.text,
        [str(w.message) for w in caught],
        [repr(r) for r in records],
        [r.as_dict() for r in records],
        json.dumps(report, default=str),
    )
    # the name still tells which client it is, and that credentials were given
    assert record.name == (
        "lambdascope.aws.client('s3', aws_access_key_id='***', aws_secret_access_key='***', "
        "aws_session_token='***', config=Config(connect_timeout=2, proxies={'https': "
        "'http://***@proxy.local:3128'}), endpoint_url='https://***@s3.example.com/base', "
        "region_name='eu-west-1')"
    )
    assert record.name in out.out  # the cold-start report line names it


def test_an_error_from_boto3_that_quotes_an_argument_is_masked() -> None:
    endpoint = f"https://deploy:{PROXY_PASSWORD}@s3 example.com"  # invalid: a space
    with pytest.raises(ValueError, match="Invalid endpoint") as caught:
        lsaws.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    error = caught.value
    assert str(error) == "Invalid endpoint: https://***@s3 example.com"
    assert error.__context__ is None
    assert error.__cause__ is None
    records = lambdascope.resource_records()
    assert_no_secret(
        "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        [repr(r) for r in records],
        [r.error for r in records],
    )
    # errors that quote no secret propagate unchanged
    with pytest.raises(ValueError, match=r"Invalid endpoint: https://s3 example\.com"):
        lsaws.client("s3", region_name="us-east-1", endpoint_url="https://s3 example.com")


def test_objects_of_unknown_type_are_named_by_type_only() -> None:
    class Credentials:
        def __repr__(self) -> str:
            return f"Credentials({SECRET_KEY})"

    # an object without value equality: cached per object, shown by its type
    lsaws.client("sqs", region_name="us-east-1", api_version=None, verify=Credentials())
    names = [r.name for r in lambdascope.resource_records()]
    assert "lambdascope.aws.client('sqs', api_version=None, region_name='us-east-1', " in names[-1]
    assert names[-1].endswith("verify=<Credentials>)")
    assert_no_secret(names)


HANDLER = f"""
from botocore.config import Config
from lambdascope import handler
from lambdascope import aws as lsaws


@handler
def lambda_handler(event, context):
    s3 = {textwrap.indent(CLIENT_CALL.strip(), "    ").strip()}
    return s3.meta.region_name
"""


def test_lambdascope_invoke_output_has_no_secret(
    handler_dir: HandlerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    handler_dir.write("app", HANDLER)
    outputs = []
    for extra in ([], ["--json"]):
        assert main(["invoke", "app:lambda_handler", "--times", "2", *extra]) == 0
        out = capsys.readouterr()
        outputs += [out.out, out.err]
    assert "aws_secret_access_key='***'" in outputs[0]  # created in invocation 1, listed
    assert_no_secret(*outputs)


def test_lambdascope_invoke_under_awslambdaric_has_no_secret(handler_dir: HandlerDir) -> None:
    pytest.importorskip("awslambdaric")
    handler_dir.write("app", HANDLER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA")}
    command = ["invoke", "app:lambda_handler", "--times=2", "--runtime=awslambdaric"]
    done = subprocess.run(
        [sys.executable, "-m", "lambdascope", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=handler_dir.path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "aws_secret_access_key='***'" in done.stdout
    assert_no_secret(done.stdout, done.stderr)


def test_a_value_that_fails_its_transform_is_not_in_the_error() -> None:
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="prod/db", SecretString=f"password={SECRET_KEY}")  # not JSON
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/prod/key", Value=f"{SESSION_TOKEN}!", Type="SecureString")
    errors = []
    for fetch in (
        lambda: lsaws.get_secret("prod/db", transform="json"),
        lambda: lsaws.get_parameter("/prod/key", transform="json"),
        lambda: lsaws.get_parameter("/prod/key", transform="binary"),
        lambda: lsaws.get_parameters_by_path("/prod", transform="json"),
    ):
        with pytest.raises(ValueError, match="needs a") as caught:
            fetch()
        errors.append(caught.value)
    texts = ["".join(traceback.format_exception(type(e), e, e.__traceback__)) for e in errors]
    assert "prod/db: transform='json' needs a JSON value" in texts[0]
    assert_no_secret(
        texts,
        [repr(e) for e in errors],
        [repr(vars(e)) for e in errors],  # e.g. JSONDecodeError keeps the whole document
        [repr(e.__cause__) + repr(e.__context__) for e in errors],
    )
