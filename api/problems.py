"""RFC 9457 problem details: every error the API returns is ``application/problem+json``."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, ClassVar, Union, cast
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from api.request_id import request_id

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


Member = tuple[Any, str]  # an extension member's type and what it tells the client


def problem_members(**members: Member) -> Mapping[str, Member]:
    """A problem's extension members, by name: (type, description)."""
    return MappingProxyType(members)


class Problem(Exception):
    """A fact about the request that stops it; subclasses name the kind and fix its status and type, and declare
    the extension members they carry (`members`: name -> (type, description)), which the OpenAPI document shows."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"
    members: ClassVar[Mapping[str, Member]] = problem_members()
    # a refusal that must still record something (e.g. revoking a leaked token family) commits the transaction
    commits: ClassVar[bool] = False
    retry_after_s: ClassVar[int | None] = None  # answered as Retry-After (a member `retry_after_s` overrides it)

    @property
    def retry_after(self) -> int | None:
        return self.extensions.get("retry_after_s", self.retry_after_s)

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        undeclared = sorted(extensions.keys() - self.all_members().keys() - {"errors"})
        if undeclared:
            raise TypeError(f"{type(self).__name__} declares no member {', '.join(undeclared)}")
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions

    @classmethod
    def all_members(cls) -> dict[str, Member]:
        """Its members and those of the kinds it specialises."""
        found: dict[str, Member] = {}
        for kind in reversed(cls.__mro__):
            found |= vars(kind).get("members", {})
        return found


class MalformedJson(Problem):
    status = 400
    title = "Body is not valid JSON"
    slug = "malformed-json"


class ValidationFailed(Problem):
    status = 422
    title = "Request is not valid"
    slug = "validation-failed"


class NotAuthenticated(Problem):
    status = 401
    title = "Not authenticated"
    slug = "not-authenticated"


class RoleNotAllowed(Problem):
    status = 403
    title = "Your role may not do this"
    slug = "role-not-allowed"
    members = problem_members(role=(str, "Your role."))


class NotFound(Problem):
    status = 404
    title = "Not found"
    slug = "not-found"


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"
    slug = "too-many-requests"
    retry_after_s = 60
    members = problem_members(retry_after_s=(int, "Seconds to wait before trying again (also the Retry-After)."))


class MethodNotAllowed(Problem):
    status = 405
    title = "Method not allowed"
    slug = "method-not-allowed"


class Conflict(Problem):
    status = 409
    title = "Conflicts with the current state"
    slug = "conflict"


class ClientIdReused(Conflict):
    title = "This client id belongs to another record"
    slug = "client-id-reused"
    members = problem_members(client_id=(UUID, "The client id sent, which another record already has."))


class PayloadTooLarge(Problem):
    status = 413
    title = "Request body too large"
    slug = "payload-too-large"
    members = problem_members(max_bytes=(int, "The most bytes the endpoint accepts."))


class UnsupportedMediaType(Problem):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class InternalError(Problem):
    status = 500
    title = "Internal server error"
    slug = "internal-error"


class ServiceUnavailable(Problem):
    """A passing condition: the client retries after `Retry-After` seconds, with the same Idempotency-Key."""

    status = 503
    title = "Service unavailable"
    slug = "service-unavailable"
    retry_after_s: ClassVar[int] = 2


class DatabaseBusy(ServiceUnavailable):
    title = "The database is busy"
    slug = "database-busy"
    retry_after_s = 1


class DatabaseUnavailable(ServiceUnavailable):
    title = "Database unavailable"
    slug = "database-unavailable"
    retry_after_s = 5


_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_UNAVAILABLE = ("unable to open database", "disk i/o error", "database or disk is full")


def database_problem(error: DBAPIError) -> ServiceUnavailable | None:
    """The problem a passing database condition is (the lock is contended, the server is away), or None for an
    error of the request or the code."""
    message = str(error.orig).lower()
    if isinstance(error, OperationalError | InterfaceError) and error.connection_invalidated:
        return DatabaseUnavailable("The database went away during the request; retry in a moment.")
    if error.orig.__class__.__module__.startswith("psycopg"):
        if isinstance(error, OperationalError | InterfaceError):  # PostgreSQL's own: locks, deadlocks, outages
            busy = any(word in message for word in ("lock", "deadlock", "could not serialize", "canceling"))
            return (DatabaseBusy if busy else DatabaseUnavailable)("The database cannot take the request now.")
        return None
    if isinstance(error, OperationalError) and any(words in message for words in _SQLITE_BUSY):
        return DatabaseBusy("Other requests hold the database's write lock; retry in a moment.")
    if isinstance(error, OperationalError) and any(words in message for words in _SQLITE_UNAVAILABLE):
        return DatabaseUnavailable("The database cannot be written now.")
    return None


class ProblemError(BaseModel):
    """One thing wrong with the request: where it is and what is wrong."""

    detail: str
    pointer: str | None = Field(default=None, description="JSON pointer into the request body, e.g. `#/members/1`.")
    parameter: str | None = Field(default=None, description="Name of the query, path or header parameter.")
    row: int | None = Field(default=None, description="1-based data row of an uploaded CSV file (header excluded).")
    column: str | None = Field(default=None, description="Column of an uploaded CSV file.")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: `type` is stable per kind of error; extension members carry what a client can act on."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI identifying the kind of problem; stable, safe to switch on.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong with this request.")
    errors: list[ProblemError] | None = Field(default=None, description="Each invalid part of the request.")
    request_id: str | None = Field(
        default=None, description="The request's id (also the X-Request-Id header): quote it to find it in the logs."
    )


# built once per kind; a dict, since functools.cache takes Hashable arguments and mypy denies a class is one
_problem_models: dict[type[Problem], type[ProblemDetails]] = {}


def problem_model(problem: type[Problem]) -> type[ProblemDetails]:
    """The body schema of one kind of problem: the RFC 9457 members and its own extension members. A subclass that
    keeps its parent's type (and members) is documented as the parent."""
    if problem not in _problem_models:
        _problem_models[problem] = _build_problem_model(problem)
    return _problem_models[problem]


def _build_problem_model(problem: type[Problem]) -> type[ProblemDetails]:
    if "slug" not in vars(problem) and "members" not in vars(problem) and problem is not Problem:
        return problem_model(cast(type[Problem], problem.__mro__[1]))
    name = "".join(part.title() for part in problem.slug.split("-")) + "Problem"
    fields: dict[str, Any] = {
        member: (kind | None, Field(default=None, description=description))
        for member, (kind, description) in problem.all_members().items()
    }
    model = create_model(name, __base__=ProblemDetails, __doc__=f"{problem.title} (`{problem.slug}`).", **fields)
    return cast(type[ProblemDetails], model)


def problem_responses(*problems: type[Problem]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting the problems an endpoint can answer with, each with its members."""
    by_status: dict[int, list[type[Problem]]] = {}
    for problem in problems:
        by_status.setdefault(problem.status, []).append(problem)
    return {
        status: {
            "model": Union[tuple(problem_model(kind) for kind in kinds)],  # noqa: UP007 (a runtime union of models)
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "; ".join(f"{p.title} (`{p.slug}`)" for p in kinds),
        }
        | ({"headers": _RETRY_AFTER} if all(kind.retry_after_s is not None for kind in kinds) else {})
        for status, kinds in sorted(by_status.items())
    }


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying (with the same Idempotency-Key).",
        "required": True,
        "schema": {"type": "integer"},
    }
}


COMMON_RESPONSES = problem_responses(MalformedJson, ValidationFailed, InternalError, DatabaseBusy, DatabaseUnavailable)
AUTHENTICATED_RESPONSES = problem_responses(
    MalformedJson,
    ValidationFailed,
    Conflict,
    InternalError,
    DatabaseBusy,
    DatabaseUnavailable,
    NotAuthenticated,
    RoleNotAllowed,
)


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    response = _response(request, problem.status, problem.title, problem.slug, problem.detail, problem.extensions)
    if problem.retry_after is not None:
        response.headers["Retry-After"] = str(problem.retry_after)
    return response


def _response(
    request: Request, status: int, title: str, slug: str, detail: str | None, extensions: dict[str, Any]
) -> JSONResponse:
    base = request.app.state.settings.problem_base_url
    body: dict[str, Any] = {"type": f"{base}/{slug}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body |= jsonable_encoder(extensions)
    if (current := request_id.get()) is not None:
        body["request_id"] = current
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(request, exc)


def _error_location(loc: tuple[int | str, ...]) -> dict[str, str]:
    if not loc:
        return {}
    where, *path = loc
    if where == "body":
        return {"pointer": "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)}
    if where in ("query", "path", "header", "cookie") and path:
        return {"parameter": str(path[0])}
    return {}


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "")
            return problem_response(
                request, MalformedJson(f"The body could not be parsed as JSON: {reason}".rstrip(": "))
            )
    errors = [
        {"detail": str(error.get("msg", "invalid value")), **_error_location(tuple(error.get("loc", ())))}
        for error in exc.errors()
    ]
    return problem_response(request, ValidationFailed(f"{len(errors)} invalid field(s)", errors=errors))


_HTTP_PROBLEMS: dict[int, type[Problem]] = {
    p.status: p for p in (Problem, NotAuthenticated, NotFound, MethodNotAllowed, PayloadTooLarge, UnsupportedMediaType)
}


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _HTTP_PROBLEMS.get(exc.status_code)
    title = kind.title if kind else HTTPStatus(exc.status_code).phrase
    slug = kind.slug if kind else f"http-{exc.status_code}"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase else None
    if kind is NotFound and detail is None:
        detail = f"No route {request.method} {request.url.path}"
    response = _response(request, exc.status_code, title, slug, detail, {})
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:  # Starlette names the methods of the one route it tried; the path may have more
        response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return response


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route takes at `path`, as the OpenAPI document lists them (HEAD with GET)."""
    if not hasattr(app.state, "methods_by_path"):
        app.state.methods_by_path = [
            (template, compile_path(template)[0], {method.upper() for method in methods})
            for template, methods in app.openapi().get("paths", {}).items()
        ]
    exact = [methods for template, _, methods in app.state.methods_by_path if template == path]
    found = (
        exact[0]  # a fixed path: its own methods, not those of the parametrised path it also fits
        if exact
        else {method for _, pattern, methods in app.state.methods_by_path if pattern.match(path) for method in methods}
    )
    return sorted(found | ({"HEAD"} if "GET" in found else set()))


async def _on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # services check the rules first; this answers a request that lost a race to a concurrent one
    assert isinstance(exc, IntegrityError)
    log.info("integrity error on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
    return problem_response(
        request, Conflict("The data changed while this request ran (a concurrent request won); reload and retry.")
    )


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    passing = database_problem(exc)
    if passing is None:
        return await _on_crash(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
    return problem_response(request, passing)


async def _on_crash(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, InternalError("The server failed; the error was logged."))


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Declare error bodies as `application/problem+json` only (FastAPI puts response models under JSON)."""
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and PROBLEM_MEDIA_TYPE in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content.get("application/json", {})}
    return document


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(Exception, _on_crash)
