"""The embedded road engine: OSRM's library on road data built from the synthetic city (tests/synthetic_city.py),
where straight lines are wrong: a river with three bridges, a walled compound with one gate, a one-way street."""

import math
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import osrm
import pytest

from api.roads.build import OSRM_PACKAGE
from api.rules.position import distance_m
from routing.kept import forget
from routing.matrix import EmbeddedOsrm, GreatCircle, Matrices, snapped_m
from tests.synthetic_city import City

STRAIGHT = GreatCircle("driving", detour_factor=1.0)


def _road(city_roads: Path, city: City, *names: str, **options: float) -> Matrices:
    return EmbeddedOsrm(city_roads, engine="osrm embedded car", **options).matrices([city.points[n] for n in names])  # type: ignore[arg-type]


def _osrm_itself(city_roads: Path, city: City, start: str, end: str) -> tuple[float, float]:
    """OSRM's own route between two places: seconds and metres, as its library answers."""
    engine = osrm.OSRM(storage_config=str(city_roads), algorithm="CH", use_shared_memory=False)
    (lat_a, lon_a), (lat_b, lon_b) = city.points[start], city.points[end]
    answer = engine.Route(osrm.RouteParameters(coordinates=[(lon_a, lat_a), (lon_b, lat_b)]))
    route = answer["routes"][0]
    return float(route["duration"]), float(route["distance"])


def test_across_the_river_the_road_goes_by_a_bridge(city_roads: Path, city: City) -> None:
    straight = STRAIGHT.matrices([city.points["north_bank"], city.points["south_bank"]])
    road = _road(city_roads, city, "north_bank", "south_bank", time_factor=1.0)
    seconds, metres = _osrm_itself(city_roads, city, "north_bank", "south_bank")

    assert road.source == "osrm embedded car" and road.unreachable == {}
    assert straight.distances_m[0, 1] == pytest.approx(400, abs=5)
    assert road.distances_m[0, 1] > 3.5 * straight.distances_m[0, 1]  # 1.6 km: by the west or the middle bridge
    assert road.distances_m[0, 1] == round(metres)
    assert road.durations_s[0, 1] == math.ceil(seconds)


def test_a_place_in_a_walled_compound_is_reached_by_its_gate(city_roads: Path, city: City) -> None:
    places = ("compound_inside", "compound_outside", "compound_gate")
    straight = STRAIGHT.matrices([city.points[name] for name in places])
    road = _road(city_roads, city, *places)

    assert straight.distances_m[0, 1] == pytest.approx(50, abs=5)  # just the other side of the wall
    assert road.distances_m[0, 1] > 10 * straight.distances_m[0, 1]
    # the way out passes the gate: no shorter than to the gate and on from it
    assert road.distances_m[0, 1] >= road.distances_m[0, 2] + road.distances_m[2, 1] - 10


def test_a_one_way_street_is_quicker_with_the_flow(city_roads: Path, city: City) -> None:
    road = _road(city_roads, city, "one_way_start", "one_way_end", time_factor=1.0)

    with_flow, against = road.durations_s[0, 1], road.durations_s[1, 0]
    assert road.distances_m[1, 0] > 1.5 * road.distances_m[0, 1]
    assert against > 1.5 * with_flow


def test_seconds_are_calibrated_and_each_trip_pays_the_fixed_time(city_roads: Path, city: City) -> None:
    free_flow = _road(city_roads, city, "office", "grid_0", "grid_7", time_factor=1.0)
    calibrated = _road(city_roads, city, "office", "grid_0", "grid_7", time_factor=1.6, fixed_s=120)

    seconds, _ = _osrm_itself(city_roads, city, "office", "grid_7")
    assert free_flow.durations_s[0, 2] == math.ceil(seconds)
    assert calibrated.durations_s[0, 2] == math.ceil(seconds * 1.6) + 120
    assert (calibrated.distances_m == free_flow.distances_m).all()
    assert (np.diag(calibrated.durations_s) == 0).all()  # staying put is no trip


def test_a_place_far_from_any_road_is_unreachable_and_priced_by_the_fallback(city_roads: Path, city: City) -> None:
    names = ("office", "grid_3", "far_away")
    road = _road(city_roads, city, *names)
    straight = GreatCircle("driving").matrices([city.points[name] for name in names])

    assert road.unreachable == {2: "no road within 500 m (the nearest is 4,985 m away)"}
    assert road.source == "osrm embedded car (points off the road network, priced by great-circle driving: 1)"
    assert (road.durations_s[2] == straight.durations_s[2]).all()
    assert snapped_m(city_roads, [city.points[name] for name in names])[2] == pytest.approx(4985, abs=1)


def test_road_data_that_cannot_be_read_falls_back_to_great_circles_saying_why(tmp_path: Path, city: City) -> None:
    missing = tmp_path / "nowhere" / "roads.osrm"

    road = EmbeddedOsrm(missing).matrices([city.points["office"], city.points["grid_1"]])

    assert road.source.startswith(f"great-circle driving (OSRM unavailable: road data {missing} cannot be used: ")
    assert (
        road.durations_s[0, 1]
        == GreatCircle("driving").matrices([city.points["office"], city.points["grid_1"]]).durations_s[0, 1]
    )


def test_a_day_asked_again_reuses_the_answers_and_a_new_place_costs_its_row_and_column(
    city_roads: Path, city: City
) -> None:
    day = [city.points[name] for name in ("office", "grid_0", "grid_4", "grid_8", "north_bank")]
    urgent = city.points["south_bank"]
    provider = EmbeddedOsrm(city_roads)
    forget()

    first = provider.matrices(day)
    again = provider.matrices(day)
    grown = provider.matrices([*day[:2], urgent, *day[2:]])
    forget()
    fresh = provider.matrices([*day[:2], urgent, *day[2:]])

    assert (first.reused_pairs, again.reused_pairs, grown.reused_pairs, fresh.reused_pairs) == (0, 25, 25, 0)
    assert (again.durations_s == first.durations_s).all()
    assert (grown.durations_s == fresh.durations_s).all() and (grown.distances_m == fresh.distances_m).all()


def _built_with_stock_profile(city: City, folder: Path) -> Path:
    """The city built with OSRM's stock car profile, as `fieldvisit roads build` did before street_level.lua."""
    linked = folder / "stock.osm.pbf"
    linked.symlink_to(city.path)
    tools = OSRM_PACKAGE / "bin"
    profile = OSRM_PACKAGE / "share" / "profiles" / "car.lua"
    subprocess.run([tools / "osrm-extract", "-p", profile, linked], check=True, capture_output=True)
    subprocess.run([tools / "osrm-contract", folder / "stock.osrm"], check=True, capture_output=True)
    return folder / "stock.osrm"


def test_a_door_under_an_elevated_road_is_reached_along_the_street_below(
    city_roads: Path, city: City, tmp_path: Path
) -> None:
    """Stock OSRM snaps a door 6 m from the street and 2 m from the elevated road's line onto the elevated road, whose
    ramps are at the street's ends: a block's walk became kilometres."""
    places = [city.points["under_elevated"], city.points["beside_elevated"]]
    straight = STRAIGHT.matrices(places).distances_m[0, 1]

    stock = EmbeddedOsrm(_built_with_stock_profile(city, tmp_path), fallback=None).matrices(places)
    street = EmbeddedOsrm(city_roads, fallback=None).matrices(places)

    assert straight == pytest.approx(150, abs=5)
    assert stock.distances_m[0, 1] > 1_000  # the defect: up the elevated road to its end and back
    assert street.distances_m[0, 1] < straight + 20


def test_a_large_day_is_asked_in_smaller_tables_with_the_same_answer(city_roads: Path, city: City) -> None:
    places = [city.points[f"grid_{number}"] for number in range(10)]
    forget()
    whole = EmbeddedOsrm(city_roads).matrices(places)
    forget()

    in_tables = EmbeddedOsrm(city_roads, max_points_per_table=4).matrices(places)  # 25 tables of 2 x 2 places

    assert (in_tables.durations_s == whole.durations_s).all() and (in_tables.distances_m == whole.distances_m).all()


def test_a_place_on_an_island_of_streets_is_unreachable(city_roads: Path, city: City) -> None:
    """The island's loop of streets joins nothing: no route to or from it (the city, under OSRM's 1,000-node small
    component size, lets a place snap onto it)."""
    road = _road(city_roads, city, "office", "island", "grid_2", "grid_6")

    assert road.unreachable == {1: "no road route joins it to the other points (cut off from their roads)"}
    assert road.source == "osrm embedded car (points off the road network, priced by great-circle driving: 1)"


def test_the_line_across_the_river_goes_over_a_bridge_and_is_as_long_as_the_road(city_roads: Path, city: City) -> None:
    ends = [city.points["north_bank"], city.points["south_bank"]]

    line = EmbeddedOsrm(city_roads).path(ends)
    road = EmbeddedOsrm(city_roads).matrices(ends)

    assert line[0] == ends[0] and line[-1] == ends[1] and len(line) > 4
    along = sum(distance_m(*a, *b) for a, b in pairwise(line))
    assert along == pytest.approx(road.distances_m[0, 1], rel=0.02)  # 1.6 km, where the water is 400 m wide


def test_the_line_out_of_the_compound_passes_its_gate(city_roads: Path, city: City) -> None:
    line = EmbeddedOsrm(city_roads).path([city.points["compound_inside"], city.points["compound_outside"]])

    gate = city.points["compound_gate"]
    assert min(distance_m(*point, *gate) for point in line) < 15


def test_legs_the_roads_do_not_join_are_drawn_straight(city_roads: Path, city: City) -> None:
    office, island, far_away = (city.points[name] for name in ("office", "island", "far_away"))

    assert EmbeddedOsrm(city_roads).path([office, island]) == [office, island]  # no bridge to it
    assert EmbeddedOsrm(city_roads).path([office, far_away]) == [office, far_away]  # 5 km from any road


def test_road_data_that_cannot_be_read_draws_straight_lines(tmp_path: Path, city: City) -> None:
    points = [city.points[name] for name in ("office", "grid_1", "grid_2")]

    assert EmbeddedOsrm(tmp_path / "roads.osrm").path(points) == points
