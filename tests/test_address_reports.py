"""Invalid addresses: an agent reports, the supervisor confirms (visits cancelled, planning skips it) or rejects
(the visit stays). Nothing cancels a visit without the confirmation; of two decisions at once, one wins."""

import threading
from typing import Any
from uuid import UUID, uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.models.address_reports import AddressReport
from api.models.branches import Branch
from api.models.cases import Address, AddressValidity
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from tests.factories import auth_headers, make_branch, make_team, make_user, problem_type
from tests.test_visits import Day


def _report(client: TestClient, agent: User, address_id: UUID, **fields: Any) -> Any:
    body = {"reason": "demolished", "note": "the block is fenced off, being torn down", "client_id": str(uuid4())}
    return client.post(f"/addresses/{address_id}/invalid-reports", json=body | fields, headers=auth_headers(agent))


def _state(session: Session, day: Day) -> tuple[AddressValidity, VisitRequestStatus]:
    session.expire_all()
    request = session.get_one(VisitRequest, day.request.id)
    return session.get_one(Address, request.address_id).validity, request.status


def test_a_confirmed_report_cancels_the_visit_and_a_rejected_one_keeps_it(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    address_id = day.request.address_id

    reported = _report(client, day.a, address_id)

    assert reported.status_code == 201 and reported.json()["status"] == "pending"
    assert _state(session, day) == (AddressValidity.REPORTED_INVALID, VisitRequestStatus.PLANNED)
    queue = client.get("/invalid-address-reports", params={"status": "pending"}, headers=auth_headers(day.supervisor))
    assert [row["id"] for row in queue.json()["items"]] == [reported.json()["id"]]
    rejected = client.post(
        f"/invalid-address-reports/{reported.json()['id']}/reject",
        json={"note": "the new building has the same number; ask the guard at gate 2"},
        headers=auth_headers(day.supervisor),
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert _state(session, day) == (AddressValidity.UNVERIFIED, VisitRequestStatus.PLANNED)
    mine = client.get(f"/invalid-address-reports/{reported.json()['id']}", headers=auth_headers(day.a)).json()
    assert mine["decision_note"].startswith("the new building")

    again = _report(client, day.b, address_id, reason="nonexistent")
    confirmed = client.post(
        f"/invalid-address-reports/{again.json()['id']}/confirm", json={}, headers=auth_headers(day.supervisor)
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert _state(session, day) == (AddressValidity.CONFIRMED_INVALID, VisitRequestStatus.CANCELLED)


def test_reports_are_checked_and_retries_are_safe(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    address_id = day.request.address_id
    client_id = str(uuid4())
    stranger = session.get_one(User, make_team(session).members[0].agent_id)

    first = _report(client, day.a, address_id, client_id=client_id)
    retry = _report(client, day.a, address_id, client_id=client_id)
    twice = _report(client, day.b, address_id)
    foreign = _report(client, stranger, address_id)
    reject_bare = client.post(
        f"/invalid-address-reports/{first.json()['id']}/reject", json={}, headers=auth_headers(day.supervisor)
    )
    by_agent = client.post(
        f"/invalid-address-reports/{first.json()['id']}/confirm", json={}, headers=auth_headers(day.a)
    )

    assert first.status_code == retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert twice.status_code == 409 and problem_type(twice) == "address-already-reported"
    assert foreign.status_code == 404 and problem_type(foreign) == "address-not-on-your-sheets"
    assert reject_bare.status_code == 422 and problem_type(reject_bare) == "rejection-reason-required"
    assert by_agent.status_code == 403
    assert session.scalar(select(func.count()).select_from(AddressReport)) == 1
    assert _state(session, day) == (AddressValidity.REPORTED_INVALID, VisitRequestStatus.PLANNED)
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))
    other = client.post(
        f"/invalid-address-reports/{first.json()['id']}/confirm", json={}, headers=auth_headers(elsewhere)
    )
    assert other.status_code == 404


def test_two_supervisors_deciding_at_once_one_wins(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    second = make_user(session, Role.SUPERVISOR, session.get_one(Branch, day.team.branch_id))
    report_id = _report(client, day.a, day.request.address_id).json()["id"]
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def decide(user: User, verdict: str, body: dict[str, str]) -> None:
        barrier.wait()
        url = f"/invalid-address-reports/{report_id}/{verdict}"
        answers.append(client.post(url, json=body, headers=auth_headers(user)).status_code)

    threads = [
        threading.Thread(target=decide, args=(day.supervisor, "confirm", {})),
        threading.Thread(target=decide, args=(second, "reject", {"note": "it is there, try the back entrance"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [200, 409]
    session.expire_all()
    report = session.get_one(AddressReport, UUID(report_id))
    validity, status = _state(session, day)
    if report.status.value == "confirmed":
        assert (validity, status) == (AddressValidity.CONFIRMED_INVALID, VisitRequestStatus.CANCELLED)
    else:
        assert (validity, status) == (AddressValidity.UNVERIFIED, VisitRequestStatus.PLANNED)
