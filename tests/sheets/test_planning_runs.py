"""Planning runs: a supervisor plans a branch's date; the run is a job that stores one draft sheet per team."""

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import processes
from api.config import PlanningSettings, Settings
from api.main import create_app
from api.models.address_reports import AddressProblem, AddressReport
from api.models.branches import Branch
from api.models.cases import AddressValidity, InvalidReason
from api.models.sheets import PlanningRun, RunFailure, RunStatus, SheetStop, UnplannedRequest, VisitSheet
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from api.sheets import leases, planner
from routing import solve
from routing.model import Instance
from routing.plan import Plan
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
    tomorrow,
)


def wait_for_run(app: FastAPI) -> RunStatus | None:
    return app.state.planning_queue.last.result(timeout=60)


def plan(client: TestClient, app: FastAPI, supervisor: User, **body: Any) -> dict[str, Any]:
    response = client.post("/planning-runs", json=body, headers=auth_headers(supervisor))
    assert response.status_code == 202, response.text
    wait_for_run(app)
    return client.get(response.headers["Location"], headers=auth_headers(supervisor)).json()


def _running_run(
    session: Session, supervisor: User, started_at: datetime | None = None, worker: str | None = None
) -> PlanningRun:
    """A run of the supervisor's branch for tomorrow that a worker (default: this live process) is planning since
    `started_at` (default now), its lease last renewed then."""
    branch = session.get_one(Branch, supervisor.branch_id)
    since = started_at or datetime.now(UTC)
    run = PlanningRun(
        branch_id=branch.id,
        work_date=tomorrow(branch),
        status=RunStatus.RUNNING,
        started_at=since,
        time_limit_s=60,
        requested_by_id=supervisor.id,
        worker=worker or processes.owner(),
        lease_until=since + timedelta(minutes=10) if started_at is None else since + leases.RUN_LEASE,
    )
    session.add(run)
    session.commit()
    return run


def _requests(session: Session, branch: Branch, count: int, **fields: Any) -> list[VisitRequest]:
    return [
        make_visit_request(session, make_address(session, make_case(session, branch), point=point), **fields)
        for point in NEAR_OFFICE[:count]
    ]


def test_a_run_plans_every_request_on_one_draft_sheet_per_team(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    teams = [make_team(session, branch), make_team(session, branch)]
    requests = _requests(session, branch, 5)

    run = plan(client, app, supervisor)

    assert run["status"] == "succeeded", run["error"]
    assert run["work_date"] == tomorrow(branch).isoformat()
    assert run["progress"] == 100 and run["stage"] == "done"
    assert sorted(sheet["team_id"] for sheet in run["sheets"]) == sorted(str(team.id) for team in teams)
    assert all(sheet["status"] == "draft" and sheet["version"] is None for sheet in run["sheets"])
    assert sum(sheet["stops"] for sheet in run["sheets"]) == 5 and run["unplanned"] == []
    assert set(run["figures"]["timings"]) == {"precheck_s", "load_s", "rules_s", "matrix_s", "solve_s", "store_s"}
    assert run["figures"]["planned"] == 5
    stops = session.scalars(select(SheetStop)).all()
    assert {stop.visit_request_id for stop in stops} == {request.id for request in requests}
    local = ZoneInfo(branch.timezone)
    for stop in stops:
        assert time(8) <= stop.starts_at.astimezone(local).time() <= time(21)
        assert stop.arrives_at <= stop.starts_at < stop.departs_at
    for sheet in session.scalars(select(VisitSheet)):
        team = session.get_one(Team, sheet.team_id)
        shift = (team.shift_start, team.shift_end)
        assert shift[0] <= sheet.leaves_at.astimezone(local).time()
        assert sheet.returns_at.astimezone(local).time() <= shift[1]


def test_the_sheet_shows_stops_in_order_with_the_route(client: TestClient, app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    _requests(session, branch, 3)
    run = plan(client, app, supervisor)

    sheet = client.get(f"/visit-sheets/{run['sheets'][0]['id']}", headers=auth_headers(supervisor)).json()

    assert [stop["position"] for stop in sheet["stops"]] == [1, 2, 3]
    assert sheet["route"]["type"] == "LineString"
    assert len(sheet["route"]["coordinates"]) == 5  # office, three stops, office
    assert sheet["stops"][0]["case"]["debtor_id_number_masked"].count("*") >= 8
    times = [stop["starts_at"] for stop in sheet["stops"]]
    assert times == sorted(times)


def test_invalid_and_unlocated_addresses_are_left_out_with_their_reason(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    good = _requests(session, branch, 1)[0]
    confirmed = make_address(
        session,
        make_case(session, branch),
        validity=AddressValidity.CONFIRMED_INVALID,
        invalid_reason=InvalidReason.DEMOLISHED,
    )
    reported = make_address(
        session,
        make_case(session, branch),
        validity=AddressValidity.REPORTED_INVALID,
        invalid_reason=InvalidReason.VAGUE,
    )
    unlocated = make_address(session, make_case(session, branch), point=None)
    bad = [make_visit_request(session, address) for address in (confirmed, reported, unlocated)]

    run = plan(client, app, supervisor)

    assert run["status"] == "succeeded"
    reasons = {row["visit_request_id"]: row["reason"] for row in run["unplanned"]}
    assert reasons == {
        str(bad[0].id): "address_invalid",
        str(bad[1].id): "address_reported",
        str(bad[2].id): "address_reported",  # the run's pre-check put the unlocated one before the supervisor
    }
    precheck = session.scalars(select(AddressReport).where(AddressReport.address_id == unlocated.id)).one()
    assert precheck.problem is AddressProblem.NO_POINT
    assert [stop.visit_request_id for stop in session.scalars(select(SheetStop))] == [good.id]


def test_a_complaint_case_needs_an_experienced_team(client: TestClient, app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)  # not experienced
    address = make_address(session, make_case(session, branch, complaint_history=True))
    request = make_visit_request(session, address)

    run = plan(client, app, supervisor)

    assert run["unplanned"] == [
        {
            "visit_request_id": str(request.id),
            "reason": "no_team_with_skill",
            "detail": run["unplanned"][0]["detail"],
            "team_ids": [],
        }
    ]


def test_a_second_run_for_the_same_branch_and_date_is_refused(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    running = _running_run(session, supervisor)

    response = client.post("/planning-runs", json={}, headers=auth_headers(supervisor))

    assert response.status_code == 409
    assert problem_type(response) == "planning-run-active"
    assert response.json()["run_id"] == str(running.id)
    assert count_rows(session, PlanningRun) == 1


def test_the_database_refuses_two_active_runs_for_one_branch_and_date(app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    def queued() -> PlanningRun:
        return PlanningRun(
            branch_id=branch.id, work_date=tomorrow(branch), time_limit_s=1, requested_by_id=supervisor.id
        )

    with app.state.sessionmaker() as first, app.state.sessionmaker() as second:
        first.add(queued())
        first.commit()
        second.add(queued())
        with pytest.raises(IntegrityError):
            second.commit()


def test_a_run_left_running_long_ago_is_given_up(client: TestClient, app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    _requests(session, branch, 1)
    stale = _running_run(session, supervisor, started_at=datetime(2020, 1, 1, tzinfo=UTC))

    run = plan(client, app, supervisor)

    assert run["status"] == "succeeded"
    session.refresh(stale)
    assert stale.status is RunStatus.FAILED and "abandoned" in stale.error and stale.failure is RunFailure.ABANDONED


def test_a_queued_run_cancelled_is_never_planned(client: TestClient, app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    _requests(session, branch, 2)
    run = PlanningRun(branch_id=branch.id, work_date=tomorrow(branch), time_limit_s=1, requested_by_id=supervisor.id)
    session.add(run)
    session.commit()

    response = client.post(f"/planning-runs/{run.id}/cancel", headers=auth_headers(supervisor))

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert planner.execute_run(app.state.sessionmaker, app.state.settings.planning, run.id) is None
    assert (count_rows(session, VisitSheet), count_rows(session, UnplannedRequest)) == (0, 0)
    again = client.post(f"/planning-runs/{run.id}/cancel", headers=auth_headers(supervisor))
    assert again.status_code == 409 and problem_type(again) == "planning-run-not-active"


def test_a_run_cancelled_while_solving_stores_nothing(app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    _requests(session, branch, 2)
    # the cancellation arrives while the solver works: the flag is up when the planner looks after solving
    run = PlanningRun(
        branch_id=branch.id,
        work_date=tomorrow(branch),
        time_limit_s=1,
        requested_by_id=supervisor.id,
        cancel_requested=True,
    )
    session.add(run)
    session.commit()

    status = planner.execute_run(app.state.sessionmaker, app.state.settings.planning, run.id)

    assert status is RunStatus.CANCELLED
    session.refresh(run)
    assert run.status is RunStatus.CANCELLED and run.finished_at is not None
    assert (count_rows(session, VisitSheet), count_rows(session, SheetStop), count_rows(session, UnplannedRequest)) == (
        0,
        0,
        0,
    )


def test_a_run_that_crashes_while_storing_leaves_no_sheet(
    client: TestClient, app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    make_team(session, branch)
    _requests(session, branch, 4)
    sheets_built: list[object] = []
    real_sheet = planner.planned_sheet

    def second_sheet_fails(*args: Any) -> Any:
        if sheets_built:
            raise RuntimeError("disk full")
        sheets_built.append(real_sheet(*args))
        return sheets_built[-1]

    monkeypatch.setattr(planner, "planned_sheet", second_sheet_fails)

    run = plan(client, app, supervisor)

    assert run["status"] == "failed"
    assert "disk full" in run["error"]
    assert run["sheets"] == [] and run["unplanned"] == []
    assert (count_rows(session, VisitSheet), count_rows(session, SheetStop)) == (0, 0)


def test_runs_are_for_managers_of_the_branch(client: TestClient, app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    run = plan(client, app, supervisor)
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))
    agent = make_user(session, Role.AGENT, branch)

    assert client.get(f"/planning-runs/{run['id']}", headers=auth_headers(elsewhere)).status_code == 404
    assert client.get(f"/planning-runs/{run['id']}", headers=auth_headers(agent)).status_code == 403
    assert client.post("/planning-runs", json={}, headers=auth_headers(agent)).status_code == 403
    other_branch = client.post("/planning-runs", json={"branch_id": str(branch.id)}, headers=auth_headers(elsewhere))
    assert other_branch.status_code == 404


def test_runs_are_listed_by_day_and_state_for_the_branchs_managers(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    _requests(session, branch, 2)
    make_team(session, branch, work_date=tomorrow(branch) + timedelta(days=1))
    first = plan(client, app, supervisor)
    second = plan(client, app, supervisor)
    later = plan(client, app, supervisor, work_date=(tomorrow(branch) + timedelta(days=1)).isoformat())
    headers = auth_headers(supervisor)

    def listed(**params: Any) -> list[str]:
        response = client.get("/planning-runs", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [run["id"] for run in response.json()["items"]]

    assert listed() == [first["id"], second["id"], later["id"]]
    assert listed(work_date=first["work_date"]) == [first["id"], second["id"]]
    assert listed(status="succeeded", work_date=later["work_date"]) == [later["id"]]
    assert listed(status="failed") == []
    page = client.get("/planning-runs", params={"limit": 2}, headers=headers).json()
    assert [run["sheets"] for run in page["items"]] == [first["sheets"], second["sheets"]]  # as GET of one shows it
    rest = client.get("/planning-runs", params={"cursor": page["next_cursor"]}, headers=headers).json()
    assert [run["id"] for run in rest["items"]] == [later["id"]] and rest["next_cursor"] is None
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))
    assert client.get("/planning-runs", headers=auth_headers(elsewhere)).json()["items"] == []
    assert client.get("/planning-runs", headers=auth_headers(make_user(session, Role.AGENT, branch))).status_code == 403
    bad = client.get("/planning-runs", params={"status": "finished"}, headers=headers)
    assert bad.status_code == 422 and problem_type(bad) == "validation-failed"


def test_a_past_work_date_is_refused(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    response = client.post("/planning-runs", json={"work_date": "2020-01-01"}, headers=auth_headers(supervisor))

    assert response.status_code == 422 and problem_type(response) == "planning-date-in-past"
    assert count_rows(session, PlanningRun) == 0


def test_a_day_without_teams_fails_and_leaves_every_request_unplanned(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    requests = _requests(session, branch, 2)

    run = plan(client, app, supervisor)

    assert run["status"] == "failed" and run["failure"] == "no_teams" and run["sheets"] == []
    assert "No team works" in run["error"]
    assert {row["visit_request_id"] for row in run["unplanned"]} == {str(r.id) for r in requests}
    assert {row["reason"] for row in run["unplanned"]} == {"no_teams"}
    refused = client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor))
    assert refused.status_code == 409 and problem_type(refused) == "planning-run-not-publishable"


def test_a_run_whose_process_stopped_is_failed_at_the_next_look_and_frees_its_date(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    _requests(session, branch, 1)
    dead = _running_run(session, supervisor, worker=f"{processes.HOST}:{2**22 + 17}")  # its process is gone

    looked = client.get(f"/planning-runs/{dead.id}", headers=auth_headers(supervisor)).json()
    run = plan(client, app, supervisor)

    assert (looked["status"], looked["failure"]) == ("failed", "abandoned")
    assert str(2**22 + 17) in looked["error"]
    assert run["status"] == "succeeded"


def test_a_run_of_another_machine_whose_lease_lapsed_is_cancelled_at_once(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    lapsed = _running_run(session, supervisor, worker="another-host:4242")
    lapsed.lease_until = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()

    cancelled = client.post(f"/planning-runs/{lapsed.id}/cancel", headers=auth_headers(supervisor))

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_cancelling_a_running_run_flags_it_for_its_worker(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    run = _running_run(session, supervisor)

    response = client.post(f"/planning-runs/{run.id}/cancel", headers=auth_headers(supervisor))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_requested"]) == ("running", True)


def test_a_request_left_out_is_explained_with_team_names_and_times(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    team = make_team(session, branch)
    team.name, team.max_visits = "外访一组", 2
    session.commit()
    requests = _requests(session, branch, 3)

    run = plan(client, app, supervisor)

    [left] = run["unplanned"]
    assert left["reason"] == "lower_priority" and left["team_ids"] == [str(team.id)]
    assert left["visit_request_id"] in {str(request.id) for request in requests}
    sheet = client.get(f"/visit-sheets/{run['sheets'][0]['id']}", headers=auth_headers(supervisor)).json()
    back = datetime.fromisoformat(sheet["returns_at"]).astimezone(ZoneInfo(branch.timezone))
    assert left["detail"].startswith(f"外访一组's day is full by {back:%H:%M}")
    assert str(team.id) not in left["detail"] and "drop cost" not in left["detail"]


def test_a_supervisor_asks_for_a_shorter_solve_but_not_a_longer_one(
    settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits: list[timedelta] = []  # what each run gave the solver (that it keeps to it is bench/planning's to time)

    def noted(instance: Instance, *, time_limit: timedelta, **options: Any) -> Plan:
        limits.append(time_limit)
        return solve(instance, time_limit=time_limit, **options)

    monkeypatch.setattr(planner, "solve", noted)
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    base = _requests(session, branch, 2)
    make_team(session, branch)
    application = create_app(settings.model_copy(update={"planning": PlanningSettings(time_limit_s=60)}))
    with TestClient(application) as client:
        longer = client.post("/planning-runs", json={"time_limit_s": 61}, headers=auth_headers(supervisor))
        started = client.post("/planning-runs", json={"time_limit_s": 1}, headers=auth_headers(supervisor))
        wait_for_run(application)
        run = client.get(started.headers["Location"], headers=auth_headers(supervisor)).json()
        client.put(
            f"/planning-runs/{run['id']}/edits/{base[0].id}",
            json={"action": "remove"},
            headers=auth_headers(supervisor),
        )
        resolved = client.post(
            f"/planning-runs/{run['id']}/resolve", json={"time_limit_s": 2}, headers=auth_headers(supervisor)
        )
        wait_for_run(application)
        by_default = client.post(f"/planning-runs/{run['id']}/resolve", headers=auth_headers(supervisor))
        wait_for_run(application)
        settled = client.get(by_default.headers["Location"], headers=auth_headers(supervisor)).json()
    application.state.engine.dispose()

    assert longer.status_code == 422 and problem_type(longer) == "time-limit-too-long"
    assert longer.json()["max_time_limit_s"] == 60
    assert longer.json()["errors"] == [{"pointer": "#/time_limit_s", "detail": "at most 60"}]
    assert started.status_code == 202 and run["time_limit_s"] == 1 and run["status"] == "succeeded"
    assert run["figures"]["time_limit_s"] == 1 and limits[0] == timedelta(seconds=1)
    assert resolved.status_code == 202 and resolved.json()["time_limit_s"] == 2
    # a re-solve starts from the plan: it gets the shorter re-solve limit and stops once settled, well before it
    assert by_default.json()["time_limit_s"] == 8 and settled["status"] == "succeeded"
    assert settled["figures"]["warm_start"] is True and settled["figures"]["solver_wall_s"] < 8
    assert limits == [timedelta(seconds=seconds) for seconds in (1, 2, 8)]
