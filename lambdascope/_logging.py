"""Per-invocation log context: fields every log record carries while an invocation runs.

``request.log`` holds the invocation's fields (``request.log.update(order_id=...)``);
:func:`install_log_context` attaches one filter to logging handlers, and that filter
adds ``aws_request_id``, ``cold_start``, ``invocation`` and the fields to each record
it sees during an invocation — records of a closed invocation, of Init, or of a
thread that did not copy the invocation's context get nothing.

The fields live in the request scope (a cleanup object registered on first write, so
an invocation that never writes one pays nothing) and are cleared when it ends.

Why a filter on handlers and not a ``LogRecord`` factory: ``Logger.makeRecord`` raises
``KeyError`` when ``extra=`` names an attribute the record already has, so a factory
adding ``order_id`` would make ``log.info(..., extra={"order_id": ...})`` crash. A
filter runs after the record is built and never overwrites an attribute: an
explicit ``extra=`` wins.

This module imports nothing (not even :mod:`logging`): a filter is any object with a
``filter(record)`` method.
"""

from __future__ import annotations

import threading

from ._scope import (
    ACTIVE,
    CLEANUPS,
    COLD_START,
    CONTEXT,
    INVOCATION,
    active_scope,
    current_scope,
    on_invocation_end,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

__all__ = ["LogContextFilter", "LogFields", "install_log_context", "line_fields", "log_fields"]

#: Added by the filter itself; not usable as field names.
_BUILTIN_FIELDS = ("aws_request_id", "cold_start", "invocation")

#: Attributes every ``logging.LogRecord`` has (3.9-3.13), plus what formatters add and
#: what the Lambda runtime sets. A field with one of these names would never show.
_RECORD_ATTRIBUTES = frozenset(
    {
        "args",
        "asctime",
        "created",
        "exc_info",
        "exc_text",
        "filename",
        "funcName",
        "levelname",
        "levelno",
        "lineno",
        "message",
        "module",
        "msecs",
        "msg",
        "name",
        "pathname",
        "process",
        "processName",
        "relativeCreated",
        "stack_info",
        "taskName",
        "tenant_id",
        "thread",
        "threadName",
        *_BUILTIN_FIELDS,
    }
)

#: Parts of names that say "this is a secret": such a field would be written to every log line.
#: Matched against the name lowercased without ``_`` and ``-`` (``privateKey``,
#: ``private_key`` and ``PRIVATE-KEY`` are one name).
_SECRET_WORDS = (
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "authorization",
    "apikey",
    "privatekey",
    "sessionkey",
    "cookie",
)

_create_lock = threading.Lock()
_MISSING: Any = object()


class _Fields(dict):  # type: ignore[type-arg]
    """One invocation's fields; a cleanup that empties itself when the invocation ends."""

    __slots__ = ()

    def __call__(self) -> None:
        self.clear()


def _fields_of(scope: list[Any]) -> _Fields | None:
    cleanups = scope[CLEANUPS]
    if cleanups is not None:
        for item in cleanups:
            if type(item) is _Fields:
                return item
    return None


def _fields_for_write(scope: list[Any]) -> _Fields:
    fields = _fields_of(scope)
    if fields is None:
        with _create_lock:  # threads of one invocation share its scope: create one dict
            fields = _fields_of(scope)
            if fields is None:
                fields = _Fields()
                on_invocation_end(scope, fields)
    return fields


def _check_field(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"request.log field names must be strings, got {type(name).__name__}")
    if not name.isidentifier():
        raise ValueError(
            f"request.log field names must be identifiers (letters, digits, _), got {name!r}"
        )
    if name.startswith("_"):
        raise ValueError(f"request.log field names must not start with an underscore: {name!r}")
    if name in _RECORD_ATTRIBUTES:
        raise ValueError(
            f"request.log cannot set {name!r}: it is an attribute every log record already has "
            "(or one lambdascope adds itself), so the field would never show; choose another name"
        )
    normalised = name.lower().replace("_", "").replace("-", "")
    if any(word in normalised for word in _SECRET_WORDS):
        raise ValueError(
            f"request.log refuses the field {name!r}: its name says it holds a secret, and log "
            "fields are written to every log line of the invocation. Never log secrets; log an "
            "id or a non-reversible fingerprint instead"
        )
    return name


class LogFields:
    """The current invocation's log fields; use it as ``request.log``.

    A small mapping of field names to values that every log record carries while
    the invocation runs, once :func:`~lambdascope.install_log_context` has put the
    filter on your log handlers. Gone when the invocation ends::

        request.log.update(order_id=event["order_id"], customer="c-42")
        log.info("order received")          # carries order_id and customer
        request.log["stage"] = "payment"
        del request.log["customer"]

    Field names must be identifiers, must not be a ``LogRecord`` attribute
    (``msg``, ``name``, ...) or one lambdascope adds (``aws_request_id``,
    ``cold_start``, ``invocation``), and must not look like a secret
    (``password``, ``token``, ...). Values should be JSON-serialisable; Lambda's
    JSON formatter writes any other value as ``str(value)``.

    Every operation works on the invocation running in this context; outside one it
    raises :class:`~lambdascope.OutsideInvocationError`.
    """

    __slots__ = ()
    __module__ = "lambdascope"

    def update(self, fields: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        """Set fields from a mapping and/or keyword arguments."""
        scope = active_scope("log.update()")
        pairs = dict(fields or {})
        pairs.update(more)
        for name in pairs:
            _check_field(name)
        if pairs:
            _fields_for_write(scope).update(pairs)

    def __setitem__(self, name: str, value: Any) -> None:
        scope = active_scope("log[...]")
        _fields_for_write(scope)[_check_field(name)] = value

    def __getitem__(self, name: str) -> Any:
        fields = _fields_of(active_scope("log[...]"))
        if fields is None or name not in fields:
            raise KeyError(name)
        return fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The field *name*, or *default*."""
        fields = _fields_of(active_scope("log.get()"))
        return default if fields is None else fields.get(name, default)

    def pop(self, name: str, default: Any = _MISSING) -> Any:
        """Remove the field *name* and return its value (or *default*; ``KeyError`` without)."""
        fields = _fields_of(active_scope("log.pop()"))
        if fields is not None and name in fields:
            return fields.pop(name)
        if default is _MISSING:
            raise KeyError(name)
        return default

    def __delitem__(self, name: str) -> None:
        fields = _fields_of(active_scope("log[...]"))
        if fields is None or name not in fields:
            raise KeyError(name)
        del fields[name]

    def clear(self) -> None:
        """Remove every field set in this invocation."""
        fields = _fields_of(active_scope("log.clear()"))
        if fields is not None:
            fields.clear()

    def as_dict(self) -> dict[str, Any]:
        """A copy of the fields set so far (not the built-in ones the filter adds)."""
        fields = _fields_of(active_scope("log.as_dict()"))
        return {} if fields is None else dict(fields)

    def __contains__(self, name: object) -> bool:
        fields = _fields_of(active_scope("log"))
        return fields is not None and name in fields

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        fields = _fields_of(active_scope("log"))
        return 0 if fields is None else len(fields)

    def __repr__(self) -> str:
        scope = current_scope()
        if scope is None or not scope[ACTIVE]:
            return "<lambdascope.request.log: no invocation running>"
        fields = _fields_of(scope)
        return f"<lambdascope.request.log fields={sorted(fields or ())}>"  # names, never values


#: The one instance ``request.log`` returns.
log_fields = LogFields()


class LogContextFilter:
    """A logging filter that adds the invocation's context to each record it sees.

    During a ``@handler`` invocation it sets ``aws_request_id`` (when the context
    has one), ``cold_start``, ``invocation`` and every ``request.log`` field on the
    record, unless the record already has that attribute (an explicit
    ``extra=`` wins). Outside an invocation, in a thread that did not copy the
    invocation's context, or after the invocation ended, it adds nothing. It never
    drops a record. Put it in place with :func:`~lambdascope.install_log_context`.
    """

    __slots__ = ()
    __module__ = "lambdascope"

    def filter(self, record: Any) -> bool:
        """Add the fields to *record*; always ``True`` (the record is logged)."""
        scope = current_scope()
        if scope is None or not scope[ACTIVE]:
            return True
        attrs = record.__dict__
        if "aws_request_id" not in attrs:
            request_id = getattr(scope[CONTEXT], "aws_request_id", None)
            if request_id is not None:
                attrs["aws_request_id"] = request_id
        if "cold_start" not in attrs:
            attrs["cold_start"] = scope[COLD_START]
        if "invocation" not in attrs:
            attrs["invocation"] = scope[INVOCATION]
        fields = _fields_of(scope) if scope[CLEANUPS] is not None else None
        if fields:
            for name, value in list(fields.items()):
                if name not in attrs:
                    attrs[name] = value
        return True

    def __repr__(self) -> str:
        return "<lambdascope.LogContextFilter>"


_filter = LogContextFilter()

#: ``service`` when ``POWERTOOLS_SERVICE_NAME`` is not set: Powertools' own word for it.
_NO_SERVICE = "service_undefined"


def line_fields(level: str, context: Any = None) -> dict[str, Any]:
    """The fields lambdascope's own JSON log lines (the leak lines, the cold-start report)
    share with Powertools' ``Logger``, under its names, for one query over both:

    ``level``, ``timestamp`` (its format, ``2026-01-31 12:00:00,123+0000``), ``service``
    (``POWERTOOLS_SERVICE_NAME``), ``function_name``, ``function_request_id`` (of
    *context*, else of the running invocation, else ``None``) and ``xray_trace_id``
    (``Root`` of ``_X_AMZN_TRACE_ID``).
    """
    import os
    import time

    now = time.time()
    if context is None:
        scope = current_scope()
        context = scope[CONTEXT] if scope is not None else None
    request_id = getattr(context, "aws_request_id", None)
    name = getattr(context, "function_name", None)
    trace = os.environ.get("_X_AMZN_TRACE_ID", "")
    root = next((p[5:] for p in trace.split(";") if p.startswith("Root=")), None)
    return {
        "level": level,
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
        + f",{int(now * 1000) % 1000:03d}+0000",
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME") or _NO_SERVICE,
        "function_name": name if isinstance(name, str) else os.environ.get(_FUNCTION_ENV),
        "function_request_id": request_id if isinstance(request_id, str) else None,
        "xray_trace_id": root or None,
    }


_FUNCTION_ENV = "AWS_LAMBDA_FUNCTION_NAME"


def install_log_context(*targets: Any) -> LogContextFilter:
    """Make log records carry the invocation's context: request id, cold start, fields.

    Attaches lambdascope's :class:`LogContextFilter` to the handlers of each target
    — a ``logging.Handler``, a ``logging.Logger`` (all its handlers), or a logger
    object that exposes ``handlers`` such as Powertools' ``Logger`` — or, without
    targets, to the root logger's handlers, where the Lambda runtime's own handler
    (and its JSON formatter) sits. Every record that reaches those handlers, from
    any logger that propagates there, then carries ``aws_request_id``,
    ``cold_start``, ``invocation`` and the ``request.log`` fields during an
    invocation. Call it once at module level (Init), after logging is set up::

        import logging
        import lambdascope
        from lambdascope import handler, request

        lambdascope.install_log_context()
        log = logging.getLogger(__name__)

        @handler
        def lambda_handler(event, context):
            request.log.update(order_id=event["order_id"])
            log.info("order received")

    Calling it again is harmless (a handler gets the filter once); a handler added
    later needs another call. Nothing else in :mod:`logging` is changed, and
    ``import lambdascope`` does not touch logging at all.

    Returns:
        The filter, e.g. to remove it later with ``handler.removeFilter(f)``.

    Raises:
        TypeError: a target is neither a handler nor has ``handlers``.
        ValueError: no handler was found to attach to (configure logging first, or
            pass the handlers).
    """
    if not targets:
        import logging

        targets = (logging.getLogger(),)
    handlers: list[Any] = []
    for target in targets:
        if (
            callable(getattr(target, "handle", None))
            and callable(getattr(target, "addFilter", None))
            and not hasattr(target, "handlers")
        ):
            handlers.append(target)  # a handler
            continue
        found = getattr(target, "handlers", None)
        if not isinstance(found, list):
            raise TypeError(
                "install_log_context() takes logging handlers and loggers (or a Powertools "
                f"Logger), got {type(target).__name__}"
            )
        if not found:
            raise ValueError(
                f"install_log_context(): {target!r} has no handlers, so its records would go "
                "nowhere this filter can reach; configure logging first (on Lambda the runtime "
                "has already given the root logger its handler) or pass the handler itself"
            )
        handlers.extend(found)
    for handler in handlers:
        handler.addFilter(_filter)  # logging skips a filter it already has
    return _filter
