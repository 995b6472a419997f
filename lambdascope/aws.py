"""boto3 helpers for Lambda: init-scope clients and resources, and a warning for clients
created during an invocation.

boto3 is imported on first use, never by ``import lambdascope`` or ``import
lambdascope.aws``. Install it with ``pip install lambdascope[aws]`` (the Lambda
Python runtimes ship it too).
"""

from __future__ import annotations

import os
import sys
import threading

from ._request import in_invocation
from ._resources import InitResource, in_factory
from ._util import seconds_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

__all__ = [
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
WARN_ENV = "LAMBDASCOPE_WARN_CLIENTS"

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


def _freeze(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return ("unhashable", id(value))  # e.g. a Config: cached per object
    return value


def _cached(kind: str, service: str, kwargs: dict[str, Any]) -> InitResource[Any]:
    if not isinstance(service, str) or not service:
        raise TypeError(
            f"lambdascope.aws.{kind}() needs a service name such as 's3', got {service!r}"
        )
    key = (kind, service, tuple(sorted((k, _freeze(v)) for k, v in kwargs.items())))
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
                return getattr(boto3, kind)(service, config=config, **options)

            args = ", ".join([repr(service), *(f"{k}={v!r}" for k, v in sorted(kwargs.items()))])
            factory.__qualname__ = factory.__name__ = f"{kind}({args})"
            factory.__module__ = __name__
            found = _cache[key] = InitResource(factory)
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
    if os.environ.get(WARN_ENV, "1").strip().lower() in {"0", "false", "no", "off"}:
        return False
    loaded = sys.modules.get("botocore.session")
    if loaded is not None:
        _patch(loaded)
    elif _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)
    return True


# --- configuration values: SSM Parameter Store and Secrets Manager --------------------------

_TRANSFORMS = (None, "json", "binary")
_values: dict[tuple[Any, ...], tuple[Any, float]] = {}
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
    if transform == "json":
        import json

        return json.loads(value)
    if isinstance(value, bytes):  # Secrets Manager's SecretBinary is already decoded
        return value
    import base64

    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError(f"{name}: transform='binary' needs a base64 value") from exc


def _cached_value(key: tuple[Any, ...], max_age: float, force_fetch: bool, fetch: Any) -> Any:
    import time

    now = time.monotonic()
    if not force_fetch:
        found = _values.get(key)
        if found is not None and found[1] > now:
            return found[0]
    value = fetch()  # errors propagate unchanged; nothing is cached
    with _values_lock:
        _values[key] = (value, now + max_age)
    return value


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

    def fetch() -> Any:
        response = client("ssm").get_parameter(Name=name, WithDecryption=decrypt)
        return _transform(response["Parameter"]["Value"], transform, name)

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

    def fetch() -> dict[str, Any]:
        paginator = client("ssm").get_paginator("get_parameters_by_path")
        values: dict[str, Any] = {}
        for page in paginator.paginate(Path=path, Recursive=recursive, WithDecryption=decrypt):
            for parameter in page["Parameters"]:
                full = parameter["Name"]
                relative = full[len(prefix) :] if full.startswith(prefix) else full
                values[relative] = _transform(parameter["Value"], transform, full)
        return values

    key = ("ssm-path", path, recursive, decrypt, transform)
    return dict(_cached_value(key, max_age, force_fetch, fetch))


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

    def fetch() -> Any:
        response = client("secretsmanager").get_secret_value(SecretId=name)
        value = response.get("SecretString")
        if value is None:
            value = response.get("SecretBinary")
        return _transform(value, transform, name)

    return _cached_value(("secret", name, transform), max_age, force_fetch, fetch)


def clear_caches() -> None:
    """Forget every cached parameter and secret (tests; or after a rotation you know of)."""
    with _values_lock:
        _values.clear()
