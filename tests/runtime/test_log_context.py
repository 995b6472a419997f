"""Per-invocation log context: request.log fields on every record, gone when the invocation ends.

Real `logging` handlers and formatters, real threads, the real Powertools Logger and the
Lambda runtime client's own JSON formatter.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Logger
from awslambdaric.lambda_runtime_log_utils import JsonFormatter

import lambdascope
from lambdascope import OutsideInvocationError, handler, request
from lambdascope.testing import LambdaContext

if TYPE_CHECKING:
    from collections.abc import Iterator


class Captured:
    """A logger with one real handler writing JSON lines (the Lambda runtime's formatter)."""

    def __init__(self, name: str) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.logger = logging.getLogger(name)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        self.logger.addHandler(self.handler)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]


@pytest.fixture
def captured(request: pytest.FixtureRequest) -> Iterator[Captured]:
    cap = Captured(f"tests.logctx.{request.node.name}")
    lambdascope.install_log_context(cap.logger)
    yield cap
    cap.logger.removeHandler(cap.handler)


def test_records_carry_the_invocation_and_its_fields_only_during_it(captured: Captured) -> None:
    log = captured.logger

    @handler
    def lambda_handler(event: dict[str, str], context: Any) -> None:
        log.info("start")
        request.log.update(order_id=event["order"], customer="c-1")
        log.info("received")
        del request.log["customer"]
        log.info("paid")

    log.info("during Init")
    lambda_handler({"order": "A"}, LambdaContext(aws_request_id="req-1"))
    lambda_handler({"order": "B"}, LambdaContext(aws_request_id="req-2"))
    log.info("after")
    init, start1, received1, paid1, start2, received2, paid2, after = captured.lines()
    for outside in (init, after):
        assert not {"requestId", "order_id", "cold_start", "invocation"} & set(outside)
    assert start1["requestId"] == "req-1"
    assert start1["cold_start"] is True
    assert start1["invocation"] == 1
    assert "order_id" not in start1
    assert received1["order_id"] == "A"
    assert received1["customer"] == "c-1"
    assert paid1["order_id"] == "A"
    assert "customer" not in paid1
    # the next invocation starts clean: nothing of the first one's fields
    assert start2["requestId"] == "req-2"
    assert start2["cold_start"] is False
    assert start2["invocation"] == 2
    assert "order_id" not in start2
    assert received2["order_id"] == "B"
    assert paid2["order_id"] == "B"


def test_an_explicit_extra_wins_and_never_collides(captured: Captured) -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        request.log["order_id"] = "from-request"
        captured.logger.info("explicit", extra={"order_id": "from-extra", "invocation": "x"})

    lambda_handler({}, None)
    (line,) = captured.lines()
    assert line["order_id"] == "from-extra"
    assert line["invocation"] == "x"
    assert "requestId" not in line  # no context, no request id


def test_fields_are_cleared_also_when_the_handler_raises(captured: Captured) -> None:
    @handler
    def lambda_handler(event: dict[str, bool], context: Any) -> None:
        if event["fail"]:
            request.log.update(order_id="failed-one")
            raise ValueError("boom")
        captured.logger.info("next")

    with pytest.raises(ValueError, match="boom"):
        lambda_handler({"fail": True}, None)
    lambda_handler({"fail": False}, None)
    (line,) = captured.lines()
    assert "order_id" not in line


def test_the_mapping_api() -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
        log = request.log
        assert len(log) == 0
        assert log.as_dict() == {}
        assert log.get("a", 1) == 1
        assert "a" not in log
        with pytest.raises(KeyError):
            log["a"]
        with pytest.raises(KeyError):
            del log["a"]
        with pytest.raises(KeyError):
            log.pop("a")
        assert log.pop("a", None) is None
        log.clear()
        log.update({"a": 1}, b=2)
        log["c"] = 3
        assert log["a"] == 1
        assert log.get("b") == 2
        assert "c" in log
        assert sorted(log) == ["a", "b", "c"]
        assert len(log) == 3
        assert log.pop("c") == 3
        assert repr(log) == "<lambdascope.request.log fields=['a', 'b']>"
        seen = log.as_dict()
        log.clear()
        assert len(log) == 0
        return seen

    assert lambda_handler({}, None) == {"a": 1, "b": 2}
    assert repr(lambdascope.LogFields) == "<class 'lambdascope.LogFields'>"


def test_outside_an_invocation_it_explains() -> None:
    with pytest.raises(OutsideInvocationError, match=r"request\.log "):
        request.log
    from lambdascope import LogFields

    fields = LogFields()
    for use in (
        lambda: fields.update(a=1),
        lambda: fields.get("a"),
        lambda: fields["a"],
        lambda: "a" in fields,
        lambda: len(fields),
        fields.as_dict,
        fields.clear,
    ):
        with pytest.raises(OutsideInvocationError, match="no Lambda invocation is running"):
            use()
    assert repr(fields) == "<lambdascope.request.log: no invocation running>"


@pytest.mark.parametrize(
    ("name", "error", "says"),
    [
        (1, TypeError, "must be strings"),
        ("order-id", ValueError, "identifiers"),
        ("_private", ValueError, "underscore"),
        ("msg", ValueError, "every log record already has"),
        ("invocation", ValueError, "lambdascope adds itself"),
        ("aws_request_id", ValueError, "already has"),
        ("db_password", ValueError, "Never log secrets"),
        ("accessToken", ValueError, "Never log secrets"),
        ("Authorization", ValueError, "Never log secrets"),
        # one name, whatever its case and separators
        ("apiKey", ValueError, "Never log secrets"),
        ("privateKey", ValueError, "Never log secrets"),
        ("privatekey", ValueError, "Never log secrets"),
        ("PRIVATE_KEY", ValueError, "Never log secrets"),
        ("sessionKey", ValueError, "Never log secrets"),
        ("Session_Key", ValueError, "Never log secrets"),
        ("clientSecret", ValueError, "Never log secrets"),
        ("pass_word", ValueError, "Never log secrets"),
    ],
)
def test_bad_field_names_are_refused(name: Any, error: type[Exception], says: str) -> None:
    secret_value = "s3cr3t-value-never-shown"

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        with pytest.raises(error, match=says) as info:
            request.log.update({name: secret_value})
        assert secret_value not in str(info.value)
        with pytest.raises(error, match=says):
            request.log[name] = secret_value
        assert request.log.as_dict() == {}

    lambda_handler({}, None)


def test_names_that_only_look_like_secret_words_are_accepted() -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
        request.log.update(session_id="s-1", private_flag=True, key_count=3, monkey="ok")
        return request.log.as_dict()

    assert lambda_handler({}, None) == {
        "session_id": "s-1",
        "private_flag": True,
        "key_count": 3,
        "monkey": "ok",
    }


def test_request_attribute_names_log_and_deadline_are_reserved() -> None:
    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        for name in ("log", "deadline", "remaining", "check_deadline"):
            with pytest.raises(AttributeError, match="read-only"):
                setattr(request, name, 1)

    lambda_handler({}, None)


def test_concurrent_invocations_in_threads_see_only_their_own_fields(captured: Captured) -> None:
    both_set = threading.Barrier(2, timeout=10)

    @handler
    def lambda_handler(event: dict[str, str], context: Any) -> None:
        request.log.update(order_id=event["order"])
        both_set.wait()  # each thread logs while the other invocation's fields are set
        captured.logger.info("in %s", event["order"])
        both_set.wait()

    threads = [
        threading.Thread(target=lambda_handler, args=({"order": order}, None))
        for order in ("A", "B")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    lines = captured.lines()
    assert sorted(line["message"] for line in lines) == ["in A", "in B"]
    for line in lines:
        assert line["message"] == f"in {line['order_id']}"


def test_a_thread_that_outlives_its_invocation_logs_without_the_fields(
    captured: Captured,
) -> None:
    go = threading.Event()
    threads: list[threading.Thread] = []

    def later() -> None:
        go.wait(10)
        captured.logger.info("late")

    @handler
    def lambda_handler(event: Any, context: Any) -> None:
        request.log.update(order_id="A")
        thread = threading.Thread(target=contextvars.copy_context().run, args=(later,))
        thread.start()
        threads.append(thread)
        captured.logger.info("inside")

    lambda_handler({}, LambdaContext(aws_request_id="req-1"))
    go.set()
    threads[0].join(10)
    inside, late = captured.lines()
    assert inside["order_id"] == "A"
    assert inside["requestId"] == "req-1"
    assert not {"order_id", "requestId", "invocation", "cold_start"} & set(late)


def test_async_tasks_of_the_invocation_carry_the_fields(captured: Captured) -> None:
    async def step(n: int) -> None:
        await asyncio.sleep(0)
        captured.logger.info("step %d", n)

    @handler
    async def lambda_handler(event: Any, context: Any) -> None:
        request.log.update(order_id="A")
        await asyncio.gather(step(1), step(2))

    lambda_handler({}, None)
    lines = captured.lines()
    assert [line["order_id"] for line in lines] == ["A", "A"]


def test_install_without_targets_uses_the_root_logger_handlers() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    extra = logging.StreamHandler(stream)
    extra.setFormatter(JsonFormatter())
    saved = root.handlers[:]
    root.handlers[:] = [extra]
    try:
        installed = lambdascope.install_log_context()
        assert lambdascope.install_log_context() is installed
        assert extra.filters.count(installed) == 1  # installed once
        child = logging.getLogger("tests.logctx.child.propagates")
        child.setLevel(logging.INFO)

        @handler
        def lambda_handler(event: Any, context: Any) -> None:
            request.log.update(order_id="A")
            child.info("via root")

        lambda_handler({}, None)
    finally:
        root.handlers[:] = saved
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines() if x]
    assert line["order_id"] == "A"
    assert line["logger"] == "tests.logctx.child.propagates"


def test_install_rejects_what_it_cannot_attach_to() -> None:
    with pytest.raises(TypeError, match="takes logging handlers and loggers"):
        lambdascope.install_log_context(object())
    bare = logging.getLogger("tests.logctx.no.handlers")
    with pytest.raises(ValueError, match="has no handlers"):
        lambdascope.install_log_context(bare)


def test_importing_lambdascope_leaves_logging_alone() -> None:
    import subprocess
    import sys

    code = (
        "import logging, logging as l; before = (l.getLogRecordFactory(), list(l.root.handlers), "
        "[h.filters[:] for h in l.root.handlers]); import lambdascope; "
        "after = (l.getLogRecordFactory(), list(l.root.handlers), "
        "[h.filters[:] for h in l.root.handlers]); print(before == after)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# --- alongside the real Powertools Logger ----------------------------------------------------


@pytest.fixture
def powertools(request: pytest.FixtureRequest) -> Iterator[tuple[Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = Logger(service=f"orders-{request.node.name}", stream=stream, level="INFO")
    lambdascope.install_log_context(logger)
    yield logger, stream
    for installed in list(logger.handlers):
        logger.removeHandler(installed)


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_powertools_logger_lines_carry_the_fields_and_the_next_invocation_does_not(
    powertools: tuple[Logger, io.StringIO],
) -> None:
    logger, stream = powertools

    @logger.inject_lambda_context
    @handler
    def lambda_handler(event: dict[str, str], context: Any) -> None:
        if "order" in event:
            request.log.update(order_id=event["order"])
        logger.info("processing")

    lambda_handler({"order": "A"}, LambdaContext(aws_request_id="req-1"))
    lambda_handler({}, LambdaContext(aws_request_id="req-2"))
    first, second = _json_lines(stream)
    assert first["message"] == "processing"
    assert first["order_id"] == "A"
    assert first["aws_request_id"] == first["function_request_id"] == "req-1"
    assert first["invocation"] == 1
    assert second["aws_request_id"] == "req-2"
    assert "order_id" not in second  # cleared with the invocation, no clear_state needed


def test_powertools_append_keys_leaks_where_request_log_does_not(
    powertools: tuple[Logger, io.StringIO],
) -> None:
    logger, stream = powertools

    @handler
    def lambda_handler(event: dict[str, str], context: Any) -> None:
        if "order" in event:
            logger.append_keys(appended=event["order"])
            request.log.update(order_id=event["order"])
        logger.info("processing")

    lambda_handler({"order": "A"}, None)
    lambda_handler({}, None)
    first, second = _json_lines(stream)
    assert first["appended"] == first["order_id"] == "A"
    assert second["appended"] == "A"  # Powertools' own keys stay until cleared
    assert "order_id" not in second
    logger.remove_keys(["appended"])
