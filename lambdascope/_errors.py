"""Exceptions raised by lambdascope."""

from __future__ import annotations

__all__ = [
    "AnalysisFileWarning",
    "ConfigurationError",
    "ConfigurationWarning",
    "DeadlineExceededError",
    "LambdascopeError",
    "OutsideInvocationError",
    "ScopeLeakError",
    "ScopeLeakWarning",
    "TmpLeakError",
    "TmpLeakWarning",
]


class LambdascopeError(Exception):
    """Base class of every exception lambdascope raises on its own account."""

    __module__ = "lambdascope"


class ConfigurationError(LambdascopeError, ValueError):
    """A ``LAMBDASCOPE_*`` environment variable has a value lambdascope does not know.

    Raised where ``@handler`` is applied (on Lambda: during Init) for a variable that decides
    what an invocation does (``LAMBDASCOPE_GUARD``, ``LAMBDASCOPE_WATCH_TMP``); the message
    names the variable and the values it accepts. A :class:`ValueError`, so code that caught
    the ``ValueError`` these raised before still catches it.
    """

    __module__ = "lambdascope"


class ConfigurationWarning(UserWarning):
    """A ``LAMBDASCOPE_*`` environment variable has a value lambdascope does not know, or a
    ``LAMBDASCOPE_*`` name is not one it reads, where failing would be worse than going on.

    Issued once per variable and value; the variable's default applies (a report, a metric,
    a warning). See :class:`ConfigurationError` for the variables that fail instead.
    """

    __module__ = "lambdascope"


class OutsideInvocationError(LambdascopeError, RuntimeError):
    """``request`` was used while no invocation of a ``@handler`` is running.

    The request scope exists only between the moment a ``@handler``-decorated
    function is called and the moment it returns (or raises). Code that runs
    during Init (module top level), in a thread or task that outlived its
    invocation, or in a test that calls a helper without going through the
    handler, sees this error instead of another invocation's data.
    """

    __module__ = "lambdascope"


class ScopeLeakError(LambdascopeError, RuntimeError):
    """Handler code wrote to module-level state of a guarded module.

    Module-level state survives between warm invocations of one execution
    environment, so data written there by one request is seen by the next.
    Keep per-invocation data on ``request``, long-lived objects in
    ``@init_resource`` factories, and list deliberate caches in ``allow=``.
    """

    __module__ = "lambdascope"


class ScopeLeakWarning(UserWarning):
    """``@handler(guard="warn")`` saw handler code write module-level state.

    Issued once per module-level variable; the invocation's result stands. See
    :class:`ScopeLeakError` for what to do instead.
    """

    __module__ = "lambdascope"


class AnalysisFileWarning(UserWarning):
    """The analysis file ``lambdascope analyse`` wrote (``lambdascope-analysis.json``) is
    damaged: it cannot be read as UTF-8 JSON, or an entry was changed after it was written
    (it no longer matches its digest) or has the wrong shape.

    The file is only an optimisation: the guard analyses the modules concerned on the first
    invocation instead, exactly as without the file, and watches them as always. Issued once
    per file. Not a :class:`ScopeLeakWarning`: a filter that turns leaks into errors does not
    turn a damaged cache into a failed invocation. Write the file again with ``lambdascope
    analyse``.
    """

    __module__ = "lambdascope"


class TmpLeakError(ScopeLeakError):
    """An invocation left files in the temp dir (``/tmp``) outside the sanctioned places.

    Like module state, ``/tmp`` survives between warm invocations (and under Lambda
    Managed Instances it is shared by every worker process), so files an invocation
    leaves there fill the ephemeral storage and are seen by later requests. A
    :class:`ScopeLeakError`, so ``except ScopeLeakError`` catches both kinds of leak.
    Write per-invocation files under ``request.tmpdir``, init-scope files under
    :func:`~lambdascope.init_tmpdir`, and list deliberate ones in
    ``@handler(tmp_allow=...)``.
    """

    __module__ = "lambdascope"


class TmpLeakWarning(ScopeLeakWarning):
    """``@handler(guard="warn")`` saw an invocation leave files in the temp dir.

    See :class:`TmpLeakError`.
    """

    __module__ = "lambdascope"


class DeadlineExceededError(LambdascopeError, TimeoutError):
    """The invocation reached its deadline minus ``@handler(deadline_margin=...)``.

    Raised in an ``async def`` handler's place after lambdascope cancelled it at
    that moment, and by ``request.check_deadline()`` in any handler past it. It is
    a :class:`TimeoutError`, so ``except TimeoutError`` catches it too. Lambda
    reports it as the invocation's error (``errorType`` ``DeadlineExceededError``)
    instead of a timeout that ends the execution environment.
    """

    __module__ = "lambdascope"
