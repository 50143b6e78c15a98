"""At the door: departure check, the two-person rule at check-in, outcomes submitted by one agent and confirmed by
the other, amendments, and the refused paths, each changing nothing."""

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.geo import GeoPoint
from api.models.address_reports import AddressReport
from api.models.audit import AuditEvent
from api.models.branches import Branch
from api.models.cases import DebtCase, DebtorContact
from api.models.sheets import SheetStop, StopState
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.models.visits import CheckIn, DepartureCheck, Outcome, Visit
from api.rules.packs import Jurisdiction
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    count_rows,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
    publish_sheet,
)

CHECKLIST = ["recorder_charged", "camera_charged", "letters_carried", "forms_carried"]


class Day:
    """A published one-team sheet with two stops, and the people of the branch; once it is published, the clock
    (the test's and the server's) goes on from 10:00 of the sheet's work date."""

    def __init__(
        self,
        client: TestClient,
        session: Session,
        time_machine: TimeMachineFixture,
        *,
        complaint: bool = False,
        jurisdiction: Jurisdiction = Jurisdiction.CN,
        places: Sequence[tuple[GeoPoint, str]] = (),
        **branch_fields: object,
    ) -> None:
        """`places`: the two stops' points and texts (default: near the Shanghai office, one text for both)."""
        branch = make_branch(session, jurisdiction=jurisdiction, **branch_fields)
        self.client, self.session = client, session
        self.supervisor = make_user(session, Role.SUPERVISOR, branch)
        self.team = make_team(session, branch)
        self.team.experienced = True
        session.commit()
        self.a, self.b = (session.get_one(User, member.agent_id) for member in self.team.members)
        places = places or [(point, "上海市黄浦区南京东路100号3室") for point in NEAR_OFFICE[:2]]
        self.requests = [
            make_visit_request(
                session,
                make_address(
                    session, make_case(session, branch, complaint_history=complaint), point=point, raw_text=text
                ),
            )
            for point, text in places
        ]
        self.sheet_id = str(publish_sheet(session, self.supervisor, self.team, self.requests).id)
        self.request = self.requests[0]
        self.point = places[0][0]
        self.branch, self.time_machine = branch, time_machine
        self.work_date = self.team.work_date
        self.at(time(10, 0))

    def at(self, clock: time, day: date | None = None) -> None:
        """Move the clock to `clock` (branch time) of `day` (default: the sheet's work date); it ticks on from there."""
        moment = datetime.combine(day or self.work_date, clock, tzinfo=ZoneInfo(self.branch.timezone))
        self.time_machine.move_to(moment, tick=True)

    def depart(self, agent: User) -> Any:
        body = {"items": CHECKLIST, "client_id": str(uuid4())}
        return self.client.post(f"/teams/{self.team.id}/departure-checks", json=body, headers=auth_headers(agent))

    def check_in(self, agent: User, *, north_m: float = 0, accuracy_m: float = 10, client_id: str = "") -> Any:
        body = {
            "lat": self.point.lat + north_m / 111_195,
            "lon": self.point.lon,
            "accuracy_m": accuracy_m,
            "device_time": datetime.now(UTC).isoformat(),
            "client_id": client_id or str(uuid4()),
        }
        url = f"/visit-sheets/{self.sheet_id}/stops/{self.request.id}/check-ins"
        return self.client.post(url, json=body, headers=auth_headers(agent))

    def start(self, user: User, **body: Any) -> Any:
        return self.client.post(f"/visits/{self.visit_id()}/start", json=body, headers=auth_headers(user))

    def visit_id(self) -> UUID:
        return self.session.scalars(select(Visit.id).where(Visit.visit_request_id == self.request.id)).one()

    def started(self) -> UUID:
        for agent in (self.a, self.b):
            assert self.depart(agent).status_code == 201
            assert self.check_in(agent).status_code == 201
        assert self.start(self.a).status_code == 200
        return self.visit_id()

    def outcome(self, agent: User, path: str = "outcome", **fields: Any) -> Any:
        body = {
            "contact_result": "met_family",
            "met_relation": "mother",
            "mailbox": {"checked": True, "mail_for_debtor": True},
            "neighbours": [{"who": "neighbour, 302", "debtor_lives_here": "yes", "usual_return_time": "after 19:00"}],
            "contacts": [{"phone": "13900001111", "kind": "mobile", "verified": True, "holder": "debtor"}],
            "promise": {"date": "2026-12-15", "amount": "2000.00"},
            "address_assessment": "lives_here",
            "notes": "",
            "client_id": str(uuid4()),
        } | fields
        return self.client.post(f"/visits/{self.visit_id()}/{path}", json=body, headers=auth_headers(agent))


def test_a_visit_from_departure_to_an_amended_outcome(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    assert day.depart(day.a).status_code == 201 and day.depart(day.b).status_code == 201

    first = day.check_in(day.a, north_m=50)
    second = day.check_in(day.b, north_m=-30)
    started = day.start(day.b)

    assert first.status_code == second.status_code == 201
    assert [round(row["distance_m"]) for row in second.json()["check_ins"]] == [50, 30]
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    stop = session.scalars(select(SheetStop).where(SheetStop.visit_request_id == day.request.id)).one()
    assert stop.state is StopState.IN_PROGRESS

    submitted = day.outcome(day.a)
    own = client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.a))
    confirmed = client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b))

    assert submitted.status_code == 201 and submitted.json()["status"] == "reported"
    assert own.status_code == 409 and problem_type(own) == "same-agent-confirms"
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"
    session.expire_all()
    assert session.get_one(VisitRequest, day.request.id).status is VisitRequestStatus.COMPLETED
    contact = session.scalars(select(DebtorContact).where(DebtorContact.phone == "13900001111")).one()
    assert contact.source.value == "field_visit" and contact.status.value == "verified"

    amended = day.outcome(day.b, "outcome/amendments", promise={"date": "2026-12-20", "amount": "1500.00"})
    client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.a))
    visit = client.get(f"/visits/{day.visit_id()}", headers=auth_headers(day.supervisor)).json()

    assert amended.status_code == 201
    original, amendment = visit["outcomes"]
    assert amendment["amends_id"] == original["id"] and amendment["sequence"] == 2
    assert original["details"]["promise"] == {"date": "2026-12-15", "amount": "2000.00"}
    assert amendment["details"]["promise"]["amount"] == "1500.00" and amendment["confirmed_by_id"] == str(day.a.id)


def test_a_lone_agent_cannot_start_the_visit(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a), day.depart(day.b)
    day.check_in(day.a)
    day.check_in(day.a)  # the same agent twice is still one agent

    response = day.start(day.a)

    assert response.status_code == 409 and problem_type(response) == "agents-not-both-checked-in"
    assert response.json()["missing_agents"] == [str(day.b.id)]
    session.expire_all()
    assert session.get_one(Visit, day.visit_id()).status.value == "checking_in"


def test_without_the_departure_check_no_visit_starts(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a)
    day.check_in(day.a), day.check_in(day.b)

    response = day.start(day.a)

    assert response.status_code == 409 and problem_type(response) == "departure-check-missing"
    assert response.json()["missing_agents"] == [str(day.b.id)]


def test_an_incomplete_checklist_is_refused(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    body = {"items": CHECKLIST[:2], "client_id": str(uuid4())}

    response = client.post(f"/teams/{day.team.id}/departure-checks", json=body, headers=auth_headers(day.a))

    assert response.status_code == 422 and problem_type(response) == "checklist-incomplete"
    assert response.json()["missing"] == CHECKLIST[2:]
    assert count_rows(session, DepartureCheck) == 0


def test_a_check_in_far_from_the_address_is_refused(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)

    far = day.check_in(day.a, north_m=2_000)
    vague = day.check_in(day.a, north_m=450, accuracy_m=5_000)  # accuracy counts for at most the radius
    near_enough = day.check_in(day.a, north_m=350, accuracy_m=200)

    assert far.status_code == 422 and problem_type(far) == "check-in-too-far"
    assert far.json()["distance_m"] == 2_000 and far.json()["radius_m"] == 200
    assert vague.status_code == 422
    assert near_enough.status_code == 201
    assert count_rows(session, CheckIn) == 1


def test_check_ins_too_far_apart_in_time_do_not_start_the_visit(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a), day.depart(day.b)
    day.check_in(day.a), day.check_in(day.b)
    early = session.scalars(select(CheckIn).where(CheckIn.agent_id == day.a.id)).one()
    early.received_at = datetime.now(UTC) - timedelta(minutes=25)
    session.commit()

    response = day.start(day.b)

    assert response.status_code == 409 and problem_type(response) == "check-ins-too-far-apart"


def test_an_agent_of_another_team_gets_404(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    stranger = session.get_one(User, make_team(session).members[0].agent_id)
    day.check_in(day.a)

    check_in = day.check_in(stranger)
    visit = client.get(f"/visits/{day.visit_id()}", headers=auth_headers(stranger))
    start = day.start(stranger)
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))

    assert check_in.status_code == 404 and visit.status_code == 404 and start.status_code == 404
    assert client.get(f"/visits/{day.visit_id()}", headers=auth_headers(elsewhere)).status_code == 404
    departure = day.depart(stranger)
    assert departure.status_code == 404 and problem_type(departure) == "team-not-found"


def test_a_supervisor_overrides_only_with_a_reason(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.depart(day.a), day.depart(day.b)
    day.check_in(day.a)

    bare = day.start(day.supervisor)
    reasoned = day.start(day.supervisor, override_reason="B's phone has no GPS fix inside the building")

    assert bare.status_code == 422 and problem_type(bare) == "override-reason-required"
    assert reasoned.status_code == 200
    assert reasoned.json()["override_reason"].startswith("B's phone") and reasoned.json()["override_by_id"] == str(
        day.supervisor.id
    )


def test_an_outcome_is_only_for_a_started_visit_and_recorded_once(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.check_in(day.a)
    early = day.outcome(day.a)
    assert early.status_code == 409 and problem_type(early) == "visit-not-in-progress"
    day.check_in(day.b), day.depart(day.a), day.depart(day.b)
    assert day.start(day.a).status_code == 200
    client_id = str(uuid4())

    first = day.outcome(day.a, client_id=client_id)
    retried = day.outcome(day.a, client_id=client_id)
    missing_mailbox = day.outcome(day.b, mailbox={"checked": False, "mail_for_debtor": False})

    assert first.status_code == 201 and retried.status_code == 201
    assert retried.json()["outcomes"] == first.json()["outcomes"]
    assert missing_mailbox.status_code == 422
    assert count_rows(session, Outcome) == 1


@pytest.mark.parametrize("notes", ["", "   "])
def test_a_visit_flagged_for_care_needs_a_note(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, notes: str
) -> None:
    day = Day(client, session, time_machine, complaint=True)
    day.started()

    refused = day.outcome(day.a, notes=notes)
    accepted = day.outcome(day.a, notes="Spoke calmly with the mother at the door; no pressure, left a letter.")

    assert refused.status_code == 422 and problem_type(refused) == "care-note-required"
    assert accepted.status_code == 201


def _twice(client: TestClient, user: User, url: str, body: dict[str, Any], *, together: bool = False) -> list[Any]:
    """The same POST sent twice with one Idempotency-Key: one after the other, or both at once."""
    headers = auth_headers(user) | {"Idempotency-Key": str(uuid4())}
    if not together:
        return [client.post(url, json=body, headers=headers) for _ in range(2)]
    barrier, answers = threading.Barrier(2), []

    def send() -> None:
        barrier.wait()
        answers.append(client.post(url, json=body, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("together", [False, True])
def test_every_create_call_sent_twice_records_once(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, together: bool
) -> None:
    day = Day(client, session, time_machine)
    visit_url = "/visits/{}/"
    outcome = {
        "contact_result": "nobody",
        "mailbox": {"checked": True, "mail_for_debtor": False, "letter_left": True},
        "address_assessment": "unclear",
        "client_id": str(uuid4()),
    }
    calls = [
        (day.a, f"/teams/{day.team.id}/departure-checks", {"items": CHECKLIST, "client_id": str(uuid4())}),
        (day.b, f"/teams/{day.team.id}/departure-checks", {"items": CHECKLIST, "client_id": str(uuid4())}),
    ]
    for agent, url, body in calls:
        answers = _twice(client, agent, url, body, together=together)
        assert sorted(answer.status_code for answer in answers) in ([201, 201], [201, 409])
    check_in_url = f"/visit-sheets/{day.sheet_id}/stops/{day.request.id}/check-ins"
    for agent in (day.a, day.b):
        body = {
            "lat": day.point.lat,
            "lon": day.point.lon,
            "accuracy_m": 5,
            "device_time": datetime.now(UTC).isoformat(),
            "client_id": str(uuid4()),
        }
        answers = _twice(client, agent, check_in_url, body, together=together)
        assert sorted(answer.status_code for answer in answers) in ([201, 201], [201, 409])
    assert day.start(day.a).status_code == 200
    url = visit_url.format(day.visit_id())
    for agent, path, body in (
        (day.a, "outcome", outcome),
        (day.b, "outcome/confirm", {}),
        (day.b, "outcome/amendments", outcome | {"client_id": str(uuid4()), "notes": "letter was left"}),
        (day.a, "outcome/confirm", {}),
    ):
        answers = _twice(client, agent, url + path, body, together=together)
        assert sorted(answer.status_code for answer in answers)[0] in (200, 201), answers[0].text
        assert {answer.status_code for answer in answers} <= {200, 201, 409}
    report = {"reason": "vague", "note": "no such unit number", "client_id": str(uuid4())}
    answers = _twice(
        client, day.a, f"/addresses/{day.requests[1].address_id}/invalid-reports", report, together=together
    )
    assert sorted(answer.status_code for answer in answers) in ([201, 201], [201, 409])

    assert (count_rows(session, DepartureCheck), count_rows(session, CheckIn), count_rows(session, Outcome)) == (
        2,
        2,
        2,
    )
    assert count_rows(session, AddressReport) == 1
    outcomes = session.scalars(select(Outcome).order_by(Outcome.sequence)).all()
    assert [row.confirmed_by_id for row in outcomes] == [day.b.id, day.a.id]


def test_no_cash_without_the_supervisors_approval(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    visit_id = day.started()
    cash = {"amount": "500.00", "receipt_number": "R-0001"}

    refused = day.outcome(day.a, cash_payment=cash)
    by_agent = client.post(
        f"/visits/{visit_id}/cash-approvals",
        json={"max_amount": "300.00", "reason": "debtor offers cash"},
        headers=auth_headers(day.a),
    )
    small = client.post(
        f"/visits/{visit_id}/cash-approvals",
        json={"max_amount": "300.00", "reason": "debtor offers cash"},
        headers=auth_headers(day.supervisor),
    )
    too_much = day.outcome(day.a, cash_payment=cash)
    client.post(
        f"/visits/{visit_id}/cash-approvals",
        json={"max_amount": "500.00", "reason": "called back: full instalment"},
        headers=auth_headers(day.supervisor),
    )
    accepted = day.outcome(day.a, cash_payment=cash)

    assert refused.status_code == 409 and problem_type(refused) == "cash-not-approved"
    assert by_agent.status_code == 403
    assert small.status_code == 201 and small.json()["max_amount"] == "300.00"
    assert too_much.status_code == 409 and too_much.json()["approved_up_to"] == "300.00"
    assert accepted.status_code == 201
    assert count_rows(session, Outcome) == 1
    cash_payment = session.scalars(select(Outcome)).one().report.cash_payment
    assert cash_payment is not None and cash_payment.amount == Decimal("500.00")
    approvals = client.get(f"/visits/{visit_id}/cash-approvals", headers=auth_headers(day.a))
    assert [(row["max_amount"], row["reason"]) for row in approvals.json()] == [
        ("300.00", "debtor offers cash"),
        ("500.00", "called back: full instalment"),
    ]
    outsider = make_user(session, Role.SUPERVISOR)
    hidden = client.get(f"/visits/{visit_id}/cash-approvals", headers=auth_headers(outsider))
    assert hidden.status_code == 404 and problem_type(hidden) == "visit-not-found"


def test_the_door_endpoints_hide_other_teams_and_branches(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    visit_id = day.started()
    stranger = session.get_one(User, make_team(session).members[0].agent_id)
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))
    outcome = {
        "contact_result": "nobody",
        "mailbox": {"checked": True, "mail_for_debtor": False},
        "address_assessment": "unclear",
        "client_id": str(uuid4()),
    }
    cash = {"max_amount": "100.00", "reason": "debtor offers cash"}

    answers = {
        "outcome by another team": client.post(
            f"/visits/{visit_id}/outcome", json=outcome, headers=auth_headers(stranger)
        ),
        "confirm by another team": client.post(f"/visits/{visit_id}/outcome/confirm", headers=auth_headers(stranger)),
        "amend by another team": client.post(
            f"/visits/{visit_id}/outcome/amendments", json=outcome, headers=auth_headers(stranger)
        ),
        "cash by another branch": client.post(
            f"/visits/{visit_id}/cash-approvals", json=cash, headers=auth_headers(elsewhere)
        ),
        "start by another branch": client.post(
            f"/visits/{visit_id}/start",
            json={"override_reason": "no reason at all here"},
            headers=auth_headers(elsewhere),
        ),
        "visit for another branch": client.get(f"/visits/{visit_id}", headers=auth_headers(elsewhere)),
    }

    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(answers, 404)
    assert count_rows(session, Outcome) == 0
    webhook = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": "s" * 16}, headers=auth_headers(elsewhere)
    ).json()
    gone = client.delete(f"/webhooks/{webhook['id']}", headers=auth_headers(day.supervisor))
    assert gone.status_code == 404


def test_visits_are_listed_for_review_by_day_team_case_and_state(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    reported = day.started()
    assert day.outcome(day.a).status_code == 201
    second = client.post(  # agent a arrives at the second stop: a visit still checking in
        f"/visit-sheets/{day.sheet_id}/stops/{day.requests[1].id}/check-ins",
        json={
            "lat": NEAR_OFFICE[1].lat,
            "lon": NEAR_OFFICE[1].lon,
            "accuracy_m": 10,
            "device_time": datetime.now(UTC).isoformat(),
            "client_id": str(uuid4()),
        },
        headers=auth_headers(day.a),
    )
    arriving = UUID(second.json()["id"])
    work_date = client.get(f"/visit-sheets/{day.sheet_id}", headers=auth_headers(day.supervisor)).json()["work_date"]
    collector = make_user(session, Role.PHONE_COLLECTOR, session.get_one(Branch, day.team.branch_id))
    session.get_one(DebtCase, day.request.case_id).phone_collector_id = collector.id
    session.commit()

    def listed(user: User, **params: Any) -> list[tuple[UUID, str, int]]:
        response = client.get("/visits", params={"work_date": work_date} | params, headers=auth_headers(user))
        assert response.status_code == 200, response.text
        return [(UUID(item["id"]), item["status"], len(item["outcomes"])) for item in response.json()["items"]]

    both = [(reported, "reported", 1), (arriving, "checking_in", 0)]
    assert listed(day.supervisor) == both and listed(day.b) == both
    assert listed(day.supervisor, status="reported") == [(reported, "reported", 1)]
    assert listed(day.supervisor, case_id=str(day.requests[1].case_id)) == [(arriving, "checking_in", 0)]
    assert listed(day.supervisor, team_id=str(uuid4())) == []
    assert listed(day.supervisor, work_date="2020-01-01") == []
    assert listed(collector) == [(reported, "reported", 1)]  # only their case's
    assert listed(make_user(session, Role.SUPERVISOR, make_branch(session))) == []
    page = client.get("/visits", params={"limit": 1}, headers=auth_headers(day.supervisor)).json()
    rest = client.get("/visits", params={"cursor": page["next_cursor"]}, headers=auth_headers(day.supervisor)).json()
    assert [item["id"] for item in page["items"] + rest["items"]] == [str(reported), str(arriving)]
    assert page["items"][0]["outcomes"][0]["submitted_by_id"] == str(day.a.id)
    case, address = session.get_one(DebtCase, day.request.case_id), day.request.address
    named = page["items"][0]
    assert (named["case_reference"], named["debtor_name"], named["address_text"]) == (
        case.reference,
        case.debtor_name,
        address.raw_text,
    )
    assert (named["team_name"], named["position"]) == (day.team.name, 1)
    assert named["care_flags"] == (["complaint_history"] if case.complaint_history else [])
    bad = client.get("/visits", params={"status": "done"}, headers=auth_headers(day.supervisor))
    assert bad.status_code == 422 and problem_type(bad) == "validation-failed"


def test_the_door_is_closed_before_the_work_date_and_outside_visiting_hours(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.at(time(10, 0), day.work_date - timedelta(days=1))
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201

    early = _refused(session, lambda: day.check_in(day.a), 409, "not-the-work-date")
    day.at(time(21, 30))
    late = _refused(session, lambda: day.check_in(day.a), 409, "outside-visiting-hours")
    day.at(time(20, 50))
    assert day.check_in(day.a).status_code == day.check_in(day.b).status_code == 201
    day.at(time(21, 5))
    start = day.start(day.a)

    assert early["rule"] == "work_date" and early["work_date"] == day.work_date.isoformat()
    assert late["rule"] == "visiting_hours" and (late["visiting_from"], late["visiting_until"]) == ("08:00", "21:00")
    assert (late["rule_label"], late["pack"], late["timezone"], late["local_time"]) == (
        "CN NIFA convention",
        "CN",
        "Asia/Shanghai",
        "21:30",
    )
    assert late["override_allowed"] and "催收时间" in late["rule_source"]
    assert start.status_code == 409 and problem_type(start) == "outside-visiting-hours"
    assert start.json()["detail"].startswith("Not now: it is 21:05 at the address; CN NIFA convention: only 08:00")
    assert session.get_one(Visit, day.visit_id()).started_at is None


def test_a_supervisor_allows_the_door_outside_the_hours_with_a_reason_recorded(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.at(time(21, 30))
    url = f"/visit-sheets/{day.sheet_id}/stops/{day.request.id}/hours-override"
    reason = {"reason": "the debtor asked for a visit after his night shift"}

    by_agent = client.post(url, json=reason, headers=auth_headers(day.a))
    too_short = client.post(url, json={"reason": "ok"}, headers=auth_headers(day.supervisor))
    allowed = client.post(url, json=reason, headers=auth_headers(day.supervisor))
    visit_id = day.started()

    assert by_agent.status_code == 403 and too_short.status_code == 422
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["hours_override_reason"] == reason["reason"]
    assert allowed.json()["hours_override_by_id"] == str(day.supervisor.id)
    visit = client.get(f"/visits/{visit_id}", headers=auth_headers(day.supervisor)).json()
    assert visit["status"] == "in_progress" and visit["hours_override_at"].endswith("Z")
    audited = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "visit", AuditEvent.entity_id == str(visit_id))
    ).all()
    assert any(event.actor_id == day.supervisor.id and reason["reason"] in str(event.changes) for event in audited)


def test_where_the_pack_allows_no_override_it_is_refused_and_the_door_stays_shut_outside_the_hours(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    pack = Jurisdiction.IN  # RBI: no exceptions
    day = Day(client, session, time_machine, jurisdiction=pack)
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201
    url = f"/visit-sheets/{day.sheet_id}/stops/{day.request.id}/hours-override"
    reason = {"reason": "the debtor asked for a visit after his night shift"}
    asked_ahead = client.post(url, json=reason, headers=auth_headers(day.supervisor))  # the door open, at 10:00
    day.at(time(20, 5))
    asked_then = client.post(url, json=reason, headers=auth_headers(day.supervisor))

    for answer in (asked_ahead, asked_then):
        assert answer.status_code == 409 and problem_type(answer) == "override-not-allowed", answer.text
        assert answer.json()["rule"] == "visiting_hours" and answer.json()["pack"] == pack.value
    assert "allows no override" in asked_then.json()["detail"]
    assert count_rows(session, Visit) == 0  # nothing recorded: no visit holds the reason
    refused = _refused(session, lambda: day.check_in(day.a), 409, "outside-visiting-hours")
    assert refused["override_allowed"] is False and refused["rule_label"] == asked_then.json()["rule_label"]
    assert refused["detail"].endswith(f"No override is allowed ({refused['rule_label']}).")
    day.at(time(17, 30))
    assert day.check_in(day.a).status_code == 201


def _refused(session: Session, call: Any, status: int, problem: str) -> dict[str, Any]:
    before = (count_rows(session, CheckIn), count_rows(session, Visit))
    response = call()
    assert response.status_code == status, response.text
    assert problem_type(response) == problem
    assert (count_rows(session, CheckIn), count_rows(session, Visit)) == before
    return dict(response.json())


def test_the_sheet_says_where_each_stop_stands_and_its_etag_changes_with_it(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    seen: list[tuple[str, str, bool, str | None]] = []
    etags: list[str] = []

    def look() -> None:
        response = client.get("/me/sheet", params={"work_date": day.work_date.isoformat()}, headers=auth_headers(day.b))
        stop = next(s for s in response.json()["stops"] if s["visit_request_id"] == str(day.request.id))
        etags.append(response.headers["ETag"])
        visit = stop["visit_id"] and client.get(f"/visits/{stop['visit_id']}", headers=auth_headers(day.b)).json()
        seen.append((stop["state"], visit["status"] if visit else "-", stop["awaiting_confirmation"], stop["visit_id"]))

    look()
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201
    assert day.check_in(day.a).status_code == 201
    look()
    assert day.check_in(day.b).status_code == 201 and day.start(day.a).status_code == 200
    look()
    assert day.outcome(day.a).status_code == 201
    look()
    assert client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b)).status_code == 200
    look()
    assert day.outcome(day.b, "outcome/amendments", contact_result="nobody").status_code == 201
    look()
    assert client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.a)).status_code == 200
    look()

    visit = str(day.visit_id())
    assert seen == [
        ("planned", "-", False, None),
        ("checking_in", "checking_in", False, visit),
        ("in_progress", "in_progress", False, visit),
        ("in_progress", "reported", True, visit),
        ("done", "completed", False, visit),
        ("done", "amendment_reported", True, visit),
        ("failed", "completed", False, visit),  # the amendment says nobody was met after all
    ]
    assert len(set(etags)) == len(etags)
