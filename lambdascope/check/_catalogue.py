"""What the checker knows about libraries, as data: clients and connections, credentials and
cache keys, frameworks' registries and decorators, functions that mutate or write files.

Names are qualified as imported (``boto3.client``, ``redis.Redis``); the rules resolve a call's
import aliases before looking it up here. Adding a library is adding a line.
"""

from __future__ import annotations

__all__ = [
    "ADAPTERS",
    "AWS_FACTORIES",
    "AWS_KEY_KEYWORDS",
    "CACHE_UPKEEP",
    "CHDIR_CALLS",
    "CLIENT_PARAMETERS",
    "CONNECTIONS",
    "CONNECTION_KEY_KEYWORDS",
    "CONTEXT_PARAMS",
    "CREDENTIAL_CALLS",
    "CREDENTIAL_KEYWORDS",
    "CREDENTIAL_SETTERS",
    "ENVIRONMENTS",
    "ENVIRONMENT_METHODS",
    "ENVIRONMENT_WRITES",
    "ENV_READS",
    "EVENT_ATTRIBUTES",
    "EVENT_PARAMS",
    "HANDLER_DECORATORS",
    "MEMO_DECORATORS",
    "MIDDLEWARE_FACTORIES",
    "MUTABLE_CALLS",
    "MUTATING_FUNCTIONS",
    "NEUTRAL_BASES",
    "ONCE_DECORATORS",
    "OWN_CREDENTIAL_CALLS",
    "PATH_CLASSES",
    "PATH_WRITE_METHODS",
    "REGISTRIES",
    "SESSIONS",
    "SESSION_METHODS",
    "SESSION_PARAMETERS",
    "TEMP_DIR",
    "TEMP_DIR_CALLS",
    "WRAPPED_KEYWORDS",
    "WRITE_DESTINATIONS",
    "WRITE_METHODS",
    "WRITE_MODES",
]

# ------------------------------------------------------------------------------ module state

#: Standard-library functions that mutate their first argument in place.
MUTATING_FUNCTIONS = frozenset(
    {
        "bisect.insort",
        "bisect.insort_left",
        "bisect.insort_right",
        "heapq.heapify",
        "heapq.heappop",
        "heapq.heappush",
        "heapq.heappushpop",
        "heapq.heapreplace",
        "random.shuffle",
    }
)
#: Calls that build a new mutable container (a mutable default argument).
MUTABLE_CALLS = frozenset(
    {
        "list",
        "dict",
        "set",
        "bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.deque",
        "collections.Counter",
        "defaultdict",
        "OrderedDict",
        "deque",
        "Counter",
    }
)
#: Methods that keep a memo cache in check (or are part of filling it).
CACHE_UPKEEP = frozenset({"clear", "pop", "popitem", "setdefault", "update", "__delitem__"})
#: Base classes that add no methods of their own to a project class's instances.
NEUTRAL_BASES = frozenset(
    {
        "object",
        "ABC",
        "abc.ABC",
        "Generic",
        "typing.Generic",
        "Protocol",
        "typing.Protocol",
        "NamedTuple",
        "typing.NamedTuple",
    }
)

# ------------------------------------------------------------------------------ clients

SESSIONS = frozenset(
    {
        "boto3.Session",
        "boto3.session.Session",
        "botocore.session.get_session",
        "botocore.session.Session",
    }
)
AWS_FACTORIES = SESSIONS | {"boto3.client", "boto3.resource", "aioboto3.Session"}
#: Methods of a session that build a client.
SESSION_METHODS = frozenset({"client", "resource", "create_client"})
#: Each opens a network connection (or a pool of them) meant to be reused.
CONNECTIONS = frozenset(
    {
        "aiohttp.ClientSession",
        "elasticsearch.Elasticsearch",
        "httpx.AsyncClient",
        "httpx.Client",
        "mysql.connector.connect",
        "opensearchpy.AsyncOpenSearch",
        "opensearchpy.OpenSearch",
        "pg8000.connect",
        "psycopg.AsyncConnection.connect",
        "psycopg.connect",
        "psycopg2.connect",
        "psycopg_pool.ConnectionPool",
        "pymongo.MongoClient",
        "pymysql.connect",
        "pymysql.connections.Connection",
        "redis.Redis",
        "redis.Redis.from_url",
        "redis.StrictRedis",
        "redis.asyncio.Redis",
        "redis.cluster.RedisCluster",
        "redis.from_url",
        "requests.Session",
        "requests.session",
        "sqlalchemy.create_engine",
        "urllib3.PoolManager",
        "motor.motor_asyncio.AsyncIOMotorClient",
        "aurora_dsql_psycopg2.connect",
        "asyncpg.connect",
        "asyncpg.create_pool",
        "aiomysql.connect",
        "cx_Oracle.connect",
        "oracledb.connect",
        "pymssql.connect",
        "pyodbc.connect",
        "snowflake.connector.connect",
        "neo4j.GraphDatabase.driver",
        "cassandra.cluster.Cluster",
        "pika.BlockingConnection",
        "elasticsearch.AsyncElasticsearch",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "httplib2.Http",
        "requests.sessions.Session",
        "urllib3.HTTPConnectionPool",
        "urllib3.HTTPSConnectionPool",
        "urllib3.ProxyManager",
        "urllib3.connection_from_url",
        "urllib3.connectionpool.connection_from_url",
        "urllib3.poolmanager.PoolManager",
    }
)
#: Keyword arguments that carry an identity: a client built with per-request values in them
#: (an assumed role's keys, a caller's token) is per request by design.
CREDENTIAL_KEYWORDS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "botocore_session",
        "http_auth",
        "auth",
        "password",
        "passwd",
        "token",
        "api_key",
        "credentials",
        "profile_name",
    }
)
#: The positional parameters of ``boto3.client``/``resource`` and of ``boto3.Session``.
CLIENT_PARAMETERS = (
    "service_name",
    "region_name",
    "api_version",
    "use_ssl",
    "verify",
    "endpoint_url",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "config",
)
SESSION_PARAMETERS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "region_name",
    "botocore_session",
    "profile_name",
)
#: Arguments that select *which* client, not *whose*: taken from the event, they make a small
#: set of clients worth caching per key (LS110), not one per request.
AWS_KEY_KEYWORDS = frozenset(
    {"service_name", "region_name", "endpoint_url", "config", "api_version", "use_ssl", "verify"}
)
CONNECTION_KEY_KEYWORDS = frozenset(
    {"host", "hosts", "port", "database", "db", "dbname", "region", "endpoint", "base_url"}
)
#: Calls whose result is an identity other than the function's own (per request).
CREDENTIAL_CALLS = frozenset(
    {"assume_role", "assume_role_with_web_identity", "assume_role_with_saml", "get_session_token"}
)
#: Methods returning the credentials of the session they are called on.
OWN_CREDENTIAL_CALLS = frozenset({"get_credentials", "get_frozen_credentials"})
#: Methods that give a session per-request credentials after it is built.
CREDENTIAL_SETTERS = frozenset({"set_credentials"})
#: The process environment, as a mapping; its methods that write it; functions that write it.
ENVIRONMENTS = frozenset({"os.environ", "posix.environ"})
ENVIRONMENT_METHODS = frozenset({"update", "setdefault", "__setitem__"})
ENVIRONMENT_WRITES = frozenset({"os.putenv", "posix.putenv"})
#: Reads of the function's configuration (the same in every invocation).
ENV_READS = frozenset({"os.environ", "os.getenv", "os.environ.get", "os.environ.__getitem__"})

# ------------------------------------------------------------------------------ handlers

EVENT_ATTRIBUTES = frozenset({"current_event", "json_body", "raw_event"})
EVENT_PARAMS = frozenset({"event", "_event", "evt", "events"})
CONTEXT_PARAMS = frozenset({"context", "_context", "ctx", "lambda_context", "_"})
HANDLER_DECORATORS = frozenset({"handler", "lambdascope.handler"})
#: Decorators of functions that run once, not per call.
ONCE_DECORATORS = frozenset({"init_resource", "cache", "lru_cache", "cached_property"})
#: Decorators of functions memoised by functools, whose ``cache_clear()`` makes them run again.
MEMO_DECORATORS = frozenset({"cache", "lru_cache", "functools.cache", "functools.lru_cache"})
#: Classes whose instances register functions that run per invocation through decorators
#: (``@app.get(...)``, ``@helper.create``): Powertools event handlers and routers, crhelper,
#: Chalice, and web frameworks served on Lambda through an adapter (Mangum, apig-wsgi).
REGISTRIES = frozenset(
    {
        "ALBResolver",
        "APIGatewayHttpResolver",
        "APIGatewayRestResolver",
        "APIGatewayResolver",
        "AppSyncEventsResolver",
        "AppSyncResolver",
        "APIRouter",
        "BedrockAgentFunctionResolver",
        "BedrockAgentResolver",
        "Blueprint",
        "CfnResource",
        "Chalice",
        "FastAPI",
        "Flask",
        "LambdaFunctionUrlResolver",
        "Router",
        "VPCLatticeResolver",
        "VPCLatticeV2Resolver",
    }
)
#: Adapters that serve a web application on Lambda (``handler = Mangum(app)``): the app's
#: routes run per invocation, however they are registered.
ADAPTERS = frozenset({"mangum.Mangum", "apig_wsgi.make_lambda_handler"})
#: Keyword arguments that give a handler wrapper the function it wraps (other keyword arguments,
#: such as an error callback, are not the handler).
WRAPPED_KEYWORDS = frozenset(
    {"handler", "lambda_handler", "func", "function", "fn", "f", "wrapped", "target"}
)
#: Decorators that turn a function into a handler middleware (it runs on every invocation of
#: the handler it decorates): Powertools' middleware factory.
MIDDLEWARE_FACTORIES = frozenset(
    {
        "lambda_handler_decorator",
        "aws_lambda_powertools.middleware_factory.lambda_handler_decorator",
    }
)

# ------------------------------------------------------------------------------ temp files

TEMP_DIR = "/tmp"
#: Calls returning the temp directory (they honour TMPDIR; joined to a fixed name, the file
#: still outlives the invocation).
TEMP_DIR_CALLS = frozenset({"tempfile.gettempdir", "tempfile.gettempdirb"})
#: Calls that change the working directory (relative paths are resolved against it).
CHDIR_CALLS = frozenset({"os.chdir", "posix.chdir"})
PATH_CLASSES = frozenset({"Path", "pathlib.Path", "PosixPath", "pathlib.PosixPath"})
#: ``open()``-like calls: (qualified name, index of the mode argument).
WRITE_MODES = {
    "open": 1,
    "io.open": 1,
    "codecs.open": 1,
    "gzip.open": 1,
    "bz2.open": 1,
    "lzma.open": 1,
    "tarfile.open": 1,
    "zipfile.ZipFile": 1,
}
#: Functions that write to a path: (qualified name, index of the destination argument).
WRITE_DESTINATIONS = {
    "shutil.copy": 1,
    "shutil.copy2": 1,
    "shutil.copyfile": 1,
    "shutil.copytree": 1,
    "shutil.move": 1,
    "os.rename": 1,
    "os.replace": 1,
    "os.makedirs": 0,
    "os.mkdir": 0,
    "urllib.request.urlretrieve": 1,
}
#: Path methods that write (``Path("/tmp/x").write_text(...)``); ``open`` only with a write mode.
PATH_WRITE_METHODS = frozenset(
    {"write_text", "write_bytes", "touch", "mkdir", "symlink_to", "hardlink_to"}
)
#: Methods of other objects that write a file to a path given as an argument (an S3 download,
#: an archive extracted, a data frame or figure saved): (method, index of the path argument).
WRITE_METHODS = {
    "download_file": 2,
    "extractall": 0,
    "extract": 1,
    "save": 0,
    "savefig": 0,
    "to_csv": 0,
    "to_excel": 0,
    "to_json": 0,
    "to_parquet": 0,
    "to_pickle": 0,
}
