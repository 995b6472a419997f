"""SIGTERM at Shutdown: close init resources, then let the previous handler decide.

Lambda sends SIGTERM before removing an environment only when an extension is
registered (then the runtime has ~300-500 ms); without one the process is
killed outright. The Python runtime can run a Python signal handler only from
Python 3.12 on (older runtimes block the main thread in C while waiting for
the next event).
"""

from __future__ import annotations

import os

from ._resources import shutdown, shutdown_budget

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

__all__ = ["install_shutdown_handler", "maybe_install_on_lambda"]

_installed = False


def _runtime_supports_sigterm() -> bool:
    env = os.environ.get("AWS_EXECUTION_ENV", "")  # e.g. "AWS_Lambda_python3.12"
    prefix = "AWS_Lambda_python3."
    if not env.startswith(prefix):
        return False
    minor = env[len(prefix) :]
    return minor.isdigit() and int(minor) >= 12


def install_shutdown_handler(timeout: float = 0.25) -> bool:
    """Close init resources on SIGTERM, then chain to the previous SIGTERM behaviour.

    On the Lambda Python 3.12+ runtimes ``@handler`` installs this by itself
    during Init; call it yourself on other runtimes (containers, ECS, local
    servers). The previous Python handler, if any, runs after the resources
    are closed; with the default disposition the process then terminates by
    SIGTERM as it would have; an ignored signal stays ignored.

    Must be called from the main thread. Returns ``False`` (and does nothing)
    when called again or when signals cannot be installed here. A *timeout*
    that is not a positive, finite number of seconds raises ``ValueError`` (or
    ``TypeError``) here, not at SIGTERM.
    """
    global _installed
    import signal
    import threading

    # checked now: a bad budget found at SIGTERM would raise inside whatever code was running
    timeout = shutdown_budget("install_shutdown_handler(timeout=...)", timeout)

    if _installed or threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> Any:
        shutdown(timeout)
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_IGN:
            return None
        # default disposition: terminate by the signal, as without us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return None

    signal.signal(signal.SIGTERM, on_sigterm)
    _installed = True
    return True


def maybe_install_on_lambda() -> None:
    """Install the handler during Init on runtimes where Python can receive SIGTERM."""
    if not _installed and _runtime_supports_sigterm():
        install_shutdown_handler()
