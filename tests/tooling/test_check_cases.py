"""`lambdascope check` on the patterns real projects showed it getting wrong: project classes
decided by their methods' bodies, globals set from values computed in the invocation, clients
built from the function's own credentials or from keys in the event, sessions given assumed
roles' credentials, framework callbacks, and files written under a hard-coded /tmp.

Each fixture under tests/fixtures/projects/ is asserted finding by finding (file, line, code):
what is not listed must stay silent. Also: handlers behind third-party wrappers and adapters,
and clients, environment variables and files made per invocation in roundabout ways.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lambdascope.check import check_paths, check_source, main

PROJECTS = Path(__file__).resolve().parents[1] / "fixtures" / "projects"

CASES = {
    # 1. module-level instances of project classes: the method's body decides, not its name
    "project_classes": [
        ("app.py", 18, "LS101"),  # `tags.update(...)`: a dict subclass, dict's own update()
        ("app.py", 19, "LS101"),  # `state.RECENT.append(...)`: another module's list
        ("repo.py", 14, "LS107"),  # get() memoises on the instance, keyed by the event
        ("repo.py", 23, "LS101"),  # info() appends to the instance's list
    ],
    # 2. a global set from a value computed in the invocation (an exception), never reset
    "exception_state": [
        ("handler.py", 16, "LS103"),  # the request id of the last invocation
        ("handler.py", 21, "LS103"),  # the last failure, returned by every later invocation
    ],
    # 3. the function's own credentials do not make a client per request
    "own_credentials": [
        ("search.py", 12, "LS105"),  # one finding: the session inside only signs it
        ("search.py", 22, "LS104"),
        ("search.py", 24, "LS105"),
    ],
    # 4. a region or host from the event is a key to cache clients by, not an identity
    "client_keys": [
        ("records.py", 15, "LS110"),  # crhelper's ResourceProperties["Region"]
        ("records.py", 38, "LS110"),  # a host from the event; the next line's user is per request
    ],
    # 5. a botocore session given an assumed role's credentials is per request by design
    "botocore_sessions": [("audit.py", 18, "LS104")],  # the function's own keys: build it once
    # 6. framework callbacks and helper classes built per invocation
    "framework_callbacks": [
        ("app.py", 18, "LS101"),  # a batch processor decorator's record handler
        ("app.py", 22, "LS101"),  # process_partial_response's record handler
        ("app.py", 27, "LS101"),  # a Powertools middleware factory used on the handler
        ("helpers.py", 11, "LS101"),  # __exit__ of `with Timer()` in the handler
        ("helpers.py", 20, "LS101"),  # `Service(...).run(...)`: a class built per invocation
        ("helpers.py", 30, "LS101"),  # __call__ of a module-level instance
        ("routes.py", 8, "LS102"),  # a route's middleware, in a router of another module
    ],
    # LS111: files written under a hard-coded temp path (reads and tempfile's names are fine)
    "temp_paths": [
        ("handler.py", 19, "LS111"),
        ("handler.py", 21, "LS111"),
        ("handler.py", 23, "LS111"),  # os.path.join("/tmp", ...) opened for appending
        ("handler.py", 25, "LS111"),  # tempfile.gettempdir() joined to a fixed name
        ("handler.py", 27, "LS111"),  # an S3 download to /tmp
    ],
    # handlers behind a third-party wrapper, an adapter's app, or imported then wrapped
    "wrapped_handlers": [
        ("src/api.py", 12, "LS101"),  # a Starlette route given to the app, served by Mangum
        ("src/audit.py", 5, "LS104"),  # `xray_recorder.capture(...)(record)`, record imported
        ("src/lambda_function.py", 10, "LS101"),  # `datadog_lambda_wrapper(forwarder)`
        ("src/views.py", 8, "LS102"),  # `app.add_url_rule(..., view_func=search)`, apig-wsgi
    ],
    # clean code: a Powertools app, clients made once, read-only tables, helpers given copies;
    # a configuration cache keyed by configuration is a note, never a warning
    "clean_app": [("app.py", 43, "LS109")],
    # built, written or changed per invocation in ways that do not look like it
    "per_invocation": [
        ("clients.py", 15, "LS104"),  # an lru_cache factory whose cache_clear() runs each time
        ("clients.py", 30, "LS105"),  # http.client.HTTPSConnection
        ("clients.py", 32, "LS105"),  # urllib3's PoolManager, imported by name
        ("clients.py", 33, "LS105"),  # requests.Session()
        ("clients.py", 34, "LS105"),  # httpx.Client()
        ("environment.py", 9, "LS104"),
        ("environment.py", 10, "LS112"),  # an assumed role's keys, for the next invocation too
        ("environment.py", 14, "LS112"),  # os.environ["TENANT_ID"] = event["tenant"]
        ("environment.py", 17, "LS112"),  # os.environ.update(<request data>)
        ("environment.py", 18, "LS112"),  # os.putenv(..., <request data>)
        ("workdir.py", 8, "LS111"),  # a helper writing a relative path after the chdir
        ("workdir.py", 17, "LS111"),  # os.chdir("/tmp"), then open(name, "wb")
    ],
}


@pytest.mark.parametrize(("name", "expected"), CASES.items())
def test_case(name: str, expected: list[tuple[str, int, str]]) -> None:
    root = PROJECTS / name
    findings = check_paths([str(root)])
    assert [(Path(f.path).relative_to(root).as_posix(), f.line, f.code) for f in findings] == (
        expected
    )


def messages(name: str) -> dict[tuple[str, int], str]:
    root = PROJECTS / name
    return {(Path(f.path).name, f.line): f.message for f in check_paths([str(root)])}


def test_messages_name_the_instance_that_keeps_the_data() -> None:
    by_line = messages("project_classes")
    assert "fills the cache `self._cache` of module-level `app.repo`" in by_line["repo.py", 14]
    assert (
        "in repo.CustomerRepo.get() (called from handler lambda_handler() in"
        in (by_line["repo.py", 14])
    )
    assert "mutates `self.lines` of module-level `app.audit`" in by_line["repo.py", 23]
    assert "mutates module-level `state.RECENT`" in by_line["app.py", 19]


def test_messages_of_the_new_rules_say_what_to_do() -> None:
    keys = messages("client_keys")["records.py", 15]
    assert "for `region_name` taken from the event" in keys
    assert "functools.lru_cache" in keys
    assert "@init_resource returning a dict of clients by key" in keys
    temp = messages("temp_paths")["handler.py", 19]
    assert "`request.tmpdir`" in temp
    assert "lambdascope.init_tmpdir('name')" in temp
    assert "bypasses a private TMPDIR" in temp
    state = messages("exception_state")["handler.py", 21]
    assert "holds a value computed in one invocation, never reset" in state


def found(source: str) -> list[tuple[int, str]]:
    return [(f.line, f.code) for f in check_source(textwrap.dedent(source), "m.py")]


def test_project_classes_in_one_module() -> None:
    source = """\
        class Store:
            def __init__(self):
                self.items = []
                self._client = None
            def put(self, item):
                return item
            def add(self, item):
                self.items.append(item)
            def client(self):
                if self._client is None:
                    self._client = object()
                return self._client
            @classmethod
            def register(cls, name):
                cls.names = name
        class Dynamic:
            def __getattr__(self, name):
                return print
        store = Store()
        dynamic = Dynamic()
        def lambda_handler(event, context):
            store.put(event)
            store.add(event)
            store.client()
            store.last = event
            Store.register(event["name"])
            dynamic.update(event)
        """
    # put() writes nothing; add() does; the lazy client is created once; a class attribute
    # set by a classmethod is module state; a project class without update() keeps silent
    assert found(source) == [(8, "LS101"), (15, "LS102"), (25, "LS102")]


def test_handlers_that_are_methods_of_module_level_instances() -> None:
    source = """\
        class Handler:
            def __init__(self):
                self.count = 0
            def __call__(self, event, context):
                self.count += 1
                return self.count
        class Service:
            def handle(self, event, context):
                self.seen = event
        lambda_handler = Handler()
        service = Service()
        entry = service.handle
        """
    findings = check_source(textwrap.dedent(source), "m.py", ("entry",))
    assert [(f.line, f.code) for f in findings] == [(5, "LS102"), (9, "LS102")]
    assert "module-level `lambda_handler` keeps it" in findings[0].message
    assert "module-level `service` keeps it" in findings[1].message


def test_an_optional_module_level_instance_set_up_lazily() -> None:
    source = """\
        from typing import Optional
        class Repo:
            def __init__(self):
                self.items = []
            def put(self, item):
                return item
            def add(self, item):
                self.items.append(item)
        repo: Optional[Repo] = None
        other: "Repo | None" = None
        def lambda_handler(event, context):
            global repo
            if repo is None:
                repo = Repo()
            repo.put(event)
            repo.add(event)
            other.add(event)
        """
    assert found(source) == [(8, "LS101"), (14, "LS108")]


def test_type_annotations_and_alternate_constructors_resolve_methods(tmp_path: Path) -> None:
    (tmp_path / "models.py").write_text(
        textwrap.dedent(
            """\
            SEEN = []
            class Order:
                @classmethod
                def parse(cls, raw):
                    return cls()
                def remember(self):
                    SEEN.append(self)
            """
        )
    )
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import models
            from models import Order
            def keep(order: Order):
                order.remember()
            def keep_quoted(order: "models.Order"):
                order.remember()
            def lambda_handler(event, context):
                keep(Order.parse(event))
                keep_quoted(None)
                parsed: Order = Order.parse(event)
                parsed.remember()
            """
        )
    )
    (finding,) = check_paths([str(tmp_path)])
    assert (Path(finding.path).name, finding.line, finding.code) == ("models.py", 7, "LS101")


def test_globals_from_the_invocation_and_the_functions_own_configuration() -> None:
    source = """\
        import os, time
        import boto3
        ssm = boto3.client("ssm")
        config = None
        started = None
        table_name = None
        caller = None
        def lambda_handler(event, context):
            global config, started, table_name, caller
            response = ssm.get_parameter(Name=os.environ["PARAM"])
            config = response["Parameter"]["Value"]
            started = time.time()
            table_name = os.environ["TABLE"]
            caller = context.invoked_function_arn
            return config, started
        """
    # the same values in every invocation are not request data; the context's are
    assert found(source) == [(14, "LS103")]


def test_a_reset_in_the_handler_covers_its_helpers() -> None:
    source = """\
        last_error = None
        def fail(exc):
            global last_error
            last_error = repr(exc)
        def lambda_handler(event, context):
            global last_error
            last_error = None
            try:
                return event["x"]
            except KeyError as exc:
                fail(exc)
            return last_error
        """
    assert found(source) == []
    never_reset = source.replace("last_error = None\n            try:", "try:")
    assert never_reset != source
    assert found(never_reset) == [(4, "LS103")]


def test_credentials_and_keys_decide_between_ls104_ls105_and_ls110() -> None:
    source = """\
        import os
        import boto3, redis
        session = boto3.Session()
        def lambda_handler(event, context):
            boto3.client("s3", event["region"])
            boto3.client("s3", config=event["config"], endpoint_url=event["url"])
            session.client("sqs", region_name=event["region"])
            boto3.client(event["service"], aws_access_key_id=event["key"])
            boto3.Session(event["key"], event["secret"])
            boto3.Session(profile_name=event["profile"])
            boto3.client("s3", aws_access_key_id=os.environ["KEY"])
            redis.Redis(host=event["host"], port=6379)
            redis.Redis(host=event["host"], password=event["password"])
            redis.from_url(event["url"])
            boto3.client("s3", **event)
        """
    assert found(source) == [
        (5, "LS110"),
        (6, "LS110"),
        (7, "LS110"),
        (11, "LS104"),  # the function's own keys, read from its environment
        (12, "LS110"),
    ]


def test_state_refreshed_when_expired_is_lazy_initialisation() -> None:
    source = """\
        import time
        import boto3
        rds = boto3.client("rds")
        class Token:
            value = None
            expires = 0.0
        counter = 0
        def lambda_handler(event, context):
            global counter
            now = time.time()
            if Token.expires < now:
                Token.expires = now + 600
                Token.value = rds.generate_db_auth_token(DBHostname="db", Port=5432, DBUsername="u")
            counter += 1
            if counter > 10:
                counter = 0
            return Token.value
        """
    # a value refreshed when it expires is @init_resource(ttl=...) by hand; a counter reset
    # past a constant is still module state written per request
    assert found(source) == [(12, "LS108"), (13, "LS108"), (14, "LS103")]


def test_event_data_flows_through_long_chains_in_any_order() -> None:
    source = """\
        import psycopg2
        def lambda_handler(event, context):
            props = event["ResourceProperties"]
            secret_id = props["SecretId"]
            secret = fetch(secret_id)
            user = secret["user"]
            password = secret["password"]
            host = secret["host"]
            return psycopg2.connect(host=host, user=user, password=password)
        """
    assert found(source) == []  # credentials chosen by the request: per request
    own = source.replace('props = event["ResourceProperties"]', 'props = {"SecretId": "db"}')
    assert found(own) == [(9, "LS105")]


def test_a_cache_value_is_a_function_of_its_key_alone() -> None:
    source = """\
        import boto3
        table = boto3.resource("dynamodb").Table("products")
        ITEMS, PAIRS, TOTALS, BY_USER, LATEST, TAGS = {}, {}, {}, {}, {}, {}
        def lambda_handler(event, context):
            key = event["key"]
            if key not in ITEMS:
                found = table.get_item(Key={"id": key})
                ITEMS[key] = found["Item"]
            pair = (event["tenant"], event["region"])
            if pair not in PAIRS:
                PAIRS[pair] = f"{event['tenant']}/{event['region']}"
            current = TOTALS.get(key, 0)
            TOTALS[key] = current + event["amount"]
            if event["id"] not in BY_USER:
                BY_USER[event["id"]] = event["user"]
            for record in event["Records"]:
                if record["id"] not in LATEST:
                    LATEST[record["id"]] = record
            tag = TAGS.setdefault(key, {"key": key})
            TAGS.update({key: event["tags"]})
            return ITEMS[key], PAIRS[pair], tag
        """
    # a value computed from the key (through locals, a client call, a tuple key) fills a cache;
    # a value read from the entry it replaces, or holding other request data, is module state
    assert found(source) == [
        (8, "LS107"),
        (11, "LS107"),
        (13, "LS102"),  # a running total through a local
        (15, "LS102"),  # the user, under the id
        (18, "LS102"),  # the whole record, under its id
        (20, "LS101"),  # TAGS leaks here, so its fill on line 19 is not called a cache
    ]
    messages = {f.line: f.message for f in check_source(textwrap.dedent(source), "m.py")}
    assert "computed from the entry it replaces (a read-modify-write" in messages[13]
    assert "keeps request data beyond its key" in messages[15]


def test_messages_of_roundabout_writes_say_how_they_happen() -> None:
    by_line = messages("per_invocation")
    assert "puts request data into the process environment" in by_line["environment.py", 14]
    assert "`lambdascope.request`" in by_line["environment.py", 14]
    assert "after os.chdir() to the temp dir" in by_line["workdir.py", 17]
    assert (
        "in secrets() (called from handler lambda_handler() via refresh())"
        in (by_line["clients.py", 15])
    )


def test_what_a_module_level_wrapper_is_given_is_the_handler(tmp_path: Path) -> None:
    (tmp_path / "impl.py").write_text(
        "LOG = []\ndef handle(event, context):\n    LOG.append(event)\n"
    )
    (tmp_path / "entry.py").write_text(
        textwrap.dedent(
            """\
            import impl
            from sentry_sdk.integrations.aws_lambda import wrap
            from tracing import traced, options
            SEEN = []
            class Handler:
                def __init__(self):
                    SEEN.append("built")
            def inner(event, context):
                SEEN.append(event)
            def report(exc):
                SEEN.append(exc)
            lambda_handler = traced(options(level=2))(wrap(inner, on_error=report))
            other = traced(Handler)
            third = wrap(target=impl.handle)
            """
        )
    )
    resources = [
        f"  Fn{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        f"      Handler: entry.{name}\n      Runtime: python3.12\n"
        for i, name in enumerate(("lambda_handler", "third", "other"))
    ]
    (tmp_path / "template.yaml").write_text("Resources:\n" + "".join(resources))
    findings = check_paths([str(tmp_path)])
    # a class given to a wrapper is not what Lambda calls (its __init__ is not a handler), nor
    # is a callback given as another keyword argument
    assert [(Path(f.path).name, f.line, f.code) for f in findings] == [
        ("entry.py", 9, "LS101"),
        ("impl.py", 3, "LS101"),
    ]


def test_the_process_environment_written_per_request() -> None:
    source = """\
        import os
        from os import environ
        def lambda_handler(event, context):
            environ["USER_ID"] = event["user"]
            os.environ["STAGE"] = os.environ.get("STAGE", "dev")
            os.environ.setdefault("REGION", event["region"])
            os.environ.setdefault("MODE", "batch")
            os.environ["REQUEST_ID"] = "fixed"
            local = {}
            local["x"] = event["x"]
        """
    assert found(source) == [(4, "LS112"), (6, "LS112")]


def test_relative_writes_after_the_working_directory_moved_to_the_temp_dir() -> None:
    source = """\
        import os, tempfile
        OUT = "result.csv"
        def lambda_handler(event, context):
            os.chdir(tempfile.gettempdir())
            name = os.path.basename(event["key"])
            with open(name, "w") as fh:
                fh.write("x")
            with open(OUT, "a") as fh:
                fh.write("x")
            with open(os.path.join("out", name), "w") as fh:
                fh.write("x")
            with open(event["path"], "w") as fh:
                fh.write("x")
            with open(name + ".bak", "x") as fh:
                fh.write("x")
        """
    # a path of unknown origin (the event's) may be absolute: not reported
    assert found(source) == [(6, "LS111"), (8, "LS111"), (10, "LS111"), (14, "LS111")]
    assert found(source.replace("os.chdir(tempfile.gettempdir())", "os.chdir('/srv')")) == []


def test_a_helper_writing_the_object_it_is_given() -> None:
    source = """\
        import heapq
        FLAGS = {}
        QUEUE = []
        class Registry:
            def __init__(self):
                self.items = {}
            def update(self, other):
                return dict(other)
        REGISTRY = Registry()
        def merge_into(target, extra):
            target.update(extra)
            return target
        def remember(target, key, value):
            target[key] = value
        def enqueue(queue, item):
            heapq.heappush(queue, item)
        def through(target, extra):
            return merge_into(target, extra)
        def copied(target, extra):
            target = dict(target)
            target.update(extra)
            return target
        def lambda_handler(event, context):
            merge_into({}, event)
            merge_into(FLAGS, {"seen": True})
            remember(target=FLAGS, key="k", value=event)
            enqueue(QUEUE, event["id"])
            through(FLAGS, event)
            copied(FLAGS, event)
            merge_into(REGISTRY, event)
        """
    # a local dict, a copy made first, a project class whose update() writes nothing: fine
    assert found(source) == [(25, "LS101"), (26, "LS101"), (27, "LS101"), (28, "LS101")]
    message = check_source(textwrap.dedent(source), "m.py")[3].message
    assert "passes module-level `FLAGS` to through(), which writes it in place" in message
    assert "(`target.update(...) in merge_into()`)" in message


def test_instances_handed_out_by_a_function() -> None:
    source = """\
        LOG = []
        class Orders:
            def save(self, item):
                LOG.append(item)
                self.last = item
        class Audit:
            def write(self, item):
                return item
        TABLES = {"orders": Orders(), "audit": Audit()}
        SINGLE = [Orders()]
        orders = Orders()
        def table_for(kind):
            return TABLES.get(kind)
        def first():
            found = SINGLE[0]
            return found
        def the_one():
            return orders
        def fresh():
            return Orders()
        def lambda_handler(event, context):
            table_for(event["kind"]).save(event)
            table_for("audit").write(event)
            first().save(event)
            the_one().save(event)
            fresh().save(event)
        """
    findings = check_source(textwrap.dedent(source), "m.py")
    # `self.last` is module state when the instance is kept in a module-level table, not when
    # the function builds a new one
    assert [(f.line, f.code) for f in findings] == [(4, "LS101"), (5, "LS102")]
    only_the_table = source.replace("first().save", "first().write").replace("the_one()", "fresh()")
    (_, written) = check_source(textwrap.dedent(only_the_table), "m.py")
    assert "module-level `TABLES` keeps it" in written.message
    built = only_the_table.replace("table_for(event", "fresh(event").replace("first()", "fresh()")
    assert [(f.line, f.code) for f in check_source(textwrap.dedent(built), "m.py")] == [
        (4, "LS101")
    ]


def test_clearing_a_cache_that_is_not_functools_follows_nothing() -> None:
    source = """\
        import boto3
        from lambdascope import init_resource
        from cachetools import cached
        @init_resource
        def s3():
            return boto3.client("s3")
        def lambda_handler(event, context):
            s3.cache_clear()
            event.cache_clear()
            return s3()
        """
    assert found(source) == []


def test_clean_code_passes_even_at_warning_level(capsys: pytest.CaptureFixture[str]) -> None:
    clean = str(PROJECTS / "clean_app")
    assert main(["--no-config", clean, "--fail-on", "warning"]) == 0
    assert "0 error, 0 warning, 1 info" in capsys.readouterr().err


def test_nested_functions_write_where_the_handler_moved() -> None:
    source = """\
        import os
        import pandas as pd
        def lambda_handler(event, context):
            os.chdir("/tmp")
            def export(rows):
                name = "{}-rows.csv".format(event["day"])
                def write():
                    pd.DataFrame(rows).to_csv(name, index=False)
                    pd.DataFrame(rows).to_csv(index=False)
                write()
            export(event["rows"])
        """
    # a closure variable holding a relative name, in a function defined after the chdir
    assert found(source) == [(8, "LS111")]


def test_a_handler_wrapped_only_when_a_setting_says_so() -> None:
    source = """\
        import os
        SENT = []
        def forward(records, ctx):
            SENT.append(records)
        if os.environ.get("TRACING"):
            from tracing import traced
            lambda_handler = traced(forward)
        else:
            lambda_handler = forward
        """
    # not shaped like a handler: only the assignments in the blocks make it one
    assert found(source) == [(4, "LS101")]


def test_what_builds_an_adapted_app_runs_once() -> None:
    source = """\
        from flask import Flask
        from apig_wsgi import make_lambda_handler
        SETTINGS = {}
        HITS = []
        def create_app(name):
            SETTINGS["name"] = name
            return Flask(name)
        def ping():
            HITS.append(1)
            return "pong"
        app = create_app("api")
        app.add_url_rule("/ping", "ping", ping)
        handler = make_lambda_handler(app, binary_support=True)
        """
    assert found(source) == [(9, "LS101")]
