"""Re-solves start from the previous plan, repair what an edit broke, and stop once the search has settled."""

import time
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from routing import solve
from routing.check import assert_feasible
from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.plan import Plan
from routing.settle import SIGNIFICANT, Settling, patience_s

COLD = timedelta(seconds=2)
GENEROUS = timedelta(seconds=40)  # a warm re-solve of 24 stops settles in a fraction of this


def _day(kind: str) -> Instance:
    """Three teams and 24 must-visit stops over 10 x 10 km at 10 m/s: plain (PyVRP's model), with a lunch break
    (PyVRP seeds OR-Tools) or with a stop pinned to a position (OR-Tools alone)."""
    points = np.random.default_rng(7).uniform(0, 10_000, size=(25, 2))
    distances = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    lunch = (Break(3 * 3600, 4 * 3600, 1800),) if kind == "lunch" else ()
    teams = [Team(key, 0, 0, TimeWindow(0, 8 * 3600), breaks=lunch) for key in ("a", "b", "c")]
    stops = [Stop(f"s{i}", i, 600, must_visit=True) for i in range(1, 25)]
    if kind == "position":
        stops[0] = replace(stops[0], pin_team="a", pin_position=1)
    return Instance(teams, stops, distances // 10, distances)


def _routes(plan: Plan) -> dict[str, list[str]]:
    return {route.team: [visit.stop for visit in route.visits] for route in plan.routes}


@pytest.mark.parametrize("kind", ["plain", "lunch", "position"])
def test_a_re_solve_starts_from_the_plan_and_stops_once_settled(kind: str) -> None:
    instance = _day(kind)
    cold = solve(instance, time_limit=COLD, seed=1)

    began = time.perf_counter()
    warm = solve(instance, time_limit=GENEROUS, seed=1, initial_routes=_routes(cold))
    took = time.perf_counter() - began

    assert_feasible(instance, warm)
    assert not warm.dropped and warm.distance_m <= cold.distance_m
    assert took < GENEROUS.total_seconds() / 2


@pytest.mark.parametrize("kind", ["plain", "lunch", "position"])
def test_a_re_solve_moves_a_stop_pinned_to_another_team_and_places_a_new_one(kind: str) -> None:
    before = _day(kind)
    routes = _routes(solve(before, time_limit=COLD, seed=1))
    owner, moved = next((team, key) for team, keys in routes.items() for key in keys if key != "s1")
    target = next(team for team in ("c", "b", "a") if team != owner)
    stops = [replace(stop, pin_team=target) if stop.key == moved else stop for stop in before.stops]
    stops.append(Stop("late", 3, 600, must_visit=True))  # a request added after the plan: on no route yet
    after = Instance(before.teams, stops, before.durations_s, before.distances_m)

    plan = solve(after, time_limit=GENEROUS, seed=1, initial_routes=routes)

    assert_feasible(after, plan)
    assert moved in _routes(plan)[target]
    assert not plan.dropped


def test_a_re_solve_in_one_process_starts_from_the_plan_too() -> None:
    instance = _day("lunch")
    cold = solve(instance, time_limit=COLD, seed=1, workers=1)

    warm = solve(instance, time_limit=GENEROUS, seed=1, workers=1, initial_routes=_routes(cold))

    assert_feasible(instance, warm)
    assert not warm.dropped and warm.distance_m <= cold.distance_m
    assert warm.stats.wall_s < GENEROUS.total_seconds() / 2


def test_routes_naming_what_the_day_lacks_are_refused() -> None:
    instance = _day("plain")
    with pytest.raises(ValueError, match="unknown team"):
        solve(instance, time_limit=COLD, initial_routes={"z": ["s1"]})
    with pytest.raises(ValueError, match="unknown stops nowhere"):
        solve(instance, time_limit=COLD, initial_routes={"a": ["s1", "nowhere"]})


def test_a_search_has_settled_after_its_patience_without_significant_progress() -> None:
    settling = Settling(deadline=time.perf_counter() + 60, patience_s=0.2)
    settling.improved(1_000_000)
    time.sleep(0.12)
    settling.improved(1_000_000 * (1 - SIGNIFICANT / 2))  # too small to count
    assert not settling.over()
    time.sleep(0.12)
    assert settling.over()

    settling.improved(900_000)
    assert not settling.over()
    assert Settling(deadline=time.perf_counter() - 1).over()  # the deadline stops a cold search too
    assert patience_s(10) == 0.25 and patience_s(1_000) == 2.0 and patience_s(100_000) == 5.0
