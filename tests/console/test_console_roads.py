"""The console's maps on a branch with road data (the synthetic city of tests/synthetic_city.py): a team's route is
drawn along the roads over the river's bridge, not as straight lines over the water."""

from pathlib import Path
from uuid import UUID

from playwright.sync_api import expect

from api.geo import GeoPoint
from api.models.users import Role
from api.roads.build import build_roads
from tests.console.conftest import Console, Live, wait_until
from tests.factories import (
    PASSWORD,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    tomorrow,
)
from tests.synthetic_city import City

XUHUI = "上海市徐汇区漕溪北路1号"


def test_the_day_map_draws_the_route_along_the_roads(console: Console, live: Live, city: City) -> None:
    settings = live.app.state.settings
    with live.app.state.sessionmaker() as session:
        lat, lon = city.points["office"]
        branch = make_branch(session, office_point=f"POINT({lon} {lat})")
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        make_team(session, branch)
        for name in ("north_bank", "south_bank"):
            point = GeoPoint(lat=city.points[name][0], lon=city.points[name][1])
            make_visit_request(session, make_address(session, make_case(session, branch), point=point, raw_text=XUHUI))
        branch_id, username, work_date = branch.id, supervisor.username, tomorrow(branch).isoformat()
    roads_dir: Path = settings.planning.roads_dir
    build_roads(
        city.path,
        roads_dir,
        UUID(str(branch_id)),
        "car",
        [],
        max_snap_m=500,
        max_outside_share=0,
        progress=lambda _: None,
    )
    token = live.http.post("/auth/login", json={"username": username, "password": PASSWORD}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    run = live.http.post("/planning-runs", json={"work_date": work_date, "time_limit_s": 1}, headers=headers).json()
    wait_until(
        lambda: live.http.get(f"/planning-runs/{run['id']}", headers=headers).json()["status"] == "succeeded",
        what="the planning run",
    )
    assert live.http.post(f"/planning-runs/{run['id']}/publish", headers=headers).status_code == 200

    page = console.page
    console.log_in(username, PASSWORD)
    console.go(f"day/{work_date}")
    route = page.locator("#day-map path.fv-route")
    expect(route).to_have_count(1)
    expect(page.locator("#day-map .fv-stop")).to_have_count(2)
    turns = route.get_attribute("d") or ""
    console.screenshot("day-map-roads")

    # office, two doors, office: three straight legs would be 4 points; the roads over the bridge turn many times
    assert turns.count("L") > 10, turns
    assert console.problems == []
