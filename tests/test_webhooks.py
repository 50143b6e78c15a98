"""Outgoing webhooks: findings reach a receiver on 127.0.0.1 that fails the first attempts, signed, retried with
backoff, delivered at least once with the same id."""

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook
from time_machine import TimeMachineFixture

from api.config import Settings, WebhookSettings
from api.db import utcnow
from api.findings.schemas import PAYLOADS
from api.findings.service import publish
from api.main import create_app
from api.models.cases import DebtCase
from api.models.findings import FindingKind
from api.models.users import Role
from api.models.webhooks import WebhookDelivery, WebhookSubscription
from api.webhooks import delivery, secret, sending
from api.webhooks.delivery import LEASE, deliver_due
from api.webhooks.sending import Reach
from tests.conftest import ROOT
from tests.factories import as_uuid, auth_headers, make_branch, make_user, problem_type
from tests.test_visits import Day

SECRET = "s3cret-of-the-branch-crm"  # a plain secret, as subscriptions could always give
STANDARD_SECRET = "whsec_" + base64.b64encode(SECRET.encode()).decode()  # the same key, as the library takes it
LOOPBACK = Reach(allow_http=True, allow_networks=(ip_network("127.0.0.0/8"),))  # the tests' receivers


class Receiver(ThreadingHTTPServer):
    """Answers 500 to the first `failures` requests, then 204; keeps what it received, and what `meanwhile` returned
    when it was called before answering each request (but those `meanwhile` itself caused)."""

    def __init__(self, failures: int, meanwhile: Callable[[], Any] | None = None) -> None:
        self.failures, self.received, self.seen_meanwhile = failures, [], []
        self.calling = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:  # `handler` is the request handler; `self` is the server
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received.append((dict(handler.headers), body))
                if meanwhile is not None and self.calling.acquire(blocking=False):  # not from a request it made
                    try:
                        self.seen_meanwhile.append(meanwhile())
                    finally:
                        self.calling.release()
                handler.send_response(500 if len(self.received) <= self.failures else 204)
                handler.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.shutdown()
    receiver.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver(failures=2)) as server:
        yield server


def _subscribe(client: TestClient, day: Day, url: str) -> None:
    subscribed = client.post("/webhooks", json={"url": url, "secret": SECRET}, headers=auth_headers(day.supervisor))
    assert subscribed.status_code == 201


def _findings(session: Session, day: Day, count: int) -> list[int]:
    case = session.get_one(DebtCase, day.request.case_id)
    ids = [
        publish(
            session, case, FindingKind.CONTACT_FOUND, visit_id=str(uuid4()), phones=[f"1390000{n:04d}"], employer=None
        ).id
        for n in range(count)
    ]
    session.commit()
    return ids


def test_a_finding_is_retried_until_the_receiver_takes_it(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, receiver: Receiver
) -> None:
    day = Day(client, session, time_machine)
    subscribed = client.post(
        "/webhooks", json={"url": receiver.url, "secret": SECRET}, headers=auth_headers(day.supervisor)
    )
    assert subscribed.status_code == 201 and subscribed.json()["secret"] == STANDARD_SECRET
    report = {"reason": "demolished", "note": "gone", "client_id": "5f0c5a3e-0000-4000-8000-000000000001"}
    assert (
        client.post(
            f"/addresses/{day.request.address_id}/invalid-reports", json=report, headers=auth_headers(day.a)
        ).status_code
        == 201
    )

    sessions = app.state.sessionmaker
    now = utcnow()
    assert deliver_due(sessions, LOOPBACK, now) == 0  # 500
    assert deliver_due(sessions, LOOPBACK, now) == 0  # not due yet: backing off
    assert deliver_due(sessions, LOOPBACK, now + timedelta(seconds=3)) == 0  # 500 again
    assert deliver_due(sessions, LOOPBACK, now + timedelta(seconds=5)) == 0  # backing off longer (4 s after the 2nd)
    assert deliver_due(sessions, LOOPBACK, now + timedelta(seconds=8)) == 1  # 204
    assert deliver_due(sessions, LOOPBACK, now + timedelta(hours=2)) == 0  # delivered: never sent again

    assert len(receiver.received) == 3
    ids = {headers["Webhook-Id"] for headers, _ in receiver.received}
    assert len(ids) == 1
    for headers, body in receiver.received:
        signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
        expected = "v1," + base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
        assert hmac.compare_digest(headers["Webhook-Signature"], expected)
        event = finding_from_fieldvisit(STANDARD_SECRET, headers, body)
        assert event is not None and event == json.loads(body)
        assert event["kind"] == "address_reported" and event["payload"]["reason"] == "demolished"
        assert event["created_at"].endswith("Z")
        assert set(event["payload"]) == set(PAYLOADS[FindingKind.ADDRESS_REPORTED].model_fields)
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert delivery.attempts == 3 and delivery.delivered_at is not None and delivery.last_error == ""


def test_no_connection_is_held_while_a_receiver_answers_and_a_second_dispatcher_sends_nothing_meanwhile(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    sessions, engine = app.state.sessionmaker, app.state.engine
    now = utcnow()  # set again once the findings below are made: they are due by then, however slow the machine
    in_use = 0
    # while the receiver answers: the connections the dispatcher holds, and what another dispatcher delivers
    with serving(
        Receiver(0, meanwhile=lambda: (engine.pool.checkedout() - in_use, deliver_due(sessions, LOOPBACK, now)))
    ) as hook:
        _subscribe(client, day, hook.url)
        _findings(session, day, 2)
        now = utcnow()
        in_use = engine.pool.checkedout()  # the test's own, before the dispatcher runs
        assert deliver_due(sessions, LOOPBACK, now) == 2

    assert hook.seen_meanwhile == [(0, 0), (0, 0)]
    assert len(hook.received) == 2
    session.expire_all()
    assert all(d.attempts == 1 and d.delivered_at for d in session.scalars(select(WebhookDelivery)))


def test_a_dispatcher_that_dies_records_what_it_sent_and_leaves_the_rest_leased(
    client: TestClient,
    app: FastAPI,
    session: Session,
    time_machine: TimeMachineFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = Day(client, session, time_machine)
    sessions = app.state.sessionmaker
    with serving(Receiver(0)) as hook:
        _subscribe(client, day, hook.url)
        first, second = _findings(session, day, 2)
        now = utcnow()
        post = delivery._post
        monkeypatch.setattr(
            delivery,
            "_post",
            lambda attempt, at, reach: post(attempt, at, reach) if attempt.finding_id == first else 1 / 0,
        )
        with pytest.raises(ZeroDivisionError):
            deliver_due(sessions, LOOPBACK, now)
        monkeypatch.undo()

        def state() -> dict[int, tuple[int, bool]]:
            session.expire_all()
            return {
                d.finding_id: (d.attempts, d.delivered_at is not None) for d in session.scalars(select(WebhookDelivery))
            }

        assert state() == {first: (1, True), second: (0, False)}
        assert (
            deliver_due(sessions, LOOPBACK, now + LEASE - timedelta(seconds=1)) == 0
        )  # still leased to the dead dispatcher
        assert deliver_due(sessions, LOOPBACK, now + LEASE) == 1
        assert state() == {first: (1, True), second: (1, True)}
    assert [headers["Webhook-Id"] for headers, _ in hook.received] == [str(first), str(second)]


def test_webhooks_are_for_managers_and_urls_and_secrets_must_be_usable(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)

    by_agent = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": SECRET}, headers=auth_headers(day.a)
    )
    not_http = client.post(
        "/webhooks", json={"url": "ftp://example/x", "secret": SECRET}, headers=auth_headers(day.supervisor)
    )
    short = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": "short"}, headers=auth_headers(day.supervisor)
    )
    not_keys = [
        client.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": given}, headers=auth_headers(day.supervisor)
        )
        for given in (
            "whsec_not base64 at all!!",
            "whsec_" + base64.b64encode(bytes(16)).decode(),  # a key too short
            "whsec_" + base64.b64encode(bytes(65)).decode(),  # too long
        )
    ]

    assert by_agent.status_code == 403
    assert not_http.status_code == 422 and short.status_code == 422
    assert problem_type(short) == "validation-failed"
    for refused in not_keys:
        assert refused.status_code == 422 and problem_type(refused) == "validation-failed"
        assert [error["pointer"] for error in refused.json()["errors"]] == ["#/secret"]


def test_managers_list_see_and_deactivate_their_branchs_subscriptions_with_how_deliveries_stand(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    supervisor = auth_headers(day.supervisor)
    admin = auth_headers(make_user(session, Role.ADMIN, branch=None))
    elsewhere = auth_headers(make_user(session, Role.SUPERVISOR, make_branch(session)))
    session.commit()
    with serving(Receiver(failures=1)) as hook:
        urls = [hook.url, "http://127.0.0.1:9/closed", hook.url + "/spare"]
        created = [client.post("/webhooks", json={"url": u, "secret": SECRET}, headers=supervisor).json() for u in urls]
        taking, refusing, spare = (item["id"] for item in created)
        assert created[0]["deliveries"] == {"delivered": 0, "pending": 0, "failing": 0, "last_error": None}
        assert client.delete(f"/webhooks/{spare}", headers=supervisor).json()["active"] is False
        _findings(session, day, 2)
        sessions, now = app.state.sessionmaker, utcnow()
        assert deliver_due(sessions, LOOPBACK, now) == 1  # the hook: 500 then 204; port 9 refuses
        assert deliver_due(sessions, LOOPBACK, now + timedelta(seconds=2)) == 1  # the hook's first, retried

    page = client.get("/webhooks", params={"limit": 2}, headers=supervisor).json()
    rest = client.get("/webhooks", params={"cursor": page["next_cursor"]}, headers=supervisor).json()
    listed = {item["id"]: item for item in page["items"] + rest["items"]}
    assert len(page["items"]) == 2 and rest["next_cursor"] is None and len(listed) == 3
    assert listed[taking]["deliveries"] == {"delivered": 2, "pending": 0, "failing": 0, "last_error": None}
    refused = listed[refusing]["deliveries"]
    assert (refused["delivered"], refused["pending"], refused["failing"]) == (0, 2, 2)
    assert refused["last_error"] == "no answer: the connection failed"  # a category, not the remote's words
    assert listed[spare]["active"] is False and listed[spare]["deliveries"]["pending"] == 0  # never queued
    active = client.get("/webhooks", params={"active": "true"}, headers=supervisor).json()["items"]
    assert {item["id"] for item in active} == {taking, refusing}
    assert client.get(f"/webhooks/{refusing}", headers=supervisor).json() == listed[refusing]
    assert client.get(f"/webhooks/{refusing}", headers=admin).status_code == 200
    assert {item["id"] for item in client.get("/webhooks", headers=admin).json()["items"]} >= set(listed)

    # another branch's supervisor: nothing to see, nothing to deactivate; agents may not ask
    assert client.get("/webhooks", headers=elsewhere).json() == {"items": [], "next_cursor": None}
    for response in (
        client.get(f"/webhooks/{taking}", headers=elsewhere),
        client.delete(f"/webhooks/{taking}", headers=elsewhere),
    ):
        assert response.status_code == 404 and problem_type(response) == "webhook-not-found"
    assert client.get("/webhooks", headers=auth_headers(day.a)).status_code == 403
    malformed = client.get("/webhooks", params={"cursor": "not-a-cursor"}, headers=supervisor)
    assert malformed.status_code == 422 and problem_type(malformed) == "validation-failed"
    session.expire_all()
    assert session.get_one(WebhookSubscription, as_uuid(taking)).active is True
    # deactivated: its pending deliveries are never sent
    assert client.delete(f"/webhooks/{refusing}", headers=supervisor).json()["active"] is False
    assert client.delete(f"/webhooks/{refusing}", headers=supervisor).status_code == 200  # twice is fine
    assert deliver_due(app.state.sessionmaker, LOOPBACK, utcnow() + timedelta(days=1)) == 0


def _readme_example() -> Callable[..., Any]:
    """The verification function of the README's webhook section, as a receiver would copy it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Webhooks") :]
    code = section[section.index("```python") + len("```python") : section.index("```", section.index("```python") + 9)]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["finding_from_fieldvisit"]  # type: ignore[no-any-return]


finding_from_fieldvisit = _readme_example()


def test_the_readme_example_tells_a_signed_finding_from_a_forged_or_stale_one() -> None:
    body = b'{"id": 7, "kind": "visit_failed"}'
    now = int(datetime.now(UTC).timestamp())
    headers = {"Webhook-Id": "7", "Webhook-Timestamp": str(now)}
    signed = headers | {"Webhook-Signature": delivery.signature(SECRET, "7", now, body)}
    stale = headers | {"Webhook-Timestamp": str(now - 3600)}
    stale["Webhook-Signature"] = delivery.signature(SECRET, "7", now - 3600, body)
    another = secret.new_secret()
    rotating = headers | {
        "Webhook-Signature": f"{delivery.signature(another, '7', now, body)} {signed['Webhook-Signature']}"
    }

    assert finding_from_fieldvisit(STANDARD_SECRET, signed, body) == {"id": 7, "kind": "visit_failed"}
    assert finding_from_fieldvisit(STANDARD_SECRET, rotating, body) is not None  # one signature of a list matches
    assert finding_from_fieldvisit(STANDARD_SECRET, signed, body.replace(b"7", b"8")) is None
    assert finding_from_fieldvisit(another, signed, body) is None
    assert finding_from_fieldvisit(STANDARD_SECRET, stale, body) is None


@pytest.mark.parametrize("given", [None, "whsec_" + base64.b64encode(bytes(range(24))).decode()])
def test_a_subscription_without_a_plain_secret_is_signed_with_its_whsec_key(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, given: str | None
) -> None:
    day = Day(client, session, time_machine)
    with serving(Receiver(failures=0)) as hook:
        body = {"url": hook.url} if given is None else {"url": hook.url, "secret": given}
        subscribed = client.post("/webhooks", json=body, headers=auth_headers(day.supervisor))
        made = subscribed.json()["secret"]
        _findings(session, day, 1)
        assert deliver_due(app.state.sessionmaker, LOOPBACK) == 1

    assert subscribed.status_code == 201 and made.startswith("whsec_")
    assert made == given or (given is None and len(base64.b64decode(made.removeprefix("whsec_"))) == 32)
    [(headers, sent)] = hook.received
    assert Webhook(made).verify(sent, headers)["kind"] == "contact_found"  # the library's own check
    assert "secret" not in client.get("/webhooks", headers=auth_headers(day.supervisor)).json()["items"][0]


def test_the_document_describes_the_request_of_each_kind_of_finding(app: FastAPI) -> None:
    webhooks = app.openapi()["webhooks"]
    schemas = app.openapi()["components"]["schemas"]

    assert set(webhooks) == {kind.value for kind in FindingKind}
    for kind in FindingKind:
        operation = webhooks[kind.value]["post"]
        assert {p["name"] for p in operation["parameters"]} == {"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
        assert '"{Webhook-Id}.{Webhook-Timestamp}.{body}"' in operation["description"]
        assert "Standard Webhooks" in operation["description"]
        event = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        payload = schemas[event]["properties"]["payload"]["$ref"].rsplit("/", 1)[-1]
        assert set(schemas[payload]["properties"]) == set(PAYLOADS[kind].model_fields), kind


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",  # not https
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://127.0.0.1:5432/",
        "https://[::1]:22/",
        "https://0x7f000001/",
        "https://127.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://224.0.0.1/",
    ],
)
def test_a_webhook_cannot_be_pointed_at_the_servers_around_this_one(
    settings: Settings, session: Session, url: str
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    application = create_app(settings.model_copy(update={"webhooks": WebhookSettings()}))  # the defaults
    with TestClient(application) as strict:
        refused = strict.post("/webhooks", json={"url": url, "secret": SECRET}, headers=auth_headers(supervisor))
    application.state.engine.dispose()

    assert refused.status_code == 422 and problem_type(refused) == "webhook-url-not-allowed"
    assert refused.json()["errors"][0]["pointer"] == "#/url"


def test_sending_checks_where_a_name_resolves_and_never_follows_a_redirect(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    with serving(Receiver(0)) as hook:
        by_name = hook.url.replace("127.0.0.1", "localhost")  # a name that resolves to loopback
        _subscribe(client, day, by_name)
        _findings(session, day, 1)
        strict = Reach(allow_http=True)  # loopback not allowed
        assert deliver_due(app.state.sessionmaker, strict, utcnow()) == 0
    assert hook.received == []  # nothing reached it
    deliveries = client.get("/webhooks", headers=auth_headers(day.supervisor)).json()["items"][0]["deliveries"]
    assert deliveries["last_error"] == "refused: the URL or its address is not allowed"

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    try:
        answer = sending.post(f"http://127.0.0.1:{redirecting.server_address[1]}/", b"{}", {}, LOOPBACK, 5)
    finally:
        redirecting.shutdown()
        redirecting.server_close()
    assert answer == "answered 3xx: redirects are not followed"
