"""A supervisor reviews a draft plan: pins requests to teams, positions or times, removes or adds requests, and
re-solves around the pins before publishing."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models.branches import Branch
from api.models.sheets import VisitSheet
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
    tomorrow,
)
from tests.sheets.test_planning_runs import plan, wait_for_run


def _day(session: Session) -> tuple[Branch, User, list[Team], list[VisitRequest]]:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    teams = [make_team(session, branch), make_team(session, branch)]
    requests = [
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
        for point in NEAR_OFFICE[:5]
    ]
    return branch, supervisor, teams, requests


def _team_of(run: dict[str, Any], session: Session, request: VisitRequest) -> tuple[UUID, int] | None:
    for summary in run["sheets"]:
        sheet = session.get_one(VisitSheet, UUID(summary["id"]))
        for stop in sheet.stops:
            if stop.visit_request_id == request.id:
                return sheet.team_id, stop.position
    return None


def _edit(client: TestClient, supervisor: User, run: dict[str, Any], request: VisitRequest, **body: Any) -> Any:
    return client.put(f"/planning-runs/{run['id']}/edits/{request.id}", json=body, headers=auth_headers(supervisor))


def _resolve(client: TestClient, app: FastAPI, supervisor: User, run: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/planning-runs/{run['id']}/resolve", headers=auth_headers(supervisor))
    assert response.status_code == 202, response.text
    wait_for_run(app)
    return client.get(response.headers["Location"], headers=auth_headers(supervisor)).json()


def test_pins_and_removals_are_applied_by_a_re_solve(client: TestClient, app: FastAPI, session: Session) -> None:
    branch, supervisor, teams, requests = _day(session)
    run = plan(client, app, supervisor)
    session.expire_all()
    first, second = requests[0], requests[1]
    placed = _team_of(run, session, first)
    assert placed is not None
    other_team = next(team for team in teams if team.id != placed[0])

    moved = _edit(client, supervisor, run, first, action="pin", team_id=str(other_team.id), position=1)
    timed = _edit(client, supervisor, run, second, action="pin", team_id=str(other_team.id), start_time="15:00")
    removed = _edit(client, supervisor, run, requests[2], action="remove")

    assert moved.status_code == timed.status_code == removed.status_code == 200
    assert [edit["pending"] for edit in removed.json()["edits"]] == [True, True, True]
    refused = client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor))
    assert refused.status_code == 409 and problem_type(refused) == "plan-edits-pending"

    again = _resolve(client, app, supervisor, run)

    assert again["status"] == "succeeded" and again["based_on_id"] == run["id"]
    assert run["figures"]["warm_start"] is False and again["figures"]["warm_start"] is True  # from run's plan
    assert [edit["pending"] for edit in again["edits"]] == [False, False, False]
    session.expire_all()
    assert _team_of(again, session, first) == (other_team.id, 1)
    assert _team_of(again, session, requests[2]) is None
    assert {"visit_request_id": str(requests[2].id), "reason": "removed"}.items() <= next(
        row for row in again["unplanned"] if row["visit_request_id"] == str(requests[2].id)
    ).items()
    sheet = client.get(
        f"/visit-sheets/{next(s['id'] for s in again['sheets'] if s['team_id'] == str(other_team.id))}",
        headers=auth_headers(supervisor),
    ).json()
    timed_stop = next(stop for stop in sheet["stops"] if stop["visit_request_id"] == str(second.id))
    assert timed_stop["pinned"] is True
    local = ZoneInfo(branch.timezone)
    assert datetime.fromisoformat(timed_stop["starts_at"]).astimezone(local).strftime("%H:%M") == "15:00"
    published = client.post(f"/planning-runs/{again['id']}/publish", headers=auth_headers(supervisor))
    assert published.status_code == 200


def test_a_request_left_out_can_be_added_by_pinning_it(client: TestClient, app: FastAPI, session: Session) -> None:
    branch, supervisor, teams, _ = _day(session)
    run = plan(client, app, supervisor)
    late = make_visit_request(
        session, make_address(session, make_case(session, branch), point=NEAR_OFFICE[5]), notes="added later"
    )

    response = _edit(client, supervisor, run, late, action="pin", team_id=str(teams[0].id))
    again = _resolve(client, app, supervisor, run)

    assert response.status_code == 200
    session.expire_all()
    placed = _team_of(again, session, late)
    assert placed is not None and placed[0] == teams[0].id


def test_edits_are_checked(client: TestClient, app: FastAPI, session: Session) -> None:
    branch, supervisor, teams, requests = _day(session)
    run = plan(client, app, supervisor)
    stranger = make_team(session, branch, work_date=tomorrow(branch) + timedelta(days=1))
    other_branch_request = make_visit_request(session)

    no_team = _edit(client, supervisor, run, requests[0], action="pin")
    wrong_team = _edit(client, supervisor, run, requests[0], action="pin", team_id=str(stranger.id))
    night = _edit(client, supervisor, run, requests[0], action="pin", team_id=str(teams[0].id), start_time="23:00")
    foreign = _edit(client, supervisor, run, other_branch_request, action="pin", team_id=str(teams[0].id))
    first = _edit(client, supervisor, run, requests[0], action="pin", team_id=str(teams[0].id), position=1)
    clash = _edit(client, supervisor, run, requests[1], action="pin", team_id=str(teams[0].id), position=1)

    assert no_team.status_code == 422
    assert problem_type(wrong_team) == "team-not-working"
    assert problem_type(night) == "pin-time-outside-hours"
    assert problem_type(foreign) == "request-not-plannable"
    assert first.status_code == 200
    assert clash.status_code == 409 and problem_type(clash) == "pin-position-taken"
    withdrawn = client.delete(f"/planning-runs/{run['id']}/edits/{requests[0].id}", headers=auth_headers(supervisor))
    assert withdrawn.status_code == 200 and withdrawn.json()["edits"] == []
    missing = client.delete(f"/planning-runs/{run['id']}/edits/{requests[0].id}", headers=auth_headers(supervisor))
    assert missing.status_code == 404 and problem_type(missing) == "plan-edit-not-found"


def test_a_published_run_is_no_longer_edited(client: TestClient, app: FastAPI, session: Session) -> None:
    _, supervisor, teams, requests = _day(session)
    run = plan(client, app, supervisor)
    assert client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor)).status_code == 200

    edit = _edit(client, supervisor, run, requests[0], action="remove")
    resolve = client.post(f"/planning-runs/{run['id']}/resolve", headers=auth_headers(supervisor))

    assert edit.status_code == 409 and problem_type(edit) == "planning-run-not-editable"
    assert resolve.status_code == 409 and problem_type(resolve) == "planning-run-not-editable"
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))
    assert _edit(client, elsewhere, run, requests[0], action="remove").status_code == 404
    assert len(session.scalars(select(VisitSheet)).all()) == len(teams)
