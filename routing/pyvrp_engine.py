"""PyVRP as a second engine for the part of the model it expresses exactly.

Mapping: every distinct team start or end location is a depot; teams alike in everything PyVRP sees (depots, shift,
capacities) share one vehicle type with as many vehicles as teams, which keeps PyVRP fast on days with hundreds of
teams. A vehicle type's time window is the shift: leave at or after `shift.start_s`, back by `shift.end_s`.
Every stop that some plan can include (see `routing.reasons.unservable`) is a client per time window (several
windows: a mutually exclusive client group), with its service time; must-visit stops are required, the others
optional with their drop cost as prize, so PyVRP's objective (distance + uncollected prizes) is ours (distance + drop
costs). Demand, skills, visit limits and team pins are load dimensions: a stop delivers its demand, or one unit in
each dimension that restricts it, and a team has capacity only where it is allowed. Position pins have no faithful
PyVRP counterpart, and neither have breaks: for a day with breaks, PyVRP only plans the routes OR-Tools starts from
(`seed_routes`).

Given a previous plan (`initial_routes`), the search starts from it instead of a random solution; a search may stop
once it has settled (`routing.settle`), at the latest at the time limit.
"""

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning

from routing.breaks import trim
from routing.model import Instance, Stop, Team
from routing.plan import Plan, Route, SolverStats, Visit
from routing.reasons import explain_dropped, unservable
from routing.settle import Settling, patience_s


@dataclass(frozen=True, slots=True)
class _Dimension:
    """One load dimension: the units each stop delivers and the capacity of each team."""

    delivery: tuple[int, ...]
    capacity: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Clients:
    """What PyVRP's indices stand for: `stops[i]` is client i's stop, `teams_of_type[k]` the rows in
    `Instance.teams` of the teams of vehicle type k."""

    stops: tuple[Stop, ...]
    teams_of_type: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class _Stop:
    """A PyVRP stopping criterion: `settling` says when. PyVRP's own MaxRuntime starts counting only after its
    initial local search, which takes most of a second on a 1,000-stop day."""

    settling: Settling

    def __call__(self, best_cost: float) -> bool:
        self.settling.improved(best_cost)
        return self.settling.over()


def solve_pyvrp(
    instance: Instance,
    *,
    time_limit: timedelta,
    seed: int = 0,
    initial_routes: Mapping[str, Sequence[str]] | None = None,
    settle: bool | None = None,
) -> Plan | None:
    """Plan the day with PyVRP's iterated local search, or return None (before solving) when PyVRP cannot express
    the instance faithfully: team breaks, stops pinned to a position, or matrices with a non-zero diagonal (PyVRP
    rejects them).

    Stops no plan can include (`routing.reasons.unservable`, must-visit ones too) are left out of PyVRP's model and
    dropped with their reason; the stops PyVRP leaves out are explained by `routing.reasons.explain_dropped`.
    `stats.status` is "feasible", or "infeasible" when PyVRP's best solution breaks a constraint, e.g. must-visit
    stops that each fit alone but not together: the caller should then prefer OR-Tools' plan. `stats.objective` is
    the distance plus the drop costs of the optional stops dropped.

    The time limit counts from the call: PyVRP's set-up and first local search are inside it, though that first
    search is never cut short. Timings are recomputed from the matrices: each team leaves at its shift start and
    starts each visit as early as its windows allow. `seed` seeds PyVRP's random number generator; PyVRP stops on
    wall-clock time, so two runs with the same seed and limit can differ in how many iterations they get through,
    and so in the plan found. With `initial_routes` (stop keys in order, per team key; keys of stops that no plan
    can include, or that the instance lacks, are skipped) the search starts from them. With `settle` it stops once
    settled; by default it does when it starts from `initial_routes`.
    """
    if not expressible(instance):
        return None
    started = time.perf_counter()
    until = started + time_limit.total_seconds()
    settles = initial_routes is not None if settle is None else settle
    orders, feasible = _search(instance, until, seed, relax_breaks=False, initial_routes=initial_routes, settle=settles)
    keys = {team: [stop.key for stop in stops] for team, stops in orders.items()}
    return plan_of(instance, keys, feasible=feasible, seed=seed, wall_s=time.perf_counter() - started)


def plan_of(
    instance: Instance, routes: Mapping[str, Sequence[str]], *, feasible: bool, seed: int, wall_s: float
) -> Plan:
    """PyVRP's plan of the day from each team's stop keys in order (a team without any stays home); `feasible`
    is whether PyVRP found them feasible."""
    by_key = {stop.key: stop for stop in instance.stops}
    ordered = tuple(
        _route(instance, team, [by_key[key] for key in routes.get(team.key, ())]) for team in instance.teams
    )
    planned = {visit.stop for route in ordered for visit in route.visits}
    left_out = [stop for stop in instance.stops if stop.key not in planned]
    objective = sum(route.distance_m for route in ordered) + sum(s.drop_cost for s in left_out if not s.must_visit)
    stats = SolverStats(
        engine="pyvrp",
        status="feasible" if feasible else "infeasible",
        objective=objective,
        wall_s=wall_s,
        seed=seed,
    )
    return Plan(routes=ordered, dropped=explain_dropped(instance, [stop.key for stop in left_out]), stats=stats)


def seed_routes(
    instance: Instance,
    *,
    time_limit: timedelta,
    seed: int = 0,
    settle: bool = False,
) -> dict[str, list[str]] | None:
    """Routes for OR-Tools to start from on an instance PyVRP expresses but for its team breaks, or None when it
    does not (position pins, a non-zero diagonal).

    PyVRP plans the day without breaks, each team's route lasting at most its shift less its breaks, so that room
    for them is left; each route is then trimmed (`routing.breaks.trim`) until the team can take its breaks on it.
    The result maps team keys to stop keys in order; the stops left out are for OR-Tools to place or drop.
    With `settle`, PyVRP stops once settled.
    """
    if not expressible(instance, breaks=False):
        return None
    until = time.perf_counter() + time_limit.total_seconds()
    orders, _ = _search(instance, until, seed, relax_breaks=True, settle=settle)
    return {
        team.key: [stop.key for stop in trim(instance, team, orders[team.key])]
        for team in instance.teams
        if orders[team.key]
    }


def expressible(instance: Instance, *, breaks: bool = True) -> bool:
    """Whether PyVRP's model holds every constraint and cost of the instance exactly (with `breaks` False: every one
    but the team breaks and the cost of moving a stop off its home team, which OR-Tools adds when it takes PyVRP's
    routes over)."""
    return (
        not (breaks and any(team.breaks for team in instance.teams))
        and not (breaks and any(stop.move_cost for stop in instance.stops))
        and not any(stop.pin_position is not None for stop in instance.stops)
        and not any(
            np.diagonal(matrix).any()
            for profile in range(instance.profile_count)
            for matrix in instance.matrices_of(profile)
        )
    )


def _search(
    instance: Instance,
    until: float,
    seed: int,
    *,
    relax_breaks: bool,
    initial_routes: Mapping[str, Sequence[str]] | None = None,
    settle: bool = False,
) -> tuple[dict[str, list[Stop]], bool]:
    """PyVRP's iterated local search until `until` (a `time.perf_counter()` instant) over the stops some plan can
    include, from `initial_routes` when given, and with `settle` only until settled: each team's stops in order,
    and whether PyVRP's best solution is feasible for its model."""
    impossible = unservable(instance)
    candidates = [stop for stop in instance.stops if stop.key not in impossible]
    data, clients = _problem_data(instance, candidates, relax_breaks=relax_breaks)
    start = None if initial_routes is None else _solution(instance, data, clients, initial_routes)
    settling = Settling(until, patience_s(len(candidates)) if settle else None)
    with warnings.catch_warnings():
        # PyVRP warns when it struggles to find a feasible solution; the plan's status already says so
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(data, _Stop(settling), seed=seed, collect_stats=False, initial_solution=start)
    return _orders(instance, result.best, clients), result.best.is_feasible()


def _solution(
    instance: Instance, data: pyvrp.ProblemData, clients: _Clients, routes: Mapping[str, Sequence[str]]
) -> pyvrp.Solution:
    """`routes` as a PyVRP solution: each team's route on its vehicle type, each stop as the client of the first of
    its windows that the route's earliest timing can use; stops outside the model are skipped. It may break
    constraints (a stop moved onto a team by a pin, say): PyVRP's search repairs what it penalises."""
    of_stop: dict[str, list[int]] = {}
    for index, stop in enumerate(clients.stops):
        of_stop.setdefault(stop.key, []).append(index)
    type_of = {row: kind for kind, rows in enumerate(clients.teams_of_type) for row in rows}
    built = []
    for row, team in enumerate(instance.teams):
        clock, here, visits = team.shift.start_s, team.start_location, []
        for key in (key for key in routes.get(team.key, ()) if key in of_stop):
            stop = clients.stops[of_stop[key][0]]
            clock += int(instance.durations_of(team)[here, stop.location])
            options = of_stop[key]
            index = next((i for i in options if clock <= data.client(i).tw_late), options[-1])
            clock = max(clock, data.client(index).tw_early) + stop.service_s
            here = stop.location
            visits.append(index)
        if visits:
            built.append(pyvrp.Route(data, visits, type_of[row]))
    return pyvrp.Solution(data, built)


def _service_start(stop: Stop, arrival: int) -> int:
    """The earliest service start at or after `arrival` inside a window; past the last window, `arrival` itself."""
    for window in sorted(stop.windows, key=lambda w: w.start_s):
        if arrival <= window.end_s:
            return max(arrival, window.start_s)
    return arrival


def _dimensions(teams: Sequence[Team], stops: Sequence[Stop]) -> list[_Dimension]:
    """Load dimensions for skills (one per skill), demand (one), visit limits (one) and team pins (one per pinned
    team). An unrestricted team gets capacity `plenty`, more than all the stops can take."""
    plenty = max(len(stops), sum(stop.demand for stop in stops))
    dimensions = [
        _Dimension(
            tuple(int(skill in stop.required_skills) for stop in stops),
            tuple(plenty if skill in team.skills else 0 for team in teams),
        )
        for skill in sorted(frozenset().union(*(stop.required_skills for stop in stops)))
    ]
    if any(team.capacity is not None for team in teams):
        dimensions.append(
            _Dimension(
                tuple(stop.demand for stop in stops),
                tuple(plenty if team.capacity is None else team.capacity for team in teams),
            )
        )
    if any(team.max_visits is not None for team in teams):
        dimensions.append(
            _Dimension(
                (1,) * len(stops), tuple(plenty if team.max_visits is None else team.max_visits for team in teams)
            )
        )
    for pinned in sorted({stop.pin_team for stop in stops if stop.pin_team is not None}):
        dimensions.append(
            _Dimension(
                tuple(int(stop.pin_team == pinned) for stop in stops),
                tuple(plenty if team.key == pinned else 0 for team in teams),
            )
        )
    return dimensions


def _problem_data(
    instance: Instance, stops: Sequence[Stop], *, relax_breaks: bool
) -> tuple[pyvrp.ProblemData, _Clients]:
    """PyVRP's problem data over the teams and `stops`, the stop each of its clients stands for and the teams of
    each of its vehicle types. With `relax_breaks`, a team's route may last its shift less its breaks."""
    depot_locations = sorted({loc for team in instance.teams for loc in (team.start_location, team.end_location)})
    depot_of = {location: index for index, location in enumerate(depot_locations)}
    dimensions = _dimensions(instance.teams, stops)
    # (capacities, start depot, end depot, shift start, shift end, break time, profile): the teams alike are one
    # vehicle type
    kinds: dict[tuple[tuple[int, ...], int, int, int, int, int, int], list[int]] = {}
    for index, team in enumerate(instance.teams):
        kind = (
            tuple(dimension.capacity[index] for dimension in dimensions),
            depot_of[team.start_location],
            depot_of[team.end_location],
            team.shift.start_s,
            team.shift.end_s,
            sum(rest.duration_s for rest in team.breaks) if relax_breaks else 0,
            team.profile,
        )
        kinds.setdefault(kind, []).append(index)
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=len(members),
            capacity=list(capacity),
            start_depot=start,
            end_depot=end,
            tw_early=early,
            tw_late=late,
            shift_duration=late - early - resting,
            unit_distance_cost=1,
            unit_duration_cost=0,
            profile=profile,
        )
        for (capacity, start, end, early, late, resting, profile), members in kinds.items()
    ]
    widest = (min(t.shift.start_s for t in instance.teams), max(t.shift.end_s for t in instance.teams))
    clients: list[pyvrp.Client] = []
    client_stops: list[Stop] = []
    groups: list[pyvrp.ClientGroup] = []
    for index, stop in enumerate(stops):
        windows = [(w.start_s, w.end_s) for w in stop.windows] or [widest]
        grouped = len(windows) > 1
        if grouped:
            groups.append(pyvrp.ClientGroup(list(range(len(clients), len(clients) + len(windows))), stop.must_visit))
        for early, late in windows:
            clients.append(
                pyvrp.Client(
                    location=stop.location,
                    delivery=[dimension.delivery[index] for dimension in dimensions],
                    service_duration=stop.service_s,
                    tw_early=early,
                    tw_late=late,
                    prize=0 if stop.must_visit else stop.drop_cost,
                    required=stop.must_visit and not grouped,
                    group=len(groups) - 1 if grouped else None,
                    name=stop.key,
                )
            )
            client_stops.append(stop)
    profiles = [instance.matrices_of(profile) for profile in range(instance.profile_count)]
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(0.0, 0.0) for _ in range(instance.durations_s.shape[0])],
        clients=clients,
        depots=[pyvrp.Depot(location) for location in depot_locations],
        vehicle_types=vehicle_types,
        # pyvrp's stubs write ndarray[int] (a shape parameter of int) for an integer matrix
        distance_matrices=[np.asarray(distances) for _, distances in profiles],  # type: ignore[misc]
        duration_matrices=[np.asarray(durations) for durations, _ in profiles],  # type: ignore[misc]
        groups=groups,
    )
    return data, _Clients(tuple(client_stops), tuple(tuple(members) for members in kinds.values()))


def _orders(instance: Instance, solution: pyvrp.Solution, clients: _Clients) -> dict[str, list[Stop]]:
    """Each team's stops in visiting order (empty for teams PyVRP does not use): the routes of a vehicle type go to
    its teams in order."""
    orders: dict[str, list[Stop]] = {team.key: [] for team in instance.teams}
    idle = {kind: list(members) for kind, members in enumerate(clients.teams_of_type)}
    for route in solution.routes():
        team = instance.teams[idle[route.vehicle_type()].pop(0)]
        orders[team.key] = [clients.stops[a.idx] for a in route.schedule() if a.is_client()]
    return orders


def _route(instance: Instance, team: Team, stops: Sequence[Stop]) -> Route:
    """The team's route over `stops` in order, leaving at shift start and starting each visit as early as allowed."""
    if not stops:
        return Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0)
    clock, here, distance_m, travel_s = team.shift.start_s, team.start_location, 0, 0
    visits = []
    for stop in stops:
        leg_s = int(instance.durations_of(team)[here, stop.location])
        distance_m += int(instance.distances_of(team)[here, stop.location])
        travel_s += leg_s
        arrival = clock + leg_s
        start = _service_start(stop, arrival)
        clock = start + stop.service_s
        visits.append(Visit(stop.key, arrival, start - arrival, start, clock))
        here = stop.location
    travel_s += int(instance.durations_of(team)[here, team.end_location])
    distance_m += int(instance.distances_of(team)[here, team.end_location])
    end_s = clock + int(instance.durations_of(team)[here, team.end_location])
    return Route(team.key, tuple(visits), team.shift.start_s, end_s, distance_m, travel_s)
