"""A large day is cut in two halves of neighbouring routes, each improved on its own core."""

import time

import numpy as np

from routing.check import assert_feasible
from routing.decompose import halves, large, solve_decomposed
from routing.model import Instance, Stop, Team, TimeWindow


def _two_towns(stops_per_town: int = 12) -> Instance:
    """Location 0 the office between two towns 20 km west and east of it; `stops_per_town` stops in each."""
    rng = np.random.default_rng(3)
    west = rng.normal((-20_000, 0), 1_000, size=(stops_per_town, 2))
    east = rng.normal((20_000, 0), 1_000, size=(stops_per_town, 2))
    points = np.vstack([[(0, 0)], west, east])
    distances = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    day = TimeWindow(0, 12 * 3600)
    teams = [Team(key, 0, 0, day) for key in ("w1", "w2", "e1", "e2", "idle")]
    stops = [Stop(f"s{i}", i, 300, drop_cost=50_000) for i in range(1, len(points))]
    return Instance(teams, stops, distances // 10, distances)


def test_neighbouring_routes_go_together_and_the_rest_follows_them() -> None:
    instance = _two_towns()
    west = [f"s{i}" for i in range(1, 13)]
    east = [f"s{i}" for i in range(13, 25)]
    routes = {"w1": west[:5], "w2": west[5:11], "e1": east[:6], "e2": east[6:11], "idle": []}

    for draw in range(4):
        (teams_a, stops_a), (teams_b, stops_b) = halves(instance, routes, np.random.default_rng(draw))

        towns = {frozenset({"w1", "w2"}), frozenset({"e1", "e2"})}
        assert {teams_a - {"idle"}, teams_b - {"idle"}} == towns
        assert "idle" in teams_a ^ teams_b
        west_half = stops_a if "w1" in teams_a else stops_b
        assert west_half == frozenset(west)  # s12, unplanned, with the routes nearest it
        assert stops_a | stops_b == {stop.key for stop in instance.stops} and not stops_a & stops_b


def test_a_day_cut_in_halves_is_planned_in_full() -> None:
    instance = _two_towns(stops_per_town=30)

    plan = solve_decomposed(instance, finish_by=time.monotonic() + 8, seed=1)

    report = assert_feasible(instance, plan)
    assert report.planned == 60 and plan.stats.engine == "pyvrp"
    assert not large(instance)  # 60 stops: routing.solve runs two whole searches instead
