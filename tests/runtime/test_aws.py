"""lambdascope.aws on moto: init-scope clients, and the warning for clients built per invocation."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
import weakref
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

import lambdascope
from lambdascope import aws as lsaws
from lambdascope import handler, init_resource
from lambdascope.aws import ClientInInvocationWarning

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _aws(monkeypatch: pytest.MonkeyPatch, aws_credentials: None) -> Iterator[None]:
    monkeypatch.setattr(lsaws, "_warned", set())
    monkeypatch.setattr(lsaws, "_cache", {})  # each test starts with no cached client
    monkeypatch.setattr(lsaws, "_sites", {})
    with mock_aws():
        yield


def test_clients_are_created_once_per_distinct_arguments() -> None:
    first = lsaws.client("s3", region_name="us-east-1")
    assert lsaws.client("s3", region_name="us-east-1") is first
    other = lsaws.client("s3", region_name="eu-west-1")
    assert other is not first
    assert other.meta.region_name == "eu-west-1"
    first.create_bucket(Bucket="orders-bucket")
    assert [b["Name"] for b in first.list_buckets()["Buckets"]] == ["orders-bucket"]
    names = [r.name for r in lambdascope.resource_records()]
    assert "lambdascope.aws.client('s3', region_name='us-east-1')" in names


def test_clients_use_the_lambda_config_and_user_config_is_merged() -> None:
    config = lsaws.client("sqs").meta.config
    assert config.tcp_keepalive is True
    assert config.connect_timeout == 5
    assert config.read_timeout == 30
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == 4  # botocore counts the first attempt too
    tuned = lsaws.client("sqs", config=Config(read_timeout=2)).meta.config
    assert tuned.read_timeout == 2
    assert tuned.tcp_keepalive is True
    assert lsaws.lambda_config(connect_timeout=1).connect_timeout == 1


def test_resources_and_reset() -> None:
    dynamodb = lsaws.resource("dynamodb")
    assert lsaws.resource("dynamodb") is dynamodb
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.Table("orders").put_item(Item={"id": "1"})
    lambdascope.reset_resources()
    again = lsaws.resource("dynamodb")
    assert again is not dynamodb
    assert again.Table("orders").get_item(Key={"id": "1"})["Item"] == {"id": "1"}


def test_concurrent_first_calls_create_one_client() -> None:
    barrier = threading.Barrier(8)
    seen: list[Any] = []

    def race() -> None:
        barrier.wait()
        seen.append(lsaws.client("sns", region_name="us-west-2"))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1


def s3_records() -> list[lambdascope.ResourceRecord]:
    return [
        r
        for r in lambdascope.resource_records()
        if r.name.startswith("lambdascope.aws.client('s3'")
    ]


def test_a_config_is_keyed_by_its_settings_not_by_the_object() -> None:
    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> Any:
        # a new Config object on every invocation, with the same settings
        return lsaws.client("s3", config=Config(read_timeout=7, retries={"max_attempts": 2}))

    with warnings.catch_warnings():
        warnings.simplefilter("error", lsaws.ClientCacheWarning)
        clients = [lambda_handler({}) for _ in range(20)]
    assert len({id(c) for c in clients}) == 1
    assert len(s3_records()) == 1
    assert clients[0].meta.config.read_timeout == 7
    assert lsaws.client("s3", config=Config(read_timeout=8)) is not clients[0]  # other settings
    assert s3_records()[-1].name == "lambdascope.aws.client('s3', config=Config(read_timeout=8))"


def test_a_site_whose_arguments_keep_changing_is_bounded_and_warned_once() -> None:
    hot = lsaws.client("dynamodb")  # Init: a well-behaved client

    @handler(guard="off")
    def lambda_handler(event: dict[str, str], context: object) -> Any:
        return lsaws.client(  # rotating credentials: new arguments on every invocation
            "s3", aws_access_key_id=event["key"], aws_secret_access_key=event["secret"]
        )

    refs: list[weakref.ref[Any]] = []

    def rotate() -> None:
        for i in range(lsaws.MAX_CACHED + 10):
            event = {"key": f"AKIAROTATING{i:04d}", "secret": f"rotating-secret-{i:04d}"}
            refs.append(weakref.ref(lambda_handler(event)))

    with pytest.warns(lsaws.ClientCacheWarning) as record:
        rotate()
    gc.collect()
    assert sum(ref() is not None for ref in refs) == lsaws.MAX_CACHED - 1  # + the hot one
    assert refs[-1]() is not None  # the newest stays; the site's oldest went first
    assert lsaws.client("dynamodb") is hot
    (warning,) = [w for w in record if issubclass(w.category, lsaws.ClientCacheWarning)]
    message = str(warning.message)
    assert warning.filename == __file__
    assert "lambdascope.aws.client('s3') at " in message
    assert "in 3 different invocations" in message
    assert "refreshable credentials" in message
    assert "rotating-secret" not in message
    assert "AKIAROTATING" not in message


def test_many_clients_made_in_one_invocation_and_then_reused_are_fine() -> None:
    regions = [f"region-{i}" for i in range(20)]

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> list[Any]:
        return [lsaws.client("s3", region_name=region) for region in regions]

    with warnings.catch_warnings():
        warnings.simplefilter("error", lsaws.ClientCacheWarning)
        first = lambda_handler({})
        for _ in range(5):
            assert lambda_handler({}) == first
    assert len(s3_records()) == 20


def test_a_service_name_is_required() -> None:
    with pytest.raises(TypeError, match="needs a service name"):
        lsaws.client("")
    with pytest.raises(TypeError, match="needs a service name"):
        lsaws.resource(3)  # type: ignore[arg-type]


def ours(record: pytest.WarningsRecorder) -> list[warnings.WarningMessage]:
    """The ClientInInvocationWarnings in record (boto3 itself warns on Python 3.9)."""
    return [w for w in record if issubclass(w.category, ClientInInvocationWarning)]


def test_a_client_built_in_the_handler_warns_once_per_call_site() -> None:
    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> None:
        boto3.client("s3", region_name="us-east-1")  # a client built per invocation
        boto3.client("sqs", region_name="us-east-1")  # another call site

    def three_invocations() -> None:
        for _ in range(3):
            lambda_handler({})

    with pytest.warns(ClientInInvocationWarning) as record:
        three_invocations()
    caught = ours(record)
    assert len(caught) == 2
    first_line = lambda_handler.__wrapped__.__code__.co_firstlineno  # type: ignore[attr-defined]
    assert {w.lineno for w in caught} == {first_line + 2, first_line + 3}  # after the decorator
    assert all(w.filename == __file__ for w in caught)
    assert "init_resource" in str(caught[0].message)


def test_sessions_are_reported_too() -> None:
    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> None:
        boto3.session.Session()

    with pytest.warns(ClientInInvocationWarning, match="boto3 session"):
        lambda_handler({})


def test_the_first_boto3_call_of_the_process_is_reported_as_what_it_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # boto3.client()/resource() create the default session first: the warning names the call.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> None:
        boto3.resource("s3", region_name="us-east-1")

    with pytest.warns(ClientInInvocationWarning) as record:
        lambda_handler({})
    assert [str(w.message).split(" was created")[0] for w in ours(record)] == ["a boto3 resource"]
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    @handler(guard="off")
    def other_handler(event: object, context: object) -> None:
        boto3.client("s3", region_name="us-east-1")

    with pytest.warns(ClientInInvocationWarning, match="a boto3 client was created"):
        other_handler({})


def test_no_warning_for_init_resources_aws_helpers_or_outside_invocations() -> None:
    @init_resource
    def s3() -> Any:
        return boto3.client("s3", region_name="us-east-1")

    @handler(guard="off")
    def lambda_handler(event: object, context: object) -> None:
        s3()
        lsaws.client("dynamodb")

    boto3.client("s3", region_name="us-east-1")  # Init: fine
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClientInInvocationWarning)
        lambda_handler({})
        lambda_handler({})


def run_fresh(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(env)
    full["LAMBDASCOPE_COLD_START_REPORT"] = "0"
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
        check=False,
    )


HANDLER_SCRIPT = """
    import sys
    import lambdascope

    @lambdascope.handler(guard="off")
    def lambda_handler(event, context):
        import boto3
        return boto3.client("s3", region_name="us-east-1").meta.region_name

    print("botocore loaded at Init:", "botocore" in sys.modules)
    print(lambda_handler({}))
"""


def test_botocore_is_patched_after_its_import_not_imported_for_it() -> None:
    done = run_fresh(HANDLER_SCRIPT)
    assert done.returncode == 0, done.stderr
    assert "botocore loaded at Init: False" in done.stdout
    assert "us-east-1" in done.stdout
    assert "ClientInInvocationWarning" in done.stderr
    assert "<string>:8" in done.stderr


def test_the_warning_can_be_turned_off() -> None:
    done = run_fresh(HANDLER_SCRIPT, LAMBDASCOPE_WARN_CLIENTS="0")
    assert done.returncode == 0, done.stderr
    assert "ClientInInvocationWarning" not in done.stderr


# -- parameters and secrets ------------------------------------------------------------------


@pytest.fixture
def ssm() -> Iterator[Any]:
    lsaws.clear_caches()
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/orders/table", Value="orders-v1", Type="String")
    ssm.put_parameter(Name="/orders/db/password", Value="s3cret", Type="SecureString")
    ssm.put_parameter(Name="/orders/flags", Value='{"beta": true}', Type="String")
    ssm.put_parameter(Name="/orders/blob", Value="aGVsbG8=", Type="String")
    yield ssm
    lsaws.clear_caches()


def test_parameters_are_cached_until_max_age_or_force_fetch(ssm: Any) -> None:
    assert lsaws.get_parameter("/orders/table") == "orders-v1"
    ssm.put_parameter(Name="/orders/table", Value="orders-v2", Type="String", Overwrite=True)
    assert lsaws.get_parameter("/orders/table") == "orders-v1"  # cached
    assert lsaws.get_parameter("/orders/table", force_fetch=True) == "orders-v2"
    assert lsaws.get_parameter("/orders/table") == "orders-v2"  # the refresh was cached
    ssm.put_parameter(Name="/orders/table", Value="orders-v3", Type="String", Overwrite=True)
    lsaws.clear_caches()
    # 0.5 s: the next lines must run before it expires, even on a loaded machine
    assert lsaws.get_parameter("/orders/table", max_age=0.5) == "orders-v3"
    ssm.put_parameter(Name="/orders/table", Value="orders-v4", Type="String", Overwrite=True)
    assert lsaws.get_parameter("/orders/table") == "orders-v3"
    time.sleep(0.6)  # the value fetched with max_age=0.5 has expired
    assert lsaws.get_parameter("/orders/table") == "orders-v4"


def test_parameter_decryption_and_transforms(ssm: Any) -> None:
    assert lsaws.get_parameter("/orders/db/password") == "s3cret"
    assert lsaws.get_parameter("/orders/db/password", decrypt=False) != "s3cret"
    assert lsaws.get_parameter("/orders/flags", transform="json") == {"beta": True}
    assert lsaws.get_parameter("/orders/blob", transform="binary") == b"hello"
    with pytest.raises(ValueError, match="needs a base64 value"):
        lsaws.get_parameter("/orders/table", transform="binary")


def test_parameters_by_path_are_relative_and_paginated(ssm: Any) -> None:
    for i in range(15):  # more than one page (SSM pages hold 10)
        ssm.put_parameter(Name=f"/bulk/p{i:02d}", Value=str(i), Type="String")
    bulk = lsaws.get_parameters_by_path("/bulk")
    assert bulk == {f"p{i:02d}": str(i) for i in range(15)}
    orders = lsaws.get_parameters_by_path("/orders/", recursive=True)
    assert orders["db/password"] == "s3cret"
    assert orders["table"] == "orders-v1"
    top = lsaws.get_parameters_by_path("/orders", recursive=False)
    assert "db/password" not in top


def test_secrets_string_json_and_binary() -> None:
    lsaws.clear_caches()
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="db", SecretString='{"username": "app", "password": "pw"}')
    sm.create_secret(Name="key", SecretBinary=b"\x00\x01")
    assert lsaws.get_secret("db", transform="json") == {"username": "app", "password": "pw"}
    assert lsaws.get_secret("key") == b"\x00\x01"
    assert lsaws.get_secret("key", transform="binary") == b"\x00\x01"
    sm.put_secret_value(SecretId="db", SecretString='{"username": "app", "password": "rotated"}')
    assert lsaws.get_secret("db", transform="json")["password"] == "pw"  # cached
    assert lsaws.get_secret("db", transform="json", force_fetch=True)["password"] == "rotated"


def test_cached_values_cannot_carry_data_from_one_invocation_to_the_next(ssm: Any) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="orders/db", SecretString='{"username": "app", "hosts": ["db-1"]}'
    )
    ssm.put_parameter(Name="/cfg/limits", Value='{"max": [10]}', Type="String")

    @handler
    def lambda_handler(event: dict[str, str], context: object) -> list[Any]:
        credentials = lsaws.get_secret("orders/db", transform="json")
        flags = lsaws.get_parameter("/orders/flags", transform="json")
        limits = lsaws.get_parameters_by_path("/cfg", transform="json")
        seen = [json.dumps(credentials), json.dumps(flags), json.dumps(limits)]
        # one request scribbles on what it got, at every depth
        credentials["username"] = event["user"]
        credentials["hosts"].append(event["user"])
        flags["beta"] = event["user"]
        limits["limits"]["max"].append(event["user"])
        limits["extra"] = event["user"]
        return seen

    first = lambda_handler({"user": "mallory"}, None)
    second = lambda_handler({"user": "eve"}, None)
    assert second == first  # nothing from the first request reached the second
    assert json.loads(second[0]) == {"username": "app", "hosts": ["db-1"]}
    assert json.loads(second[2]) == {"limits": {"max": [10]}}
    fresh = lsaws.get_secret("orders/db", transform="json")
    assert type(fresh) is dict  # a plain dict: json.dumps, ** and isinstance work
    assert fresh is not lsaws.get_secret("orders/db", transform="json")


def test_errors_propagate_and_cache_nothing(ssm: Any) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="ParameterNotFound"):
        lsaws.get_parameter("/missing")
    ssm.put_parameter(Name="/missing", Value="now here", Type="String")
    assert lsaws.get_parameter("/missing") == "now here"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_age": -1}, ValueError, "max_age"),
        ({"max_age": float("nan")}, ValueError, "max_age"),
        ({"max_age": 10**400}, ValueError, r"max_age=\.\.\.\) must be a finite number .*401-digit"),
        ({"max_age": "5"}, TypeError, "max_age"),
        ({"max_age": True}, TypeError, "max_age"),
        ({"transform": "yaml"}, ValueError, "transform"),
    ],
)
def test_bad_value_options_are_rejected(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        lsaws.get_parameter("/x", **kwargs)
    with pytest.raises(error, match=message):
        lsaws.get_secret("x", **kwargs)
    with pytest.raises(error, match=message):
        lsaws.get_parameters_by_path("/x", **kwargs)
