"""boto3 helpers for Lambda: init-scope clients and resources, and a warning for clients
created during an invocation.

boto3 is imported on first use, never by ``import lambdascope`` or ``import
lambdascope.aws``. Install it with ``pip install lambdascope[aws]`` (the Lambda
Python runtimes ship it too).
"""

from __future__ import annotations

import sys
import threading
from functools import partial

from ._config import WARN_CLIENTS, switch
from ._resources import InitResource, in_factory
from ._scope import in_invocation
from ._state import state
from ._util import describe, seconds_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

__all__ = [
    "MAX_CACHED",
    "ClientCacheWarning",
    "ClientInInvocationWarning",
    "clear_caches",
    "client",
    "get_parameter",
    "get_parameters_by_path",
    "get_secret",
    "install_client_warning",
    "lambda_config",
    "resource",
]

#: Environment variable that turns the client-in-invocation warning off (``0``).

_cache: dict[tuple[Any, ...], InitResource[Any]] = {}
_cache_lock = threading.Lock()


class ClientInInvocationWarning(UserWarning):
    """A boto3 client or session was created while an invocation was running.

    Creating a client costs milliseconds to tens of milliseconds (endpoint and
    model loading, credentials, a new TCP/TLS connection on first use); doing it
    per invocation repeats that on every warm request. Create it once with
    ``@init_resource`` or :func:`lambdascope.aws.client`.
    """

    __module__ = "lambdascope.aws"


def lambda_config(**overrides: Any) -> Any:
    """The botocore ``Config`` lambdascope uses for clients, with *overrides* applied.

    - ``tcp_keepalive=True``: Lambda freezes environments between invocations;
      keep-alive probes let idle pooled connections be detected as dead.
    - ``connect_timeout=5``, ``read_timeout=30``: fail within a Lambda's budget
      instead of botocore's 60 s defaults.
    - ``retries={"mode": "standard", "max_attempts": 3}``: the SDK's recommended
      retry mode (exponential backoff with jitter, retry quotas).
    """
    from botocore.config import Config

    base = Config(
        tcp_keepalive=True,
        connect_timeout=5,
        read_timeout=30,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return base.merge(Config(**overrides)) if overrides else base


#: At most this many clients/resources are cached; past it, the call site holding the most
#: entries loses its oldest (a site whose arguments keep changing evicts its own clients).
MAX_CACHED = 64
#: A call site that creates a new client in this many different invocations gets a warning.
_CHURN_INVOCATIONS = 3
#: Substrings of argument or setting names whose values never appear in names or messages.
_SECRET_WORDS = ("secret", "token", "password", "passwd", "credential", "key_id", "private")


class ClientCacheWarning(UserWarning):
    """A call site of :func:`client`/:func:`resource` keeps asking for new clients.

    Its arguments differ between invocations (fresh credentials, an object that
    is not compared by value), so each invocation builds and caches another
    client. The cache is bounded (:data:`MAX_CACHED`), but every new client still
    costs milliseconds and memory.
    """

    __module__ = "lambdascope.aws"


def _is_config(value: Any) -> bool:
    return type(value).__name__ == "Config" and isinstance(
        getattr(value, "_user_provided_options", None), dict
    )


def _freeze(value: Any) -> Any:
    """A hashable key for *value* that compares by value where the value allows it."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((repr(k), _freeze(v)) for k, v in value.items()))))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    if _is_config(value):  # botocore's Config has no __eq__: key it by the settings given
        return ("Config", _freeze(value._user_provided_options))
    try:
        hash(value)
    except TypeError:
        return ("unhashable", id(value))  # no value equality: one entry per object
    return value


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _without_userinfo(text: str) -> str:
    """``https://user:password@host/x`` -> ``https://***@host/x``."""
    scheme, sep, rest = text.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return text
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{path}"


def _shown(name: str, value: Any) -> str:  # noqa: PLR0911 - one return per kind of value
    """How an argument appears in a resource's name: secrets and unknown objects hidden."""
    if _secret_name(name) and value is not None:
        return "'***'"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(_without_userinfo(value))
    if isinstance(value, dict):
        items = ", ".join(f"{k!r}: {_shown(str(k), v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(name, v) for v in value) + "]"
    if _is_config(value):
        options = sorted(value._user_provided_options.items())
        return "Config(" + ", ".join(f"{k}={_shown(k, v)}" for k, v in options) + ")"
    return f"<{type(value).__name__}>"  # its repr could carry anything


def _secret_values(name: str, value: Any) -> list[str]:
    """The secret strings inside an argument: secret-named values, URL user info."""
    if isinstance(value, str):
        if _secret_name(name):
            return [value]
        userinfo = value.partition("://")[2].partition("/")[0].rpartition("@")[0]
        return [userinfo, userinfo.partition(":")[2]] if "://" in value else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _secret_values(str(k), v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _secret_values(name, v)]
    if _is_config(value):
        return _secret_values(name, value._user_provided_options)
    return []


def _without_secrets(exc: Exception, kwargs: dict[str, Any]) -> Exception | None:
    """A copy of *exc* with the secrets of *kwargs* masked, or ``None`` if it shows none.

    botocore puts some arguments in its messages ("Invalid endpoint: https://user:pw@...").
    """
    secrets = sorted({s for s in _secret_values("", kwargs) if s}, key=len, reverse=True)
    text = str(exc)
    if not any(secret in text for secret in secrets):
        return None
    for secret in secrets:
        text = text.replace(secret, "***")
    try:
        clean = type(exc)(text)
    except Exception:  # an exception type that takes other arguments
        return RuntimeError(f"{type(exc).__name__}: {text}")
    return clean if str(clean) == text else RuntimeError(f"{type(exc).__name__}: {text}")


class _Site:
    """What one call site of client()/resource() has cached."""

    __slots__ = ("invocations", "keys", "last_invocation", "warned")

    def __init__(self) -> None:
        self.keys: list[tuple[Any, ...]] = []
        self.invocations = 0  # invocations in which it created a new entry
        self.last_invocation = -1
        self.warned = False


_sites: dict[tuple[str, int], _Site] = {}


def _note_new_entry(key: tuple[Any, ...], kind: str, service: str) -> None:
    """Remember where *key* was created; evict past MAX_CACHED; warn about churning sites."""
    filename, lineno, module, _ = _user_frame()
    site = _sites.setdefault((filename, lineno), _Site())
    site.keys.append(key)
    if len(_cache) > MAX_CACHED:
        crowded = max(_sites.values(), key=lambda s: len(s.keys))
        del _cache[crowded.keys.pop(0)]  # its oldest; dropped, not closed: it may be in use
    if not in_invocation() or state.invocations == site.last_invocation:
        return
    site.last_invocation = state.invocations
    site.invocations += 1
    if site.invocations < _CHURN_INVOCATIONS or site.warned:
        return
    site.warned = True
    import warnings

    warnings.warn_explicit(
        ClientCacheWarning(
            f"lambdascope.aws.{kind}({service!r}) at {filename}:{lineno} created a new {kind} "
            f"in {site.invocations} different invocations: its arguments change between calls "
            "(new credentials, or an object that is not compared by value), so each change "
            "builds another one (milliseconds and hundreds of KiB each; at most "
            f"{MAX_CACHED} are kept). Pass the same arguments every time (Config objects are "
            "compared by their settings); for rotating credentials, keep one boto3 Session with "
            "refreshable credentials in an @init_resource and build the client from it."
        ),
        ClientCacheWarning,
        filename,
        lineno,
        module=module,
    )


def _cached(kind: str, service: str, kwargs: dict[str, Any]) -> InitResource[Any]:
    if not isinstance(service, str) or not service:
        raise TypeError(
            f"lambdascope.aws.{kind}() needs a service name such as 's3', got {describe(service)}"
        )
    key = (kind, service, _freeze(kwargs))
    found = _cache.get(key)
    if found is not None:
        return found
    with _cache_lock:
        found = _cache.get(key)
        if found is None:

            def factory() -> Any:
                import boto3

                options = dict(kwargs)
                user_config = options.pop("config", None)
                config = lambda_config()
                if user_config is not None:
                    config = config.merge(user_config)
                try:
                    return getattr(boto3, kind)(service, config=config, **options)
                except Exception as exc:
                    clean = _without_secrets(exc, kwargs)
                    if clean is None:
                        raise
                raise clean  # outside the handler: no __context__ holding the secret

            args = ", ".join(
                [repr(service), *(f"{k}={_shown(k, v)}" for k, v in sorted(kwargs.items()))]
            )
            factory.__qualname__ = factory.__name__ = f"{kind}({args})"
            factory.__module__ = __name__
            found = _cache[key] = InitResource(factory)
            _note_new_entry(key, kind, service)
    return found


def client(service: str, /, **kwargs: Any) -> Any:
    """A boto3 client created once per environment for these arguments, then reused.

    Takes the arguments of ``boto3.client`` (``region_name=``, ``endpoint_url=``,
    ``config=`` — merged over :func:`lambda_config` …). Calls with the same
    arguments return the same client; it is an init resource, so
    :func:`lambdascope.reset_resources` drops it and the cold-start report lists
    its creation time::

        from lambdascope.aws import client

        @handler
        def lambda_handler(event, context):
            return client("s3").list_buckets()
    """
    return _cached("client", service, kwargs)()


def resource(service: str, /, **kwargs: Any) -> Any:
    """Like :func:`client`, for ``boto3.resource`` (e.g. ``resource("dynamodb").Table(...)``)."""
    return _cached("resource", service, kwargs)()


# --- warning for clients created during an invocation -------------------------------------

_warned: set[tuple[str, int]] = set()
_INTERNAL = ("botocore", "boto3", "lambdascope", "importlib", "aiobotocore")


def _user_frame() -> tuple[str, int, str, str]:
    """(file, line, module) of the first caller outside boto3/botocore/lambdascope, and the
    name of the boto3 entry point it called (``client``, ``resource``, ...)."""
    frame: Any = sys._getframe(2)
    entry = ""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not any(module == p or module.startswith(p + ".") for p in _INTERNAL):
            return frame.f_code.co_filename, frame.f_lineno, module, entry
        entry = frame.f_code.co_name if module == "boto3" else ""
        frame = frame.f_back
    return "<unknown>", 0, "<unknown>", ""  # pragma: no cover - there is always a caller


def _check_creation(what: str) -> None:
    if not in_invocation() or in_factory.get():
        return
    filename, lineno, module, entry = _user_frame()
    if entry in ("client", "resource"):  # boto3.client(...) makes the default session first
        what = entry
    if (filename, lineno) in _warned:
        return
    _warned.add((filename, lineno))
    import warnings

    warnings.warn_explicit(
        ClientInInvocationWarning(
            f"a boto3 {what} was created during a Lambda invocation ({filename}:{lineno}). "
            "Warm invocations repeat that cost (milliseconds to tens of milliseconds, plus a new "
            "connection). Create it once: an @init_resource factory, or "
            "lambdascope.aws.client(...) / resource(...)."
        ),
        ClientInInvocationWarning,
        filename,
        lineno,
        module=module,
    )


def _patch(session_module: ModuleType) -> None:
    session_cls = session_module.Session
    if getattr(session_cls, "__lambdascope_patched__", False):
        return
    original_create_client = session_cls.create_client
    original_init = session_cls.__init__

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        _check_creation("client")
        return original_create_client(self, *args, **kwargs)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        _check_creation("session")
        original_init(self, *args, **kwargs)

    session_cls.create_client = create_client
    session_cls.__init__ = init
    session_cls.__lambdascope_patched__ = True


class _BotocoreImportHook:
    """A ``sys.meta_path`` finder that patches ``botocore.session`` right after it is imported."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "botocore.session":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        from importlib.util import find_spec

        spec = find_spec(fullname)
        if spec is None or spec.loader is None:  # pragma: no cover - botocore is broken
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original_exec(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_hook = _BotocoreImportHook()


def install_client_warning() -> bool:
    """Warn when boto3 clients or sessions are created during an invocation.

    ``@handler`` calls this during Init. botocore is not imported for it: if it
    is already loaded it is patched now, otherwise right after its import.
    ``LAMBDASCOPE_WARN_CLIENTS=0`` turns it off. Returns whether it is active.
    """
    if not switch(WARN_CLIENTS, True):
        return False
    loaded = sys.modules.get("botocore.session")
    if loaded is not None:
        _patch(loaded)
    elif _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)
    return True


# --- configuration values: SSM Parameter Store and Secrets Manager --------------------------

_TRANSFORMS = (None, "json", "binary")
_values: dict[tuple[Any, ...], tuple[Callable[[], Any], float]] = {}
_values_lock = threading.Lock()


def _check_value_options(func: str, max_age: float, transform: str | None) -> float:
    """Check the options shared by the value getters; return *max_age* as a float."""
    if max_age != float("inf") or isinstance(max_age, bool):  # inf: cached for good
        max_age = seconds_value(
            f"{func}(max_age=...)", max_age, "0 always fetches, math.inf keeps it", zero=True
        )
    if transform not in _TRANSFORMS:
        raise ValueError(
            f"{func}(transform=...) must be None, 'json' or 'binary', got {transform!r}"
        )
    return float(max_age)


def _transform(value: Any, transform: str | None, name: str) -> Any:
    if transform is None or value is None:
        return value
    # Errors never carry the value: not in the message, and not chained (a JSONDecodeError
    # keeps the whole document in .doc, which error reporters print).
    if transform == "json":
        import json

        try:
            return json.loads(value)
        except ValueError as exc:
            where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"  # type: ignore[attr-defined]
            message = f"{name}: transform='json' needs a JSON value ({where})"
        raise ValueError(message) from None
    if isinstance(value, bytes):  # Secrets Manager's SecretBinary is already decoded
        return value
    import base64

    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        message = f"{name}: transform='binary' needs a base64 value"
    raise ValueError(message) from None


def _giver(value: Any, transform: str | None, name: str) -> Callable[[], Any]:
    """A zero-argument callable returning *value* transformed, a new object on every call.

    Cached values are shared by every invocation of the environment: a mutable one returned
    as is would carry one request's changes into the next. Strings and bytes are immutable;
    parsed JSON is re-parsed from the cached text on each access (a C-speed deep copy that
    keeps dicts dicts; see docs/aws.md for the measured cost).
    """
    result = _transform(value, transform, name)  # errors surface now, before anything is cached
    if isinstance(result, (dict, list)):
        import json

        return partial(json.loads, value)
    return partial(_same, result)


def _same(value: Any) -> Any:
    return value


def _cached_value(
    key: tuple[Any, ...], max_age: float, force_fetch: bool, fetch: Callable[[], Callable[[], Any]]
) -> Any:
    """The value for *key*: from the cache while younger than *max_age*, else fetched."""
    import time

    now = time.monotonic()
    if not force_fetch:
        found = _values.get(key)
        if found is not None and found[1] > now:
            return found[0]()
    give = fetch()  # errors propagate unchanged; nothing is cached
    with _values_lock:
        _values[key] = (give, now + max_age)
    return give()


def get_parameter(
    name: str,
    *,
    decrypt: bool = True,
    max_age: float = 300,
    force_fetch: bool = False,
    transform: str | None = None,
) -> Any:
    """An SSM Parameter Store value; a fetched value stays cached *max_age* seconds.

    ``decrypt`` reads SecureString values in clear text; ``force_fetch`` skips the
    cache (and refreshes it); ``transform="json"`` parses the value,
    ``"binary"`` base64-decodes it. The SSM client is :func:`client` ``("ssm")``::

        table = get_parameter("/orders/table", max_age=600)
        flags = get_parameter("/orders/flags", transform="json")
    """
    max_age = _check_value_options("get_parameter", max_age, transform)

    def fetch() -> Callable[[], Any]:
        response = client("ssm").get_parameter(Name=name, WithDecryption=decrypt)
        return _giver(response["Parameter"]["Value"], transform, name)

    return _cached_value(("ssm", name, decrypt, transform), max_age, force_fetch, fetch)


def get_parameters_by_path(
    path: str,
    *,
    recursive: bool = True,
    decrypt: bool = True,
    max_age: float = 300,
    force_fetch: bool = False,
    transform: str | None = None,
) -> dict[str, Any]:
    """Every parameter under *path*, keyed by its name relative to *path* (all pages).

    ``get_parameters_by_path("/orders")`` returns ``{"table": ..., "db/host": ...}``
    for ``/orders/table`` and ``/orders/db/host``. Options as :func:`get_parameter`.
    """
    max_age = _check_value_options("get_parameters_by_path", max_age, transform)
    prefix = path.rstrip("/") + "/"

    def fetch() -> Callable[[], dict[str, Any]]:
        paginator = client("ssm").get_paginator("get_parameters_by_path")
        givers: dict[str, Callable[[], Any]] = {}
        for page in paginator.paginate(Path=path, Recursive=recursive, WithDecryption=decrypt):
            for parameter in page["Parameters"]:
                full = parameter["Name"]
                relative = full[len(prefix) :] if full.startswith(prefix) else full
                givers[relative] = _giver(parameter["Value"], transform, full)
        return partial(_give_all, givers)

    key = ("ssm-path", path, recursive, decrypt, transform)
    result: dict[str, Any] = _cached_value(key, max_age, force_fetch, fetch)
    return result


def _give_all(givers: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    return {name: give() for name, give in givers.items()}


def get_secret(
    name: str,
    *,
    max_age: float = 300,
    force_fetch: bool = False,
    transform: str | None = None,
) -> Any:
    """A Secrets Manager secret (``SecretString`` as str, ``SecretBinary`` as bytes), cached.

    ``transform="json"`` parses a JSON secret (the usual shape of database
    credentials); ``"binary"`` base64-decodes a string secret. Options as
    :func:`get_parameter`::

        credentials = get_secret("prod/orders/db", transform="json")
        connect(user=credentials["username"], password=credentials["password"])
    """
    max_age = _check_value_options("get_secret", max_age, transform)

    def fetch() -> Callable[[], Any]:
        response = client("secretsmanager").get_secret_value(SecretId=name)
        value = response.get("SecretString")
        if value is None:
            value = response.get("SecretBinary")
        return _giver(value, transform, name)

    return _cached_value(("secret", name, transform), max_age, force_fetch, fetch)


def clear_caches() -> None:
    """Forget every cached parameter and secret (tests; or after a rotation you know of)."""
    with _values_lock:
        _values.clear()
