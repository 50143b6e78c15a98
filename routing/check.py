"""An independent check of a Plan against its Instance.

Nothing the plan reports is trusted: times, distances and counts are recomputed from the instance's matrices along
each route's order of stops, and every constraint of the model is tested again. Tests and benchmarks run every plan
through :func:`check` (or :func:`assert_feasible`), whichever engine produced it.

Conventions the checker holds a plan to:

- A route with no visits means the team stays home: it travels nothing (distance_m and travel_s are 0), needs no
  break, and only has to keep start_s <= end_s inside its shift.
- A route with visits leaves the start location at start_s, reaches each stop no earlier than the previous departure
  (or start_s) plus the travel time, may wait, starts the service inside one of the stop's windows (or inside the
  shift when the stop has none), leaves service_s later, and is back at the end location at end_s, by the shift's end.
- Each of the team's breaks is taken once on a route with visits, at a start within its [earliest, latest], for its
  duration. A break is taken before leaving, after coming back, or between two visits; there it adds to the travel:
  the next service (or the return) cannot start before the previous departure + travel + the breaks in between.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import fsum

import numpy as np
import numpy.typing as npt

from routing.model import Break, Instance, Stop, Team
from routing.plan import BreakTaken, DropReason, Plan, Route


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What the checker found: the violations (one readable line each) and the plan's figures, recomputed."""

    violations: tuple[str, ...]
    distance: float  # total over the routes, from the `distances` matrix given to check(), else each team's
    travel_s: int
    vehicles_used: int  # routes with at least one visit
    planned: int  # visits on the routes
    dropped: int  # entries in Plan.dropped

    @property
    def ok(self) -> bool:
        return not self.violations


def check(instance: Instance, plan: Plan, *, distances: npt.ArrayLike | None = None) -> CheckReport:
    """Verify `plan` against every constraint of `instance` and recompute its figures from scratch.

    `distances`, when given, is a matrix of the instance's shape (e.g. double-precision Euclidean distances of a
    benchmark) used for CheckReport.distance; the routes' reported integer distance_m are always compared with
    each team's `Instance.distances_of`. Raises ValueError if `distances` does not have the instance's shape.
    """
    metric = _distance_metric(instance, distances)
    teams = {team.key: team for team in instance.teams}
    stops = {stop.key: stop for stop in instance.stops}
    violations = [*_team_violations(plan, teams), *_accounting_violations(plan, stops), *_drop_violations(plan, stops)]
    distance = 0.0
    travel_s = 0
    for route in plan.routes:
        team = teams.get(route.team)
        if team is None:
            continue
        known = [stops[visit.stop] for visit in route.visits if visit.stop in stops]
        locations = _locations(team, known)
        travelled = metric if metric is not None else instance.distances_of(team)
        distance += fsum(travelled[locations[:-1], locations[1:]].tolist())
        travel_s += int(instance.durations_of(team)[locations[:-1], locations[1:]].sum())
        if len(known) == len(route.visits):  # unknown stops are reported above; a route with them has no timing
            violations += _route_violations(instance, team, route, known)
    return CheckReport(
        violations=tuple(violations),
        distance=distance,
        travel_s=travel_s,
        vehicles_used=sum(1 for route in plan.routes if route.visits),
        planned=len(plan.planned),
        dropped=len(plan.dropped),
    )


def assert_feasible(instance: Instance, plan: Plan, *, distances: npt.ArrayLike | None = None) -> CheckReport:
    """Run :func:`check` and raise AssertionError listing every violation; return the report when there is none."""
    report = check(instance, plan, distances=distances)
    if not report.ok:
        lines = "\n".join(f"- {violation}" for violation in report.violations)
        raise AssertionError(f"the plan violates {len(report.violations)} constraint(s):\n{lines}")
    return report


def _distance_metric(instance: Instance, distances: npt.ArrayLike | None) -> npt.NDArray[np.float64] | None:
    """The benchmark's distances given, checked; None: each team's own `distances_of`."""
    if distances is None:
        return None
    metric = np.asarray(distances, dtype=np.float64)
    if metric.shape != instance.distances_m.shape:
        raise ValueError(f"distances has shape {metric.shape}, the instance's matrices {instance.distances_m.shape}")
    return metric


def _locations(team: Team, stops: Sequence[Stop]) -> npt.NDArray[np.intp]:
    if not stops:
        return np.zeros(0, dtype=np.intp)
    return np.array([team.start_location, *(stop.location for stop in stops), team.end_location], dtype=np.intp)


def _team_violations(plan: Plan, teams: dict[str, Team]) -> list[str]:
    violations = []
    for key, count in Counter(route.team for route in plan.routes).items():
        if key not in teams:
            violations.append(f"a route belongs to unknown team {key}")
        elif count > 1:
            violations.append(f"team {key} has {count} routes")
    return violations


def _accounting_violations(plan: Plan, stops: dict[str, Stop]) -> list[str]:
    places: dict[str, list[str]] = defaultdict(list)
    for route in plan.routes:
        for visit in route.visits:
            places[visit.stop].append(f"team {route.team}")
    for dropped in plan.dropped:
        places[dropped.stop].append("dropped")
    violations = []
    for key, where in places.items():
        if key not in stops:
            violations.append(f"unknown stop {key} ({', '.join(where)})")
        elif len(where) > 1:
            violations.append(f"stop {key} appears {len(where)} times ({', '.join(where)})")
    violations += [f"stop {key} is neither planned nor dropped" for key in stops if key not in places]
    return violations


def _drop_violations(plan: Plan, stops: dict[str, Stop]) -> list[str]:
    violations = []
    for dropped in plan.dropped:
        if not isinstance(dropped.reason, DropReason):
            violations.append(f"dropped stop {dropped.stop}: reason {dropped.reason!r} is not a DropReason")
        if not isinstance(dropped.detail, str) or not dropped.detail.strip():
            violations.append(f"dropped stop {dropped.stop}: the reason has no detail")
        stop = stops.get(dropped.stop)
        if stop is not None and stop.must_visit:
            violations.append(f"must-visit stop {dropped.stop} is dropped ({dropped.reason}: {dropped.detail})")
    return violations


def _route_violations(instance: Instance, team: Team, route: Route, stops: Sequence[Stop]) -> list[str]:
    return [
        *_load_violations(team, stops),
        *(
            line
            for position, stop in enumerate(stops, start=1)
            for line in _assignment_violations(team, stop, position)
        ),
        *_timing_violations(instance, team, route, stops),
        *_break_violations(instance, team, route, stops),
        *_reported_violations(instance, team, route, stops),
    ]


def _load_violations(team: Team, stops: Sequence[Stop]) -> list[str]:
    violations = []
    if team.max_visits is not None and len(stops) > team.max_visits:
        violations.append(f"team {team.key} makes {len(stops)} visits, more than its max_visits {team.max_visits}")
    load = sum(stop.demand for stop in stops)
    if team.capacity is not None and load > team.capacity:
        violations.append(f"team {team.key} carries a demand of {load}, more than its capacity {team.capacity}")
    return violations


def _assignment_violations(team: Team, stop: Stop, position: int) -> list[str]:
    violations = []
    missing = stop.required_skills - team.skills
    if missing:
        violations.append(f"team {team.key} lacks skill(s) {', '.join(sorted(missing))} required by stop {stop.key}")
    if stop.pin_team is not None and stop.pin_team != team.key:
        violations.append(f"stop {stop.key} is pinned to team {stop.pin_team} but visited by team {team.key}")
    elif stop.pin_position is not None and stop.pin_position != position:
        violations.append(
            f"stop {stop.key} is pinned to position {stop.pin_position} of team {team.key}'s route"
            f" but is at position {position}"
        )
    return violations


def _timing_violations(instance: Instance, team: Team, route: Route, stops: Sequence[Stop]) -> list[str]:
    shift = team.shift
    violations = []
    if route.start_s < shift.start_s:
        violations.append(f"team {team.key} leaves at {route.start_s}, before its shift starts at {shift.start_s}")
    if route.end_s > shift.end_s:
        violations.append(f"team {team.key} is back at {route.end_s}, after its shift ends at {shift.end_s}")
    if not stops:
        if route.end_s < route.start_s:
            violations.append(f"team {team.key} is back at {route.end_s}, before it leaves at {route.start_s}")
        return violations
    location, ready_s = team.start_location, route.start_s
    for visit, stop in zip(route.visits, stops, strict=True):
        earliest_s = ready_s + int(instance.durations_of(team)[location, stop.location])
        where = f"team {team.key}, stop {stop.key}"
        if visit.arrival_s < earliest_s:
            violations.append(f"{where}: arrives at {visit.arrival_s}, but cannot arrive before {earliest_s}")
        if visit.start_s < visit.arrival_s:
            violations.append(f"{where}: starts at {visit.start_s}, before arriving at {visit.arrival_s}")
        if visit.wait_s != visit.start_s - visit.arrival_s:
            violations.append(
                f"{where}: waits {visit.wait_s} s, but arrives at {visit.arrival_s} and starts at {visit.start_s}"
            )
        if visit.departure_s != visit.start_s + stop.service_s:
            violations.append(
                f"{where}: leaves at {visit.departure_s}, but starts at {visit.start_s} for {stop.service_s} s"
            )
        if not _may_start(team, stop, visit.start_s):
            violations.append(f"{where}: starts at {visit.start_s}, outside {_windows_text(team, stop)}")
        location, ready_s = stop.location, visit.start_s + stop.service_s
    back_s = ready_s + int(instance.durations_of(team)[location, team.end_location])
    if route.end_s < back_s:
        violations.append(f"team {team.key} is back at {route.end_s}, but cannot be back before {back_s}")
    return violations


def _may_start(team: Team, stop: Stop, start_s: int) -> bool:
    if not stop.windows:
        return team.shift.contains(start_s)
    return any(window.contains(start_s) for window in stop.windows)


def _windows_text(team: Team, stop: Stop) -> str:
    if not stop.windows:
        return f"team {team.key}'s shift {team.shift.start_s}..{team.shift.end_s}"
    return "its windows " + ", ".join(f"{window.start_s}..{window.end_s}" for window in stop.windows)


@dataclass(frozen=True, slots=True)
class _Gap:
    """Time between two fixed points of a route (leaving, a service, coming back) that travel and breaks must fit."""

    after: str
    before: str
    start_s: int
    end_s: int
    travel_s: int


def _gaps(instance: Instance, team: Team, route: Route, stops: Sequence[Stop]) -> list[_Gap]:
    if not stops:
        return [_Gap("leaving", "coming back", route.start_s, route.end_s, 0)]
    names = ["leaving", *(f"stop {stop.key}" for stop in stops), "coming back"]
    starts = [route.start_s, *(visit.start_s + stop.service_s for visit, stop in zip(route.visits, stops, strict=True))]
    ends = [*(visit.start_s for visit in route.visits), route.end_s]
    locations = _locations(team, stops)
    travel = instance.durations_of(team)[locations[:-1], locations[1:]]
    return [
        _Gap(names[index], names[index + 1], starts[index], ends[index], int(travel[index]))
        for index in range(len(starts))
    ]


def _break_violations(instance: Instance, team: Team, route: Route, stops: Sequence[Stop]) -> list[str]:
    if not route.breaks and not (stops and team.breaks):
        return []
    unmatched_rests, unmatched_taken = _match_breaks(team.breaks, route.breaks)
    violations = [
        f"team {team.key} takes a break at {taken.start_s} for {taken.duration_s} s that matches none of its breaks"
        for taken in unmatched_taken
    ]
    if stops:
        violations += [
            f"team {team.key} does not take its {rest.duration_s} s break due to start within"
            f" {rest.earliest_start_s}..{rest.latest_start_s}"
            for rest in unmatched_rests
        ]
    ordered = sorted(route.breaks, key=lambda taken: taken.start_s)
    for before, after in pairwise(ordered):
        if after.start_s < before.start_s + before.duration_s:
            violations.append(f"team {team.key} takes overlapping breaks at {before.start_s} and {after.start_s}")
    gaps = _gaps(instance, team, route, stops)
    inside: dict[int, int] = defaultdict(int)
    for taken in route.breaks:
        end_s = taken.start_s + taken.duration_s
        if end_s <= route.start_s or taken.start_s >= route.end_s:
            continue
        index = next((i for i, gap in enumerate(gaps) if gap.start_s <= taken.start_s and end_s <= gap.end_s), None)
        if index is None:
            violations.append(_misplaced_break(team, route, stops, taken))
        else:
            inside[index] += taken.duration_s
    for index, rest_s in inside.items():
        gap = gaps[index]
        if gap.end_s - gap.start_s < gap.travel_s + rest_s:
            violations.append(
                f"team {team.key}: between {gap.after} and {gap.before} ({gap.start_s}..{gap.end_s}) there is no"
                f" room for {gap.travel_s} s of travel and {rest_s} s of break"
            )
    return violations


def _misplaced_break(team: Team, route: Route, stops: Sequence[Stop], taken: BreakTaken) -> str:
    end_s = taken.start_s + taken.duration_s
    for visit, stop in zip(route.visits, stops, strict=True):
        departure_s = visit.start_s + stop.service_s
        if visit.start_s < end_s and taken.start_s < departure_s:
            return (
                f"team {team.key}: break at {taken.start_s}..{end_s} overlaps the visit to stop {stop.key}"
                f" ({visit.start_s}..{departure_s})"
            )
    return (
        f"team {team.key}: break at {taken.start_s}..{end_s} is neither before leaving, between two visits"
        f" nor after coming back"
    )


def _match_breaks(rests: Sequence[Break], taken: Sequence[BreakTaken]) -> tuple[list[Break], list[BreakTaken]]:
    """Pair each break the team owes with one taken that fits it (a bipartite matching, as the windows may overlap);
    return what is left unpaired on each side."""
    fits = [[t for t, one in enumerate(taken) if _fits(rest, one)] for rest in rests]
    owner: dict[int, int] = {}  # taken index -> rest index

    def assign(rest: int, seen: set[int]) -> bool:
        for t in fits[rest]:
            if t not in seen:
                seen.add(t)
                if t not in owner or assign(owner[t], seen):
                    owner[t] = rest
                    return True
        return False

    paired = {rest for rest in range(len(rests)) if assign(rest, set())}
    return (
        [rest for index, rest in enumerate(rests) if index not in paired],
        [one for index, one in enumerate(taken) if index not in owner],
    )


def _fits(rest: Break, taken: BreakTaken) -> bool:
    return taken.duration_s == rest.duration_s and rest.earliest_start_s <= taken.start_s <= rest.latest_start_s


def _reported_violations(instance: Instance, team: Team, route: Route, stops: Sequence[Stop]) -> list[str]:
    locations = _locations(team, stops)
    distance_m = int(instance.distances_of(team)[locations[:-1], locations[1:]].sum())
    travel_s = int(instance.durations_of(team)[locations[:-1], locations[1:]].sum())
    violations = []
    if route.distance_m != distance_m:
        violations.append(f"team {team.key} reports distance_m {route.distance_m}, its route is {distance_m} m")
    if route.travel_s != travel_s:
        violations.append(f"team {team.key} reports travel_s {route.travel_s}, its route takes {travel_s} s")
    return violations
