"""`fieldvisit plan --publish` on the demo data: every stop inside its window and its team's shift, and every agent
fetches their own sheet through the API."""

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.branches.rules import rules_of
from api.cli import cli
from api.models.branches import Branch
from api.models.sheets import SheetStatus, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.users import User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.rules.hours import Closed
from api.sheets.instance import visit_windows


@pytest.fixture
def runner(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FIELDVISIT_PLANNING__SOLVER_WORKERS", "1")
    return runner


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def test_the_demo_day_is_planned_published_and_fetched_by_every_agent(
    runner: CliRunner, client: TestClient, session: Session
) -> None:
    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0

    result = runner.invoke(cli, ["plan", "--publish", "--time-limit", "2"])

    assert result.exit_code == 0, result.output
    assert "published, version 1" in result.output and "外访一组" in result.output
    branch = session.scalars(select(Branch)).one()
    zone = ZoneInfo(branch.timezone)
    sheets = session.scalars(select(VisitSheet)).all()
    assert len(sheets) == 4 and {sheet.status for sheet in sheets} == {SheetStatus.PUBLISHED}
    assert sum(len(sheet.stops) for sheet in sheets) >= 40
    for sheet in sheets:
        team = session.get_one(Team, sheet.team_id)
        assert team.shift_start <= sheet.leaves_at.astimezone(zone).time()
        assert sheet.returns_at.astimezone(zone).time() <= team.shift_end
        for stop in sheet.stops:
            request = session.get_one(VisitRequest, stop.visit_request_id)
            windows = visit_windows(rules_of(branch), sheet.work_date, request)
            start_s = _seconds(stop.starts_at.astimezone(zone).time())
            assert not isinstance(windows, Closed) and any(window.contains(start_s) for window in windows)
            assert request.status is VisitRequestStatus.PLANNED
    for member in session.scalars(select(TeamMember)):
        agent = session.get_one(User, member.agent_id)
        response = client.post("/auth/login", json={"username": agent.username, "password": "fieldvisit-demo"})
        assert response.status_code == 200, response.text
        token = {"Authorization": f"Bearer {response.json()['access_token']}"}
        mine = client.get("/me/sheet", params={"work_date": sheets[0].work_date.isoformat()}, headers=token)
        assert mine.status_code == 200 and mine.json()["team_id"] == str(member.team_id)


def test_plan_names_a_missing_branch(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["plan", "--branch", "nowhere"])

    assert result.exit_code == 1 and "No branch 'nowhere'" in result.output
