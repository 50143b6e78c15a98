"""A day under way is never damaged: planning, re-solving and publishing the date at 10:32 keep every stop that has a
visit or is cancelled where it is, with its state and visit, and plan nothing before now (issue 29, part 1)."""

from datetime import UTC, date, datetime, time, timedelta
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
from api.models.branches import Branch
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from api.roads.travel import SameTravel
from api.sheets import lateness, planner
from routing import portfolio
from routing.matrix import GreatCircle
from tests.factories import (
    PEOPLES_SQUARE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
)
from tests.sheets.test_planning_runs import plan, wait_for_run
from tests.test_visits import CHECKLIST

# eight addresses 1-3 km around the office, far enough apart that the order of a day matters
POINTS = [
    GeoPoint(lat=PEOPLES_SQUARE.lat + 0.006 * (i % 4), lon=PEOPLES_SQUARE.lon + 0.008 * (i // 4)) for i in range(1, 9)
]


class Morning:
    """A branch's day planned and published the evening before, then worked until 10:32: stop 1 done, stop 2
    failed (nobody met), stop 3 cancelled (its address confirmed invalid), stop 4 in progress, the rest planned;
    the team, planned from 08:00, runs late, so that the rest of its stops were planned before now."""

    def __init__(self, client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture) -> None:
        self.client, self.app, self.session, self.time_machine = client, app, session, time_machine
        self.branch = make_branch(session)
        self.supervisor = make_user(session, Role.SUPERVISOR, self.branch)
        self.team = make_team(session, self.branch)
        self.team.shift_start = time(8, 0)
        session.commit()
        self.work_date: date = self.team.work_date
        self.a, self.b = (session.get_one(User, member.agent_id) for member in self.team.members)
        self.requests = {
            request.id: request
            for request in (
                make_visit_request(session, make_address(session, make_case(session, self.branch), point=point))
                for point in POINTS
            )
        }
        self.evening_run = plan(client, app, self.supervisor, work_date=self.work_date.isoformat())
        assert self.evening_run["figures"]["planned"] == len(POINTS), self.evening_run
        self.publish(self.evening_run["id"])
        self.sheet = self.my_sheet()
        self.stops = [UUID(stop["visit_request_id"]) for stop in self.sheet["stops"]]
        self.visits: dict[UUID, str] = {}

    def at(self, clock: time) -> None:
        moment = datetime.combine(self.work_date, clock, tzinfo=ZoneInfo(self.branch.timezone))
        self.time_machine.move_to(moment, tick=True)

    def moment(self, clock: time) -> datetime:
        return datetime.combine(self.work_date, clock, tzinfo=ZoneInfo(self.branch.timezone))

    def publish(self, run_id: str) -> Any:
        return self.client.post(f"/planning-runs/{run_id}/publish", headers=auth_headers(self.supervisor))

    def my_sheet(self) -> dict[str, Any]:
        response = self.client.get(
            "/me/sheet", params={"work_date": self.work_date.isoformat()}, headers=auth_headers(self.a)
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def post(self, user: User, url: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.post(url, json=body if body is not None else {}, headers=auth_headers(user))
        assert response.status_code in (200, 201), f"{url}: {response.text}"
        return response.json()

    def start(self, position: int) -> str:
        """Both agents check in at the stop and the visit starts; its id."""
        request = self.requests[self.stops[position - 1]]
        point = POINTS[list(self.requests).index(request.id)]
        for agent in (self.a, self.b):
            body = {
                "lat": point.lat,
                "lon": point.lon,
                "accuracy_m": 10,
                "device_time": datetime.now(UTC).isoformat(),
                "client_id": str(uuid4()),
            }
            self.post(agent, f"/visit-sheets/{self.sheet['id']}/stops/{request.id}/check-ins", body)
        visit = self.post(self.a, f"/visits/{self.visit_id(request.id)}/start")
        self.visits[request.id] = visit["id"]
        return str(visit["id"])

    def visit_id(self, request_id: UUID) -> str:
        found = self.client.get(
            "/visits", params={"work_date": self.work_date.isoformat()}, headers=auth_headers(self.supervisor)
        ).json()["items"]
        return next(visit["id"] for visit in found if visit["visit_request_id"] == str(request_id))

    def complete(self, position: int, contact_result: str) -> None:
        visit_id = self.start(position)
        body: dict[str, Any] = {
            "contact_result": contact_result,
            "mailbox": {"checked": True, "mail_for_debtor": False},
            "address_assessment": "lives_here",
            "notes": "",
            "client_id": str(uuid4()),
        }
        self.post(self.a, f"/visits/{visit_id}/outcome", body)
        self.post(self.b, f"/visits/{visit_id}/outcome/confirm")

    def cancel(self, position: int) -> None:
        request = self.requests[self.stops[position - 1]]
        body = {"reason": "demolished", "note": "the block is fenced off", "client_id": str(uuid4())}
        report = self.post(self.a, f"/addresses/{request.address_id}/invalid-reports", body)
        self.post(self.supervisor, f"/invalid-address-reports/{report['id']}/confirm")

    def depart(self) -> None:
        """Both agents confirm the departure check at 09:00."""
        self.at(time(9, 0))
        for agent in (self.a, self.b):
            self.post(agent, f"/teams/{self.team.id}/departure-checks", {"items": CHECKLIST, "client_id": str(uuid4())})

    def work_until_10_32(self) -> None:
        self.depart()
        self.at(time(9, 20))
        self.complete(1, "met_debtor")
        self.at(time(9, 50))
        self.complete(2, "nobody")
        self.cancel(3)
        self.at(time(10, 25))
        self.start(4)
        self.at(time(10, 32))


def resolve(client: TestClient, app: FastAPI, supervisor: User, run: dict[str, Any]) -> dict[str, Any]:
    """Re-solve the run around its edits and wait for the new run."""
    response = client.post(f"/planning-runs/{run['id']}/resolve", json={}, headers=auth_headers(supervisor))
    assert response.status_code == 202, response.text
    wait_for_run(app)
    return dict(client.get(response.headers["Location"], headers=auth_headers(supervisor)).json())


def _states(sheet: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {stop["visit_request_id"]: (stop["state"], stop["visit_id"]) for stop in sheet["stops"]}


def test_a_new_run_published_at_10_32_keeps_the_mornings_stops_and_plans_nothing_before_now(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.work_until_10_32()
    before = day.my_sheet()

    run = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    published = day.publish(run["id"])

    assert published.status_code == 200, published.text
    after = day.my_sheet()
    assert after["version"] == before["version"] + 1
    kept = {key: value for key, value in _states(before).items() if value[0] != "planned"}
    assert len(kept) == 4
    assert {key: _states(after)[key] for key in kept} == kept  # done, failed, cancelled and in progress, same visits
    assert [stop["visit_request_id"] for stop in after["stops"][:2]] == [str(key) for key in day.stops[:2]]
    assert after["stops"][3]["visit_request_id"] == str(day.stops[3])
    assert {stop["visit_request_id"] for stop in after["stops"]} == {str(key) for key in day.stops}
    running = client.get(f"/visits/{day.visits[day.stops[3]]}", headers=auth_headers(day.a)).json()
    assert running["status"] == "in_progress" and running["sheet_id"] == after["id"]
    # the in-progress 20-minute visit started at 10:25 ends at 10:45: nothing else is planned before then
    remaining = [stop for stop in after["stops"] if stop["state"] == "planned"]
    assert len(remaining) == 4
    for stop in remaining:
        assert datetime.fromisoformat(stop["arrives_at"]) >= day.moment(time(10, 45)), stop
    # the phones go on with the running visit on the new version: the partner's outcome lands on its stop
    visit_id = day.visits[day.stops[3]]
    body = {"contact_result": "nobody", "mailbox": {"checked": True, "mail_for_debtor": False}}
    body |= {"address_assessment": "lives_here", "notes": ""}
    day.post(day.a, f"/visits/{visit_id}/outcome", body | {"client_id": str(uuid4())})
    day.post(day.b, f"/visits/{visit_id}/outcome/confirm")
    assert _states(day.my_sheet())[str(day.stops[3])] == ("failed", visit_id)


def test_an_evening_draft_is_not_published_over_a_day_under_way_and_says_why(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    draft = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())  # made the evening before
    day.work_until_10_32()
    before = day.my_sheet()

    refused = day.publish(draft["id"])

    assert refused.status_code == 409, refused.text
    assert problem_type(refused) == "plan-outdated"
    body = refused.json()
    assert body["done"] == 2 and body["in_progress"] == 1 and body["cancelled"] == 1
    assert "2 visits done" in body["detail"] and "1 in progress" in body["detail"]
    assert body["in_day_replan"]["method"] == "POST" and body["in_day_replan"]["href"] == "/planning-runs"
    assert day.my_sheet() == before  # nothing changed


def test_a_draft_superseded_by_a_later_publication_is_refused(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    older = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    make_visit_request(session, make_address(session, make_case(session, day.branch), point=PEOPLES_SQUARE))
    newer = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    assert day.publish(newer["id"]).status_code == 200 and day.my_sheet()["version"] == 2

    refused = day.publish(older["id"])

    assert refused.status_code == 409 and problem_type(refused) == "plan-outdated"
    assert "published after this plan was made" in refused.json()["detail"]


def test_re_solving_an_evening_draft_at_10_32_keeps_the_morning(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    draft = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    day.work_until_10_32()
    before = _states(day.my_sheet())

    resolved = resolve(client, app, day.supervisor, draft)
    published = day.publish(resolved["id"])

    assert published.status_code == 200, published.text
    after = day.my_sheet()
    assert {key: _states(after)[key] for key, value in before.items() if value[0] != "planned"} == {
        key: value for key, value in before.items() if value[0] != "planned"
    }
    now = day.moment(time(10, 32))
    assert all(datetime.fromisoformat(s["arrives_at"]) >= now for s in after["stops"] if s["state"] == "planned")


def test_a_run_with_nothing_due_fails_with_the_reason(client: TestClient, app: FastAPI, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)

    run = plan(client, app, supervisor)

    assert run["status"] == "failed" and run["failure"] == "nothing_to_plan"
    assert run["sheets"] == [] and "No visit request" in run["error"]


def test_a_replan_right_after_a_start_counts_the_visits_remaining_time(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.depart()
    day.at(time(13, 0))
    day.start(1)
    here = POINTS[list(day.requests).index(day.stops[0])]

    replanned = day.post(
        day.a,
        f"/visit-sheets/{day.sheet['id']}/replan",
        {"position": {"lat": here.lat, "lon": here.lon}, "time": datetime.now(UTC).isoformat()},
    )

    visit_ends = day.moment(time(13, 0)) + timedelta(minutes=20)  # a 20-minute visit (confirm the address)
    later = [stop for stop in replanned["sheet"]["stops"] if stop["state"] == "planned"]
    assert later
    for stop in later:
        assert datetime.fromisoformat(stop["arrives_at"]) >= visit_ends, stop


def test_a_phone_showing_the_old_version_checks_in_on_the_current_one_or_hears_where_the_stop_went(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.work_until_10_32()
    run = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    still, removed = (UUID(stop["visit_request_id"]) for stop in run_sheet_planned(client, day, run)[:2])
    edit = client.put(
        f"/planning-runs/{run['id']}/edits/{removed}", json={"action": "remove"}, headers=auth_headers(day.supervisor)
    )
    assert edit.status_code == 200, edit.text
    resolved = resolve(client, app, day.supervisor, run)
    assert day.publish(resolved["id"]).status_code == 200
    current = day.my_sheet()

    def check_in(request_id: UUID) -> Any:
        point = POINTS[list(day.requests).index(request_id)]
        body = {"lat": point.lat, "lon": point.lon, "accuracy_m": 10, "device_time": datetime.now(UTC).isoformat()}
        url = f"/visit-sheets/{day.sheet['id']}/stops/{request_id}/check-ins"  # the version the phone still shows
        return client.post(url, json=body | {"client_id": str(uuid4())}, headers=auth_headers(day.a))

    followed, gone = check_in(still), check_in(removed)

    assert followed.status_code == 201, followed.text
    assert followed.json()["sheet_id"] == current["id"]
    assert _states(day.my_sheet())[str(still)] == ("checking_in", followed.json()["id"])
    assert gone.status_code == 409 and problem_type(gone) == "stop-moved"
    assert "taken off the day" in gone.json()["detail"] and gone.json()["current_sheet_id"] == current["id"]


def run_sheet_planned(client: TestClient, day: Morning, run: dict[str, Any]) -> list[dict[str, Any]]:
    """The planned stops of the run's draft sheet for the day's team."""
    sheet = client.get(f"/visit-sheets/{run['sheets'][0]['id']}", headers=auth_headers(day.supervisor)).json()
    return [stop for stop in sheet["stops"] if stop["state"] == "planned"]


def test_a_stop_with_a_visit_cannot_be_pinned_or_removed(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.work_until_10_32()
    run = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    done = day.stops[0]

    pin = client.put(
        f"/planning-runs/{run['id']}/edits/{done}",
        json={"action": "pin", "team_id": str(day.team.id)},
        headers=auth_headers(day.supervisor),
    )
    remove = client.put(
        f"/planning-runs/{run['id']}/edits/{done}", json={"action": "remove"}, headers=auth_headers(day.supervisor)
    )

    for refused in (pin, remove):
        assert refused.status_code == 409 and problem_type(refused) == "stop-already-visited", refused.text
        assert refused.json()["state"] == "done" and "stays where it is" in refused.json()["detail"]
    assert client.get(f"/planning-runs/{run['id']}", headers=auth_headers(day.supervisor)).json()["edits"] == []


def test_an_in_day_run_leaves_from_where_the_team_last_was_seen(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.depart()
    day.at(time(9, 20))
    day.complete(1, "met_debtor")
    there = POINTS[list(day.requests).index(day.stops[-1])]  # the team drove to the far end of its day
    day.at(time(10, 30))
    now = datetime.now(UTC).isoformat()
    fix = {"client_id": str(uuid4()), "at": now, "lat": there.lat, "lon": there.lon, "accuracy_m": 8}
    day.post(day.a, "/me/positions", {"sent_at": now, "fixes": [fix]})
    day.at(time(10, 32))

    run = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())

    assert run["kind"] == "in_day" and run["status"] == "succeeded", run
    first = run_sheet_planned(client, day, run)[0]
    assert first["visit_request_id"] == str(day.stops[-1]) and first["travel_m"] == 0


def test_a_run_whose_engines_return_no_plan_in_time_fails_with_the_reason(
    client: TestClient, app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    make_visit_request(session, make_address(session, make_case(session, branch), point=POINTS[0]))
    monkeypatch.setattr(planner, "solve", lambda instance, **_: portfolio._no_plan(instance, 0))  # a machine too busy

    run = plan(client, app, supervisor)

    assert run["status"] == "failed" and run["failure"] == "no_plan", run
    assert "No engine returned a plan within 1 s" in run["error"]
    assert run["sheets"] == [] and run["unplanned"] == []


def test_the_draft_says_what_changes_and_the_phones_learn_it_from_the_feed_and_since_version(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.work_until_10_32()
    run = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    removed = UUID(run_sheet_planned(client, day, run)[-1]["visit_request_id"])
    client.put(
        f"/planning-runs/{run['id']}/edits/{removed}", json={"action": "remove"}, headers=auth_headers(day.supervisor)
    )
    draft = resolve(client, app, day.supervisor, run)

    kinds = {(change["visit_request_id"], change["kind"]) for change in draft["sheets"][0]["changes"]}
    assert (str(removed), "removed") in kinds
    assert {kind for _, kind in kinds} == {"removed", "retimed"}  # the late team's other stops move on by over 15 min
    assert day.publish(draft["id"]).status_code == 200

    feed = client.get("/events", headers=auth_headers(day.b)).json()["items"]  # the partner's phone
    assert [event["kind"] for event in feed] == ["sheet_changed"]
    told = feed[0]["payload"]
    assert (told["version"], told["previous_version"], told["removed"]) == (2, 1, 1)
    assert "1 stop removed" in told["summary"] and "re-timed" in told["summary"]
    since = client.get(
        "/me/sheet", params={"work_date": day.work_date.isoformat(), "since_version": 1}, headers=auth_headers(day.a)
    )
    assert since.status_code == 200
    assert {(change["visit_request_id"], change["kind"]) for change in since.json()["changes"]} == kinds
    unknown = client.get(
        "/me/sheet", params={"work_date": day.work_date.isoformat(), "since_version": 7}, headers=auth_headers(day.a)
    )
    assert unknown.status_code == 422 and problem_type(unknown) == "sheet-version-not-found"


def test_a_stop_moved_to_another_team_is_moved_out_of_one_day_and_into_the_other(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    teams = [make_team(session, branch) for _ in range(2)]
    for point in POINTS[:6]:
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
    work_date = teams[0].work_date
    evening = plan(client, app, supervisor, work_date=work_date.isoformat())
    assert client.post(f"/planning-runs/{evening['id']}/publish", headers=auth_headers(supervisor)).status_code == 200
    time_machine.move_to(datetime.combine(work_date, time(8, 30), tzinfo=ZoneInfo(branch.timezone)), tick=True)
    run = plan(client, app, supervisor, work_date=work_date.isoformat())
    giver = next(sheet for sheet in run["sheets"] if sheet["stops"] > 0)
    taker = next(sheet for sheet in run["sheets"] if sheet is not giver)
    detail = client.get(f"/visit-sheets/{giver['id']}", headers=auth_headers(supervisor)).json()
    moved = detail["stops"][0]["visit_request_id"]
    pin = {"action": "pin", "team_id": taker["team_id"]}
    edit = client.put(f"/planning-runs/{run['id']}/edits/{moved}", json=pin, headers=auth_headers(supervisor))
    assert edit.status_code == 200, edit.text
    draft = resolve(client, app, supervisor, run)

    by_team = {sheet["team_id"]: sheet["changes"] for sheet in draft["sheets"]}
    out = next(change for change in by_team[giver["team_id"]] if change["visit_request_id"] == moved)
    into = next(change for change in by_team[taker["team_id"]] if change["visit_request_id"] == moved)
    assert (out["kind"], out["other_team_name"]) == ("moved_out", taker["team_name"])
    assert (into["kind"], into["other_team_name"]) == ("moved_in", giver["team_name"])
    assert client.post(f"/planning-runs/{draft['id']}/publish", headers=auth_headers(supervisor)).status_code == 200
    agent = session.get_one(User, next(team for team in teams if str(team.id) == giver["team_id"]).members[0].agent_id)
    since = client.get(
        "/me/sheet", params={"work_date": work_date.isoformat(), "since_version": 1}, headers=auth_headers(agent)
    ).json()
    assert {"visit_request_id": moved, "kind": "moved_out", "other_team_name": taker["team_name"]}.items() <= next(
        change for change in since["changes"] if change["visit_request_id"] == moved
    ).items()


def _two_teams_seen_at_each_others_stops(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> tuple[User, date, dict[str, set[str]]]:
    """Two teams' published day; at 10:30 each is seen at the other's first stop. The supervisor, the date and each
    team's planned requests."""
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    teams = [make_team(session, branch) for _ in range(2)]
    for team in teams:
        team.max_visits = 5  # both teams have stops
    session.commit()
    for point in POINTS:
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
    work_date = teams[0].work_date
    evening = plan(client, app, supervisor, work_date=work_date.isoformat())
    assert client.post(f"/planning-runs/{evening['id']}/publish", headers=auth_headers(supervisor)).status_code == 200
    sheets = {
        sheet["team_id"]: client.get(f"/visit-sheets/{sheet['id']}", headers=auth_headers(supervisor)).json()
        for sheet in evening["sheets"]
    }
    assert all(sheet["stops"] for sheet in sheets.values()), "each team has stops"
    time_machine.move_to(datetime.combine(work_date, time(10, 30), tzinfo=ZoneInfo(branch.timezone)), tick=True)
    for team, other in zip(teams, reversed(teams), strict=True):
        there = sheets[str(other.id)]["stops"][0]["address"]["point"]
        for member in team.members:
            agent = session.get_one(User, member.agent_id)
            body = {"items": CHECKLIST, "client_id": str(uuid4())}
            assert client.post(f"/teams/{team.id}/departure-checks", json=body, headers=auth_headers(agent)).is_success
            now = datetime.now(UTC).isoformat()
            fix = {"client_id": str(uuid4()), "at": now, "accuracy_m": 8} | there
            posted = client.post("/me/positions", json={"sent_at": now, "fixes": [fix]}, headers=auth_headers(agent))
            assert posted.status_code == 200, posted.text
    planned = {team: {stop["visit_request_id"] for stop in sheet["stops"]} for team, sheet in sheets.items()}
    return supervisor, work_date, planned


def _moved(client: TestClient, supervisor: User, run: dict[str, Any], planned: dict[str, set[str]]) -> int:
    moved = 0
    for summary in run["sheets"]:
        sheet = client.get(f"/visit-sheets/{summary['id']}", headers=auth_headers(supervisor)).json()
        moved += sum(stop["visit_request_id"] not in planned[summary["team_id"]] for stop in sheet["stops"])
    return moved


@pytest.mark.parametrize(("move_cost_m", "moves"), [(0, True), (1_000_000, False)])
def test_an_in_day_re_plan_moves_stops_between_teams_only_when_it_is_worth_the_move_cost(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, move_cost_m: int, moves: bool
) -> None:
    supervisor, work_date, planned = _two_teams_seen_at_each_others_stops(client, app, session, time_machine)

    run = plan(client, app, supervisor, work_date=work_date.isoformat(), move_cost_m=move_cost_m)

    assert run["status"] == "succeeded" and run["kind"] == "in_day" and run["move_cost_m"] == move_cost_m
    assert run["figures"]["planned"] == len(POINTS)
    assert (_moved(client, supervisor, run, planned) > 0) is moves


def test_an_urgent_visit_goes_to_the_team_it_costs_least_as_a_new_version_of_that_sheet_only(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    supervisor, work_date, planned = _two_teams_seen_at_each_others_stops(client, app, session, time_machine)
    branch = session.get_one(Branch, supervisor.branch_id)
    near = POINTS[0]
    urgent = make_visit_request(
        session,
        make_address(session, make_case(session, branch), point=GeoPoint(lat=near.lat + 0.001, lon=near.lon)),
        earliest_date=work_date,
        latest_date=work_date,
    )
    complaint = make_visit_request(
        session,
        make_address(session, make_case(session, branch, complaint_history=True), point=near),
        earliest_date=work_date,
        latest_date=work_date,
    )
    url = f"/visit-sheets/days/{work_date.isoformat()}"
    before = {sheet["team_id"]: sheet for sheet in client.get(url, headers=auth_headers(supervisor)).json()["sheets"]}

    options = client.get(
        f"{url}/urgent-options", params={"visit_request_id": str(urgent.id)}, headers=auth_headers(supervisor)
    )

    assert options.status_code == 200, options.text
    found = options.json()["options"]
    assert found[0]["possible"] and len(found) == 2
    assert found[1]["added_m"] >= found[0]["added_m"] if found[1]["possible"] else found[1]["refusal"] == "visit_limit"
    assert datetime.fromisoformat(found[0]["starts_at"]) >= datetime.now(UTC) - timedelta(minutes=1)
    assert "arrives at" in found[0]["detail"]
    chosen = found[0]["team_id"]
    inserted = client.post(
        f"{url}/urgent-insertions",
        json={"visit_request_id": str(urgent.id), "team_id": chosen},
        headers=auth_headers(supervisor),
    )
    assert inserted.status_code == 201, inserted.text
    sheet = inserted.json()
    assert sheet["version"] == 2 and sheet["team_id"] == chosen
    assert sheet["stops"][found[0]["position"] - 1]["visit_request_id"] == str(urgent.id)
    assert {stop["visit_request_id"] for stop in sheet["stops"]} == planned[chosen] | {str(urgent.id)}
    after = {s["team_id"]: s for s in client.get(url, headers=auth_headers(supervisor)).json()["sheets"]}
    other = next(team for team in after if team != chosen)
    assert after[other] == before[other]  # the other team's day is untouched
    session.expire_all()
    assert session.get_one(VisitRequest, urgent.id).status.value == "planned"
    events = client.get("/events", headers=auth_headers(supervisor)).json()["items"]
    assert [(event["kind"], event["team_id"]) for event in events] == [("sheet_changed", chosen)]

    refused = client.get(
        f"{url}/urgent-options", params={"visit_request_id": str(complaint.id)}, headers=auth_headers(supervisor)
    ).json()["options"]
    assert {(option["possible"], option["refusal"]) for option in refused} == {(False, "skill")}
    assert "not an experienced team" in refused[0]["detail"]
    no = client.post(
        f"{url}/urgent-insertions",
        json={"visit_request_id": str(complaint.id), "team_id": chosen},
        headers=auth_headers(supervisor),
    )
    assert no.status_code == 409 and problem_type(no) == "insertion-refused" and no.json()["refusal"] == "skill"
    again = client.get(
        f"{url}/urgent-options", params={"visit_request_id": str(urgent.id)}, headers=auth_headers(supervisor)
    )
    assert again.status_code == 409 and again.json()["reason"] == "already_on_a_sheet"


def test_a_team_stood_down_keeps_no_stop_to_visit_and_the_in_day_re_plan_gives_them_to_the_others(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    supervisor, work_date, planned = _two_teams_seen_at_each_others_stops(client, app, session, time_machine)
    down, other = list(planned)
    for team in session.scalars(select(Team).where(Team.work_date == work_date)):
        team.max_visits = 10  # room for the whole day on the team left
    session.commit()
    agent = session.get_one(Team, UUID(down)).members[0].agent_id

    stood = client.post(
        f"/teams/{down}/stand-down", json={"reason": "agent 2 is ill"}, headers=auth_headers(supervisor)
    )
    again = client.post(f"/teams/{down}/stand-down", json={"reason": "twice"}, headers=auth_headers(supervisor))

    assert stood.status_code == 200 and stood.json()["stood_down_at"] and stood.json()["stood_down_reason"]
    assert again.status_code == 409 and problem_type(again) == "team-stood-down"
    sheet = client.get(
        "/me/sheet", params={"work_date": work_date.isoformat()}, headers=auth_headers(session.get_one(User, agent))
    ).json()
    point = sheet["stops"][0]["address"]["point"]
    body = {"accuracy_m": 10, "device_time": datetime.now(UTC).isoformat(), "client_id": str(uuid4())} | point
    refused = client.post(
        f"/visit-sheets/{sheet['id']}/stops/{sheet['stops'][0]['visit_request_id']}/check-ins",
        json=body,
        headers=auth_headers(session.get_one(User, agent)),
    )
    assert refused.status_code == 409 and problem_type(refused) == "team-stood-down"

    run = plan(client, app, supervisor, work_date=work_date.isoformat())
    assert run["status"] == "succeeded", run
    drafts = {summary["team_id"]: summary for summary in run["sheets"]}
    assert drafts[down]["stops"] == 0
    assert {change["kind"] for change in drafts[down]["changes"]} == {"moved_out"}
    assert run["figures"]["planned"] == len(POINTS)
    assert client.post(f"/planning-runs/{run['id']}/publish", headers=auth_headers(supervisor)).status_code == 200
    taken = client.get(f"/visit-sheets/{drafts[other]['id']}", headers=auth_headers(supervisor)).json()
    assert {stop["visit_request_id"] for stop in taken["stops"]} == planned[down] | planned[other]


def test_a_spare_agent_takes_the_seat_of_one_who_did_not_turn_up_and_the_door_follows_the_new_pair(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    spare = make_user(session, Role.AGENT, day.branch)
    day.at(time(8, 45))

    repaired = client.patch(
        f"/teams/{day.team.id}",
        json={"agent_ids": [str(day.a.id), str(spare.id)]},
        headers=auth_headers(day.supervisor),
    )

    assert repaired.status_code == 200, repaired.text
    absent = client.get("/me/sheet", params={"work_date": day.work_date.isoformat()}, headers=auth_headers(day.b))
    assert absent.status_code == 404
    day.b = spare
    day.depart()
    visit = day.start(1)  # both check-ins of the new pair start it
    assert client.get(f"/visits/{visit}", headers=auth_headers(spare)).json()["status"] == "in_progress"


def test_a_team_is_not_re_paired_while_one_of_its_visits_is_open(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    spare = make_user(session, Role.AGENT, day.branch)
    day.depart()
    visit = day.start(1)
    pair = {"agent_ids": [str(day.a.id), str(spare.id)]}

    refused = client.patch(f"/teams/{day.team.id}", json=pair, headers=auth_headers(day.supervisor))
    renamed = client.patch(f"/teams/{day.team.id}", json={"name": "外访九组"}, headers=auth_headers(day.supervisor))

    assert refused.status_code == 409 and problem_type(refused) == "team-at-the-door", refused.text
    assert refused.json()["visit_id"] == visit
    assert renamed.status_code == 200, renamed.text
    assert {member["agent_id"] for member in renamed.json()["members"]} == {str(day.a.id), str(day.b.id)}


def test_a_team_running_late_is_found_with_a_fix_the_supervisor_applies_in_one_action(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    helper = make_team(session, day.branch, work_date=day.work_date)  # a team added to the day, with no stops yet
    day.at(time(15, 30))  # nothing visited yet: eight stops no longer fit before 18:00
    url = f"/visit-sheets/days/{day.work_date.isoformat()}"

    late = client.get(f"{url}/late-teams", headers=auth_headers(day.supervisor))

    assert late.status_code == 200, late.text
    [found] = late.json()
    assert found["team_id"] == str(day.team.id) and found["missed"] >= 1
    assert {move["to_team_name"] for move in found["proposal"]} == {helper.name}
    assert f"{day.team.name} will miss {found['missed']} stop" in found["summary"]
    assert datetime.fromisoformat(found["after"]) >= day.moment(time(15, 30))
    branch = session.get_one(Branch, day.branch.id)
    travel = SameTravel(GreatCircle("driving"))
    told = lateness.watch(session, branch, day.work_date, travel)
    assert [finding.kind.value for finding in told] == ["team_running_late"]
    assert lateness.watch(session, branch, day.work_date, travel) == []  # once per version of the sheet
    session.commit()

    fixed = client.post(f"{url}/late-fixes", json={"team_id": str(day.team.id)}, headers=auth_headers(day.supervisor))

    assert fixed.status_code == 201, fixed.text
    moved = {move["visit_request_id"] for move in found["proposal"]}
    sheets = {
        sheet["team_id"]: sheet for sheet in client.get(url, headers=auth_headers(day.supervisor)).json()["sheets"]
    }
    assert not moved & {stop["visit_request_id"] for stop in sheets[str(day.team.id)]["stops"]}
    assert moved <= {stop["visit_request_id"] for stop in sheets[str(helper.id)]["stops"]}
    assert client.get(f"{url}/late-teams", headers=auth_headers(day.supervisor)).json() == []
