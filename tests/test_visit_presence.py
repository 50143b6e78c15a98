"""A visit's presence through the API: assessed at its start and at its completion from the check-ins, both agents'
on-duty tracks and the evidence; shown to supervisors on the visit and the day's review; a doubtful one is a
finding for the supervisor, once, with its signals."""

import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.models.findings import Finding, FindingKind
from api.models.users import Role, User
from api.models.visits import VisitPresence
from api.models.webhooks import WebhookDelivery
from tests.factories import auth_headers, make_user
from tests.test_visits import Day

METRE_LAT = 1 / 111_195
METRE_LON = 1 / 95_000  # at 31° N


def _fixes(day: Day, rng: random.Random, begins: datetime, minutes: float, path: Any, **fields: Any) -> list[Any]:
    """A fix every 15 s from `begins`: `path(seconds)` gives the metres (north, east) of the door, plus city GPS
    noise."""
    fixes = []
    for step in range(int(minutes * 4)):
        north, east = path(step * 15)
        fixes.append(
            {
                "client_id": str(uuid4()),
                "at": (begins + timedelta(seconds=step * 15)).isoformat(),
                "lat": round(day.point.lat + (north + rng.gauss(0, 6)) * METRE_LAT, 7),
                "lon": round(day.point.lon + (east + rng.gauss(0, 6)) * METRE_LON, 7),
                "accuracy_m": round(rng.uniform(8, 20), 1),
                "speed_mps": 1.3,
            }
            | fields
        )
    return fixes


def _send(client: TestClient, agent: User, fixes: list[Any]) -> None:
    body = {"sent_at": datetime.now(UTC).isoformat(), "fixes": fixes}
    answer = client.post("/me/positions", json=body, headers=auth_headers(agent))
    refused = [one for one in answer.json()["fixes"] if one["status"] != "stored"]
    assert answer.status_code == 200 and not refused, refused


def _visit_day(client: TestClient, session: Session, time_machine: TimeMachineFixture, **fields: Any) -> Day:
    """Both agents leave the office at 10:00, walk 10 minutes from where they parked, 400 m south of the door, and
    stay at the door (one checks the mailbox 15 m off) until 10:25; both check in at 10:10."""
    day = Day(client, session, time_machine)
    rng = random.Random(7)
    assert day.depart(day.a).status_code == day.depart(day.b).status_code == 201
    begins = datetime.now(UTC)
    approach = lambda s: (-400 + s * 400 / 600, 0.0) if s < 600 else (0.0, 0.0)  # noqa: E731
    apart = lambda s: (-400 + s * 400 / 600, 3.0) if s < 600 else ((15.0, 5.0) if 700 < s < 900 else (0.0, 4.0))  # noqa: E731
    tracks = {
        day.a: _fixes(day, rng, begins, 10, approach, **fields),
        day.b: _fixes(day, rng, begins, 10, apart, **fields),
    }
    day.at(time(10, 10))
    for agent, fixes in tracks.items():
        _send(client, agent, fixes)
        assert day.check_in(agent, north_m=4 if agent is day.b else 0).status_code == 201
    return day


def _stay_and_report(client: TestClient, day: Day, **fields: Any) -> dict[str, Any]:
    rng = random.Random(8)
    begins = datetime.now(UTC)
    day.at(time(10, 25))
    _send(client, day.a, _fixes(day, rng, begins, 14, lambda s: (0.0, 0.0), **fields))
    _send(client, day.b, _fixes(day, rng, begins, 14, lambda s: (15.0, 5.0) if s < 200 else (0.0, 4.0), **fields))
    assert day.outcome(day.a).status_code == 201
    confirmed = client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b))
    assert confirmed.status_code == 200, confirmed.json()
    return confirmed.json()


def _counted(fixes: list[Any], since: int, steps: Callable[[float], float]) -> list[Any]:
    """The fixes with the phone's step counter: `since` at the first, then `steps(seconds)` more."""
    return [fix | {"steps": since + int(steps(k * 15))} for k, fix in enumerate(fixes)]


@pytest.mark.parametrize("carried", [True, False], ids=["one_agent_two_phones", "two_agents_side_by_side"])
def test_one_agent_carrying_both_phones_is_told_apart_from_two_by_the_step_counters(
    client: TestClient, session: Session, time_machine: TimeMachineFixture, carried: bool
) -> None:
    """Both phones walk the same 400 m to the door and stay at it, each with 6 m of GPS noise of its own: now and
    then the tracks seem to part by more than 16 m (which let one person carrying both phones through before). Their
    step counters tell: one person's steps are counted alike by both; two people walk with their own strides and
    shift on their feet at their own moments."""
    day = Day(client, session, time_machine)
    rng = random.Random(11)
    assert day.depart(day.a).status_code == day.depart(day.b).status_code == 201
    walk = lambda s: (-400 + min(s, 600) * 400 / 600, 0.0)  # noqa: E731
    strides = {day.a: 0.7, day.b: 0.7 if carried else 0.78}
    shuffles = {day.a: (200, 500), day.b: (200, 500) if carried else (120, 380, 610)}  # seconds into the stay
    begins = datetime.now(UTC)
    approach = {}
    for agent, since in ((day.a, 5_000), (day.b, 17_000)):
        walked = lambda s, agent=agent: min(s, 600) * 400 / 600 / strides[agent]  # noqa: E731
        approach[agent] = _counted(_fixes(day, rng, begins, 10, walk), since, walked)
    day.at(time(10, 10))
    for agent in (day.a, day.b):
        _send(client, agent, approach[agent])
        assert day.check_in(agent, north_m=2 if agent is day.b else 0).status_code == 201
    assert day.start(day.a).status_code == 200
    begins = datetime.now(UTC)
    day.at(time(10, 25))
    for agent, since in ((day.a, 5_000), (day.b, 17_000)):
        at_door = since + int(400 / strides[agent])
        stay = lambda s, agent=agent: 8 * sum(s >= at for at in shuffles[agent])  # noqa: E731
        _send(client, agent, _counted(_fixes(day, rng, begins, 14, lambda s: (0.0, 0.0)), at_door, stay))
    assert day.outcome(day.a).status_code == 201
    confirmed = client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b))
    assert confirmed.status_code == 200, confirmed.json()

    visit = client.get(f"/visits/{day.visit_id()}", headers=auth_headers(day.supervisor)).json()
    completion = visit["presence"][-1]
    (together,) = [signal for signal in completion["signals"] if signal["name"] == "together_too_closely"]
    assert together["flagged"] is carried, together["detail"]
    assert completion["doubtful"] is carried, completion
    assert ("one person carried both phones" in together["detail"]) is carried


def test_an_honest_visit_is_assessed_at_start_and_completion_and_shown_to_supervisors_only(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = _visit_day(client, session, time_machine)
    started = day.start(day.a)
    for_agent = _stay_and_report(client, day)
    visit = client.get(f"/visits/{day.visit_id()}", headers=auth_headers(day.supervisor)).json()
    review = client.get(f"/visit-sheets/days/{day.work_date}/tracks", headers=auth_headers(day.supervisor)).json()

    assert started.status_code == 200 and started.json()["presence"] == []  # the agents are not shown it
    assert for_agent["presence"] == []
    start, completion = visit["presence"]
    assert (start["stage"], completion["stage"]) == ("start", "completion")
    assert completion["score"] >= 60 and not completion["doubtful"], completion
    names = {signal["name"] for signal in completion["signals"]}
    assert {"dwell", "co_presence", "continuity", "mock_location"} <= names
    assert not [signal for signal in completion["signals"] if signal["flagged"]]
    assert all(0 <= signal["score"] <= 1 and signal["detail"] for signal in completion["signals"])
    (brief,) = review["presence"]
    assert brief["visit_request_id"] == str(day.request.id) and brief["stage"] == "completion"
    assert brief["score"] == completion["score"] and brief["doubtful"] is False
    assert not session.scalars(select(Finding).where(Finding.kind == FindingKind.PRESENCE_DOUBTFUL)).all()


def test_a_spoofed_visit_is_a_doubtful_finding_once_with_its_signals_for_the_supervisor_alone(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = _visit_day(client, session, time_machine, mock=True)
    collector = make_user(session, Role.PHONE_COLLECTOR, day.branch)
    client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/hooks", "secret": "s" * 20}, headers=auth_headers(day.supervisor)
    )
    assert day.start(day.a).status_code == 200
    _stay_and_report(client, day, mock=True)

    session.expire_all()
    doubted = session.scalars(select(Finding).where(Finding.kind == FindingKind.PRESENCE_DOUBTFUL)).all()
    feed = client.get("/events", headers=auth_headers(day.supervisor)).json()["items"]
    theirs = client.get("/events", headers=auth_headers(collector)).json()["items"]
    visit = client.get(f"/visits/{day.visit_id()}", headers=auth_headers(day.supervisor)).json()

    assert len(doubted) == 1  # at the start; the completion does not repeat it
    (event,) = [item for item in feed if item["kind"] == "presence_doubtful"]
    assert event["payload"]["visit_id"] == str(day.visit_id()) and "mock_location" in event["payload"]["flagged"]
    assert event["payload"]["score"] < event["payload"]["threshold"] == 60
    assert {signal["name"] for signal in event["payload"]["signals"]} >= {"mock_location", "dwell"}
    assert "presence_doubtful" not in {item["kind"] for item in theirs}
    assert all(assessment["doubtful"] for assessment in visit["presence"]) and len(visit["presence"]) == 2
    assert session.scalars(select(WebhookDelivery).where(WebhookDelivery.finding_id == doubted[0].id)).one()
    assert len(session.scalars(select(VisitPresence)).all()) == 2


def test_the_branch_sets_its_presence_threshold(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = _visit_day(client, session, time_machine, mock=True)
    admin = make_user(session, Role.ADMIN)
    lenient = client.patch(f"/branches/{day.branch.id}", json={"presence_threshold": 0}, headers=auth_headers(admin))
    assert lenient.status_code == 200 and lenient.json()["presence_threshold"] == 0
    assert day.start(day.a).status_code == 200

    visit = client.get(f"/visits/{day.visit_id()}", headers=auth_headers(day.supervisor)).json()
    assert visit["presence"][0]["doubtful"] is False
    assert not session.scalars(select(Finding).where(Finding.kind == FindingKind.PRESENCE_DOUBTFUL)).all()
