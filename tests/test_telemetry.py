"""What operators see: request ids in headers, problems and logs; Prometheus metrics for the token's bearer only;
JSON log lines."""

import json
import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from api.config import Settings
from api.main import create_app
from api.models.users import Role
from api.telemetry import JsonLines
from tests.factories import auth_headers, make_user


def test_every_answer_carries_a_request_id_and_problems_name_it(client: TestClient) -> None:
    given = client.get("/health", headers={"X-Request-Id": "phone-7f3a:42"})
    made = client.get("/no-such-route")
    forged = client.get("/health", headers={"X-Request-Id": "bad id\nwith a newline"})

    assert given.headers["x-request-id"] == "phone-7f3a:42"
    assert len(made.headers["x-request-id"]) == 16 and made.json()["request_id"] == made.headers["x-request-id"]
    assert forged.headers["x-request-id"] != "bad id\nwith a newline"


def test_metrics_are_for_the_bearer_of_the_metrics_token(settings: Settings, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    closed = create_app(settings)
    opened = create_app(settings.model_copy(update={"metrics_token": SecretStr("scrape-me-please-now")}))
    with TestClient(closed) as plain, TestClient(opened) as scraping:
        hidden = plain.get("/metrics")
        scraping.get("/visits", headers=auth_headers(supervisor))
        anonymous = scraping.get("/metrics")
        read = scraping.get("/metrics", headers={"Authorization": "Bearer scrape-me-please-now"})
    for application in (closed, opened):
        application.state.engine.dispose()

    assert hidden.status_code == 404 and anonymous.status_code == 401
    assert read.status_code == 200 and read.headers["content-type"].startswith("text/plain")
    text = read.text
    assert 'fieldvisit_http_requests_total{method="GET",route="/visits",status="200"} 1.0' in text
    assert 'fieldvisit_http_request_seconds_bucket{le="0.005",method="GET",route="/visits"}' in text
    for name in (
        'fieldvisit_planning_runs{state="succeeded"}',
        "fieldvisit_planning_solve_seconds_total",
        "fieldvisit_webhook_deliveries_pending",
        "fieldvisit_webhook_deliveries_failing",
        "fieldvisit_idempotency_claims_in_progress",
        "fieldvisit_idempotency_claims_taken_over_total",
        "fieldvisit_evidence_bytes_stored",
    ):
        assert name in text, name


def test_a_log_line_is_one_json_object_with_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fieldvisit.access"):
        answer = client.get("/health", headers={"X-Request-Id": "trace-1"})
    [record] = [record for record in caplog.records if record.name == "fieldvisit.access"]

    line = json.loads(JsonLines().format(record))

    assert answer.status_code == 200
    assert line["message"] == "GET /health 200" and line["route"] == "/health" and line["status"] == 200
    assert line["level"] == "info" and line["at"].endswith("Z") and line["request_id"] == "trace-1"
