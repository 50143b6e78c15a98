"""Publishing a run's sheets, and the phone app fetching its team's sheet."""

import csv
import io
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models.branches import Branch, Language
from api.models.cases import DebtCase
from api.models.sheets import PlanningRun, SheetStatus, VisitSheet
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.sheets import service as sheets_service
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
    publish_sheet,
    tomorrow,
)
from tests.sheets.test_planning_runs import plan


def _day(session: Session, teams: int = 2, requests: int = 4) -> tuple[User, list[Team], list[VisitRequest]]:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    crews = [make_team(session, branch) for _ in range(teams)]
    rows = [
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
        for point in NEAR_OFFICE[:requests]
    ]
    return supervisor, crews, rows


def _agent(session: Session, team: Team) -> User:
    return session.get_one(User, team.members[0].agent_id)


def _publish(client: TestClient, supervisor: User, run: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor))
    assert response.status_code == 200, response.text
    return response.json()


def test_publishing_makes_every_sheet_version_one_and_the_requests_planned(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor, _, requests = _day(session)
    run = plan(client, app, supervisor)

    published = _publish(client, supervisor, run)

    assert published["published_at"] is not None
    assert [(sheet["status"], sheet["version"]) for sheet in published["sheets"]] == [("published", 1)] * 2
    session.expire_all()
    assert {session.get_one(VisitRequest, r.id).status for r in requests} == {VisitRequestStatus.PLANNED}
    again = client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor))
    assert again.status_code == 409 and problem_type(again) == "planning-run-not-publishable"


def test_publishing_again_makes_a_new_version_of_a_changed_day_only_and_keeps_the_earlier_one_readable(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor, teams, _ = _day(session, requests=2)
    first = _publish(client, supervisor, plan(client, app, supervisor))
    same = _publish(client, supervisor, plan(client, app, supervisor))  # nothing changed: the phones keep version 1
    branch = session.get_one(Branch, supervisor.branch_id)
    for point in NEAR_OFFICE[2:5]:
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
    second = _publish(client, supervisor, plan(client, app, supervisor))

    assert [(sheet["status"], sheet["version"]) for sheet in same["sheets"]] == [("draft", None)] * 2
    changed = [sheet for sheet in second["sheets"] if sheet["version"] == 2]
    assert changed and all(sheet["status"] == "draft" for sheet in second["sheets"] if sheet not in changed)
    team = next(team for team in teams if str(team.id) == changed[0]["team_id"])
    agent = _agent(session, team)
    mine = client.get("/me/sheet", params={"work_date": second["work_date"]}, headers=auth_headers(agent)).json()
    assert mine["version"] == 2 and mine["run_id"] == second["id"]
    old = next(sheet for sheet in first["sheets"] if sheet["team_id"] == str(team.id))
    earlier = client.get(f"/visit-sheets/{old['id']}", headers=auth_headers(agent))
    assert earlier.status_code == 200 and earlier.json()["version"] == 1


def test_publishing_is_all_or_nothing(
    client: TestClient, app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor, _, requests = _day(session)
    run = plan(client, app, supervisor)

    def crash(*args: Any) -> None:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(sheets_service, "_mark_requests", crash)
    response = client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor))

    assert response.status_code == 500
    session.expire_all()
    assert session.get_one(PlanningRun, UUID(run["id"])).published_at is None
    assert {sheet.status for sheet in session.scalars(select(VisitSheet))} == {SheetStatus.DRAFT}
    assert {sheet.version for sheet in session.scalars(select(VisitSheet))} == {None}
    assert {session.get_one(VisitRequest, r.id).status for r in requests} == {VisitRequestStatus.OPEN}


def test_an_agent_fetches_the_whole_sheet_of_their_team(client: TestClient, app: FastAPI, session: Session) -> None:
    supervisor, teams, _ = _day(session, teams=1, requests=3)
    case = session.scalars(select(DebtCase)).first()
    assert case is not None
    case.complaint_history = True
    teams[0].experienced = True
    session.commit()
    run = _publish(client, supervisor, plan(client, app, supervisor))

    response = client.get(
        "/me/sheet", params={"work_date": run["work_date"]}, headers=auth_headers(_agent(session, teams[0]))
    )

    assert response.status_code == 200
    sheet = response.json()
    assert sheet["team_id"] == str(teams[0].id) and len(sheet["members"]) == 2
    assert len(sheet["stops"]) == 3
    stop = next(stop for stop in sheet["stops"] if stop["case"]["id"] == str(case.id))
    assert stop["care_flags"] == ["complaint_history"]
    assert set(stop["case"]) == {
        "id",
        "reference",
        "debtor_name",
        "debtor_id_number_masked",
        "amount_owed",
        "currency",
        "overdue_bucket",
    }
    assert case.debtor_id_number not in response.text
    assert {"raw_text", "point"} <= set(stop["address"])
    assert sheet["route"]["type"] == "LineString"


def test_the_sheet_carries_an_etag_and_answers_304_until_it_changes(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor, teams, requests = _day(session, teams=1, requests=2)
    sheet = publish_sheet(session, supervisor, teams[0], requests)
    headers = auth_headers(_agent(session, teams[0]))
    params = {"work_date": sheet.work_date.isoformat()}

    first = client.get("/me/sheet", params=params, headers=headers)
    etag = first.headers["ETag"]
    unchanged = client.get("/me/sheet", params=params, headers=headers | {"If-None-Match": etag})

    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["ETag"] == etag
    publish_sheet(session, supervisor, teams[0], requests[::-1])
    changed = client.get("/me/sheet", params=params, headers=headers | {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and changed.json()["version"] == 2


def test_another_teams_sheet_and_drafts_are_not_found_for_an_agent(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor, teams, _ = _day(session)
    run = plan(client, app, supervisor)
    mine, theirs = (next(s for s in run["sheets"] if s["team_id"] == str(team.id)) for team in teams)
    agent = _agent(session, teams[0])

    draft = client.get(f"/visit-sheets/{mine['id']}", headers=auth_headers(agent))
    assert draft.status_code == 404 and problem_type(draft) == "visit-sheet-not-found"
    assert (
        client.get("/me/sheet", params={"work_date": run["work_date"]}, headers=auth_headers(agent)).status_code == 404
    )

    _publish(client, supervisor, run)
    assert client.get(f"/visit-sheets/{mine['id']}", headers=auth_headers(agent)).status_code == 200
    other = client.get(f"/visit-sheets/{theirs['id']}", headers=auth_headers(agent))
    assert other.status_code == 404 and problem_type(other) == "visit-sheet-not-found"
    elsewhere = make_user(session, Role.SUPERVISOR, make_branch(session))
    assert client.get(f"/visit-sheets/{mine['id']}", headers=auth_headers(elsewhere)).status_code == 404
    collector = make_user(session, Role.PHONE_COLLECTOR, session.get_one(Branch, teams[0].branch_id))
    assert client.get(f"/visit-sheets/{mine['id']}", headers=auth_headers(collector)).status_code == 403


def test_sheets_are_listed_by_day_team_and_state_each_to_whom_may_see_them(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor, teams, _ = _day(session)
    first = _publish(client, supervisor, plan(client, app, supervisor))
    draft = plan(client, app, supervisor)  # a second plan of the day, under review
    work_date, headers = first["work_date"], auth_headers(supervisor)

    def listed(user: User, **params: Any) -> list[tuple[str, str, int | None]]:
        response = client.get("/visit-sheets", params={"work_date": work_date} | params, headers=auth_headers(user))
        assert response.status_code == 200, response.text
        return [(item["team_id"], item["status"], item["version"]) for item in response.json()["items"]]

    team_ids = sorted(str(team.id) for team in teams)
    assert sorted(listed(supervisor)) == sorted(
        [(t, "published", 1) for t in team_ids] + [(t, "draft", None) for t in team_ids]
    )
    assert sorted(listed(supervisor, status="draft")) == [(t, "draft", None) for t in team_ids]
    assert listed(supervisor, team_id=team_ids[0], status="published") == [(team_ids[0], "published", 1)]
    assert listed(_agent(session, teams[0])) == [
        (str(teams[0].id), "published", 1)
    ]  # not the draft, not the other team
    assert listed(make_user(session, Role.SUPERVISOR, make_branch(session))) == []
    page = client.get("/visit-sheets", params={"work_date": work_date, "limit": 3}, headers=headers).json()
    rest = client.get("/visit-sheets", params={"cursor": page["next_cursor"]}, headers=headers).json()
    assert len(page["items"]) == 3 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    summary = next(item for item in page["items"] + rest["items"] if item["run_id"] == draft["id"])
    assert summary["work_date"] == work_date and summary["stops"] >= 1 and summary["published_at"] is None
    other_day = client.get("/visit-sheets", params={"work_date": "2020-01-01"}, headers=headers).json()
    assert other_day == {"items": [], "next_cursor": None}
    bad = client.get("/visit-sheets", params={"status": "archived"}, headers=headers)
    assert bad.status_code == 422 and problem_type(bad) == "validation-failed"
    collector = make_user(session, Role.PHONE_COLLECTOR, session.get_one(Branch, teams[0].branch_id))
    assert client.get("/visit-sheets", headers=auth_headers(collector)).status_code == 403


def test_an_agent_without_a_sheet_that_day_gets_404(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    agent = make_user(session, Role.AGENT, branch)

    response = client.get("/me/sheet", params={"work_date": tomorrow(branch).isoformat()}, headers=auth_headers(agent))

    assert response.status_code == 404 and problem_type(response) == "visit-sheet-not-found"


def test_the_sheet_prints_as_a_pdf_with_the_route_picture_and_exports_as_csv(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor, teams, requests = _day(session, teams=1, requests=3)
    sheet_id = publish_sheet(session, supervisor, teams[0], requests).id
    agent = _agent(session, teams[0])

    pdf = client.get(f"/visit-sheets/{sheet_id}.pdf", headers=auth_headers(agent))
    rows = client.get(f"/visit-sheets/{sheet_id}.csv", headers=auth_headers(supervisor))

    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.content.count(b"/Subtype /Image") == 1
    assert rows.status_code == 200 and rows.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(rows.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["position", "arrival", "departure"]
    assert [line[0] for line in lines[1:]] == ["1", "2", "3"]
    assert "上海市黄浦区南京东路100号3室" in {line[3] for line in lines[1:]}
    other = make_user(session, Role.AGENT, session.get_one(Branch, teams[0].branch_id))
    assert client.get(f"/visit-sheets/{sheet_id}.pdf", headers=auth_headers(other)).status_code == 404
    assert client.get(f"/visit-sheets/{sheet_id}.csv", headers=auth_headers(other)).status_code == 404


def test_the_printed_rows_are_in_the_branchs_language_with_what_the_collector_asked_for(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor, teams, requests = _day(session, teams=1, requests=2)
    requests[0].notes = "请先问物业，债务人上午在家"
    session.commit()
    url = f"/visit-sheets/{publish_sheet(session, supervisor, teams[0], requests).id}.csv"

    chinese = _rows(client, supervisor, url)
    session.get_one(Branch, teams[0].branch_id).language = Language.EN
    session.commit()
    english = _rows(client, supervisor, url)

    assert {row["purpose"] for row in chinese} == {"确认地址 Confirm address"}
    assert {row["purpose"] for row in english} == {"Confirm address"}
    assert {row["notes"] for row in chinese} == {"请先问物业，债务人上午在家", ""}


def _rows(client: TestClient, user: User, url: str) -> list[dict[str, str]]:
    response = client.get(url, headers=auth_headers(user))
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
