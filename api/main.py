"""The application factory: ``create_app(settings)`` builds the API on one database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.address_reports.router import router as address_reports_router
from api.addresses.geocoders import configured_geocoders
from api.addresses.router import router as addresses_router
from api.auth.router import router as auth_router
from api.auth.security import jwt_secret
from api.branches.router import router as branches_router
from api.cases.router import router as cases_router
from api.config import Settings
from api.console import mount_console
from api.db import check_spatial_backend, make_engine
from api.findings.router import router as findings_router
from api.idempotency import IdempotencyMiddleware, document_idempotency
from api.imports.router import router as imports_router
from api.jobs.declared import PLANNING, declared_jobs
from api.jobs.runner import Job, Runner
from api.limits import BodyLimitMiddleware
from api.paths import refuse_other_methods
from api.payments.router import payments_router, promises_router
from api.problems import (
    AUTHENTICATED_RESPONSES,
    COMMON_RESPONSES,
    DatabaseUnavailable,
    document_problems,
    install_problem_handlers,
    problem_responses,
)
from api.reports.router import router as reports_router
from api.sessions import sessions_of
from api.sheets.jobs import InProcessQueue, PlanningQueue, planning_queue
from api.sheets.router import me_router, runs_router, sheets_router
from api.teams.router import router as teams_router
from api.telemetry import RequestTelemetryMiddleware, Telemetry, metrics_router
from api.tracks.router import router as tracks_router
from api.traffic.router import router as traffic_router
from api.users.router import router as users_router
from api.visit_evidence.router import router as evidence_router
from api.visit_evidence.store import open_store
from api.visit_requests.router import router as visit_requests_router
from api.visits.pairing import refuse_repair_at_the_door
from api.visits.router import router as visits_router
from api.webhooks.router import document_webhooks
from api.webhooks.router import router as webhooks_router

DESCRIPTION = """
The backend of debt-collection field visits (外访): branches plan tomorrow's visit sheets, two-person teams visit
debtors' addresses, and their findings flow back to supervisors and phone collectors.

Every error is an RFC 9457 `application/problem+json` body whose `type` is stable per kind of error; each kind's
extension members are in its schema. Log in with `POST /auth/login` and send the access token as
`Authorization: Bearer …`. Send an `Idempotency-Key` with every POST a phone may retry.

Times: every timestamp in a response is UTC, written with a `Z`; timestamps you send carry their UTC offset. Dates
(`work_date`, …) and wall-clock times (`HH:MM`: visiting hours, windows, pins) are the branch's local ones.
"""


class Health(BaseModel):
    """The service answers and its database is reachable."""

    status: Literal["ok"]
    database: Literal["spatialite", "postgis"]


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _server_jobs(settings: Settings, sessions: sessionmaker[Session], planning: PlanningQueue) -> list[Job]:
    """The jobs this server runs: those `server_jobs` names (all by default), and planning whenever the runs are
    planned in the server (no Redis)."""
    in_server = planning if isinstance(planning, InProcessQueue) else None
    geocoders = configured_geocoders(settings.geocoding, sessions) if _runs(settings, "geocoding") else []
    jobs = declared_jobs(settings, sessions, geocoders=geocoders, planning=in_server)
    return [job for job in jobs if job.name == PLANNING or _runs(settings, job.name)]


def _runs(settings: Settings, job: str) -> bool:
    return settings.server_jobs is None or job in settings.server_jobs


def health(request: Request) -> Health:
    """Liveness and database reachability."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise DatabaseUnavailable("The database does not answer.") from exc
    return Health(status="ok", database="spatialite" if engine.dialect.name == "sqlite" else "postgis")


def _api() -> APIRouter:
    """Every route of the API. Built once per process and shared by every app made in it: FastAPI prepares an
    included router's routes (their parameters' and models' validators) when it first matches a request against
    them, once per inclusion, which is tens of milliseconds for the whole API, for every app."""
    api = APIRouter(responses=COMMON_RESPONSES, generate_unique_id_function=_operation_id)
    api.add_api_route(
        "/health", health, methods=["GET"], tags=["health"], responses=problem_responses(DatabaseUnavailable)
    )
    api.include_router(metrics_router)
    api.include_router(auth_router, responses=COMMON_RESPONSES)
    for router in (
        users_router,
        branches_router,
        traffic_router,
        teams_router,
        imports_router,
        cases_router,
        reports_router,
        visit_requests_router,
        payments_router,
        promises_router,
        runs_router,
        sheets_router,
        me_router,
        visits_router,
        tracks_router,
        address_reports_router,
        addresses_router,
        findings_router,
        webhooks_router,
        evidence_router,
    ):
        api.include_router(router, responses=AUTHENTICATED_RESPONSES)
    refuse_other_methods(api)
    return api


API = _api()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_spatial_backend(engine)
        app.state.jobs.start()
        yield
        app.state.jobs.stop()
        app.state.planning_queue.close()
        engine.dispose()

    app = FastAPI(
        title="fieldvisit",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=COMMON_RESPONSES,
        separate_input_output_schemas=False,
        generate_unique_id_function=_operation_id,
        routes=API.routes,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessions_of(engine)
    event.listen(app.state.sessionmaker, "before_flush", refuse_repair_at_the_door)
    app.state.planning_queue = planning_queue(settings, app.state.sessionmaker)
    app.state.jobs = Runner(
        app.state.sessionmaker, _server_jobs(settings, app.state.sessionmaker, app.state.planning_queue)
    )
    app.state.jwt_secret = jwt_secret(settings)
    app.state.evidence_store = open_store(settings)
    install_problem_handlers(app)
    app.state.telemetry = Telemetry(app.state.sessionmaker)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware, default_bytes=settings.max_body_bytes)  # outside: before it reads
    app.add_middleware(RequestTelemetryMiddleware)  # every answer has its request id
    if settings.trusted_proxies:  # outermost: every part of the app sees the client the proxy names
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_idempotency(document_problems(FastAPI.openapi(app)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document

    document_webhooks(app.webhooks)
    mount_console(app, settings.console)
    return app


app = create_app()
