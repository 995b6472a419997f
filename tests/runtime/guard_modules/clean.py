"""A handler module shaped like a real one: it reads and uses module state but never writes it."""

from __future__ import annotations

import copy
import functools
import itertools
import logging
import random
import re
import threading

import boto3

from lambdascope import handler, init_resource, request

logger = logging.getLogger(__name__)
rng = random.Random(42)
lock = threading.Lock()
ids = itertools.count()
WORD = re.compile(r"\w+")
s3 = boto3.client("s3", region_name="us-east-1")
CONFIG = {f"key{i}": f"value{i}" for i in range(1000)}
DEFAULTS: dict[str, list[str]] = {"tags": ["a", "b"]}
REGISTRY: list[str] = []
for _name in ("one", "two"):  # Init-time writes: module top level populating state
    REGISTRY.append(_name)
CACHE: dict[str, int] = {}  # a deliberate cache, listed in allow=


class Settings:
    retries = 3

    def __init__(self) -> None:
        self.region = "eu-west-1"


SETTINGS = Settings()


@init_resource
def seen_keys() -> list[str]:
    return []


@functools.lru_cache(maxsize=128)
def slow_square(x: int) -> int:
    return x * x


@handler
def reads(event, context):
    total = len(CONFIG) + len(REGISTRY) + Settings.retries
    return total, CONFIG["key1"], DEFAULTS["tags"][0], SETTINGS.region, "one" in REGISTRY


@handler
def locals_and_copies(event, context):
    items = []
    items.append(event)
    tags = list(DEFAULTS["tags"])
    tags.append("mine")
    deep = copy.deepcopy(DEFAULTS)
    deep["tags"].append("x")
    config = dict(CONFIG)
    config["key1"] = "changed"
    return items, tags, deep, config["key1"]


@handler
def request_attributes(event, context):
    request.files = []
    request.files.append(event)
    return request.files


@handler
def init_resources(event, context):
    seen_keys().append(str(event))
    return len(seen_keys())


@handler
def third_party(event, context):
    logger.info("event %s", event)
    logging.getLogger("clean.child").debug("x")
    with lock:
        value = rng.random()
    return value, next(ids), slow_square(event), WORD.findall("a b"), type(s3).__name__


@handler
def boto3_call(event, context):
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


@handler(allow=("CACHE",))
def allowed_cache(event, context):
    CACHE[str(event)] = event
    return len(CACHE)


@handler(guard="off")
def unguarded(event, context):
    REGISTRY.append("off")
    return len(REGISTRY)
