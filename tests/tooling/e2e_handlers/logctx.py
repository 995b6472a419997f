"""Log context and deadlines under the real runtime client (run with AWS_LAMBDA_LOG_FORMAT=JSON)."""

import asyncio
import logging

import lambdascope
from lambdascope import handler, request

lambdascope.install_log_context()  # the runtime has given the root logger its handler by now
log = logging.getLogger("orders")
log.setLevel(logging.INFO)
log.info("e2e: Init")  # outside any invocation: no request fields


@handler
def lambda_handler(event, context):
    log.info("start")
    if "order" in event:
        request.log.update(order_id=event["order"])
    log.info("processing")
    return {"remaining": request.remaining(), "timeout_s": context.get_remaining_time_in_millis()}


@handler(deadline_margin=1)
async def slow(event, context):
    await asyncio.sleep(60)
