"""lambdascope: make the AWS Lambda execution-environment lifecycle explicit in handler code.

- :func:`init_resource` — lazily created, once-per-environment values (clients, config);
- :data:`request` — the current invocation's scope, reset on every invocation;
- :func:`handler` — the wrapper that opens and closes that scope around each invocation.

Importing lambdascope is cheap: it imports neither ``typing``, ``inspect``,
``asyncio``, ``boto3`` nor ``wrapt``.
"""

from __future__ import annotations

from ._errors import (
    AnalysisFileWarning,
    ConfigurationError,
    ConfigurationWarning,
    DeadlineExceededError,
    LambdascopeError,
    OutsideInvocationError,
    ScopeLeakError,
    ScopeLeakWarning,
    TmpLeakError,
    TmpLeakWarning,
)
from ._handler import guarded_modules, handler
from ._lifecycle import configure, init_report
from ._logging import LogContextFilter, LogFields, install_log_context
from ._request import Request, request
from ._resources import (
    InitResource,
    ResourceRecord,
    init_resource,
    prewarm,
    reset_resources,
    resource_records,
    shutdown,
)
from ._scope import in_invocation
from ._shutdown import install_shutdown_handler
from ._snapstart import register_snapstart_hooks
from ._state import initialization_type
from ._tmp import init_tmpdir
from ._version import __version__ as __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._guard import GuardedModule


__all__ = [
    "AnalysisFileWarning",
    "ConfigurationError",
    "ConfigurationWarning",
    "DeadlineExceededError",
    "GuardedModule",
    "InitResource",
    "LambdascopeError",
    "LogContextFilter",
    "LogFields",
    "OutsideInvocationError",
    "Request",
    "ResourceRecord",
    "ScopeLeakError",
    "ScopeLeakWarning",
    "TmpLeakError",
    "TmpLeakWarning",
    "configure",
    "guarded_modules",
    "handler",
    "in_invocation",
    "init_report",
    "init_resource",
    "init_tmpdir",
    "initialization_type",
    "install_log_context",
    "install_shutdown_handler",
    "prewarm",
    "register_snapstart_hooks",
    "request",
    "reset_resources",
    "resource_records",
    "shutdown",
]

# Re-home the public functions so reprs, docs and pickles say `lambdascope.X` (the classes
# declare __module__ themselves).
for _name in __all__:
    if hasattr(globals().get(_name), "__code__"):
        globals()[_name].__module__ = __name__
del _name


def __getattr__(name: str) -> object:
    # The guard is imported by the first @handler, not by `import lambdascope`.
    if name == "GuardedModule":
        from ._guard import GuardedModule

        return GuardedModule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if initialization_type() == "snap-start":  # register during Init, before the snapshot
    register_snapstart_hooks()
