"""How much of a request body the server reads: `max_body_bytes` (1 MiB: JSON) unless the route is one of
LARGE_BODIES, refused with 413 as problem+json before the body is read past its limit (when it declares more, or
at the chunk that passes it); the idempotency middleware, which reads a POST before its route does, is inside this
one. (FastAPI's own `max_body_size` answers in plain text, and is applied only once the route is found.)

A refused body is not processed, but the rest of it is read and thrown away (up to DRAIN_BYTES) before the 413 is
sent: most clients send their whole body before they read the answer, and a server that closes the connection
with bytes still coming makes the kernel reset it, so such a client sees a reset instead of the 413."""

from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PayloadTooLarge, problem_response

UNLIMITED = 1 << 62
# the largest case file an import reads: a CSV file or a workbook
MAX_FILE_BYTES = 5 * 1024 * 1024
# the routes that take more, each checking its size itself past this limit
LARGE_BODIES = {
    ("POST", "/cases/import"): MAX_FILE_BYTES,  # a CSV file or a workbook
    ("PUT", "/evidence/{evidence_id}/content"): UNLIMITED,  # streamed to the store, which stops at the declared size
}
# the most of a refused body read on and thrown away; past it the answer goes at once
DRAIN_BYTES = 64 * 1024 * 1024
_PATTERNS = [(method, compile_path(path)[0], limit) for (method, path), limit in LARGE_BODIES.items()]


def body_limit(method: str, path: str, default: int) -> int:
    for route_method, pattern, limit in _PATTERNS:
        if method == route_method and pattern.match(path):
            return limit
    return default


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, default_bytes: int) -> None:
        self.app, self.default_bytes = app, default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        limit = body_limit(scope["method"], scope["path"], self.default_bytes)
        too_large = PayloadTooLarge(f"This endpoint takes bodies of at most {limit} bytes.", max_bytes=limit)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            # a client that waits for "100 Continue" sends nothing unless asked: do not ask
            if int(declared) <= DRAIN_BYTES and request.headers.get("expect", "").lower() != "100-continue":
                await _drain(receive, more_body=True)
            await problem_response(request, too_large)(scope, receive, send)
            return
        received, started, refused = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    # answer now: a route's body parser would turn the exception into its own 400
                    refused = True
                    if not started:
                        await _drain(receive, more_body=message.get("more_body", False))
                        await problem_response(request, too_large)(scope, receive, send)
                    raise too_large
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:  # what the app says after its body was refused is not sent
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except PayloadTooLarge:
            if not refused:
                raise


async def _drain(receive: Receive, more_body: bool) -> None:
    """Read and throw away the rest of a refused body, up to DRAIN_BYTES."""
    drained = 0
    while more_body and drained <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":  # the client is gone
            return
        drained += len(message.get("body", b""))
        more_body = message.get("more_body", False)
