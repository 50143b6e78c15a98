"""solve_ortools on tiny named instances with known answers; every plan also goes through `assert_plan_holds`, a
timing and constraint check written here from the rules (not shared with the solver)."""

from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.plan import DropReason, Plan, Route
from routing.reasons import unservable
from routing.solver import solve_ortools

LIMIT = timedelta(seconds=0.2)
H = 3600


def line(positions: list[int]) -> np.ndarray:
    """Travel between points on a line: 1 s and 1 m per unit."""
    x = np.array(positions)
    return np.abs(x[:, None] - x[None, :])


def day(start_h: float = 8, end_h: float = 17) -> TimeWindow:
    return TimeWindow(int(start_h * H), int(end_h * H))


def assert_plan_holds(instance: Instance, plan: Plan) -> None:
    """Every rule of the model, from scratch: timings, windows, shifts, breaks, capacity, skills, pins, coverage."""
    stops = {stop.key: stop for stop in instance.stops}
    seen = Counter(plan.planned)
    assert all(count == 1 for count in seen.values()), seen
    dropped = [drop.stop for drop in plan.dropped]
    assert len(dropped) == len(set(dropped))
    assert set(seen) | set(dropped) == set(stops) and not set(seen) & set(dropped)
    assert [route.team for route in plan.routes] == [team.key for team in instance.teams]
    for route in plan.routes:
        team = instance.team(route.team)
        assert_route_holds(instance, team, route, stops)
    assert plan.stats.objective == plan.distance_m + sum(
        stops[key].drop_cost for key in dropped if not stops[key].must_visit
    )


def assert_route_holds(instance: Instance, team: Team, route: Route, stops: dict[str, Stop]) -> None:
    if not route.visits:
        assert route.distance_m == 0 and route.travel_s == 0
        return
    assert team.max_visits is None or len(route.visits) <= team.max_visits
    assert team.capacity is None or sum(stops[visit.stop].demand for visit in route.visits) <= team.capacity
    assert team.shift.start_s <= route.start_s and route.end_s <= team.shift.end_s
    where, free, distance, travel = team.start_location, route.start_s, 0, 0
    services = []
    gaps = []  # (from, to, travel needed) between a departure and the next start
    for position, visit in enumerate(route.visits, start=1):
        stop = stops[visit.stop]
        leg = int(instance.durations_s[where, stop.location])
        distance += int(instance.distances_m[where, stop.location])
        travel += leg
        assert visit.arrival_s == free + leg, visit
        assert visit.wait_s == visit.start_s - visit.arrival_s >= 0, visit
        assert visit.departure_s == visit.start_s + stop.service_s, visit
        assert not stop.windows or any(w.contains(visit.start_s) for w in stop.windows), visit
        assert stop.required_skills <= team.skills
        assert stop.pin_team in (None, team.key)
        assert stop.pin_position in (None, position)
        services.append((visit.start_s, visit.departure_s))
        gaps.append((free, visit.start_s, leg))
        where, free = stop.location, visit.departure_s
    leg = int(instance.durations_s[where, team.end_location])
    distance += int(instance.distances_m[where, team.end_location])
    travel += leg
    assert route.end_s >= free + leg
    gaps.append((free, route.end_s, leg))
    assert (route.distance_m, route.travel_s) == (distance, travel)
    assert len(route.breaks) == len(team.breaks)
    for taken, rest in zip(route.breaks, team.breaks, strict=True):
        assert rest.earliest_start_s <= taken.start_s <= rest.latest_start_s
        assert taken.duration_s == rest.duration_s
        end = taken.start_s + taken.duration_s
        assert all(end <= begins or taken.start_s >= ends for begins, ends in services), (taken, services)
    for begins, ends, needed in gaps:
        inside = sum(b.duration_s for b in route.breaks if begins <= b.start_s and b.start_s + b.duration_s <= ends)
        assert ends - begins >= needed + inside, (begins, ends, needed, inside)


def solve(instance: Instance, **options: Any) -> Plan:
    plan = solve_ortools(instance, time_limit=options.pop("time_limit", LIMIT), **options)
    assert_plan_holds(instance, plan)
    return plan


def reasons_of(plan: Plan) -> dict[str, DropReason]:
    return {drop.stop: drop.reason for drop in plan.dropped}


def test_line_is_walked_in_order() -> None:
    # depot at 0, home at 50, stops at 10..40 given shuffled: the only optimal route walks the line once
    matrix = line([0, 10, 20, 30, 40, 50])
    team = Team("north", 0, 5, day())
    stops = [Stop(f"s{x}", x // 10, 60, drop_cost=10_000) for x in (30, 10, 40, 20)]

    plan = solve(Instance([team], stops, matrix, matrix * 10))

    assert [visit.stop for visit in plan.routes[0].visits] == ["s10", "s20", "s30", "s40"]
    assert plan.distance_m == 500
    assert plan.stats.engine == "ortools" and plan.stats.objective == 500
    first = plan.routes[0].visits[0]
    assert (first.arrival_s, first.start_s, first.departure_s) == (8 * H + 10, 8 * H + 10, 8 * H + 70)


def test_windows_override_the_nearest_stop_first() -> None:
    # near is closer, but far closes early: far, then near (nearest-neighbour would do near, far and miss far)
    matrix = line([0, 100, 1000])
    team = Team("t", 0, 0, TimeWindow(0, 10_000))
    near = Stop("near", 1, 10, (TimeWindow(2500, 3000),), must_visit=True)
    far = Stop("far", 2, 10, (TimeWindow(0, 1100),), must_visit=True)

    plan = solve(Instance([team], [near, far], matrix, matrix))

    assert plan.planned == ("far", "near")
    assert plan.routes[0].visits[1].wait_s > 0  # waits for near to open
    assert plan.routes[0].visits[1].start_s == 2500  # and starts at the earliest moment


def test_stop_whose_window_is_outside_every_shift_is_dropped_with_that_reason() -> None:
    matrix = line([0, 10, 20])
    team = Team("t", 0, 0, day(8, 17))
    late = Stop("late", 1, 600, (TimeWindow(20 * H, 21 * H),), must_visit=True)
    fine = Stop("fine", 2, 600, must_visit=True)

    plan = solve(Instance([team], [late, fine], matrix, matrix))

    assert plan.planned == ("fine",)
    assert reasons_of(plan) == {"late": DropReason.OUTSIDE_EVERY_SHIFT}
    assert "20:00" in plan.dropped[0].detail


def test_stop_needing_a_skill_no_team_has_is_dropped() -> None:
    matrix = line([0, 10, 20])
    teams = [Team("a", 0, 0, day(), skills=frozenset({"legal"})), Team("b", 0, 0, day())]
    stops = [
        Stop("court", 1, 600, required_skills=frozenset({"legal", "notary"}), must_visit=True),
        Stop("pinned", 2, 600, required_skills=frozenset({"legal"}), pin_team="b", drop_cost=10),
        Stop("legal", 2, 600, required_skills=frozenset({"legal"}), must_visit=True),
    ]

    plan = solve(Instance(teams, stops, matrix, matrix))

    assert reasons_of(plan) == {"court": DropReason.NO_TEAM_WITH_SKILL, "pinned": DropReason.NO_TEAM_WITH_SKILL}
    assert plan.routes[0].visits[0].stop == "legal"


def test_full_day_drops_the_cheapest_stops_and_keeps_must_visits() -> None:
    matrix = line([0, 10, 20, 30, 40])
    team = Team("t", 0, 0, day(), max_visits=2)
    stops = [
        Stop("must", 1, 60, must_visit=True),
        Stop("cheap", 2, 60, drop_cost=100),
        Stop("dear", 3, 60, drop_cost=5_000),
        Stop("middling", 4, 60, drop_cost=3_000),
    ]

    plan = solve(Instance([team], stops, matrix, matrix))

    assert sorted(plan.planned) == ["dear", "must"]
    assert reasons_of(plan) == {"cheap": DropReason.LOWER_PRIORITY, "middling": DropReason.LOWER_PRIORITY}
    assert "3000" in next(drop.detail for drop in plan.dropped if drop.stop == "middling")


def test_must_visits_that_cannot_all_fit_come_back_dropped_not_raised() -> None:
    # each fits the day alone, not both: one must-visit is dropped with a reason instead of no plan
    matrix = line([0, 10, 20])
    team = Team("t", 0, 0, day(8, 12))
    stops = [Stop("a", 1, 3 * H, must_visit=True), Stop("b", 2, 3 * H, must_visit=True)]

    plan = solve(Instance([team], stops, matrix, matrix))

    assert len(plan.planned) == 1
    assert [drop.reason for drop in plan.dropped] == [DropReason.LOWER_PRIORITY]
    assert "must be visited" in plan.dropped[0].detail


def test_capacity_splits_the_stops_between_teams() -> None:
    # one team could do all four on its way, but carries 10: the 6s go to different teams
    matrix = line([0, 10, 20, 30, 40])
    teams = [Team("a", 0, 0, day(), capacity=10), Team("b", 0, 0, day(), capacity=10)]
    stops = [Stop(f"s{i}", i, 60, demand=demand, must_visit=True) for i, demand in enumerate((6, 6, 4, 4), start=1)]

    plan = solve(Instance(teams, stops, matrix, matrix))

    assert sorted(plan.planned) == ["s1", "s2", "s3", "s4"]
    assert all(len(route.visits) == 2 for route in plan.routes)


def test_pins_to_a_team_and_a_position_are_honoured() -> None:
    # "for_east" sits at west's door but is pinned to east (which makes one visit); "first" would be visited last
    matrix = line([0, 1000, 5, 10, 20, 30])
    teams = [Team("west", 0, 0, day()), Team("east", 1, 1, day(), max_visits=1)]
    stops = [
        Stop("for_east", 2, 60, pin_team="east", must_visit=True),
        Stop("w1", 3, 60, must_visit=True),
        Stop("w2", 4, 60, must_visit=True),
        Stop("first", 5, 60, pin_team="west", pin_position=1, must_visit=True),
    ]

    plan = solve(Instance(teams, stops, matrix, matrix))

    assert plan.routes[1].visits[0].stop == "for_east"
    assert [visit.stop for visit in plan.routes[0].visits] == ["first", "w2", "w1"]


def test_break_is_taken_inside_its_window_between_visits() -> None:
    matrix = line([0, 10, 20, 30])
    lunch = Break(12 * H, 12 * H + 1800, 1800)
    team = Team("t", 0, 0, day(8, 17), breaks=(lunch,))
    stops = [Stop(f"s{i}", i, 2 * H, must_visit=True) for i in (1, 2, 3)]

    plan = solve(Instance([team], stops, matrix, matrix))

    route = plan.routes[0]
    assert len(route.visits) == 3
    (taken,) = route.breaks
    assert 12 * H <= taken.start_s <= 12 * H + 1800 and taken.duration_s == 1800
    # three 2-hour visits from 8:00 cannot all avoid 12:00-12:30 without the break shifting one of them
    assert any(visit.start_s >= taken.start_s + 1800 for visit in route.visits)


def test_break_may_interrupt_the_travel() -> None:
    # 2 h away, due at 10:30 sharp, a 30-minute rest fixed at 9:00: leave at 8:00 and rest on the way
    matrix = np.array([[0, 2 * H], [2 * H, 0]])
    team = Team("t", 0, 0, day(8, 17), breaks=(Break(9 * H, 9 * H, 1800),))
    stop = Stop("far", 1, 600, (TimeWindow(10 * H + 1800, 10 * H + 1800),), must_visit=True)

    plan = solve(Instance([team], [stop], matrix, matrix))

    (visit,) = plan.routes[0].visits
    assert (visit.arrival_s, visit.wait_s, visit.start_s) == (10 * H, 1800, 10 * H + 1800)
    assert plan.routes[0].breaks[0].start_s == 9 * H


def test_break_that_leaves_no_room_makes_a_stop_outside_every_shift() -> None:
    matrix = line([0, 10])
    team = Team("t", 0, 0, day(8, 17), breaks=(Break(12 * H, 12 * H, H),))
    long_visit = Stop("long", 1, 8 * H + 1800, must_visit=True)

    plan = solve(Instance([team], [long_visit], matrix, matrix))

    assert reasons_of(plan) == {"long": DropReason.OUTSIDE_EVERY_SHIFT}


def test_second_window_is_used_when_the_first_is_missed() -> None:
    matrix = line([0, 10, 20])
    morning_or_afternoon = (TimeWindow(9 * H, 10 * H), TimeWindow(15 * H, 16 * H))
    teams = [Team("early", 0, 0, day(8, 17)), Team("late", 0, 0, day(11, 17))]
    stops = [
        Stop("e", 1, 600, morning_or_afternoon, pin_team="early", must_visit=True),
        Stop("l", 2, 600, morning_or_afternoon, pin_team="late", must_visit=True),
    ]

    plan = solve(Instance(teams, stops, matrix, matrix))

    assert plan.routes[0].visits[0].start_s == 9 * H
    late = plan.routes[1].visits[0]
    assert late.start_s == 15 * H and late.wait_s == 15 * H - (11 * H + 20)


def test_gap_between_windows_is_not_used() -> None:
    # arriving at 10:30 between the windows the team waits for the second one, it does not start at 10:30
    matrix = line([0, 10])
    team = Team("t", 0, 0, TimeWindow(10 * H + 1800 - 10, 17 * H))
    stop = Stop("gap", 1, 600, (TimeWindow(9 * H, 10 * H), TimeWindow(15 * H, 16 * H)), must_visit=True)

    plan = solve(Instance([team], [stop], matrix, matrix))

    assert plan.routes[0].visits[0].start_s == 15 * H


def _two_team_instance() -> Instance:
    matrix = line([0, 100, 3, 7, 12, 18, 95, 90, 81, 60])
    teams = [Team("a", 0, 0, day()), Team("b", 1, 1, day())]
    stops = [Stop(f"s{i}", i, 300, drop_cost=10_000) for i in range(2, 10)]
    return Instance(teams, stops, matrix, matrix)


def test_initial_routes_are_accepted_and_improved_on() -> None:
    instance = _two_team_instance()
    poor = {"a": ["s9", "s2", "s8", "s3"], "b": ["s4", "s7", "s5", "s6"]}

    plan = solve(instance, initial_routes=poor)

    assert plan.distance_m == solve(instance).distance_m
    assert set(plan.routes[0].visits[i].stop for i in range(4)) == {"s2", "s3", "s4", "s5"}


def test_initial_routes_that_break_a_window_are_ignored() -> None:
    matrix = line([0, 10, 20])
    team = Team("t", 0, 0, TimeWindow(0, 1000))
    stops = [Stop("x", 1, 0, (TimeWindow(0, 15),), must_visit=True), Stop("y", 2, 0, must_visit=True)]

    plan = solve(Instance([team], stops, matrix, matrix), initial_routes={"t": ["y", "x"]})

    assert plan.planned == ("x", "y")


def test_initial_routes_with_unknown_keys_are_refused() -> None:
    instance = _two_team_instance()
    with pytest.raises(ValueError, match="unknown team"):
        solve_ortools(instance, time_limit=LIMIT, initial_routes={"zz": []})
    with pytest.raises(ValueError, match="unknown stops"):
        solve_ortools(instance, time_limit=LIMIT, initial_routes={"a": ["nope"]})


def test_unknown_first_solution_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="first solution"):
        solve_ortools(_two_team_instance(), time_limit=LIMIT, first_solution="GUESS")


def test_same_instance_and_seed_give_the_same_plan() -> None:
    instance = _two_team_instance()

    first = solve(instance, seed=7)
    second = solve(instance, seed=7)

    assert first.routes == second.routes and first.dropped == second.dropped
    assert first.stats.seed == 7


def test_every_stop_unservable_still_gives_a_plan() -> None:
    matrix = line([0, 10])
    team = Team("t", 0, 0, day(), max_visits=0)
    plan = solve(Instance([team], [Stop("x", 1, 60, must_visit=True)], matrix, matrix))

    assert plan.planned == () and reasons_of(plan) == {"x": DropReason.NO_TEAM_WITH_SKILL}


@st.composite
def lone_stop_days(draw: st.DrawFn) -> Instance:
    """One team, one must-visit stop: travel, shift, windows and a break drawn at random (minutes)."""
    minutes = st.integers
    travel = draw(minutes(0, 180)) * 60
    shift_start = draw(minutes(6 * 60, 10 * 60)) * 60
    shift = TimeWindow(shift_start, shift_start + draw(minutes(60, 600)) * 60)
    windows = []
    opens = draw(minutes(5 * 60, 12 * 60)) * 60
    for _ in range(draw(minutes(0, 2))):
        closes = opens + draw(minutes(0, 180)) * 60
        windows.append(TimeWindow(opens, closes))
        opens = closes + draw(minutes(1, 300)) * 60
    rests = ()
    if draw(st.booleans()):
        length = draw(minutes(10, 60)) * 60
        earliest = draw(minutes(shift.start_s // 60, (shift.end_s - length) // 60)) * 60
        latest = min(earliest + draw(minutes(0, 90)) * 60, shift.end_s - length)
        rests = (Break(earliest, latest, length),)
    team = Team("t", 0, 0, shift, breaks=rests)
    stop = Stop("x", 1, draw(minutes(0, 240)) * 60, tuple(windows), must_visit=True)
    matrix = np.array([[0, travel], [travel, 0]])
    return Instance([team], [stop], matrix, matrix)


@settings(max_examples=60, deadline=None)
@given(lone_stop_days())
def test_reasons_and_ortools_agree_on_a_lone_stop(instance: Instance) -> None:
    plan = solve(instance, time_limit=timedelta(seconds=0.1))

    assert (plan.planned == ("x",)) == ("x" not in unservable(instance))


def test_team_whose_day_cannot_fit_its_break_stays_home() -> None:
    # "stuck" needs 3541 s of its 3600 s shift to get home and must rest 60 s at 0: no day at all, even empty
    matrix = np.array([[0, 3541, 10], [3541, 0, 3541], [10, 3541, 0]])
    stuck = Team("stuck", 0, 1, TimeWindow(0, 3600), breaks=(Break(0, 0, 60),))
    home = Team("home", 0, 0, TimeWindow(0, 3600))

    plan = solve(Instance([stuck, home], [Stop("x", 2, 60, must_visit=True)], matrix, matrix))

    assert plan.routes[0].visits == () and plan.routes[1].visits[0].stop == "x"
