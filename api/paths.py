"""A fixed path answers 405 for a method it does not take, rather than handing the request to a route whose path
parameter its segment happens to fill: `PATCH /cases/import` is not `PATCH /cases/{case_id}` with a case id of
"import" (which would answer 422 about a malformed id)."""

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import compile_path


def refuse_other_methods(app: FastAPI) -> None:
    """Put, before every route, a 405 route for each fixed path and the methods that only a parametrised path of
    the API would take there."""
    paths = {template: {method.upper() for method in methods} for template, methods in app.openapi()["paths"].items()}
    patterns = [(compile_path(template)[0], methods) for template, methods in paths.items() if "{" in template]
    guards = []
    for template, methods in paths.items():
        if "{" in template:
            continue
        shadowed = {method for pattern, others in patterns if pattern.match(template) for method in others} - methods
        if shadowed:
            guards.append(APIRoute(template, _not_allowed, methods=sorted(shadowed), include_in_schema=False))
    app.router.routes[0:0] = guards


async def _not_allowed() -> None:
    raise HTTPException(status_code=405)
