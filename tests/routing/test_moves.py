"""Minimal disruption: a stop visited by a team other than its home team costs its `move_cost`, so a re-plan moves
a stop only when that saves more than the move costs."""

from datetime import timedelta

import pytest

from routing import solve
from routing.check import assert_feasible
from routing.model import Instance, Stop, Team, TimeWindow
from routing.pyvrp_engine import expressible

LIMIT = timedelta(seconds=1.5)
DAY = TimeWindow(0, 20_000)


def _two_depots(move_cost: int, windows: tuple[TimeWindow, ...] = ()) -> Instance:
    """Team a lives at 0, team b at 10 (1 km away); stops 8 and 9 lie next to b's depot but belong to a."""
    matrix = [[abs(x - y) * 100 for y in range(11)] for x in range(11)]
    return Instance(
        [Team("a", 0, 0, DAY), Team("b", 10, 10, DAY)],
        [Stop(f"s{i}", i, 60, windows, must_visit=True, home_team="a", move_cost=move_cost) for i in (8, 9)],
        matrix,
        matrix,
    )


def _team_of(plan: object, key: str) -> str:
    return next(route.team for route in plan.routes for visit in route.visits if visit.stop == key)  # type: ignore[attr-defined]


@pytest.mark.parametrize("workers", [1, 2])
def test_without_a_move_cost_the_nearer_team_takes_the_stops(workers: int) -> None:
    instance = _two_depots(0)

    plan = solve(instance, time_limit=LIMIT, seed=1, workers=workers)

    assert_feasible(instance, plan)
    assert {_team_of(plan, "s8"), _team_of(plan, "s9")} == {"b"}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_move_dearer_than_the_detour_keeps_the_stops_on_their_team(workers: int) -> None:
    instance = _two_depots(5_000)  # the detour for a is 1.8 km there and back: moving costs more

    plan = solve(instance, time_limit=LIMIT, seed=1, workers=workers)

    assert_feasible(instance, plan)
    assert {_team_of(plan, "s8"), _team_of(plan, "s9")} == {"a"}
    assert instance.moves_cost(plan.team_stops()) == 0


def test_a_stop_with_two_windows_costs_its_move_once() -> None:
    instance = _two_depots(200, windows=(TimeWindow(0, 5_000), TimeWindow(10_000, 15_000)))  # cheaper than the detour

    plan = solve(instance, time_limit=LIMIT, seed=1, workers=1)

    assert_feasible(instance, plan)
    assert {_team_of(plan, "s8"), _team_of(plan, "s9")} == {"b"}
    assert instance.moves_cost(plan.team_stops()) == 400
    assert plan.stats.objective == plan.distance_m + 400


def test_pyvrp_alone_does_not_plan_a_day_with_move_costs() -> None:
    assert not expressible(_two_depots(1))
    assert expressible(_two_depots(0))
    assert expressible(_two_depots(1), breaks=False)  # it may seed the routes OR-Tools then costs


def test_a_move_cost_needs_a_known_home_team() -> None:
    with pytest.raises(ValueError, match="move_cost needs a home_team"):
        Stop("s", 1, 60, move_cost=5)
    with pytest.raises(ValueError, match="unknown home_team"):
        Instance([Team("a", 0, 0, DAY)], [Stop("s", 1, 60, home_team="z")], [[0, 1], [1, 0]], [[0, 1], [1, 0]])
