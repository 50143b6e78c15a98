"""The eligibility gate through the API: a case's restrictions, set and lifted, keep its requests from planning and
re-planning where the branch's pack says so; the visit cap counts the case's visits; a supervisor releases one
request where the pack allows it, on the audit chain."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.branches.service import rules_of
from api.models.audit import AuditEvent
from api.models.branches import Branch
from api.models.cases import Address, CaseRestriction, DebtCase
from api.models.sheets import SheetStop
from api.models.users import Role, User
from api.models.visit_requests import EligibilityRelease, VisitRequest, VisitRequestStatus
from api.models.visits import Visit, VisitStatus
from api.rules.hours import closed_day
from api.rules.packs import Jurisdiction
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    count_rows,
    draft_sheet,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
    publish_sheet,
    tomorrow,
)
from tests.sheets.test_planning_runs import plan


def _visiting_day(branch: Branch) -> date:
    """The first day from tomorrow the branch's pack visits on (no public holiday there)."""
    day = tomorrow(branch)
    while closed_day(rules_of(branch), day) is not None:
        day += timedelta(days=1)
    return day


def _day(session: Session, code: str = "CN") -> tuple[Branch, User, date]:
    """A branch under the pack of `code` with its supervisor and one team working on its next visiting day."""
    branch = make_branch(session, jurisdiction=Jurisdiction(code))
    day = _visiting_day(branch)
    make_team(session, branch, work_date=day)
    return branch, make_user(session, Role.SUPERVISOR, branch), day


def _request(session: Session, branch: Branch, day: date, number: int = 0, **case: Any) -> VisitRequest:
    address = make_address(session, make_case(session, branch, **case), point=NEAR_OFFICE[number])
    return make_visit_request(session, address, earliest_date=day, latest_date=day)


def _restrict(client: TestClient, user: User, case_id: UUID, **body: Any) -> dict[str, Any]:
    response = client.post(f"/cases/{case_id}/restrictions", json=body, headers=auth_headers(user))
    assert response.status_code == 201, response.text
    return response.json()


def _plan(client: TestClient, app: FastAPI, supervisor: User, day: date) -> dict[str, Any]:
    run = plan(client, app, supervisor, work_date=day.isoformat(), time_limit_s=1)
    assert run["status"] == "succeeded", run["error"]
    return run


def _planned(session: Session, run: dict[str, Any]) -> set[UUID]:
    """The requests on the run's sheets."""
    sheets = [UUID(sheet["id"]) for sheet in run["sheets"]]
    return set(session.scalars(select(SheetStop.visit_request_id).where(SheetStop.sheet_id.in_(sheets))))


@pytest.mark.parametrize(
    ("code", "flag", "rule"),
    [
        ("IN", "open_complaint", "IN RBI: grievance pending"),
        ("CN", "attorney", "CN: represented"),
        ("US", "vulnerable", "US: vulnerable consumer"),
        ("CN", "bereavement", "CN: bereavement quiet period"),
        ("US", "inconvenient", "US §1006.6(b)(1)"),  # the address the request is for
    ],
)
def test_a_restricted_case_is_left_out_of_planning_with_the_rule(
    client: TestClient, app: FastAPI, session: Session, code: str, flag: str, rule: str
) -> None:
    branch, supervisor, day = _day(session, code)
    blocked, free = _request(session, branch, day, 0), _request(session, branch, day, 1)
    place = {"address_id": str(blocked.address_id)} if flag == "inconvenient" else {}
    _restrict(client, supervisor, blocked.case_id, flag=flag, starts_on=(day - timedelta(days=3)).isoformat(), **place)

    run = _plan(client, app, supervisor, day)

    [left] = run["unplanned"]
    assert (left["visit_request_id"], left["reason"]) == (str(blocked.id), "not_eligible")
    assert left["detail"].startswith(f"{rule}: ")
    assert _planned(session, run) == {free.id}


def test_an_open_complaint_does_not_block_where_the_pack_does_not_say_so(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, supervisor, day = _day(session, "CN")
    request = _request(session, branch, day)
    _restrict(client, supervisor, request.case_id, flag="open_complaint")

    run = _plan(client, app, supervisor, day)

    assert run["unplanned"] == [] and _planned(session, run) == {request.id}


def test_a_released_request_is_planned_and_the_release_is_audited(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, supervisor, day = _day(session, "CN")
    released, held = _request(session, branch, day, 0), _request(session, branch, day, 1)
    for request in (released, held):
        _restrict(client, supervisor, request.case_id, flag="attorney", note="律师函 2026-11-20")
    body = {"flag": "attorney", "reason": "the attorney asked us to deliver the letter in person"}

    response = client.post(
        f"/visit-requests/{released.id}/eligibility-releases", json=body, headers=auth_headers(supervisor)
    )

    assert response.status_code == 201, response.text
    release = response.json()
    assert (release["flag"], release["reason"], release["released_by_id"]) == (
        "attorney",
        body["reason"],
        str(supervisor.id),
    )
    again = client.post(
        f"/visit-requests/{released.id}/eligibility-releases", json=body, headers=auth_headers(supervisor)
    )
    assert again.status_code == 409 and problem_type(again) == "eligibility-already-released"
    assert again.json()["release_id"] == release["id"]
    run = _plan(client, app, supervisor, day)
    assert [row["visit_request_id"] for row in run["unplanned"]] == [str(held.id)]
    assert _planned(session, run) == {released.id}
    [event] = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "eligibility_release", AuditEvent.entity_id == release["id"])
    )
    assert (event.action, event.actor_id, event.changes["reason"]) == ("insert", supervisor.id, body["reason"])


def test_a_release_is_refused_where_the_pack_forbids_it(client: TestClient, session: Session) -> None:
    branch = make_branch(session, jurisdiction=Jurisdiction.US)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    request = _request(session, branch, tomorrow(branch))
    url = f"/visit-requests/{request.id}/eligibility-releases"
    body = {"flag": "attorney", "reason": "the debtor called us"}

    refused = client.post(url, json=body, headers=auth_headers(supervisor))

    assert refused.status_code == 409 and problem_type(refused) == "eligibility-release-not-allowed"
    assert (refused.json()["flag"], refused.json()["rule"]) == ("attorney", "US §1006.6(b)(2)")
    assert "US §1006.6(b)(2)" in refused.json()["detail"]
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))
    assert client.post(url, json=body | {"flag": "vulnerable"}, headers=auth_headers(elsewhere)).status_code == 404
    for role in (Role.AGENT, Role.PHONE_COLLECTOR):
        user = make_user(session, role, branch)
        forbidden = client.post(url, json=body | {"flag": "vulnerable"}, headers=auth_headers(user))
        assert forbidden.status_code == 403 and problem_type(forbidden) == "role-not-allowed"
    for bad, pointer in (
        ({"flag": "lawyer", "reason": "x"}, "#/flag"),
        ({"flag": "vulnerable", "reason": "  "}, "#/reason"),
        ({"flag": "vulnerable"}, "#/reason"),
        ({"flag": "vulnerable", "reason": "x", "by": "me"}, "#/by"),
    ):
        invalid = client.post(url, json=bad, headers=auth_headers(supervisor))
        assert invalid.status_code == 422 and problem_type(invalid) == "validation-failed", bad
        assert pointer in [error["pointer"] for error in invalid.json()["errors"]], invalid.json()
    assert count_rows(session, EligibilityRelease) == 0


def test_lifting_a_restriction_makes_the_case_plannable_again(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, supervisor, day = _day(session, "CN")
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    request = _request(session, branch, day, phone_collector_id=collector.id)
    restriction = _restrict(client, collector, request.case_id, flag="vulnerable", note="在医院")  # their own case
    lift = f"/cases/{request.case_id}/restrictions/{restriction['id']}/lift"
    body = {"reason": "discharged, the family confirmed"}

    assert client.post(lift, json=body, headers=auth_headers(collector)).status_code == 403
    lifted = client.post(lift, json=body, headers=auth_headers(supervisor))

    assert lifted.status_code == 200, lifted.text
    assert (lifted.json()["lifted_by_id"], lifted.json()["lift_reason"]) == (str(supervisor.id), body["reason"])
    twice = client.post(lift, json=body, headers=auth_headers(supervisor))
    assert twice.status_code == 409 and problem_type(twice) == "restriction-already-lifted"
    listed = client.get(f"/cases/{request.case_id}/restrictions", headers=auth_headers(collector)).json()
    assert [row["id"] for row in listed["items"]] == [restriction["id"]] and listed["items"][0]["lifted_at"]
    holding = client.get(
        f"/cases/{request.case_id}/restrictions", params={"lifted": "false"}, headers=auth_headers(collector)
    )
    assert holding.json()["items"] == []
    run = _plan(client, app, supervisor, day)
    assert run["unplanned"] == [] and _planned(session, run) == {request.id}


def _visited(session: Session, supervisor: User, branch: Branch, case: DebtCase, *days_ago: int) -> None:
    """Visits of the case that started `days_ago` days before now, on a sheet of yesterday."""
    team = make_team(session, branch, work_date=tomorrow(branch) - timedelta(days=2))
    address = session.get_one(Address, session.scalars(select(Address.id).where(Address.case_id == case.id)).first())
    requests = [
        make_visit_request(session, address, earliest_date=team.work_date, latest_date=team.work_date) for _ in days_ago
    ]
    sheet = draft_sheet(session, supervisor, team, requests)
    for request, ago in zip(requests, days_ago, strict=True):
        request.status = VisitRequestStatus.COMPLETED
        session.add(
            Visit(
                sheet_id=sheet.id,
                visit_request_id=request.id,
                team_id=team.id,
                branch_id=branch.id,
                case_id=case.id,
                address_id=address.id,
                status=VisitStatus.COMPLETED,
                started_at=datetime.now(UTC) - timedelta(days=ago),
            )
        )
    session.commit()


def test_the_visit_cap_and_inconvenient_times_shape_the_plan(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, supervisor, day = _day(session, "US")  # at most 2 visits in 7 days
    capped, released, long_ago, mornings = (_request(session, branch, day, number) for number in range(4))
    for request, days_ago in ((capped, (1, 3)), (released, (1, 2)), (long_ago, (1, (day - tomorrow(branch)).days + 7))):
        _visited(session, supervisor, branch, session.get_one(DebtCase, request.case_id), *days_ago)
    release = client.post(
        f"/visit-requests/{released.id}/eligibility-releases",
        json={"flag": "visit_cap", "reason": "the debtor asked for the visit to sign the plan"},
        headers=auth_headers(supervisor),
    )
    assert release.status_code == 201, release.text
    _restrict(client, supervisor, mornings.case_id, flag="inconvenient", time_from="08:00", time_until="13:00")

    run = _plan(client, app, supervisor, day)

    [left] = run["unplanned"]
    assert (left["visit_request_id"], left["reason"]) == (str(capped.id), "not_eligible")
    assert left["detail"].startswith("US: at most 2 visits in 7 days: 2 visits from ")
    assert _planned(session, run) == {released.id, long_ago.id, mornings.id}
    stop = session.scalars(select(SheetStop).where(SheetStop.visit_request_id == mornings.id)).one()
    assert stop.starts_at.astimezone(ZoneInfo("Asia/Shanghai")).time() >= time(13, 0)


def test_a_stop_whose_case_became_ineligible_is_left_out_of_the_replan(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch)
    day = team.work_date
    requests = [_request(session, branch, day, number) for number in range(3)]
    sheet = publish_sheet(session, supervisor, team, requests)
    _restrict(client, supervisor, requests[2].case_id, flag="bereavement", starts_on=day.isoformat())
    now = datetime.combine(day, time(10), tzinfo=ZoneInfo(branch.timezone)).isoformat()

    response = client.post(
        f"/visit-sheets/{sheet.id}/replan",
        json={"position": {"lat": NEAR_OFFICE[0].lat, "lon": NEAR_OFFICE[0].lon}, "time": now},
        headers=auth_headers(supervisor),
    )

    assert response.status_code == 200, response.text
    [unfit] = response.json()["unfit"]
    assert (unfit["visit_request_id"], unfit["reason"]) == (str(requests[2].id), "not_eligible")
    assert unfit["detail"].startswith("CN: bereavement quiet period: bereavement, quiet from ")
    stops = response.json()["sheet"]["stops"]
    assert {stop["visit_request_id"] for stop in stops} == {str(requests[0].id), str(requests[1].id)}
    session.expire_all()
    assert session.get_one(VisitRequest, requests[2].id).status is VisitRequestStatus.OPEN


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"flag": "attorney", "starts_on": "2026-12-10", "ends_on": "2026-12-09"}, "#/ends_on"),
        ({"flag": "attorney", "time_from": "08:00", "time_until": "09:00"}, "#/time_from"),
        ({"flag": "vulnerable", "address_id": "{address}"}, "#/address_id"),
        ({"flag": "inconvenient"}, "#/flag"),
        ({"flag": "inconvenient", "time_from": "08:00"}, "#/time_until"),
        ({"flag": "inconvenient", "time_from": "12:00", "time_until": "08:00"}, "#/time_until"),
        ({"flag": "inconvenient", "address_id": "{other_address}"}, "#/address_id"),
        ({"flag": "divorce"}, "#/flag"),
        ({"flag": "attorney", "starts_on": 20261210}, "#/starts_on"),
        ({"flag": "inconvenient", "time_from": "08:00+08:00", "time_until": "09:00"}, "#/time_from"),
        ({"flag": "attorney", "set_by_id": "{address}"}, "#/set_by_id"),
        ({"flag": "attorney", "note": "\u0000"}, "#/note"),
    ],
)
def test_a_restriction_that_does_not_hold_together_is_refused(
    client: TestClient, session: Session, body: dict[str, Any], pointer: str
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    address = make_address(session, make_case(session, branch))
    other = make_address(session, make_case(session, branch))
    filled = {
        name: value.format(address=address.id, other_address=other.id) if isinstance(value, str) else value
        for name, value in body.items()
    }

    response = client.post(f"/cases/{address.case_id}/restrictions", json=filled, headers=auth_headers(supervisor))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [error["pointer"] for error in response.json()["errors"]], response.json()
    assert count_rows(session, CaseRestriction) == 0


def test_restrictions_are_for_the_cases_workers(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    own = make_case(session, branch, phone_collector_id=collector.id)
    others = make_case(session, branch)
    body = {"flag": "attorney", "note": "王律师"}

    mine = client.post(f"/cases/{own.id}/restrictions", json=body, headers=auth_headers(collector))
    not_mine = client.post(f"/cases/{others.id}/restrictions", json=body, headers=auth_headers(collector))
    agent = client.post(
        f"/cases/{own.id}/restrictions", json=body, headers=auth_headers(make_user(session, Role.AGENT, branch))
    )
    outsider = make_user(session, Role.SUPERVISOR, make_branch(session))
    elsewhere = client.post(f"/cases/{own.id}/restrictions", json=body, headers=auth_headers(outsider))
    lift = client.post(
        f"/cases/{own.id}/restrictions/{mine.json()['id']}/lift", json={"reason": "x"}, headers=auth_headers(outsider)
    )

    assert mine.status_code == 201 and mine.json()["set_by_id"] == str(collector.id)
    assert mine.json()["starts_on"] == (tomorrow(branch) - timedelta(days=1)).isoformat()  # today at the branch
    assert (not_mine.status_code, problem_type(not_mine)) == (404, "case-not-found")
    assert (agent.status_code, problem_type(agent)) == (403, "role-not-allowed")
    assert (elsewhere.status_code, lift.status_code) == (404, 404)
    assert client.get(f"/cases/{own.id}/restrictions", headers=auth_headers(outsider)).status_code == 404
    missing = client.post(
        f"/cases/{own.id}/restrictions/{others.id}/lift",
        json={"reason": "x"},
        headers=auth_headers(make_user(session, Role.SUPERVISOR, branch)),
    )
    assert (missing.status_code, problem_type(missing)) == (404, "restriction-not-found")
    assert count_rows(session, CaseRestriction) == 1
