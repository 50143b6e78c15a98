"""The earliest timings of a route whose order is given."""

import numpy as np

from routing.check import check
from routing.model import Instance, Stop, Team, TimeWindow
from routing.plan import Plan, SolverStats, Visit
from routing.schedule import earliest_route

# the depot at 0, stops at 100 m and 300 m along a line; 1 m/s
MATRIX = np.array([[0, 100, 300], [100, 0, 200], [300, 200, 0]], dtype=np.int64)
TEAM = Team("t", 0, 0, TimeWindow(1000, 10_000))


def test_the_team_leaves_at_its_shift_start_and_waits_for_each_window() -> None:
    stops = [Stop("a", 1, 50, windows=(TimeWindow(0, 900), TimeWindow(2000, 3000))), Stop("b", 2, 60)]
    instance = Instance([TEAM], stops, MATRIX, MATRIX)

    route = earliest_route(instance, TEAM, stops)

    # a: arrives at 1100, its first window is over, waits for the second; b: no window, served on arrival
    assert route.visits == (Visit("a", 1100, 900, 2000, 2050), Visit("b", 2250, 0, 2250, 2310))
    assert (route.start_s, route.end_s, route.distance_m, route.travel_s) == (1000, 2610, 600, 600)
    plan = Plan((route,), (), SolverStats("given", "feasible", route.distance_m, 0.0, 0))
    assert check(instance, plan).violations == ()


def test_a_stop_reached_after_its_windows_is_served_late_and_the_checker_says_so() -> None:
    stops = [Stop("a", 2, 10, windows=(TimeWindow(0, 1200),))]
    instance = Instance([TEAM], stops, MATRIX, MATRIX)

    route = earliest_route(instance, TEAM, stops)

    assert route.visits == (Visit("a", 1300, 0, 1300, 1310),)
    plan = Plan((route,), (), SolverStats("given", "feasible", route.distance_m, 0.0, 0))
    assert check(instance, plan).violations != []


def test_an_empty_route_stays_at_home() -> None:
    instance = Instance([TEAM], [], MATRIX, MATRIX)

    assert earliest_route(instance, TEAM, []).visits == ()
