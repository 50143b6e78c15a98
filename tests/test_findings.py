"""The findings feed: what visits learn reaches the supervisor and the case's phone collector, in order."""

from typing import Any
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.models.branches import Branch
from api.models.cases import DebtCase
from api.models.users import Role, User
from tests.factories import auth_headers, make_branch, make_user
from tests.test_visits import Day


def _feed(client: TestClient, user: User, after: int = 0) -> dict[str, Any]:
    response = client.get("/events", params={"after": after}, headers=auth_headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def test_findings_reach_the_supervisor_and_the_collector_in_order(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    collector = make_user(session, Role.PHONE_COLLECTOR, session.get_one(Branch, day.team.branch_id))
    session.get_one(DebtCase, day.request.case_id).phone_collector_id = collector.id
    session.commit()
    day.started()
    assert day.outcome(day.a).status_code == 201
    assert client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b)).status_code == 200
    other_address = day.requests[1].address_id
    report = {"reason": "vague", "note": "no such building number", "client_id": str(uuid4())}
    assert (
        client.post(f"/addresses/{other_address}/invalid-reports", json=report, headers=auth_headers(day.a)).status_code
        == 201
    )

    supervisor_feed = _feed(client, day.supervisor)
    collector_feed = _feed(client, collector)

    kinds = [item["kind"] for item in supervisor_feed["items"]]
    assert kinds == ["repayment_promised", "contact_found", "address_reported"]
    promise = supervisor_feed["items"][0]
    assert (promise["payload"]["amount"], promise["payload"]["date"]) == ("2000.00", "2026-12-15")
    assert supervisor_feed["items"][1]["payload"]["phones"] == ["13900001111"]
    assert [item["kind"] for item in collector_feed["items"]] == ["repayment_promised", "contact_found"]
    assert _feed(client, day.supervisor, after=supervisor_feed["next_after"]) == {
        "items": [],
        "next_after": supervisor_feed["next_after"],
    }
    later = _feed(client, day.supervisor, after=supervisor_feed["items"][0]["id"])
    assert [item["kind"] for item in later["items"]] == kinds[1:]
    assert _feed(client, day.a)["items"] == []  # an agent reads only the changes to their team's sheet
    assert _feed(client, make_user(session, Role.SUPERVISOR, make_branch(session)))["items"] == []


def test_a_visit_where_nobody_answered_and_a_fake_address_are_reported(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    day.started()
    day.outcome(
        day.a,
        contact_result="nobody",
        met_relation="",
        promise=None,
        contacts=[],
        signs_fake_address=True,
        address_assessment="fake",
        notes="flat is an empty shop unit",
    )
    client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b))

    kinds = [item["kind"] for item in _feed(client, day.supervisor)["items"]]

    assert kinds == ["fake_address_suspected", "visit_failed"]
