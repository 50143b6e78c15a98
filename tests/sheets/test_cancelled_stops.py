"""A request cancelled during the day (its address confirmed invalid) is off every current sheet at once: the phone's
copy of the sheet changes and shows the stop cancelled with the reason, nothing more is done there, and re-planning
never puts it back or opens its request again."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.models.users import User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from tests.evidence.samples import jpeg_bytes
from tests.factories import NEAR_OFFICE, auth_headers, problem_type
from tests.sheets.test_planning_runs import plan
from tests.test_visits import Day


def _confirm_invalid(day: Day, request: VisitRequest) -> None:
    """An agent reports the request's address, the supervisor confirms it."""
    body = {"reason": "demolished", "note": "the block is fenced off", "client_id": str(uuid4())}
    report = day.client.post(f"/addresses/{request.address_id}/invalid-reports", json=body, headers=auth_headers(day.a))
    assert report.status_code == 201, report.text
    confirmed = day.client.post(
        f"/invalid-address-reports/{report.json()['id']}/confirm", json={}, headers=auth_headers(day.supervisor)
    )
    assert confirmed.status_code == 200, confirmed.text


def _my_sheet(day: Day, agent: User, etag: str | None = None) -> Any:
    headers = auth_headers(agent) | ({"If-None-Match": etag} if etag else {})
    return day.client.get("/me/sheet", params={"work_date": day.work_date.isoformat()}, headers=headers)


def _stop(sheet: dict[str, Any], request: VisitRequest) -> dict[str, Any]:
    return next(stop for stop in sheet["stops"] if stop["visit_request_id"] == str(request.id))


def _replan(day: Day, agent: User) -> Any:
    body = {"position": {"lat": day.point.lat, "lon": day.point.lon}, "time": _now()}
    return day.client.post(f"/visit-sheets/{day.sheet_id}/replan", json=body, headers=auth_headers(agent))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _status(session: Session, request: VisitRequest) -> VisitRequestStatus:
    session.expire_all()
    return session.get_one(VisitRequest, request.id).status


def test_a_stop_confirmed_invalid_at_the_door_leaves_the_phones_and_nothing_more_is_done_there(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201
    assert day.check_in(day.a).status_code == 201  # the visit is checking in
    visit_id = day.visit_id()
    morning = _my_sheet(day, day.a)
    etag = morning.headers["ETag"]

    _confirm_invalid(day, day.request)

    changed = _my_sheet(day, day.a, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    stop = _stop(changed.json(), day.request)
    assert stop["state"] == "cancelled" and stop["visit_id"] == str(visit_id)
    assert "demolished" in stop["cancel_reason"] and stop["cancelled_at"].endswith("Z")
    check_in = day.check_in(day.b)
    start = day.start(day.a)
    outcome = day.outcome(day.a)
    photo = jpeg_bytes(lat=day.point.lat, lon=day.point.lon)
    evidence = client.post(
        f"/visits/{visit_id}/evidence",
        json={
            "kind": "photo",
            "purpose": "door",
            "content_type": "image/jpeg",
            "size": len(photo),
            "sha256": "0" * 64,
            "captured_at": _now(),
            "client_id": str(uuid4()),
        },
        headers=auth_headers(day.a),
    )
    for refused in (check_in, start, outcome, evidence):
        assert refused.status_code == 409, refused.text
        assert problem_type(refused) == "stop-cancelled"
        assert "demolished" in refused.json()["cancel_reason"]

    replanned = _replan(day, day.a)

    assert replanned.status_code == 200, replanned.text
    assert _stop(replanned.json()["sheet"], day.request)["state"] == "cancelled"
    assert str(day.request.id) not in {row["visit_request_id"] for row in replanned.json()["unfit"]}
    assert _status(session, day.request) is VisitRequestStatus.CANCELLED
    again = day.start(day.a)
    assert again.status_code == 409 and problem_type(again) == "stop-cancelled"


def test_a_stop_confirmed_invalid_before_the_team_arrives_is_never_planned_again(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    later = day.requests[1]
    etag = _my_sheet(day, day.b).headers["ETag"]

    _confirm_invalid(day, later)

    sheet = _my_sheet(day, day.b, etag)
    assert sheet.status_code == 200
    assert _stop(sheet.json(), later)["state"] == "cancelled"
    assert _stop(sheet.json(), later)["visit_id"] is None
    replanned = _replan(day, day.a)
    assert replanned.status_code == 200, replanned.text
    stops = replanned.json()["sheet"]["stops"]
    assert [stop["state"] for stop in stops] == ["planned", "cancelled"]
    assert stops[-1]["visit_request_id"] == str(later.id)
    assert _status(session, later) is VisitRequestStatus.CANCELLED
    day.request, day.point = later, NEAR_OFFICE[1]
    refused = day.check_in(day.a)
    assert refused.status_code == 409 and problem_type(refused) == "stop-cancelled"


def test_a_draft_of_the_day_shows_a_request_cancelled_after_it_was_planned(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    draft = plan(client, app, day.supervisor, work_date=day.work_date.isoformat())
    _confirm_invalid(day, day.requests[1])

    sheet = client.get(f"/visit-sheets/{draft['sheets'][0]['id']}", headers=auth_headers(day.supervisor)).json()

    assert _stop(sheet, day.requests[1])["state"] == "cancelled"
    assert UUID(sheet["id"]) != UUID(day.sheet_id)
