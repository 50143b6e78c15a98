"""Outgoing webhooks: findings reach a receiver on 127.0.0.1 that fails the first attempts, signed, retried with
backoff, delivered at least once with the same id."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.webhooks.delivery import deliver_due
from api.webhooks.models import WebhookDelivery
from tests.factories import auth_headers, problem_type
from tests.test_visits import Day

SECRET = "s3cret-of-the-branch-crm"


class Receiver(ThreadingHTTPServer):
    """Answers 500 to the first `failures` requests, then 204; keeps what it received."""

    def __init__(self, failures: int) -> None:
        self.failures, self.received = failures, []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:  # `handler` is the request handler; `self` is the server
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received.append((dict(handler.headers), body))
                handler.send_response(500 if len(self.received) <= self.failures else 204)
                handler.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_finding_is_retried_until_the_receiver_takes_it(
    client: TestClient, app: FastAPI, session: Session, receiver: Receiver
) -> None:
    day = Day(client, app, session)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    subscribed = client.post("/webhooks", json={"url": url, "secret": SECRET}, headers=auth_headers(day.supervisor))
    assert subscribed.status_code == 201 and "secret" not in subscribed.json()
    report = {"reason": "demolished", "note": "gone", "client_id": "5f0c5a3e-0000-4000-8000-000000000001"}
    assert (
        client.post(
            f"/addresses/{day.request.address_id}/invalid-reports", json=report, headers=auth_headers(day.a)
        ).status_code
        == 201
    )

    sessions = app.state.sessionmaker
    now = utcnow()
    assert deliver_due(sessions, now) == 0  # 500
    assert deliver_due(sessions, now) == 0  # not due yet: backing off
    assert deliver_due(sessions, now + timedelta(seconds=3)) == 0  # 500 again
    assert deliver_due(sessions, now + timedelta(seconds=5)) == 0  # backing off longer (4 s after the 2nd)
    assert deliver_due(sessions, now + timedelta(seconds=8)) == 1  # 204
    assert deliver_due(sessions, now + timedelta(hours=2)) == 0  # delivered: never sent again

    assert len(receiver.received) == 3
    ids = {headers["Webhook-Id"] for headers, _ in receiver.received}
    assert len(ids) == 1
    for headers, body in receiver.received:
        signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
        expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["Webhook-Signature"], expected)
        assert json.loads(body)["kind"] == "address_reported"
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert delivery.attempts == 3 and delivery.delivered_at is not None and delivery.last_error == ""


def test_webhooks_are_for_managers_and_urls_must_be_http(client: TestClient, app: FastAPI, session: Session) -> None:
    day = Day(client, app, session)

    by_agent = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": SECRET}, headers=auth_headers(day.a)
    )
    not_http = client.post(
        "/webhooks", json={"url": "ftp://example/x", "secret": SECRET}, headers=auth_headers(day.supervisor)
    )
    short = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": "short"}, headers=auth_headers(day.supervisor)
    )

    assert by_agent.status_code == 403
    assert not_http.status_code == 422 and short.status_code == 422
    assert problem_type(short) == "validation-failed"
