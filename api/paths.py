"""A fixed path answers 405 for a method it does not take, rather than handing the request to a route whose path
parameter its segment happens to fill: `PATCH /cases/import` is not `PATCH /cases/{case_id}` with a case id of
"import" (which would answer 422 about a malformed id)."""

from collections.abc import Iterable, Iterator

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute


def refuse_other_methods(api: APIRouter) -> None:
    """Put, before every route, a 405 route for each fixed path and the methods that only a parametrised route
    would take there. The routers are included without a prefix of their own: their routes' paths are whole."""
    routes = list(_api_routes(api.routes))
    fixed: dict[str, set[str]] = {}
    for route in routes:
        if "{" not in route.path:
            fixed.setdefault(route.path, set()).update(route.methods or ())
    guards = []
    for path, methods in fixed.items():
        shadowed = {
            method
            for route in routes
            if "{" in route.path and route.path_regex.match(path)
            for method in route.methods or ()
        }
        if shadowed - methods:
            guards.append(APIRoute(path, _not_allowed, methods=sorted(shadowed - methods), include_in_schema=False))
    api.routes[0:0] = guards


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # a router included into this one
        if included is not None:
            yield from _api_routes(included.routes)


async def _not_allowed() -> None:
    raise HTTPException(status_code=405)
