"""Teams that travel differently in one day (a car and a walking team): each moves by its own profile's matrices in
both engines, the insertion, the reasons for a drop and the checker."""

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from routing.check import assert_feasible, check
from routing.model import Instance, Stop, Team, TimeWindow
from routing.plan import DropReason, Route, Visit
from routing.pyvrp_engine import solve_pyvrp
from routing.reasons import explain_dropped
from routing.solver import solve_ortools

HOUR = 3600
# an office (0) and a stop 6 km out (1) and one next door (2): 12 minutes by car, 72 on foot
KM = np.array([[0, 6_000, 300], [6_000, 0, 5_800], [300, 5_800, 0]])
CAR = KM * 12 * 60 // 6_000  # 30 km/h
FOOT = KM * 72 * 60 // 6_000  # 5 km/h
SHIFT = TimeWindow(9 * HOUR, 18 * HOUR)


def _day(*, far_window: TimeWindow) -> Instance:
    """A car team (profile 0) and a walking team (profile 1, first in line); the far stop must be started within
    `far_window`."""
    teams = [
        Team("walkers", 0, 0, SHIFT, profile=1, max_visits=5),
        Team("drivers", 0, 0, SHIFT, max_visits=1),
    ]
    stops = [
        Stop("far", 1, 600, windows=(far_window,), drop_cost=100_000),
        Stop("near", 2, 600, drop_cost=100_000),
    ]
    return Instance(teams, stops, CAR, KM, profiles=[(FOOT, KM)])


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_a_stop_only_a_car_reaches_in_time_goes_to_the_car_and_each_team_travels_at_its_pace(engine: str) -> None:
    day = _day(far_window=TimeWindow(9 * HOUR, 9 * HOUR + 30 * 60))  # 12 min by car; 72 on foot is too late

    solve = solve_ortools if engine == "ortools" else solve_pyvrp
    plan = solve(day, time_limit=timedelta(seconds=2), seed=1)

    assert plan is not None
    assert_feasible(day, plan)
    routes = {route.team: route for route in plan.routes}
    assert [visit.stop for visit in routes["drivers"].visits] == ["far"]
    assert [visit.stop for visit in routes["walkers"].visits] == ["near"]
    assert routes["drivers"].visits[0].arrival_s == 9 * HOUR + 12 * 60
    assert routes["walkers"].visits[0].arrival_s == 9 * HOUR + 3 * 60 + 36  # 300 m on foot


def test_the_checker_holds_each_team_to_its_own_matrices() -> None:
    day = _day(far_window=TimeWindow(9 * HOUR, 17 * HOUR))
    plan = solve_ortools(day, time_limit=timedelta(seconds=1), seed=1)
    arrives = 9 * HOUR + 12 * 60  # as a car would
    walked_like_a_car = Route(
        "walkers", (Visit("far", arrives, 0, arrives, arrives + 600),), 9 * HOUR, arrives + 1320, 12_000, 24 * 60
    )

    report = check(day, replace(plan, routes=(walked_like_a_car,), dropped=()))

    assert any("cannot arrive before" in violation for violation in report.violations)
    assert any("reports travel_s" in violation for violation in report.violations)


def test_a_stop_that_no_team_reaches_in_time_is_explained_as_out_of_reach_not_as_priority() -> None:
    in_reach_of_the_car = _day(far_window=TimeWindow(9 * HOUR, 9 * HOUR + 30 * 60))
    in_reach_of_nobody = _day(far_window=TimeWindow(9 * HOUR, 9 * HOUR + 5 * 60))  # the car takes 12 minutes

    [by_car] = explain_dropped(in_reach_of_the_car, ["far"])
    [by_nobody] = explain_dropped(in_reach_of_nobody, ["far"])

    assert by_car.reason is DropReason.LOWER_PRIORITY and "drivers" in by_car.detail
    assert by_nobody.reason is not DropReason.LOWER_PRIORITY


def test_a_team_of_a_profile_without_matrices_is_refused() -> None:
    with pytest.raises(ValueError, match="profile 2 has no matrices"):
        Instance([Team("t", 0, 0, SHIFT, profile=2)], [], CAR, KM, profiles=[(FOOT, KM)])
    with pytest.raises(ValueError, match="shape of durations_s"):
        Instance([Team("t", 0, 0, SHIFT)], [], CAR, KM, profiles=[(FOOT[:2, :2], KM[:2, :2])])
