"""A handler shaped like the ones in AWS samples: Powertools decorators under @handler, a
client created lazily by hand, a read-only lookup table, and one handler that leaks."""

import uuid

from aws_lambda_powertools import Logger, Metrics, Tracer

from lambdascope import handler, request

logger = Logger(service="orders")
tracer = Tracer(service="orders", disabled=True)
metrics = Metrics(namespace="shop", service="orders")
PRICES = {f"sku-{i}": {"cents": i * 100, "tags": [str(i)]} for i in range(10_000)}
client = None
seen = []


class Client:  # stands in for boto3.resource("dynamodb").Table(...)
    def __init__(self):
        self.token = uuid.uuid4().hex


@handler
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    global client
    if client is None:  # lazy init by hand: once per environment
        client = Client()
    metrics.add_metric(name="calls", unit="Count", value=1)
    price = PRICES.get(event.get("sku", ""), {}).get("cents")
    return {"price": price, "client": client.token, "cold_start": request.cold_start}


@handler
@logger.inject_lambda_context
def leaky(event, context):
    seen.append(event.get("sku"))
    return len(seen)
