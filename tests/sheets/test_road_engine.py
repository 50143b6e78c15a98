"""The road engine setting: planning prices travel with the OSRM server it names, and with great circles when that
server cannot answer."""

import math
from collections.abc import Iterator
from datetime import time
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import PlanningSettings, Settings
from api.geo import point_shape
from api.main import create_app
from api.models.address_reports import AddressProblem, AddressReport, ReportOrigin, ReportStatus
from api.models.branches import Branch
from api.models.sheets import StopState, VisitSheet
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from api.roads.travel import travel_provider
from api.sheets.instance import address_point
from routing.matrix import GreatCircle, OsrmTable, Point, TravelMode
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
)
from tests.routing.test_matrix import FakeOsrm, fake_distance_m, fake_duration_s, fake_osrm
from tests.sheets.test_planning_runs import plan
from tests.sheets.test_replan import _at, _started_day

ROAD_TIME_FACTOR = 1.25  # the server's seconds, calibrated


def _on_osrm(settings: Settings, url: str) -> Settings:
    planning = settings.planning.model_copy(
        update={"road_engine": "osrm", "osrm_url": url, "osrm_timeout_s": 2, "road_time_factor": ROAD_TIME_FACTOR}
    )
    return settings.model_copy(update={"planning": planning})


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    with fake_osrm() as fake:
        yield fake


def _as_sent(point: Point) -> Point:
    """The point as the OSRM client writes it in its URL (six decimals), which the fake prices."""
    return float(f"{point[0]:.6f}"), float(f"{point[1]:.6f}")


def _legs(session: Session, sheet: VisitSheet) -> list[tuple[Point, Point]]:
    """Each stop's leg, from the office (the teams' start) or the stop before."""
    office = point_shape(session.get_one(Branch, sheet.branch_id).office_point)
    here: Point = (office.y, office.x)
    legs = []
    for stop in sheet.stops:
        there = address_point(session.get_one(VisitRequest, stop.visit_request_id))
        legs.append((here, there))
        here = there
    return legs


def _planned_sheet(client: TestClient, app: FastAPI, session: Session) -> tuple[dict[str, object], VisitSheet]:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_team(session, branch)
    for point in NEAR_OFFICE[:3]:
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
    run = plan(client, app, supervisor)
    assert run["status"] == "succeeded", run["error"]
    return run, session.scalars(select(VisitSheet)).one()


def test_a_plan_on_the_osrm_server_travels_its_durations_and_distances(settings: Settings, osrm: FakeOsrm) -> None:
    app = create_app(_on_osrm(settings, osrm.url))
    with TestClient(app) as client, app.state.sessionmaker() as session:
        run, sheet = _planned_sheet(client, app, session)
        legs = _legs(session, sheet)

    assert run["figures"]["matrix"] == "osrm" and osrm.requests
    assert len(sheet.stops) == 3
    for stop, (here, there) in zip(sheet.stops, legs, strict=True):
        assert stop.travel_m == round(fake_distance_m(_as_sent(here), _as_sent(there)))
    for before, stop, (here, there) in zip(sheet.stops, sheet.stops[1:], legs[1:], strict=False):
        travelled = (stop.arrives_at - before.departs_at).total_seconds()
        road_s = fake_duration_s(_as_sent(here), _as_sent(there))
        assert travelled == math.ceil(road_s * ROAD_TIME_FACTOR) + TravelMode.DRIVING.fixed_s
    app.state.engine.dispose()


def test_an_address_the_roads_do_not_reach_is_left_out_and_put_before_the_supervisor(
    settings: Settings, osrm: FakeOsrm
) -> None:
    """An address in a walled compound (an island of the road graph) once threw the whole day back to great
    circles, and a team was sent there along a straight line: now only that request is left out, says why, and
    the address waits in the supervisor's queue as a pre-check report."""
    app = create_app(_on_osrm(settings, osrm.url))
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch = make_branch(session)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        make_team(session, branch)
        reached = [
            make_visit_request(session, make_address(session, make_case(session, branch), point=point))
            for point in NEAR_OFFICE[:3]
        ]
        walled = make_visit_request(session, make_address(session, make_case(session, branch), point=NEAR_OFFICE[3]))
        osrm.island = frozenset({_as_sent(address_point(walled))})

        run = plan(client, app, supervisor)
        planned = [stop.visit_request_id for stop in session.scalars(select(VisitSheet)).one().stops]
        report = session.scalars(select(AddressReport)).one()
        again = plan(client, app, supervisor)

    assert run["status"] == "succeeded", run["error"]
    assert run["figures"]["matrix"] == "osrm (points off the road network, priced by great-circle driving: 1)"
    assert sorted(planned) == sorted(request.id for request in reached)
    why = "no road route joins it to the other points (cut off from their roads)"
    assert run["unplanned"] == [
        {
            "visit_request_id": str(walled.id),
            "reason": "no_road",
            "detail": f"The road engine cannot reach the address: {why}",
            "team_ids": [],
        }
    ]
    assert (report.address_id, report.problem, report.status) == (
        walled.address_id,
        AddressProblem.NO_ROAD,
        ReportStatus.PENDING,
    )
    assert report.raised_by is ReportOrigin.PRECHECK and report.note.endswith(f"cannot reach it: {why}")
    assert [row["reason"] for row in again["unplanned"]] == ["address_reported"]  # it waits for the supervisor
    app.state.engine.dispose()


def test_a_supervisor_who_vouched_for_an_unreachable_address_is_not_asked_again(
    settings: Settings, osrm: FakeOsrm
) -> None:
    app = create_app(_on_osrm(settings, osrm.url))
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch = make_branch(session)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        make_team(session, branch)
        make_visit_request(session, make_address(session, make_case(session, branch), point=NEAR_OFFICE[0]))
        walled = make_visit_request(session, make_address(session, make_case(session, branch), point=NEAR_OFFICE[3]))
        osrm.island = frozenset({_as_sent(address_point(walled))})
        plan(client, app, supervisor)
        report = session.scalars(select(AddressReport)).one()
        rejected = client.post(
            f"/invalid-address-reports/{report.id}/reject",
            json={"note": "the agents walk in through the market"},
            headers=auth_headers(supervisor),
        )

        again = plan(client, app, supervisor)
        reports = session.scalars(select(AddressReport)).all()

    assert rejected.status_code == 200, rejected.text
    assert len(reports) == 1
    assert [row["reason"] for row in again["unplanned"]] == ["no_road"]  # still no road to it: never a straight line
    app.state.engine.dispose()


def test_with_the_osrm_server_down_planning_falls_back_to_great_circles(settings: Settings) -> None:
    with fake_osrm() as gone:
        url = gone.url  # nobody listens there once the block ends
    app = create_app(_on_osrm(settings, url))
    with TestClient(app) as client, app.state.sessionmaker() as session:
        run, sheet = _planned_sheet(client, app, session)
        legs = _legs(session, sheet)

    assert run["figures"]["matrix"].startswith("great-circle driving (OSRM unavailable: cannot reach")
    straight = GreatCircle("driving")
    for stop, leg in zip(sheet.stops, legs, strict=True):
        assert stop.travel_m == straight.matrices(leg).distances_m[0, 1]
    app.state.engine.dispose()


def named_at(position: dict[str, float]) -> str:
    return f"{position['lon']:.6f},{position['lat']:.6f}"


def test_the_in_day_replan_asks_the_same_server(settings: Settings, osrm: FakeOsrm) -> None:
    app = create_app(_on_osrm(settings, osrm.url))
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch, _, team, summary = _started_day(client, app, session)
        asked = len(osrm.requests)
        agent = session.get_one(User, team.members[0].agent_id)
        sheet = client.get(f"/visit-sheets/{summary['id']}", headers=auth_headers(agent)).json()
        near_stop = sheet["stops"][2]["address"]["point"]
        position = {"lat": near_stop["lat"] + 0.001, "lon": near_stop["lon"]}  # 110 m north of its third stop
        replanned = client.post(
            f"/visit-sheets/{summary['id']}/replan",
            json={"position": position, "time": _at(branch, sheet, time(13, 0))},
            headers=auth_headers(agent),
        )

    assert replanned.status_code == 200, replanned.text
    # the day's other places were priced when it was planned: only the team's position is new to the server
    from_position, to_position = [path for path in osrm.requests[asked:] if path.startswith("/table/")]
    drawn = [path for path in osrm.requests[asked:] if path.startswith("/route/")]
    assert any(path.startswith(f"/route/v1/driving/{named_at(position)};") for path in drawn)  # its way on, by road
    named = named_at(position)
    assert from_position.startswith(f"/table/v1/driving/{named};") and "&sources=0&" in from_position
    assert to_position.split("?")[0].endswith(f";{named}")  # the last named, the one destination
    assert parse_qs(urlsplit(to_position).query)["destinations"] == [str(to_position.split("?")[0].count(";"))]
    app.state.engine.dispose()


def test_a_team_replanning_from_inside_a_compound_walks_out_to_its_stops(settings: Settings, osrm: FakeOsrm) -> None:
    """A team at a visit inside a walled compound is off the road network: its stops are not taken from it (the
    way out is priced as a straight line), only addresses off the network are left out. The day under way (two
    stops done, one in progress, one cancelled) stays as it was."""
    app = create_app(_on_osrm(settings, osrm.url))
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch, _, team, summary = _started_day(client, app, session)
        session.get_one(VisitSheet, UUID(summary["id"])).stops[5].state = StopState.CANCELLED
        session.commit()
        agent = session.get_one(User, team.members[0].agent_id)
        before = client.get(f"/visit-sheets/{summary['id']}", headers=auth_headers(agent)).json()
        at_the_visit = before["stops"][2]["address"]["point"]
        inside = {"lat": round(at_the_visit["lat"] + 0.0004, 6), "lon": round(at_the_visit["lon"], 6)}
        osrm.island = frozenset({(inside["lat"], inside["lon"])})
        replanned = client.post(
            f"/visit-sheets/{summary['id']}/replan",
            json={"position": inside, "time": _at(branch, before, time(13, 0))},
            headers=auth_headers(agent),
        )

    assert replanned.status_code == 200, replanned.text
    assert replanned.json()["unfit"] == []
    after = replanned.json()["sheet"]["stops"]
    assert {stop["visit_request_id"] for stop in after} == {stop["visit_request_id"] for stop in before["stops"]}
    assert after[:3] == before["stops"][:3]  # done, done, in progress: untouched
    cancelled = [stop for stop in after if stop["state"] == "cancelled"]
    assert [stop["visit_request_id"] for stop in cancelled] == [before["stops"][5]["visit_request_id"]]
    app.state.engine.dispose()


def test_the_road_engine_is_read_from_the_environment_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDVISIT_PLANNING__ROAD_ENGINE", "osrm")
    monkeypatch.setenv("FIELDVISIT_PLANNING__OSRM_URL", "http://osrm.internal:5000")
    monkeypatch.setenv("FIELDVISIT_PLANNING__OSRM_PROFILE", "bicycle")

    branch_id = uuid4()
    provider = travel_provider(Settings().planning).of(branch_id)

    assert provider == OsrmTable(
        "http://osrm.internal:5000",
        profile="bicycle",
        fallback=GreatCircle("driving"),
        time_factor=TravelMode.DRIVING.road_time_factor,
        fixed_s=TravelMode.DRIVING.fixed_s,
    )
    assert travel_provider(PlanningSettings(travel_mode="walking")).of(branch_id) == GreatCircle("walking")
    with pytest.raises(ValidationError, match="needs osrm_url"):
        PlanningSettings(road_engine="osrm")
    with pytest.raises(ValidationError):
        PlanningSettings(road_engine="valhalla")  # type: ignore[arg-type]
