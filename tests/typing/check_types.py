"""Checked by mypy --strict (part of `tasks.py test`), never run: the types flow through."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from typing_extensions import assert_type

from lambdascope import InitResource, handler, init_resource, request


class Client:
    def list_buckets(self) -> list[str]:
        return []


@init_resource
def s3() -> Client:
    return Client()


@init_resource(ttl=60, validate=lambda c: bool(c.list_buckets), close=lambda c: None)
def cached() -> dict[str, int]:
    return {}


assert_type(s3, InitResource[Client])
assert_type(s3(), Client)
assert_type(cached(), dict[str, int])
assert_type(s3.initialized, bool)
assert_type(init_resource(Client, ttl=5.0)(), Client)


@handler
def lambda_handler(event: dict[str, Any], context: object) -> int:
    return len(event)


@handler()
def with_parens(event: dict[str, Any], context: object) -> str:
    return str(request.invocation)


@handler
async def async_handler(event: dict[str, Any], context: object) -> bytes:
    return b""


assert_type(lambda_handler({}, None), int)
assert_type(with_parens({}, None), str)
assert_type(async_handler({}, None), bytes)  # async handlers are run to completion
assert_type(request.cold_start, bool)
assert_type(request.invocation, int)
assert_type(request.request_id, str | None)
assert_type(request.deadline, float | None)
assert_type(request.remaining(), float)
assert_type(request.check_deadline(), None)
assert_type(request.log.get("order_id"), Any)
assert_type(request.log.as_dict(), dict[str, Any])


@handler(deadline_margin=timedelta(seconds=2))
async def bounded_handler(event: dict[str, Any], context: object) -> int:
    return 1


assert_type(bounded_handler({}, None), int)


# lambdascope.testing: what tests get back is typed.
from lambdascope.testing import (  # noqa: E402
    Invocation,
    LambdaContext,
    LambdaEnvironment,
    assert_warm_matches_cold,
)

env = LambdaEnvironment(lambda_handler, memory_mb=256, guard="warn")
assert_type(env.run({}), Invocation)
assert_type(env.run_many({}, times=2), list[Invocation])
assert_type(env.new_context(), LambdaContext)
assert_type(env.new_context().get_remaining_time_in_millis(), int)
assert_type(env.new_context().memory_limit_in_mb, str)
assert_type(env.init.import_ms, float | None)
assert_type(assert_warm_matches_cold("app:lambda_handler", {}), list[Invocation])

# Lambda Managed Instances: worker processes, typed results.
from lambdascope.testing import (  # noqa: E402
    InitInfo,
    ManagedInstances,
    ProcessInvocation,
    TmpCollision,
    WorkerProcess,
)

managed = ManagedInstances("app:lambda_handler", processes=2, timeout=5, guard="raise")
assert_type(managed.run({}), ProcessInvocation)
assert_type(managed.run({}, process=1).number, int)
assert_type(managed.run_many({}, times=4), list[ProcessInvocation])
assert_type(managed.run_concurrently([{}, {}]), list[ProcessInvocation])
assert_type(managed.run({}).error, dict[str, Any] | None)
assert_type(managed.run({}).past_timeout, bool)
assert_type(managed.workers, list[WorkerProcess])
assert_type(managed.workers[0].init, InitInfo)
assert_type(managed.tmp_collisions(), list[TmpCollision])
assert_type(managed.tmp, str)
