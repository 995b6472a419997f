"""A handler redirect: run an unmodified function under ``@handler`` by configuration alone.

Set the function's handler to ``lambdascope.redirect.handler`` and ``LAMBDASCOPE_HANDLER``
to its original handler setting (``app.lambda_handler``); or keep the handler setting and
let the exec wrapper (``AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdascope-wrapper``, from the layer
``lambdascope layer build`` writes) make that swap, as observability layers do.

When the runtime imports this module during Init, it imports the handler module named by
``LAMBDASCOPE_HANDLER``, wraps its handler with :func:`lambdascope.handler` (the guard mode
comes from ``LAMBDASCOPE_GUARD``; unset, it is ``warn``, not ``@handler``'s ``raise``: the
unmodified function answers as before) and binds the result to :data:`handler`, which
the runtime calls for every invocation: an invocation costs what it costs with
``@handler`` written in the code. A handler already decorated with ``@handler`` is served
as it is, never wrapped twice.

``LAMBDASCOPE_HANDLER`` takes the forms of the Lambda handler setting:
``module.function``, ``package.module.function``, ``folder/module.function`` and
``folder/package.module.function``; a folder whose name Python cannot import as a package
(``v1.2/app.handler``, ``my-functions/app.handler``) is searched for the module directly,
under the task root. A handler that cannot be loaded fails Init the way Lambda fails it
for its own handler setting (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
``Runtime.MalformedHandlerName``, ``Runtime.UserCodeSyntaxError``), with a message that
says what was looked for and where, and no traceback through lambdascope. Off the runtime
interface client (a test, ``lambdascope invoke``) the import raises an :class:`ImportError`
whose ``error_type`` attribute holds that error type.
"""

from __future__ import annotations

from ._redirect import serve

__all__ = ["handler"]

#: The function's own handler, wrapped with ``@handler``: what the runtime calls.
handler = serve()
