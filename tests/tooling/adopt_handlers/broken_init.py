"""A handler module whose Init fails in its own code: its configuration is missing."""

import os

TABLE = os.environ["ORDERS_TABLE"]


def lambda_handler(event, context):
    return TABLE
