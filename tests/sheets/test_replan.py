"""Re-planning a started sheet from the team's position and time: done and current stops stay put."""

from datetime import datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.models.branches import Branch
from api.models.sheets import SheetStop, StopState, VisitSheet
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    moments,
    problem_type,
)
from tests.sheets.test_planning_runs import plan


def _started_day(client: TestClient, app: FastAPI, session: Session) -> tuple[Branch, User, Team, dict[str, Any]]:
    """A published one-team sheet of six stops whose first two are done and third under way."""
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch)
    for point in NEAR_OFFICE:
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
    run = plan(client, app, supervisor)
    assert client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor)).status_code == 200
    sheet = session.get_one(VisitSheet, UUID(run["sheets"][0]["id"]))
    assert len(sheet.stops) == 6
    for stop, state in zip(sheet.stops, (StopState.DONE, StopState.DONE, StopState.IN_PROGRESS), strict=False):
        stop.state = state
    session.commit()
    return branch, supervisor, team, run["sheets"][0]


def _at(branch: Branch, sheet: dict[str, Any], clock: time) -> str:
    work_date = datetime.fromisoformat(sheet["leaves_at"]).astimezone(ZoneInfo(branch.timezone)).date()
    return datetime.combine(work_date, clock, tzinfo=ZoneInfo(branch.timezone)).isoformat()


def test_done_and_current_stops_stay_and_the_rest_is_reordered_from_here(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, _, team, summary = _started_day(client, app, session)
    agent = session.get_one(User, team.members[0].agent_id)
    before = client.get(f"/visit-sheets/{summary['id']}", headers=auth_headers(agent)).json()
    here = before["stops"][2]["address"]["point"]

    response = client.post(
        f"/visit-sheets/{summary['id']}/replan",
        json={"position": here, "time": _at(branch, before, time(13, 0))},
        headers=auth_headers(agent),
    )

    assert response.status_code == 200, response.text
    after = response.json()["sheet"]
    assert response.json()["unfit"] == []
    assert after["stops"][:3] == before["stops"][:3]
    assert {s["visit_request_id"] for s in after["stops"][3:]} == {s["visit_request_id"] for s in before["stops"][3:]}
    assert [s["position"] for s in after["stops"]] == [1, 2, 3, 4, 5, 6]
    later = [datetime.fromisoformat(s["starts_at"]) for s in after["stops"][3:]]
    assert later == sorted(later) and later[0] >= datetime.fromisoformat(_at(branch, before, time(13, 0)))


def test_stops_that_no_longer_fit_are_reported_and_opened_again(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, supervisor, _, summary = _started_day(client, app, session)
    before = client.get(f"/visit-sheets/{summary['id']}", headers=auth_headers(supervisor)).json()

    response = client.post(
        f"/visit-sheets/{summary['id']}/replan",
        json={"position": before["stops"][2]["address"]["point"], "time": _at(branch, before, time(17, 55))},
        headers=auth_headers(supervisor),
    )

    assert response.status_code == 200
    unfit = response.json()["unfit"]
    assert {row["visit_request_id"] for row in unfit} == {s["visit_request_id"] for s in before["stops"][3:]}
    assert {row["reason"] for row in unfit} == {"outside_every_shift"}
    assert len(response.json()["sheet"]["stops"]) == 3
    session.expire_all()
    assert {session.get_one(VisitRequest, UUID(row["visit_request_id"])).status for row in unfit} == {
        VisitRequestStatus.OPEN
    }
    assert session.get(SheetStop, (UUID(summary["id"]), 4)) is None


def test_replanning_is_refused_for_another_team_an_old_version_and_another_day(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, supervisor, _, summary = _started_day(client, app, session)
    stranger = make_user(session, Role.AGENT, branch)
    now = _at(branch, _sheet(client, supervisor, summary), time(13, 0))
    body = {"position": {"lat": 31.23, "lon": 121.47}, "time": now}

    other = client.post(f"/visit-sheets/{summary['id']}/replan", json=body, headers=auth_headers(stranger))
    wrong_day = client.post(
        f"/visit-sheets/{summary['id']}/replan",
        json=body | {"time": "2020-01-01T13:00:00+08:00"},
        headers=auth_headers(supervisor),
    )

    assert other.status_code == 404 and problem_type(other) == "visit-sheet-not-found"
    assert wrong_day.status_code == 422 and problem_type(wrong_day) == "replan-time-invalid"
    newer = plan(client, app, supervisor)
    assert client.post(f"/planning-runs/{newer['id']}/publish", headers=auth_headers(supervisor)).status_code == 200
    old = client.post(f"/visit-sheets/{summary['id']}/replan", json=body, headers=auth_headers(supervisor))
    assert old.status_code == 409 and problem_type(old) == "sheet-not-current"


def _sheet(client: TestClient, user: User, summary: dict[str, Any]) -> dict[str, Any]:
    return client.get(f"/visit-sheets/{summary['id']}", headers=auth_headers(user)).json()


def test_after_skipping_stops_the_skipped_ones_are_planned_again_after_the_done_ones(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, _, team, summary = _started_day(client, app, session)
    sheet = session.get_one(VisitSheet, UUID(summary["id"]))
    for stop, state in zip(
        sheet.stops, (StopState.DONE, StopState.PLANNED, StopState.PLANNED, StopState.DONE), strict=False
    ):
        stop.state = state  # the team finished stop 1, skipped 2 and 3, finished 4
    session.commit()
    agent = session.get_one(User, team.members[0].agent_id)
    before = _sheet(client, agent, summary)

    response = client.post(
        f"/visit-sheets/{summary['id']}/replan",
        json={"position": before["stops"][3]["address"]["point"], "time": _at(branch, before, time(13, 0))},
        headers=auth_headers(agent),
    )

    assert response.status_code == 200, response.text
    after = response.json()["sheet"]
    done = [before["stops"][0], before["stops"][3]]
    assert [(s["visit_request_id"], s["starts_at"], s["state"]) for s in after["stops"][:2]] == [
        (s["visit_request_id"], s["starts_at"], "done") for s in done
    ]
    skipped = {before["stops"][i]["visit_request_id"] for i in (1, 2, 4, 5)}
    unfit = {row["visit_request_id"] for row in response.json()["unfit"]}
    assert {s["visit_request_id"] for s in after["stops"][2:]} | unfit == skipped
    assert [s["position"] for s in after["stops"]] == list(range(1, len(after["stops"]) + 1))
    assert all(s["state"] == "planned" for s in after["stops"][2:])
    assert min(datetime.fromisoformat(s["starts_at"]) for s in after["stops"][2:]) >= datetime.fromisoformat(
        _at(branch, before, time(13, 0))
    )


def test_replanning_inside_the_lunch_window_keeps_the_break_still_to_take(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch, supervisor, team, summary = _started_day(client, app, session)
    team.break_minutes, team.break_from, team.break_until = 45, time(12, 0), time(14, 0)
    session.commit()
    before = _sheet(client, supervisor, summary)

    response = client.post(
        f"/visit-sheets/{summary['id']}/replan",
        json={"position": before["stops"][2]["address"]["point"], "time": _at(branch, before, time(12, 30))},
        headers=auth_headers(supervisor),
    )

    assert response.status_code == 200, response.text
    assert len(response.json()["sheet"]["stops"]) + len(response.json()["unfit"]) == 6


def test_every_time_in_the_replan_answer_is_utc(client: TestClient, app: FastAPI, session: Session) -> None:
    branch, supervisor, _, summary = _started_day(client, app, session)
    before = _sheet(client, supervisor, summary)

    response = client.post(
        f"/visit-sheets/{summary['id']}/replan",
        json={"position": before["stops"][2]["address"]["point"], "time": _at(branch, before, time(13, 0))},
        headers=auth_headers(supervisor),
    )

    times = moments(response.json())
    assert response.json()["sheet"]["returns_at"] in times and len(times) > 10
    assert [moment for moment in times if not moment.endswith("Z")] == []
