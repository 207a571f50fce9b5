"""The caller's W3C trace context, when no server instrumentation took it.

With the FastAPI instrumentation installed the server span already continues
the caller's trace and this does nothing; without it, the ``traceparent`` of
the request still reaches the events recorded for it.
"""

from opentelemetry import context, propagate, trace
from starlette.types import ASGIApp, Receive, Scope, Send

_TRACE_HEADERS = (b"traceparent", b"tracestate")


class IncomingTraceContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or trace.get_current_span().get_span_context().is_valid
        ):
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in _TRACE_HEADERS
        }
        if not carrier:
            await self.app(scope, receive, send)
            return
        token = context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)
