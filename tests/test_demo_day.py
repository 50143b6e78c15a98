"""The seeded demo branch's next day, run through the API as the phone app and the supervisor's tools would: plan and
publish, departure checks, check-ins, outcome, evidence, confirmation, amendment; every refused path gets its problem
and changes nothing; the audit trail of the whole day verifies, and fails once a row is edited."""

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture
from typer.testing import CliRunner

from api.cli import cli
from api.demo import DEMO_PASSWORD, seed_demo
from api.models.audit import AuditEvent
from api.models.cases import Address, DebtCase, DebtorContact
from api.models.findings import Finding
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.models.visits import CashApproval, CheckIn, DepartureCheck, Outcome, Visit
from api.telemetry import JsonLines
from tests.evidence.samples import jpeg_bytes, wav_bytes
from tests.factories import moments, problem_type
from tests.test_visits import CHECKLIST

METRES_PER_DEGREE = 111_195


class Phone:
    """One person's app: logs in with the demo password and calls the API with its own token."""

    def __init__(self, client: TestClient, username: str) -> None:
        login = client.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.text
        self.client, self.headers = client, {"Authorization": f"Bearer {login.json()['access_token']}"}

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params, headers=self.headers)

    def post(self, url: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(url, json=body, headers=self.headers)

    def patch(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.patch(url, json=body, headers=self.headers)

    def upload(self, visit_id: str, data: bytes, **declaration: Any) -> Any:
        """Declare an item of evidence, send its bytes where the answer says (the local store), complete it."""
        body = declaration | {
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "client_id": str(uuid4()),
        }
        declared = self.post(f"/visits/{visit_id}/evidence", body)
        assert declared.status_code == 201, declared.text
        sent = self.client.put(declared.json()["upload"]["url"], content=data, headers=self.headers)
        assert sent.status_code == 200, sent.text
        return self.post(f"/evidence/{declared.json()['id']}/complete")


def _json(response: Any) -> Any:
    response.read()
    return response.json() if "json" in response.headers.get("content-type", "") else None


def _debtors_data_in(records: list[logging.LogRecord], session: Session) -> list[str]:
    """The names, ID numbers, phones and addresses of debtors, and the demo password, that log lines carry."""
    secret = [DEMO_PASSWORD, "13912345678", "Debtor at home, calm"]
    secret += [
        value for row in session.execute(select(DebtCase.debtor_name, DebtCase.debtor_id_number)) for value in row
    ]
    secret += list(session.scalars(select(DebtorContact.phone)))
    secret += list(session.scalars(select(Address.raw_text)))
    lines = [JsonLines().format(record) for record in records]
    assert len(lines) > 50  # the access log at least
    return sorted({value for value in secret for line in lines if value in line})


def _rows(session: Session) -> dict[str, int]:
    """How many rows the door writes to, to show a refusal changed nothing."""
    session.expire_all()
    models = (DepartureCheck, Visit, CheckIn, Outcome, CashApproval, Finding)
    counts = {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0 for model in models}
    counts["started"] = session.scalar(select(func.count()).where(Visit.started_at.is_not(None))) or 0
    return counts


def _refused(session: Session, call: Callable[[], Any], status: int, problem: str) -> dict[str, Any]:
    before = _rows(session)
    response = call()
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert problem_type(response) == problem
    assert _rows(session) == before
    return dict(response.json())


def _check_in_body(stop: dict[str, Any], north_m: float = 20) -> dict[str, Any]:
    point = stop["address"]["point"]
    return {
        "lat": point["lat"] + north_m / METRES_PER_DEGREE,
        "lon": point["lon"],
        "accuracy_m": 15,
        "device_time": datetime.now(UTC).isoformat(),
        "client_id": str(uuid4()),
    }


def _outcome_body(**fields: Any) -> dict[str, Any]:
    return {
        "contact_result": "met_debtor",
        "mailbox": {"checked": True, "mail_for_debtor": False},
        "property_management": {"who": "物业 front desk", "debtor_lives_here": "yes"},
        "contacts": [{"phone": "13912345678", "kind": "mobile", "verified": True, "holder": "debtor"}],
        "promise": {"date": "2026-12-20", "amount": "3000.00"},
        "address_assessment": "lives_here",
        "notes": "Debtor at home, calm; promised to pay before the 20th.",
        "client_id": str(uuid4()),
    } | fields


def test_the_demo_day_through_the_api(
    client: TestClient,
    app: FastAPI,
    session: Session,
    runner: CliRunner,
    time_machine: TimeMachineFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    seeded = seed_demo(session)
    session.commit()
    answers: list[Any] = []
    client.event_hooks["response"].append(lambda response: answers.append(_json(response)))
    work_date, shanghai = seeded.work_date, ZoneInfo("Asia/Shanghai")

    # the evening before: the supervisor plans tomorrow and publishes it
    time_machine.move_to(datetime.combine(work_date - timedelta(days=1), time(18, 0), tzinfo=shanghai), tick=True)
    supervisor = Phone(client, "supervisor")
    started = supervisor.post("/planning-runs", {"work_date": work_date.isoformat()})
    assert started.status_code == 202, started.text
    app.state.planning_queue.last.result(timeout=120)
    assert supervisor.post(f"{started.headers['Location']}/publish").status_code == 200

    # the morning: everyone logs in, the app downloads the team's sheet
    time_machine.move_to(datetime.combine(work_date, time(9, 30), tzinfo=shanghai), tick=True)
    supervisor, collector = Phone(client, "supervisor"), Phone(client, "collector")
    agent1, agent2, agent3 = (Phone(client, f"agent{n}") for n in (1, 2, 3))
    sheet = agent1.get("/me/sheet", work_date=work_date.isoformat()).json()
    assert len(sheet["stops"]) >= 2
    first, second = sheet["stops"][:2]
    check_ins = f"/visit-sheets/{sheet['id']}/stops/{first['visit_request_id']}/check-ins"

    # agent1 is at the door; agent2 has not confirmed the departure checklist, then is far away; agent3 is of
    # another team: no visit starts
    departures = f"/teams/{sheet['team_id']}/departure-checks"
    assert agent1.post(departures, {"items": CHECKLIST, "client_id": str(uuid4())}).status_code == 201
    checked_in = agent1.post(check_ins, _check_in_body(first))
    assert checked_in.status_code == 201
    start = f"/visits/{checked_in.json()['id']}/start"
    _refused(session, lambda: agent1.post(start, {}), 409, "departure-check-missing")
    assert agent2.post(departures, {"items": CHECKLIST, "client_id": str(uuid4())}).status_code == 201
    lone = _refused(session, lambda: agent1.post(start, {}), 409, "agents-not-both-checked-in")
    assert len(lone["missing_agents"]) == 1
    far = _refused(session, lambda: agent2.post(check_ins, _check_in_body(first, 3_000)), 422, "check-in-too-far")
    assert far["distance_m"] >= 2_990
    _refused(session, lambda: agent3.post(check_ins, _check_in_body(first)), 404, "visit-sheet-not-found")
    _refused(session, lambda: agent3.post(start, {}), 404, "visit-not-found")

    # agent2 checks in beside agent1: the visit starts
    assert agent2.post(check_ins, _check_in_body(first, -40)).status_code == 201
    visit_id = checked_in.json()["id"]
    assert agent2.post(start, {}).json()["status"] == "in_progress"

    # cash is refused until the supervisor approves it for this visit
    cash = {"cash_payment": {"amount": "500.00", "receipt_number": "R-0001"}}
    _refused(
        session, lambda: agent1.post(f"/visits/{visit_id}/outcome", _outcome_body(**cash)), 409, "cash-not-approved"
    )
    assert agent1.post(f"/visits/{visit_id}/outcome", _outcome_body()).json()["status"] == "reported"
    _refused(session, lambda: agent1.post(f"/visits/{visit_id}/outcome/confirm"), 409, "same-agent-confirms")

    # the visit closes only with its evidence: the whole visit recorded, the door and the mailbox photographed
    confirm = f"/visits/{visit_id}/outcome/confirm"
    missing = _refused(session, lambda: agent2.post(confirm), 409, "evidence-incomplete")
    assert missing["recording_coverage"] == 0 and missing["missing_photos"] == ["door", "mailbox"]
    point, arrived = first["address"]["point"], datetime.now(UTC) - timedelta(minutes=1)
    recorded = agent1.upload(
        visit_id,
        wav_bytes(120),
        kind="recording",
        purpose="whole_visit",
        content_type="audio/wav",
        captured_at=arrived.isoformat(),
    )
    for purpose, height in (("door", 480), ("mailbox", 360)):
        photo = jpeg_bytes(height=height, lat=point["lat"], lon=point["lon"], taken_at=datetime.now(UTC))
        taken = agent2.upload(
            visit_id, photo, kind="photo", purpose=purpose, content_type="image/jpeg", captured_at=arrived.isoformat()
        )
        assert taken.json()["status"] == "accepted" and taken.json()["flags"] == []
    assert recorded.json()["status"] == "accepted"
    assert agent2.post(confirm).json()["status"] == "completed"
    amended = agent2.post(
        f"/visits/{visit_id}/outcome/amendments", _outcome_body(promise={"date": "2026-12-22", "amount": "2500.00"})
    )
    assert amended.status_code == 201
    visit = agent1.post(f"/visits/{visit_id}/outcome/confirm").json()
    assert [(o["sequence"], o["details"]["promise"]["amount"]) for o in visit["outcomes"]] == [
        (1, "3000.00"),
        (2, "2500.00"),
    ]

    # the second address is gone: nothing but the supervisor's confirmation cancels its visit
    request_id = UUID(second["visit_request_id"])
    _refused(
        session,
        lambda: supervisor.patch(f"/visit-requests/{request_id}", {"status": "cancelled"}),
        409,
        "visit-request-status-change-not-allowed",
    )
    report = agent1.post(
        f"/addresses/{second['address']['id']}/invalid-reports",
        {"reason": "demolished", "note": "Building torn down, site fenced off.", "client_id": str(uuid4())},
    )
    assert report.status_code == 201
    report_id = report.json()["id"]
    session.expire_all()
    assert session.get_one(VisitRequest, request_id).status is VisitRequestStatus.PLANNED
    _refused(
        session,
        lambda: agent2.post(f"/invalid-address-reports/{report_id}/confirm", {}),
        403,
        "role-not-allowed",
    )
    assert supervisor.post(f"/invalid-address-reports/{report_id}/confirm", {}).status_code == 200
    session.expire_all()
    assert session.get_one(VisitRequest, request_id).status is VisitRequestStatus.CANCELLED
    decisions = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "update", AuditEvent.entity_id.in_([str(request_id), report_id]))
        .order_by(AuditEvent.seq)
    ).all()
    assert [(event.entity, event.changes["status"]) for event in decisions] == [
        ("visit_request", "planned"),  # published
        ("address_report", "confirmed"),
        ("visit_request", "cancelled"),
    ]

    # findings reached the phone collector
    kinds = {event["kind"] for event in collector.get("/events").json()["items"]}
    assert {"repayment_promised", "contact_found", "address_reported", "address_confirmed_invalid"} <= kinds

    # every time the day's answers carried is UTC, written with a Z
    times = moments(answers)
    assert len(times) > 100 and [moment for moment in times if not moment.endswith("Z")] == []

    # nothing of a debtor's reached the logs of the day
    assert _debtors_data_in(caplog.records, session) == []

    # the evening: the audit trail of the seeded, planned and visited day verifies, and fails after an edit
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    outcome_event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "outcome")).first()
    assert outcome_event is not None
    session.execute(update(AuditEvent).where(AuditEvent.seq == outcome_event.seq).values(changes={"amount": "0"}))
    session.commit()
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1 and f"event #{outcome_event.seq}" in broken.output
