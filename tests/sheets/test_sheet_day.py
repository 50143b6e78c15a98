"""The day of a branch in one call (`GET /visit-sheets/days/{date}`): the map of the day draws from it."""

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.models.audit import AuditEvent
from api.models.branches import Branch
from api.models.users import Role
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
)
from tests.sheets.test_visit_sheets import _agent, _day


def _url(team_date: object) -> str:
    return f"/visit-sheets/days/{team_date}"


def test_a_supervisor_gets_each_teams_current_published_sheet_whole(client: TestClient, session: Session) -> None:
    supervisor, (first, second), requests = _day(session, teams=2, requests=4)
    publish_sheet(session, supervisor, first, requests[:2])
    replaced = publish_sheet(session, supervisor, second, requests[2:])
    current = publish_sheet(session, supervisor, second, requests[3:])  # version 2 of the second team's day
    draft_sheet(session, supervisor, first, requests[2:3])  # a later run, not published

    response = client.get(_url(first.work_date), headers=auth_headers(supervisor))

    assert response.status_code == 200, response.text
    day = response.json()
    assert day["run_id"] is None and day["timezone"] == "Asia/Shanghai" and day["office"]["lat"]
    assert [(sheet["team_name"], sheet["version"]) for sheet in day["sheets"]] == sorted(
        [(first.name, 1), (second.name, 2)]
    )
    shown = {sheet["id"] for sheet in day["sheets"]}
    assert str(current.id) in shown and str(replaced.id) not in shown
    stops = [stop for sheet in day["sheets"] for stop in sheet["stops"]]
    assert len(stops) == 3 and all(stop["address"]["point"] and stop["case"]["debtor_name"] for stop in stops)
    assert all(sheet["route"]["type"] == "LineString" and sheet["members"] for sheet in day["sheets"])


def test_a_runs_drafts_are_the_day_of_that_run(client: TestClient, session: Session) -> None:
    supervisor, (team, _), requests = _day(session, teams=2, requests=2)
    publish_sheet(session, supervisor, team, requests[:1])
    draft = draft_sheet(session, supervisor, team, requests)

    response = client.get(_url(team.work_date), params={"run_id": str(draft.run_id)}, headers=auth_headers(supervisor))

    assert response.status_code == 200, response.text
    assert response.json()["run_id"] == str(draft.run_id)
    assert [(sheet["id"], sheet["status"]) for sheet in response.json()["sheets"]] == [(str(draft.id), "draft")]
    other_day = client.get(
        _url(team.work_date.replace(year=team.work_date.year + 1)),
        params={"run_id": str(draft.run_id)},
        headers=auth_headers(supervisor),
    )
    assert other_day.status_code == 404 and problem_type(other_day) == "planning-run-not-found"


def test_an_agent_gets_only_their_own_teams_sheet_and_no_drafts(client: TestClient, session: Session) -> None:
    supervisor, (mine, theirs), requests = _day(session, teams=2, requests=2)
    publish_sheet(session, supervisor, mine, requests[:1])
    publish_sheet(session, supervisor, theirs, requests[1:])
    draft = draft_sheet(session, supervisor, mine, requests)
    agent = _agent(session, mine)

    response = client.get(_url(mine.work_date), headers=auth_headers(agent))

    assert response.status_code == 200, response.text
    assert [sheet["team_id"] for sheet in response.json()["sheets"]] == [str(mine.id)]
    drafts = client.get(_url(mine.work_date), params={"run_id": str(draft.run_id)}, headers=auth_headers(agent))
    assert drafts.status_code == 403 and problem_type(drafts) == "role-not-allowed"


def test_other_branches_and_phone_collectors_see_nothing(client: TestClient, session: Session) -> None:
    supervisor, (team, _), requests = _day(session, teams=2, requests=1)
    draft = draft_sheet(session, supervisor, team, requests)
    outsider = make_user(session, Role.SUPERVISOR)  # of another branch
    admin = make_user(session, Role.ADMIN)
    collector = make_user(session, Role.PHONE_COLLECTOR, session.get_one(Branch, supervisor.branch_id))
    day = _url(team.work_date)

    theirs = client.get(day, params={"branch_id": str(team.branch_id)}, headers=auth_headers(outsider))
    their_run = client.get(day, params={"run_id": str(draft.run_id)}, headers=auth_headers(outsider))
    unnamed = client.get(day, headers=auth_headers(admin))
    named = client.get(day, params={"branch_id": str(team.branch_id)}, headers=auth_headers(admin))
    by_phone = client.get(day, headers=auth_headers(collector))
    bad_date = client.get("/visit-sheets/days/2026-02-30", headers=auth_headers(supervisor))

    assert theirs.status_code == 404 and problem_type(theirs) == "branch-not-found"
    assert their_run.status_code == 404 and problem_type(their_run) == "planning-run-not-found"
    assert unnamed.status_code == 422 and problem_type(unnamed) == "branch-required"
    assert named.status_code == 200 and named.json()["sheets"] == []
    assert by_phone.status_code == 403 and problem_type(by_phone) == "role-not-allowed"
    assert bad_date.status_code == 422 and problem_type(bad_date) == "validation-failed"


def test_an_unchanged_day_is_a_304_and_only_a_day_sent_is_audited(client: TestClient, session: Session) -> None:
    supervisor, (team, _), requests = _day(session, teams=2, requests=2)
    publish_sheet(session, supervisor, team, requests)
    headers = auth_headers(supervisor)
    first = client.get(_url(team.work_date), headers=headers)
    reads = count_rows(session, AuditEvent)

    again = client.get(_url(team.work_date), headers=headers | {"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    assert count_rows(session, AuditEvent) == reads
    stale = client.get(_url(team.work_date), headers=headers | {"If-None-Match": '"elsewhere"'})
    assert stale.status_code == 200 and count_rows(session, AuditEvent) == reads + 2  # one read per case


def test_the_day_takes_the_same_queries_for_one_team_as_for_many(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    teams = [make_team(session, branch) for _ in range(6)]
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def statements_of_the_day() -> list[str]:
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]).split(" FROM ")[-1][:60])

        event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get(_url(teams[0].work_date), headers=auth_headers(supervisor))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, response.text
        return statements

    for count, team in enumerate(teams):
        points = NEAR_OFFICE[count % len(NEAR_OFFICE) :][:2]
        cases = [make_case(session, branch) for _ in points]
        requests = [
            make_visit_request(session, make_address(session, case, point=p))
            for case, p in zip(cases, points, strict=True)
        ]
        publish_sheet(session, supervisor, team, requests)
        if count == 0:
            one_team = statements_of_the_day()

    assert len(statements_of_the_day()) == len(one_team), one_team
