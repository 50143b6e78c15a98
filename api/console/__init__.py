"""The supervisors' web console: static HTML, CSS and ES modules served at /console/, talking to the JSON API only.

Nothing here reads the database: the page logs in with `/auth/login` and calls the same endpoints as any client.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api.config import ConsoleSettings

ROOT = Path(__file__).resolve().parent


def security_headers(settings: ConsoleSettings) -> dict[str, str]:
    """A strict policy: scripts, styles, data and workers from this origin only (no inline script); tiles from
    the operator's tile server when one is set."""
    images = " ".join(filter(None, ["'self'", "blob:", settings.tile_origin()]))
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "media-src 'self'",
            "connect-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


class ConsoleFiles(StaticFiles):
    """The console's files, each with the security headers; `/console/` is its page."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(directory=ROOT, html=True)
        self.headers = headers

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.endswith(".py") or "__pycache__" in path:
            path = "-"  # the package's own code is not a file of the page
        response = await super().get_response(path, scope)
        response.headers.update(self.headers)
        if path.endswith("sw.js"):
            response.headers["Service-Worker-Allowed"] = "/console/"
        return response


def mount_console(app: FastAPI, settings: ConsoleSettings) -> None:
    headers = security_headers(settings)

    @app.get("/console", include_in_schema=False)
    def console_root() -> RedirectResponse:
        return RedirectResponse("/console/")

    @app.get("/console/config.json", include_in_schema=False)
    def console_config() -> JSONResponse:
        body: dict[str, Any] = {
            "tile_url": settings.tile_url,
            "tile_attribution": settings.tile_attribution,
            "day_poll_s": settings.day_poll_s,
            "findings_poll_s": settings.findings_poll_s,
        }
        return JSONResponse(body, headers=headers)

    app.mount("/console", ConsoleFiles(headers), name="console")
