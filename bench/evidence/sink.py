"""A bare ASGI app that reads a request's body and throws it away: how fast uvicorn alone takes an upload.

`python -m bench.evidence` serves it next to the API (`--lifespan off`, uvicorn's other settings as `fieldvisit
serve` has them), as the floor an upload through the API can't beat.
"""

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    received, more = 0, True
    while more:
        message = await receive()
        received += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(received).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
