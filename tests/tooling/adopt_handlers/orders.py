"""An unmodified function that logs with Powertools' Logger and keeps each order in a
module-level list."""

from aws_lambda_powertools import Logger

logger = Logger()
orders = []


@logger.inject_lambda_context
def lambda_handler(event, context):
    orders.append(event["order"])
    logger.info("order received")
    return {"orders": len(orders)}
