"""Handlers run by the e2e tests under the real runtime interface client (awslambdaric)."""

import asyncio
import os
import time

from lambdascope import handler, init_report, init_resource, request

print("e2e: module basics imported", flush=True)  # Init: must appear once


class Client:
    def close(self):
        print("e2e: client closed", flush=True)


@init_resource(close=Client.close)
def client():
    print("e2e: client created", flush=True)
    return Client()


@handler
def lambda_handler(event, context):
    if "sleep" in event:
        time.sleep(event["sleep"])
    fresh = "marker" not in request
    request.marker = event.get("n")
    return {
        "cold_start": request.cold_start,
        "invocation": request.invocation,
        "fresh_request": fresh,
        "client": id(client()),
        "pid": os.getpid(),
        "request_id": request.request_id,
        "context_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "event": event,
        "init_type": init_report()["init_type"],
        "restored": init_report()["restored"],
    }


@handler
def failing(event, context):
    raise ValueError(f"no bucket in {sorted(event)}")


@handler
async def async_handler(event, context):
    await asyncio.sleep(0)
    return {"cold_start": request.cold_start, "invocation": request.invocation}
