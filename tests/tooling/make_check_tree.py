"""Generate a tree of Lambda projects to measure ``lambdascope check`` on (not a test).

    python tests/tooling/make_check_tree.py /tmp/tree 1000
    /usr/bin/time -v lambdascope check /tmp/tree

Each project is a SAM template and ten modules: a handler named by the template (which also
writes a file under /tmp), helpers it imports (two of them building clients or writing module
state), a lazy-initialised client, a memo cache, a data-access class with a module-level
instance (its methods are followed through the class), a script and three modules of ordinary
code (about 120 lines each).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handle
      Role: !GetAtt Role.Arn
"""
APP = """\
import json

from helpers import clients, store
from helpers.cache import config
from orders import orders

seen = []


def handle(payload, ctx):
    seen.append(payload["id"])
    table = clients.table()
    store.remember(payload)
    orders.update(payload["id"], "SEEN")
    with open("/tmp/last.json", "w") as fh:
        json.dump(payload, fh)
    return json.dumps({"n": len(seen), "cfg": config("main"), "t": str(table)})
"""
ORDERS = """\
import boto3

TABLE = boto3.resource("dynamodb").Table("orders")


class Orders:
    def __init__(self, table):
        self.table = table
        self.recent = []

    def update(self, order_id, status):
        self.recent.append(order_id)
        self.table.update_item(Key={"id": order_id}, AttributeUpdates={"s": {"Value": status}})


orders = Orders(TABLE)
"""
CLIENTS = """\
import boto3

_s3 = None


def s3():
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


def table():
    return boto3.resource("dynamodb").Table("orders")
"""
STORE = """\
RECENT = {}
LOG = []


def remember(payload, extra=[]):
    extra.append(payload)
    LOG.append(payload["id"])
"""
CACHE = """\
CONFIG = {}


def config(name):
    if name not in CONFIG:
        CONFIG[name] = {"name": name}
    return CONFIG[name]
"""
SCRIPT = """\
import boto3


def main():
    for bucket in boto3.client("s3").list_buckets()["Buckets"]:
        print(bucket["Name"])


if __name__ == "__main__":
    main()
"""
PADDING = '''\
"""Ordinary code: data classes and pure functions."""
from dataclasses import dataclass


@dataclass
class Order{n}:
    id: str
    total: float

    def with_tax(self, rate: float = 0.2) -> float:
        return round(self.total * (1 + rate), 2)


def parse{n}(rows: list) -> list:
    return [Order{n}(r["id"], float(r["total"])) for r in rows if r.get("id")]
'''


def make(root: Path, files: int) -> int:
    """Write projects under *root* until *files* Python files exist; return how many."""
    written = 0
    project = 0
    while written < files:
        base = root / f"service{project:04d}"
        src = base / "src"
        (src / "helpers").mkdir(parents=True)
        (base / "template.yaml").write_text(TEMPLATE)
        modules = {
            src / "app.py": APP,
            src / "helpers" / "__init__.py": "",
            src / "helpers" / "clients.py": CLIENTS,
            src / "helpers" / "store.py": STORE,
            src / "helpers" / "cache.py": CACHE,
            src / "orders.py": ORDERS,
            base / "deploy.py": SCRIPT,
        }
        for n in range(3):  # about 120 lines each, like a real module
            modules[src / f"model{n}.py"] = "".join(PADDING.format(n=f"{n}_{i}") for i in range(8))
        for path, text in modules.items():
            if written < files:
                path.write_text(textwrap.dedent(text))
                written += 1
        project += 1
    return written


if __name__ == "__main__":
    print(make(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1000), "files")
