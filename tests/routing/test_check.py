"""The checker: a right plan passes, and each kind of wrong plan is caught and named."""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import pairwise
from math import fsum
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from routing.check import CheckReport, assert_feasible, check
from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.plan import BreakTaken, Dropped, DropReason, Plan, Route, SolverStats, Visit
from tests.routing.strategies import small_instances

# A straight road: the depot at 0 m, then stops at 1, 3 and 6 km; the teams drive 10 m/s.
ROAD_M = [0, 1000, 3000, 6000]
DISTANCES_M = [[abs(a - b) for b in ROAD_M] for a in ROAD_M]
DURATIONS_S = [[abs(a - b) // 10 for b in ROAD_M] for a in ROAD_M]
LUNCH = Break(earliest_start_s=2000, latest_start_s=3500, duration_s=600)
NORTH = Team(
    "north", 0, 0, TimeWindow(1000, 20_000), max_visits=3, skills=frozenset({"legal"}), breaks=(LUNCH,), capacity=5
)
SOUTH = Team("south", 0, 0, TimeWindow(1000, 20_000))
STOPS = (
    Stop("a", 1, service_s=300, windows=(TimeWindow(1200, 2000),), demand=2),
    Stop("b", 2, service_s=600, required_skills=frozenset({"legal"}), demand=2),
    Stop("c", 3, service_s=0, windows=(TimeWindow(0, 500), TimeWindow(2500, 9000)), demand=1),
    Stop("d", 1, service_s=300, drop_cost=10),
)
STATS = SolverStats(engine="hand", status="feasible", objective=12_010, wall_s=0.0, seed=0)


def road(*, north: Mapping[str, Any] | None = None, **stops: Mapping[str, Any]) -> Instance:
    """The road instance, with some fields of team north or of stops changed."""
    changed = tuple(replace(stop, **stops.get(stop.key, {})) for stop in STOPS)
    return Instance((replace(NORTH, **(north or {})), SOUTH), changed, DURATIONS_S, DISTANCES_M)


def plan() -> Plan:
    """North serves a, b and c and lunches back at the depot; south stays home; d is dropped."""
    north = Route(
        "north",
        (
            Visit("a", arrival_s=1100, wait_s=100, start_s=1200, departure_s=1500),
            Visit("b", arrival_s=1700, wait_s=0, start_s=1700, departure_s=2300),
            Visit("c", arrival_s=2600, wait_s=0, start_s=2600, departure_s=2600),
        ),
        start_s=1000,
        end_s=3200,
        distance_m=12_000,
        travel_s=1200,
        breaks=(BreakTaken(3200, 600),),
    )
    south = Route("south", (), start_s=1000, end_s=1000, distance_m=0, travel_s=0)
    return Plan((north, south), (Dropped("d", DropReason.LOWER_PRIORITY, "north and south are full"),), STATS)


def edited(
    base: Plan, team: str = "north", *, changes: Mapping[str, Mapping[str, Any]] | None = None, **route: Any
) -> Plan:
    """`base` with some fields of one team's route, and of some of its visits (by stop), changed."""
    routes = []
    for old in base.routes:
        visits = tuple(replace(visit, **(changes or {}).get(visit.stop, {})) for visit in old.visits)
        routes.append(replace(old, **{"visits": visits, **route}) if old.team == team else old)
    return replace(base, routes=tuple(routes))


def only_violation(report: CheckReport, *words: str) -> str:
    assert len(report.violations) == 1, report.violations
    (violation,) = report.violations
    for word in words:
        assert word in violation, violation
    return violation


def test_a_right_plan_passes_with_its_figures_recomputed() -> None:
    report = check(road(), plan())

    assert report == CheckReport(violations=(), distance=12_000.0, travel_s=1200, vehicles_used=1, planned=3, dropped=1)
    assert report.ok


def test_figures_are_recomputed_not_read_from_the_plan() -> None:
    report = check(road(), edited(plan(), distance_m=1, travel_s=1))

    assert (report.distance, report.travel_s) == (12_000.0, 1200)


def test_distance_is_recomputed_in_double_precision_from_a_given_matrix() -> None:
    points = np.array([[0.0, 0.0], [1.0, 1.0], [2.5, 0.5], [0.3, 2.9]])
    euclidean = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    route = [0, 1, 2, 3, 0]

    report = check(road(), plan(), distances=euclidean)

    assert report.distance == fsum(euclidean[i, j] for i, j in pairwise(route))
    assert report.distance != round(report.distance)
    assert report.ok  # the reported integer distance_m is still compared with the instance's matrix


def test_a_distance_matrix_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        check(road(), plan(), distances=np.zeros((3, 3)))


def test_assert_feasible_returns_the_report_or_lists_every_violation() -> None:
    assert assert_feasible(road(), plan()).ok

    with pytest.raises(AssertionError, match=r"2 constraint\(s\)[\s\S]*- .*stop a[\s\S]*- .*stop b"):
        assert_feasible(road(), edited(plan(), changes={"a": {"wait_s": 0}, "b": {"wait_s": 5}}))


def test_leaving_before_the_shift() -> None:
    report = check(road(north={"shift": TimeWindow(1050, 20_000)}), plan())

    only_violation(report, "team north", "leaves at 1000", "1050")


def test_starting_a_visit_after_its_window_closed() -> None:
    report = check(road(a={"windows": (TimeWindow(1000, 1150),)}), plan())

    only_violation(report, "team north", "stop a", "starts at 1200", "1000..1150")


def test_starting_a_visit_before_its_window_opens() -> None:
    report = check(road(c={"windows": (TimeWindow(0, 500), TimeWindow(2700, 9000))}), plan())

    only_violation(report, "team north", "stop c", "starts at 2600", "0..500, 2700..9000")


def test_a_stop_without_windows_must_start_inside_the_shift() -> None:
    report = check(road(north={"shift": TimeWindow(1000, 1650), "breaks": ()}), plan())

    assert any("stop b" in violation and "shift 1000..1650" in violation for violation in report.violations)


def test_arriving_sooner_than_the_road_allows() -> None:
    teleported = edited(plan(), changes={"b": {"arrival_s": 1600, "wait_s": 100}})

    only_violation(check(road(), teleported), "team north", "stop b", "arrives at 1600", "before 1700")


def test_starting_before_arriving() -> None:
    early = edited(plan(), changes={"a": {"arrival_s": 1250, "wait_s": -50}})

    only_violation(check(road(), early), "team north", "stop a", "starts at 1200, before arriving at 1250")


def test_a_wrong_wait() -> None:
    report = check(road(), edited(plan(), changes={"a": {"wait_s": 0}}))

    only_violation(report, "team north", "stop a", "waits 0 s")


def test_a_wrong_departure() -> None:
    report = check(road(), edited(plan(), changes={"a": {"departure_s": 1400}}))

    only_violation(report, "team north", "stop a", "leaves at 1400", "300 s")


def test_the_next_arrival_counts_from_the_true_departure() -> None:
    # Reporting an early departure from a does not let the team reach b sooner.
    report = check(
        road(), edited(plan(), changes={"a": {"departure_s": 1300}, "b": {"arrival_s": 1500, "wait_s": 200}})
    )

    assert len(report.violations) == 2
    assert any("stop b" in violation and "before 1700" in violation for violation in report.violations)


def test_coming_back_after_the_shift() -> None:
    late = edited(plan(), end_s=20_100, breaks=())
    report = check(road(north={"breaks": ()}), late)

    only_violation(report, "team north", "back at 20100", "after its shift ends at 20000")


def test_coming_back_sooner_than_the_road_allows() -> None:
    report = check(road(north={"breaks": ()}), edited(plan(), end_s=3100, breaks=()))

    only_violation(report, "team north", "back at 3100", "before 3200")


def test_a_stop_planned_and_dropped() -> None:
    twice = replace(plan(), dropped=(*plan().dropped, Dropped("a", DropReason.LOWER_PRIORITY, "far")))

    only_violation(check(road(), twice), "stop a", "2 times", "team north", "dropped")


def test_a_stop_visited_by_two_teams() -> None:
    also_a = Visit("a", arrival_s=1100, wait_s=100, start_s=1200, departure_s=1500)
    both = edited(plan(), "south", visits=(also_a,), end_s=1600, distance_m=2000, travel_s=200)

    only_violation(check(road(), both), "stop a appears 2 times (team north, team south)")


def test_a_stop_neither_planned_nor_dropped() -> None:
    report = check(road(), replace(plan(), dropped=()))

    only_violation(report, "stop d", "neither planned nor dropped")


def test_an_unknown_stop_is_named() -> None:
    extra = replace(plan(), dropped=(*plan().dropped, Dropped("zz", DropReason.PIN_IMPOSSIBLE, "no such pin")))

    only_violation(check(road(), extra), "unknown stop zz", "dropped")


def test_an_unknown_stop_on_a_route_is_named_and_the_route_still_counted() -> None:
    ghost = Visit("zz", arrival_s=2600, wait_s=0, start_s=2600, departure_s=2600)
    haunted = edited(plan(), visits=(*plan().routes[0].visits, ghost))

    report = check(road(), haunted)

    only_violation(report, "unknown stop zz", "team north")
    assert report.distance == 12_000.0


def test_a_route_of_an_unknown_team() -> None:
    stray = replace(plan(), routes=(*plan().routes, Route("east", (), 0, 0, 0, 0)))

    only_violation(check(road(), stray), "unknown team east")


def test_two_routes_for_one_team() -> None:
    doubled = replace(plan(), routes=(*plan().routes, Route("south", (), 1000, 1000, 0, 0)))

    only_violation(check(road(), doubled), "team south has 2 routes")


def test_a_team_without_the_skill() -> None:
    report = check(road(north={"skills": frozenset({"mandarin"})}), plan())

    only_violation(report, "team north lacks skill(s) legal", "stop b")


def test_a_stop_pinned_to_another_team() -> None:
    report = check(road(c={"pin_team": "south"}), plan())

    only_violation(report, "stop c is pinned to team south", "team north")


def test_a_stop_pinned_to_another_position() -> None:
    assert check(road(c={"pin_team": "north", "pin_position": 3}), plan()).ok

    report = check(road(c={"pin_team": "north", "pin_position": 1}), plan())

    only_violation(report, "stop c", "position 1 of team north", "at position 3")


def test_more_visits_than_the_team_may_make() -> None:
    report = check(road(north={"max_visits": 2}), plan())

    only_violation(report, "team north", "3 visits", "max_visits 2")


def test_more_demand_than_the_team_carries() -> None:
    report = check(road(north={"capacity": 4}), plan())

    only_violation(report, "team north", "demand of 5", "capacity 4")


def test_a_break_between_visits_delays_the_next_service() -> None:
    lunch_on_the_way = edited(
        plan(),
        changes={"c": {"arrival_s": 3200, "start_s": 3200, "departure_s": 3200}},
        end_s=3800,
        breaks=(BreakTaken(2300, 600),),
    )
    assert check(road(), lunch_on_the_way).ok

    no_room = edited(
        lunch_on_the_way,
        changes={"c": {"arrival_s": 2600, "wait_s": 300, "start_s": 2900, "departure_s": 2900}},
        end_s=3500,
    )
    report = check(road(), no_room)

    only_violation(report, "team north", "between stop b and stop c", "300 s of travel and 600 s of break")


def test_a_break_overlapping_a_visit() -> None:
    report = check(road(), edited(plan(), breaks=(BreakTaken(2000, 600),)))

    only_violation(report, "team north", "break at 2000..2600", "overlaps the visit to stop b (1700..2300)")


def test_a_break_not_taken() -> None:
    report = check(road(), edited(plan(), breaks=()))

    only_violation(report, "team north", "does not take its 600 s break", "2000..3500")


def test_a_break_too_short_or_outside_its_window_matches_none() -> None:
    for taken in (BreakTaken(3200, 500), BreakTaken(3600, 600)):
        violations = check(road(), edited(plan(), breaks=(taken,))).violations

        assert any(f"break at {taken.start_s} for {taken.duration_s} s" in violation for violation in violations)
        assert any("does not take its 600 s break" in violation for violation in violations)


def test_a_break_taken_twice() -> None:
    violations = check(road(), edited(plan(), breaks=(BreakTaken(3200, 600), BreakTaken(3500, 600)))).violations

    assert any("matches none" in violation for violation in violations)
    assert any("overlapping breaks at 3200 and 3500" in violation for violation in violations)


def test_breaks_are_matched_to_the_breaks_they_fit() -> None:
    # Taken in this order, a greedy pairing would give the first taken break to the wide one and miss the narrow one.
    wide, narrow = Break(2000, 6000, 600), Break(3200, 3200, 600)
    two_breaks = road(north={"breaks": (wide, narrow)})

    report = check(two_breaks, edited(plan(), breaks=(BreakTaken(3200, 600), BreakTaken(3800, 600))))

    assert report.ok, report.violations


def test_a_must_visit_stop_dropped() -> None:
    report = check(road(d={"must_visit": True}), plan())

    only_violation(report, "must-visit stop d is dropped", "lower_priority")


def test_a_drop_needs_a_reason_and_a_detail() -> None:
    vague = replace(plan(), dropped=(Dropped("d", "busy", "  "),))  # type: ignore[arg-type]

    violations = check(road(), vague).violations

    assert violations == (
        "dropped stop d: reason 'busy' is not a DropReason",
        "dropped stop d: the reason has no detail",
    )


def test_a_wrong_reported_distance() -> None:
    report = check(road(), edited(plan(), distance_m=11_000))

    only_violation(report, "team north reports distance_m 11000", "12000 m")


def test_a_wrong_reported_travel_time() -> None:
    report = check(road(), edited(plan(), travel_s=1000))

    only_violation(report, "team north reports travel_s 1000", "1200 s")


def test_a_team_staying_home_travels_nothing() -> None:
    report = check(road(), edited(plan(), "south", distance_m=5))

    only_violation(report, "team south reports distance_m 5", "0 m")


def earliest_start(team: Team, stop: Stop, arrival_s: int) -> int | None:
    """The first moment at or after `arrival_s` the visit to `stop` may start, or None."""
    windows = stop.windows or (team.shift,)
    return next((max(arrival_s, window.start_s) for window in windows if window.end_s >= arrival_s), None)


def schedule(instance: Instance, team: Team, stops: Sequence[Stop], break_gap: int) -> Route | None:
    """`stops` in order for `team` at the earliest times, its break (if any) taken in gap `break_gap` (0: before
    leaving, i: after the i-th visit, len(stops) + 1: after coming back); None if that does not fit."""
    taken: list[BreakTaken] = []

    def rest_from(now_s: int, gap: int) -> int | None:
        if not team.breaks or gap != break_gap:
            return now_s
        rest = team.breaks[0]
        start_s = max(now_s, rest.earliest_start_s)
        taken.append(BreakTaken(start_s, rest.duration_s))
        return start_s + rest.duration_s if start_s <= rest.latest_start_s else None

    if not stops:
        return Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0)
    leave_s = rest_from(team.shift.start_s, 0)
    location, now_s, visits, travel_s, distance_m = team.start_location, leave_s, [], 0, 0
    for gap, stop in enumerate([*stops, None], start=1):
        if now_s is None:
            return None
        target = team.end_location if stop is None else stop.location
        arrival_s = now_s + int(instance.durations_s[location, target])
        travel_s += int(instance.durations_s[location, target])
        distance_m += int(instance.distances_m[location, target])
        if stop is None:
            end_s = arrival_s
            if rest_from(end_s, gap) is None or end_s > team.shift.end_s:
                return None
            assert leave_s is not None
            return Route(team.key, tuple(visits), leave_s, end_s, distance_m, travel_s, tuple(taken))
        start_s = earliest_start(team, stop, arrival_s)
        if start_s is None:
            return None
        visits.append(Visit(stop.key, arrival_s, start_s - arrival_s, start_s, start_s + stop.service_s))
        location, now_s = stop.location, rest_from(start_s + stop.service_s, gap)
    raise AssertionError("unreachable: the loop returns at the end location")


def may_append(team: Team, route: Sequence[Stop], stop: Stop) -> bool:
    return (
        stop.required_skills <= team.skills
        and stop.pin_team in (None, team.key)
        and stop.pin_position in (None, len(route) + 1)
        and (team.max_visits is None or len(route) < team.max_visits)
        and (team.capacity is None or sum(one.demand for one in route) + stop.demand <= team.capacity)
    )


def greedy_plan(instance: Instance, break_offset: int) -> Plan:
    """A plan that keeps every rule: each team in turn appends every stop it can still fit, in the instance's order,
    trying its break in each gap from `break_offset` on. A test oracle, independent of the checker's code."""
    left = list(instance.stops)
    routes = []
    for team in instance.teams:
        stops: list[Stop] = []
        route = schedule(instance, team, stops, 0)
        for stop in list(left):
            if not may_append(team, stops, stop):
                continue
            gaps = len(stops) + 3
            fits = (schedule(instance, team, [*stops, stop], (break_offset + i) % gaps) for i in range(gaps))
            found = next((one for one in fits if one is not None), None)
            if found is not None:
                stops.append(stop)
                left.remove(stop)
                route = found
        assert route is not None
        routes.append(route)
    dropped = tuple(Dropped(stop.key, DropReason.LOWER_PRIORITY, "no team could fit it") for stop in left)
    return Plan(tuple(routes), dropped, STATS)


def must_visit_drops(instance: Instance, plan: Plan) -> tuple[str, ...]:
    must = {stop.key for stop in instance.stops if stop.must_visit}
    return tuple(
        f"must-visit stop {one.stop} is dropped ({one.reason}: {one.detail})"
        for one in plan.dropped
        if one.stop in must
    )


@settings(max_examples=40, deadline=None)
@given(small_instances())
def test_random_instances_construct_with_metric_matrices(instance: Instance) -> None:
    assert 1 <= len(instance.teams) <= 3
    assert 0 <= len(instance.stops) <= 8
    for matrix in (instance.durations_s, instance.distances_m):
        assert (np.diag(matrix) == 0).all()
        assert (matrix == matrix.T).all()
        through = matrix[:, :, None] + matrix[None, :, :]  # i -> j -> k
        assert (matrix[:, None, :] <= through).all()


def test_random_instances_include_pins_breaks_windows_and_must_visits() -> None:
    seen: set[str] = set()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(small_instances())
    def collect(instance: Instance) -> None:
        for stop in instance.stops:
            seen.update(
                name
                for name, present in (
                    ("pin", stop.pin_team is not None),
                    ("position", stop.pin_position is not None),
                    ("two windows", len(stop.windows) == 2),
                    ("must", stop.must_visit),
                    ("skill", bool(stop.required_skills)),
                )
                if present
            )
        seen.update("break" for team in instance.teams if team.breaks)
        seen.update("capacity" for team in instance.teams if team.capacity is not None)
        seen.update("3 teams" for _ in [instance] if len(instance.teams) == 3)

    collect()

    assert seen == {"pin", "position", "two windows", "must", "skill", "break", "capacity", "3 teams"}


@settings(max_examples=20, deadline=None)
@given(small_instances(with_loads=False))
def test_random_instances_without_loads_for_engines_without_capacities(instance: Instance) -> None:
    assert all(team.capacity is None for team in instance.teams)
    assert all(stop.demand == 0 for stop in instance.stops)


@settings(max_examples=40, deadline=None)
@given(small_instances())
def test_dropping_everything_only_breaks_the_must_visit_rule(instance: Instance) -> None:
    home = tuple(Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0) for team in instance.teams)
    dropped = tuple(Dropped(stop.key, DropReason.LOWER_PRIORITY, "the day is full") for stop in instance.stops)
    plan = Plan(home, dropped, STATS)

    report = check(instance, plan)

    assert report.violations == must_visit_drops(instance, plan)
    assert (report.distance, report.vehicles_used, report.dropped) == (0.0, 0, len(instance.stops))


@settings(max_examples=60, deadline=None)
@given(small_instances(), st.integers(0, 10))
def test_plans_that_keep_every_rule_pass(instance: Instance, break_offset: int) -> None:
    plan = greedy_plan(instance, break_offset)

    report = check(instance, plan)

    assert report.violations == must_visit_drops(instance, plan)
    assert report.travel_s == plan.travel_s
    assert report.distance == plan.distance_m
    assert report.planned + report.dropped == len(instance.stops)


@settings(max_examples=50, deadline=None)
@given(small_instances(), st.integers(0, 10), st.data())
def test_any_wrong_visit_is_caught_and_named(instance: Instance, break_offset: int, data: st.DataObject) -> None:
    plan = greedy_plan(instance, break_offset)
    assume(plan.planned)
    route = data.draw(st.sampled_from([one for one in plan.routes if one.visits]))
    visit = data.draw(st.sampled_from(route.visits))
    mutation = data.draw(st.sampled_from(["departure", "wait", "arrival", "forget", "distance"]))
    visits = {
        "departure": [replace(visit, departure_s=visit.departure_s + 1)],
        "wait": [replace(visit, wait_s=visit.wait_s + 1)],
        "arrival": [replace(visit, arrival_s=visit.start_s + 1)],
        "forget": [],
        "distance": [visit],
    }[mutation]
    changed = tuple(one for old in route.visits for one in (visits if old is visit else [old]))
    extra = 1 if mutation == "distance" else 0
    wrong = edited(plan, route.team, visits=changed, distance_m=route.distance_m + extra)

    violations = check(instance, wrong).violations

    named = f"team {route.team}" if mutation == "distance" else f"stop {visit.stop}"
    assert any(named in violation for violation in violations), violations
