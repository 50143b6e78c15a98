"""What operators see: a request id on every request (taken from `X-Request-Id` or made, answered in that header and
in every problem body), one access-log line per request, logs as JSON lines when not on a terminal, and Prometheus
metrics at `/metrics` for whoever holds the metrics token.

Logs name routes by their template (`/visits/{visit_id}`), never the query string or a body, so that no debtor's
data reaches them.
"""

import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models.idempotency import IdempotencyRecord
from api.models.sheets import PlanningRun, RunStatus
from api.models.visit_evidence import EvidenceItem, EvidenceStatus
from api.models.webhooks import WebhookDelivery
from api.problems import NotAuthenticated, NotFound
from api.request_id import request_id

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger("fieldvisit.access")


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request id, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {key: value for key, value in getattr(record, "fields", {}).items()}
        if (current := request_id.get()) is not None:
            line["request_id"] = current
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


JsonLines.converter = time.gmtime


def log_config(level: str = "INFO") -> dict[str, Any]:
    """The logging set-up of `fieldvisit serve`: JSON lines unless standard error is a terminal."""
    formatter = (
        {"()": JsonLines} if not sys.stderr.isatty() else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn.access": {"level": "WARNING"},  # fieldvisit.access names routes, not raw paths
            "httpx2": {"level": "WARNING"},  # its request lines carry query strings, and AMap's key is one
        },
    }


class Telemetry:
    """The app's metrics, in its own registry (one app, one set of metrics)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "fieldvisit_http_requests",
            "Requests answered, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fieldvisit_http_request_seconds", "Time to answer, by route.", ["method", "route"], registry=self.registry
        )
        self.idempotency_taken_over = Counter(
            "fieldvisit_idempotency_claims_taken_over",
            "Idempotency keys taken over from an attempt that had stopped.",
            registry=self.registry,
        )
        self.registry.register(_DatabaseFigures(sessions))


class _DatabaseFigures(Collector):
    """What the database says at the scrape: planning runs by state and their solve time, webhook deliveries
    pending and failing, idempotency claims in progress, evidence bytes stored."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.sessions() as session:
            runs = GaugeMetricFamily("fieldvisit_planning_runs", "Planning runs, by state.", labels=["state"])
            counted = dict(session.execute(select(PlanningRun.status, func.count()).group_by(PlanningRun.status)).all())
            for state in RunStatus:
                runs.add_metric([state.value], counted.get(state, 0))
            yield runs
            succeeded = select(PlanningRun.figures).where(PlanningRun.status == RunStatus.SUCCEEDED)
            solved = [figures.get("solver_wall_s", 0.0) for figures in session.scalars(succeeded)]
            yield GaugeMetricFamily(
                "fieldvisit_planning_solve_seconds_total", "Solver seconds of the succeeded runs.", sum(solved)
            )
            undelivered = WebhookDelivery.delivered_at.is_(None)
            pending = session.scalar(select(func.count()).where(undelivered)) or 0
            failing = session.scalar(select(func.count()).where(undelivered, WebhookDelivery.last_error != "")) or 0
            yield GaugeMetricFamily("fieldvisit_webhook_deliveries_pending", "Findings not delivered yet.", pending)
            yield GaugeMetricFamily("fieldvisit_webhook_deliveries_failing", "Pending whose last try failed.", failing)
            held = session.scalar(select(func.count()).where(IdempotencyRecord.status_code.is_(None))) or 0
            yield GaugeMetricFamily("fieldvisit_idempotency_claims_in_progress", "Keys whose request runs.", held)
            stored = session.scalar(
                select(func.coalesce(func.sum(EvidenceItem.size), 0)).where(
                    EvidenceItem.status == EvidenceStatus.ACCEPTED
                )
            )
            yield GaugeMetricFamily("fieldvisit_evidence_bytes_stored", "Bytes of accepted evidence.", stored or 0)


class RequestTelemetryMiddleware:
    """Gives each request its id, counts and times it, and writes its access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        current = given if _ACCEPTED_ID.match(given) else secrets.token_hex(8)
        token = request_id.set(current)
        began, status = time.perf_counter(), 500

        async def stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), current.encode()))
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            seconds = time.perf_counter() - began
            route = getattr(scope.get("route"), "path", "unmatched")
            telemetry: Telemetry = scope["app"].state.telemetry
            telemetry.requests.labels(scope["method"], route, str(status)).inc()
            telemetry.latency.labels(scope["method"], route).observe(seconds)
            fields = {"method": scope["method"], "route": route, "status": status, "ms": round(seconds * 1000, 1)}
            fields["request_id"] = current
            access_log.info("%s %s %s", scope["method"], route, status, extra={"fields": fields})
            request_id.reset(token)


metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus metrics, for the bearer of the metrics token (unset: there are none to read)."""
    token = request.app.state.settings.metrics_token
    if token is None:
        raise NotFound(f"No route GET {request.url.path}")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given, token.get_secret_value()):
        raise NotAuthenticated("Send `Authorization: Bearer <the metrics token>`.")
    return Response(generate_latest(request.app.state.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
