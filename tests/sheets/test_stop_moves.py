"""A not-started stop of a day under way moved by hand to another team or place: where it could go and why not,
the move checked at once and refused in a code and words, never bent to fit; the teams it changes get new versions."""

from datetime import datetime, time
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.models.teams import Team
from api.models.users import User
from api.models.visit_requests import VisitRequest
from tests.factories import auth_headers, make_team, problem_type
from tests.sheets.test_day_under_way import Morning, _two_teams_seen_at_each_others_stops


def _day(client: TestClient, supervisor: User, work_date: str) -> dict[str, dict[str, Any]]:
    """Each team's current sheet, whole, by team id."""
    day = client.get(f"/visit-sheets/days/{work_date}", headers=auth_headers(supervisor)).json()
    return {
        sheet["team_id"]: client.get(f"/visit-sheets/{sheet['id']}", headers=auth_headers(supervisor)).json()
        for sheet in day["sheets"]
    }


def _order(sheet: dict[str, Any]) -> list[str]:
    return [stop["visit_request_id"] for stop in sheet["stops"]]


def test_a_stop_dragged_to_another_teams_first_place_leaves_one_day_and_opens_the_other(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    supervisor, work_date, planned = _two_teams_seen_at_each_others_stops(client, app, session, time_machine)
    for team in planned:
        session.get_one(Team, UUID(team)).max_visits = 10  # room on both
    session.commit()
    before = _day(client, supervisor, work_date.isoformat())
    giver, taker = list(before)
    moved = _order(before[giver])[1]
    url = f"/visit-sheets/days/{work_date.isoformat()}/stop-moves"

    options = client.get(url, params={"visit_request_id": moved}, headers=auth_headers(supervisor))
    done = client.post(
        url, json={"visit_request_id": moved, "team_id": taker, "position": 1}, headers=auth_headers(supervisor)
    )

    assert options.status_code == 200, options.text
    assert options.json()["from_team_id"] == giver
    assert {option["team_id"] for option in options.json()["options"]} == {giver, taker}
    assert all(option["possible"] for option in options.json()["options"])
    assert done.status_code == 201, done.text
    assert done.json()["kind"] == "in_day" and done.json()["published_at"]
    after = _day(client, supervisor, work_date.isoformat())
    assert (after[giver]["version"], after[taker]["version"]) == (2, 2)
    assert _order(after[taker]) == [moved, *_order(before[taker])]
    assert _order(after[giver]) == [key for key in _order(before[giver]) if key != moved]
    assert set(_order(after[giver])) | set(_order(after[taker])) == planned[giver] | planned[taker]
    events = client.get("/events", headers=auth_headers(supervisor)).json()["items"]
    assert sorted(event["team_id"] for event in events if event["kind"] == "sheet_changed") == sorted([giver, taker])


def test_a_move_past_a_teams_visit_limit_is_refused_and_changes_nothing(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    supervisor, work_date, planned = _two_teams_seen_at_each_others_stops(client, app, session, time_machine)
    before = _day(client, supervisor, work_date.isoformat())
    giver, taker = list(before)
    session.get_one(Team, UUID(taker)).max_visits = len(planned[taker])  # full
    session.commit()
    moved = _order(before[giver])[0]

    refused = client.post(
        f"/visit-sheets/days/{work_date.isoformat()}/stop-moves",
        json={"visit_request_id": moved, "team_id": taker, "position": 1},
        headers=auth_headers(supervisor),
    )

    assert refused.status_code == 409 and problem_type(refused) == "stop-move-refused", refused.text
    assert refused.json()["refusal"] == "visit_limit" and "visits already" in refused.json()["detail"]
    assert _day(client, supervisor, work_date.isoformat()) == before


def test_on_a_day_under_way_only_a_stop_not_yet_visited_moves_and_only_after_the_visited_ones(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.work_until_10_32()
    url = f"/visit-sheets/days/{day.work_date.isoformat()}/stop-moves"
    team = str(day.team.id)

    def move(stop: int, position: int | None) -> Any:
        body = {"visit_request_id": str(day.stops[stop - 1]), "team_id": team, "position": position}
        return client.post(url, json=body, headers=auth_headers(day.supervisor))

    done, cancelled, running = move(1, 6), move(3, 6), move(4, 6)
    early = move(5, 2)
    past = move(5, 9)
    last = move(8, 5)

    for refused, reason in ((done, "visited"), (cancelled, "cancelled"), (running, "visited")):
        assert refused.status_code == 409 and problem_type(refused) == "stop-not-movable", refused.text
        assert refused.json()["reason"] == reason
    for refused in (early, past):
        assert refused.status_code == 409 and refused.json()["refusal"] == "position", refused.text
    assert last.status_code == 201, last.text
    sheet = day.my_sheet()
    assert sheet["version"] == 2
    assert [UUID(key) for key in _order(sheet)] == [*day.stops[:4], day.stops[7], *day.stops[4:7]]
    assert [stop["state"] for stop in sheet["stops"][:4]] == ["done", "failed", "cancelled", "in_progress"]


def test_a_stop_moved_where_it_or_a_later_stop_would_miss_its_window_is_refused_naming_it(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    day.work_until_10_32()
    urgent = session.get_one(VisitRequest, day.stops[5])  # stop 6: the debtor is home only until 11:40
    urgent.window_start, urgent.window_end = time(10, 0), time(11, 40)
    session.commit()
    url = f"/visit-sheets/days/{day.work_date.isoformat()}/stop-moves"
    body = {"visit_request_id": str(urgent.id), "team_id": str(day.team.id)}

    late = client.post(url, json=body | {"position": 8}, headers=auth_headers(day.supervisor))
    pushed = client.post(
        url,
        json={"visit_request_id": str(day.stops[7]), "team_id": str(day.team.id), "position": 5},
        headers=auth_headers(day.supervisor),
    )

    assert late.status_code == 409 and late.json()["refusal"] == "no_time", late.text
    assert late.json()["misses"] == str(urgent.id)
    assert "inside its window" in late.json()["detail"]
    assert pushed.status_code == 409 and pushed.json()["misses"] == str(urgent.id), pushed.text
    assert "later stop" in pushed.json()["detail"]
    assert day.my_sheet()["version"] == 1


def test_a_stop_is_taken_from_a_team_running_late_which_keeps_its_others_in_order_at_their_real_times(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Morning(client, app, session, time_machine)
    helper = make_team(session, day.branch, work_date=day.work_date)
    day.at(time(15, 30))  # nothing visited yet: eight stops no longer fit before 18:00
    before = day.my_sheet()
    moved = day.stops[7]

    done = client.post(
        f"/visit-sheets/days/{day.work_date.isoformat()}/stop-moves",
        json={"visit_request_id": str(moved), "team_id": str(helper.id)},
        headers=auth_headers(day.supervisor),
    )

    assert done.status_code == 201, done.text
    after = day.my_sheet()
    assert _order(after) == [key for key in _order(before) if key != str(moved)]
    assert datetime.fromisoformat(after["stops"][0]["starts_at"]) >= day.moment(time(15, 30))
    assert datetime.fromisoformat(after["returns_at"]) > day.moment(time(18, 0))  # late, as it will be
