"""Fitting a team's breaks into a given order of visits, and trimming the order until they fit."""

from datetime import timedelta

from hypothesis import given, settings

from routing.breaks import fits, timed_route, trim
from routing.check import check
from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.plan import Plan, SolverStats
from routing.solver import solve_ortools
from tests.routing.strategies import small_instances

# a straight road, 100 m (100 s) between neighbouring locations; location 0 is the office
ROAD = [[abs(a - b) * 100 for b in range(5)] for a in range(5)]
LUNCH = Break(earliest_start_s=1_000, latest_start_s=1_500, duration_s=600)


def _day(*stops: Stop, breaks: tuple[Break, ...] = (LUNCH,), shift_end_s: int = 10_000) -> tuple[Instance, Team]:
    team = Team("a", 0, 0, TimeWindow(0, shift_end_s), breaks=breaks)
    return Instance([team], list(stops), ROAD, ROAD), team


def test_a_break_fits_between_two_visits() -> None:
    first, second = Stop("s1", 1, 900), Stop("s2", 2, 300)  # s1 from 100 to 1000; lunch 1000..1600
    instance, team = _day(first, second)

    assert fits(instance, team, [first, second])


def test_a_break_that_cannot_start_in_time_does_not_fit() -> None:
    # must start by 100, so busy from 100 to 1600: lunch cannot start by 1500, nor before leaving
    long_visit = Stop("s1", 1, 1_500, windows=(TimeWindow(0, 100),))
    instance, team = _day(long_visit)

    assert not fits(instance, team, [long_visit])
    assert fits(instance, team, [])  # a team that stays home takes no break


def test_the_break_is_taken_while_waiting_for_a_window() -> None:
    early = Stop("s1", 1, 100)
    late = Stop("s2", 2, 100, windows=(TimeWindow(1_700, 1_800),))  # waiting from 300 to 1700 holds the lunch
    too_soon = Stop("s2", 2, 100, windows=(TimeWindow(1_500, 1_550),))  # lunch would end too late to get there

    assert fits(*_day(early, late, shift_end_s=2_300), [early, late])
    assert not fits(*_day(early, too_soon, shift_end_s=2_300), [early, too_soon])


def test_two_breaks_are_taken_in_the_order_that_fits() -> None:
    coffee = Break(earliest_start_s=0, latest_start_s=5_000, duration_s=300)
    visit = Stop("s1", 1, 200, windows=(TimeWindow(1_900, 2_000),))

    # coffee 0..300 and lunch 1000..1600 before leaving, the visit 1900..2100, back at 2200
    assert fits(*_day(visit, breaks=(LUNCH, coffee), shift_end_s=5_300), [visit])
    # the visit must start by 1000: lunch only after it, 1300..1900, and coffee can come first or after
    early = Stop("s1", 1, 200, windows=(TimeWindow(0, 1_000),))
    assert fits(*_day(early, breaks=(LUNCH, coffee), shift_end_s=5_300), [early])
    # a visit from 900 to 1700 leaves room for neither break order
    blocking = Stop("s1", 1, 800, windows=(TimeWindow(900, 900),))
    assert not fits(*_day(blocking, breaks=(LUNCH, coffee), shift_end_s=5_300), [blocking])


def test_trim_drops_the_cheapest_stop_that_makes_room() -> None:
    cheap = Stop("cheap", 1, 700, drop_cost=10)
    dear = Stop("dear", 2, 700, drop_cost=1_000)
    must = Stop("must", 3, 700, must_visit=True)
    instance, team = _day(cheap, dear, must, shift_end_s=2_700)  # three visits and lunch do not fit

    assert trim(instance, team, [cheap, dear, must]) == [dear, must]


@settings(max_examples=40, deadline=None)
@given(small_instances(with_loads=False))
def test_every_route_the_checker_accepts_fits(instance: Instance) -> None:
    plan = solve_ortools(instance, time_limit=timedelta(milliseconds=100))
    stops = {stop.key: stop for stop in instance.stops}

    # the routes keep every rule; only a must-visit stop may be dropped when no plan holds them all
    assert all(" is dropped " in violation for violation in check(instance, plan).violations)
    for route in plan.routes:
        order = [stops[visit.stop] for visit in route.visits]
        assert fits(instance, instance.team(route.team), order)
        assert trim(instance, instance.team(route.team), order) == order


@settings(max_examples=40, deadline=None)
@given(small_instances(with_loads=False))
def test_trimmed_orders_fit_and_keep_their_order(instance: Instance) -> None:
    for team in instance.teams:
        trimmed = trim(instance, team, instance.stops)

        assert fits(instance, team, trimmed)
        positions = [instance.stops.index(stop) for stop in trimmed]
        assert positions == sorted(positions)


@settings(max_examples=40, deadline=None)
@given(small_instances(with_loads=False))
def test_an_order_that_fits_is_timed_as_the_checker_wants(instance: Instance) -> None:
    for team in instance.teams:
        order = trim(instance, team, instance.stops)
        route = timed_route(instance, team, order)
        plan = Plan((route,), (), SolverStats("test", "", 0, 0.0, 0)) if route is not None else None

        assert route is not None and plan is not None
        assert [visit.stop for visit in route.visits] == [stop.key for stop in order]
        # skills, limits, pins and the stops left out aside, the checker finds nothing wrong with its timings
        violations = check(instance, plan).violations
        assert not [
            v
            for v in violations
            if any(word in v for word in ("arrive", "starts at", "leaves at", "back at", "break", "waits", "reports"))
        ]
        assert (timed_route(instance, team, instance.stops) is None) != fits(instance, team, instance.stops)


def test_the_lunch_is_timed_as_early_as_the_visits_allow() -> None:
    first, second = Stop("s1", 1, 900), Stop("s2", 2, 300)  # s1 from 100 to 1000, s2 from 1100 to 1400
    instance, team = _day(first, second)

    route = timed_route(instance, team, [first, second])

    assert route is not None
    assert [visit.start_s for visit in route.visits] == [100, 1_100]
    assert [(rest.start_s, rest.duration_s) for rest in route.breaks] == [(1_400, 600)]  # on the way back
    assert route.end_s == 2_200 and route.distance_m == 400
    assert check(instance, Plan((route,), (), SolverStats("test", "", 0, 0.0, 0))).ok
