"""Plans team days with OR-Tools, the engine of the full model: time windows (several per stop), shifts, breaks,
visit counts, loads, skills, pins to a team or a position, and priorities. The only module that imports ortools.

The model: one node per window of each servable stop (joined in a disjunction) and one per distinct start or end
location of a team. Arc cost is the distance; the "time" dimension adds the travel time and the service time of the
node left (its slack is waiting), the "visits" dimension counts visits against each team's max_visits (its cumul is
a stop's position, for pins), and a "load" dimension holds demand against capacity when there are both. Teams a
stop may not have (skills, pin, capacity, out of reach) are removed from its vehicle variable. An optional stop can
be dropped at its drop_cost; a must-visit stop cannot, unless no plan with all of them is found (see
`solve_ortools`). Stops that no plan can include (`routing.reasons.unservable`) are left out of the model and
reported with their reason.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.model import Instance, Stop, Team
from routing.plan import BreakTaken, Plan, Route, SolverStats, Visit
from routing.reasons import eligible, explain_dropped, unservable
from routing.settle import Settling, patience_s

_FALLBACK_STRATEGY = "PATH_CHEAPEST_ARC"
_INSERTION = "PARALLEL_CHEAPEST_INSERTION"
_LEAST_SEARCH = timedelta(milliseconds=100)  # a later attempt still gets this long when the time limit is spent
# to restore a handed plan: 1,000 stops and 60 teams with breaks take ~0.6 s, 2,000 and 120 more than 2 s
_RESTORE_LIMIT_PER_NODE = timedelta(milliseconds=2.5)
_RESTORE_LIMIT_LEAST = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class _Model:
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    stops: tuple[Stop, ...]
    stop_of: tuple[int, ...]  # node -> row of stops, one node per window; the teams' locations come after them
    breaks: tuple[tuple[pywrapcp.IntervalVar, ...], ...]  # per team, in the order of Team.breaks


def solve_ortools(
    instance: Instance,
    *,
    time_limit: timedelta,
    seed: int = 0,
    initial_routes: Mapping[str, Sequence[str]] | None = None,
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
    warm: bool = False,
    restart: bool = True,
) -> Plan:
    """Assign stops to teams and order them with OR-Tools; stops that cannot be served are in Plan.dropped.

    The search starts from `initial_routes` (stop keys in order, per team key; stops that no plan can include
    are skipped) when they form a feasible plan, else from the `first_solution` strategy (a name of OR-Tools'
    FirstSolutionStrategy), and improves it by guided local search until `time_limit`. If the strategy finds no
    first plan with every must-visit stop, PATH_CHEAPEST_ARC gets a quarter of the time left to find one, and then
    a model where must-visit stops may be dropped at a cost above any plan without drops has the rest, so a plan
    always comes back: at worst, when no attempt finds one before the limit, every stop dropped; `stats.timed_out`
    is set when the limit ran out with no stop planned though some could be. PATH_CHEAPEST_ARC as the strategy gets
    a third of the time to find its first plan when there are must-visit stops. A later attempt gets at least 0.1 s
    even when the time limit is spent.

    With `warm`, the initial routes are a previous plan, perhaps without some must-visit stops (a pin just added):
    the search starts from them on the model where must-visit stops may be dropped at a cost above any plan, so
    that it inserts them, and stops once it has settled (`routing.settle`), at the latest at the time limit; if
    they cannot be restored, the search starts over as without `warm`.

    Without `restart`, initial routes that cannot be restored (a busy machine: restoring a 1,000-stop day with breaks
    takes seconds) end the search with no plan (`stats.timed_out`) rather than starting over from the strategy,
    whose first plan of such a day can take twice the time limit: for a caller that has a plan of the routes itself.

    Visit times are the earliest the plan allows; a break taken on the way to a stop shows as waiting there.
    OR-Tools' routing search has no seed: `seed` is only recorded in the stats. The search itself has no
    randomness, but it runs until the time limit and keeps the best plan found by then: on a small instance that
    plan is found long before the limit and two runs agree; on a large one how far the search gets, and so the
    plan, depends on the machine's speed and load.

    Raises ValueError for an unknown first_solution name, or a team or stop key in initial_routes that the
    instance does not have.
    """
    began = time.perf_counter()
    if first_solution not in routing_enums_pb2.FirstSolutionStrategy.Value.keys():  # noqa: SIM118 (a protobuf enum)
        raise ValueError(f"unknown first solution strategy {first_solution!r}")
    check_initial_routes(instance, initial_routes or {})
    impossible = unservable(instance)
    stops = tuple(stop for stop in instance.stops if stop.key not in impossible)
    able = eligible(instance, stops)
    deadline = began + time_limit.total_seconds()
    model, solution = _solve(instance, stops, able, first_solution, deadline, initial_routes, warm, restart)
    if solution is None:  # no attempt found a plan in time: every team stays home
        routes = tuple(Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0) for team in instance.teams)
    else:
        routes = tuple(_route(instance, model, solution, vehicle) for vehicle in range(len(instance.teams)))
    planned = {visit.stop for route in routes for visit in route.visits}
    left_out = [stop.key for stop in stops if stop.key not in planned]
    dropped = tuple(impossible.values()) + explain_dropped(instance, left_out)
    unplanned = {drop.stop for drop in dropped}
    objective = sum(route.distance_m for route in routes) + sum(
        stop.drop_cost for stop in instance.stops if stop.key in unplanned and not stop.must_visit
    )
    objective += instance.moves_cost((route.team, [visit.stop for visit in route.visits]) for route in routes)
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(model.routing.status())
    # out of time, OR-Tools' insertion also completes its first plan by dropping every stop it has not placed yet, and
    # may return nothing placed with a status that most good plans have too
    timed_out = solution is None or (not planned and bool(stops) and time.perf_counter() >= deadline)
    stats = SolverStats("ortools", status, objective, time.perf_counter() - began, seed, timed_out=timed_out)
    return Plan(routes, dropped, stats)


def check_initial_routes(instance: Instance, initial_routes: Mapping[str, Sequence[str]]) -> None:
    """Raises ValueError for a team or stop key of `initial_routes` that the instance does not have."""
    teams = {team.key for team in instance.teams}
    stops = {stop.key for stop in instance.stops}
    for team_key, keys in initial_routes.items():
        if team_key not in teams:
            raise ValueError(f"initial_routes: unknown team {team_key}")
        unknown = [key for key in keys if key not in stops]
        if unknown:
            raise ValueError(f"initial_routes of team {team_key}: unknown stops {', '.join(unknown)}")


def _solve(
    instance: Instance,
    stops: tuple[Stop, ...],
    able: npt.NDArray[np.bool_],
    first_solution: str,
    deadline: float,
    initial_routes: Mapping[str, Sequence[str]] | None,
    warm: bool,
    restart: bool = True,
) -> tuple[_Model, pywrapcp.Assignment | None]:
    """The first attempt that finds a plan: hard must-visits with the given strategy, then with PATH_CHEAPEST_ARC
    (a quarter of the time left), then with must-visits made droppable and PARALLEL_CHEAPEST_INSERTION, which
    inserts every stop it can; None when even that finds none before the deadline. PATH_CHEAPEST_ARC backtracks when it
    cannot place every must-visit stop and may do so until the time limit (measured on a 1,000-stop day), so as the
    given strategy it only gets a third of the time to find a first plan; an insertion strategy fails fast.
    A warm start first tries the previous plan on the model with droppable must-visits, until settled. Without
    `restart`, initial routes that cannot be restored give no plan (None) instead of the attempts above."""
    if warm and initial_routes:
        model = _build(instance, stops, able, soften=any(stop.must_visit for stop in stops))
        settling = Settling(deadline, patience_s(len(stops)))
        solution = _restored(model, _route_indices(instance, model, able, initial_routes), first_solution, settling)
        if solution is not None or not restart:
            return model, solution
        initial_routes = None
    if not any(stop.must_visit for stop in stops):
        attempts = [(first_solution, False, 1.0)]
    elif first_solution == _FALLBACK_STRATEGY:
        attempts = [(first_solution, False, 1 / 3), (_INSERTION, True, 1.0)]
    else:
        attempts = [(first_solution, False, 1.0), (_FALLBACK_STRATEGY, False, 1 / 4), (_INSERTION, True, 1.0)]
    for strategy, soften, share in attempts:
        model = _build(instance, stops, able, soften)
        now = time.perf_counter()
        initial = _route_indices(instance, model, able, initial_routes) if initial_routes else None
        solution = _search(model, strategy, initial, now + share * (deadline - now), deadline, restart)
        if solution is not None or (initial is not None and not restart):
            return model, solution
    # every stop of the last model may be dropped, so only time running out leaves it without a plan; reading empty
    # routes into it then fails as well (its solver's limit is spent), hence None rather than an assignment
    return model, None


def _parameters(first_solution: str, until: float) -> pywrapcp.DefaultRoutingSearchParameters:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.Value.Value(first_solution)
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromTimedelta(max(timedelta(seconds=until - time.perf_counter()), _LEAST_SEARCH))
    parameters.log_search = False
    return parameters


def _search(
    model: _Model,
    first_solution: str,
    initial: list[list[int]] | None,
    first_by: float,
    deadline: float,
    restart: bool = True,
) -> pywrapcp.Assignment | None:
    """Guided local search until `deadline`, from the initial routes when they are a plan, else from the strategy's
    first plan; None when the strategy finds no first plan (by `first_by`, if that is earlier than the deadline),
    or, without `restart`, when the initial routes cannot be restored.

    A plan handed to OR-Tools is restored under the LNS time limit (0.1 s by default), too short for a large day
    with breaks, hence a limit growing with the model; should the hand-over still fail, the search starts over from
    the strategy.
    """
    routing = model.routing
    start = None if initial is None else _restore(model, initial, first_solution, deadline)
    if initial is not None and not restart:
        return None if start is None else _improve(model, start, first_solution, deadline)
    if start is None and first_by < deadline:
        probe = _parameters(first_solution, first_by)
        probe.solution_limit = 1
        start = routing.SolveWithParameters(probe)
        if start is None:
            return None
    if start is not None:
        improved = _improve(model, start, first_solution, deadline)
        if improved is not None:
            return improved
    return routing.SolveWithParameters(_parameters(first_solution, deadline))


def _restored(
    model: _Model, initial: list[list[int]], first_solution: str, settling: Settling
) -> pywrapcp.Assignment | None:
    """Guided local search from the initial routes until `settling` says stop; None when they cannot be restored.
    OR-Tools reports each better plan to a callback, which ends the search once it has settled."""
    start = _restore(model, initial, first_solution, settling.deadline)
    if start is None:
        return None
    routing = model.routing

    def report() -> None:
        settling.improved(routing.CostVar().Value())
        if settling.over():
            routing.solver().FinishCurrentSearch()

    routing.AddAtSolutionCallback(report)
    return _improve(model, start, first_solution, settling.deadline)


def _restore(
    model: _Model, initial: list[list[int]], first_solution: str, deadline: float
) -> pywrapcp.Assignment | None:
    """The initial routes as an assignment of the closed model; None when they are no plan of it."""
    model.routing.CloseModelWithParameters(_parameters(first_solution, deadline))
    return model.routing.ReadAssignmentFromRoutes(initial, True)


def _improve(
    model: _Model, start: pywrapcp.Assignment, first_solution: str, deadline: float
) -> pywrapcp.Assignment | None:
    """Guided local search from `start` until `deadline`, restoring it under an LNS time limit growing with the
    model (see `_search`); None when that fails."""
    routing = model.routing
    handed = _parameters(first_solution, deadline)
    handed.lns_time_limit.FromTimedelta(max(_RESTORE_LIMIT_LEAST, _RESTORE_LIMIT_PER_NODE * routing.Size()))
    return routing.SolveFromAssignmentWithParameters(start, handed)


def _route_indices(
    instance: Instance, model: _Model, able: npt.NDArray[np.bool_], initial_routes: Mapping[str, Sequence[str]]
) -> list[list[int]]:
    """Initial routes as OR-Tools indices per vehicle, each stop on the node of the first of its windows that its
    earliest start (breaks aside) can use; stops outside the model, or on a team that may not have them, are
    skipped."""
    nodes: dict[str, list[int]] = {}
    for node, row in enumerate(model.stop_of):
        nodes.setdefault(model.stops[row].key, []).append(model.manager.NodeToIndex(node))
    row_of = {stop.key: row for row, stop in enumerate(model.stops)}
    by_key = {stop.key: stop for stop in model.stops}
    routes = []
    for vehicle, team in enumerate(instance.teams):
        where, now, route = team.start_location, team.shift.start_s, []
        kept = (key for key in initial_routes.get(team.key, ()) if key in nodes and able[row_of[key], vehicle])
        for key in kept:
            stop = by_key[key]
            now += int(instance.durations_of(team)[where, stop.location])
            index = next((i for i in nodes[key] if now <= model.time.CumulVar(i).Max()), nodes[key][-1])
            now = max(now, model.time.CumulVar(index).Min()) + stop.service_s
            where = stop.location
            route.append(index)
        routes.append(route)
    return routes


def _build(instance: Instance, stops: tuple[Stop, ...], able: npt.NDArray[np.bool_], soften: bool) -> _Model:
    """The routing model over `stops`; with `soften`, must-visit stops may be dropped at a cost above any plan.

    A stop with several windows gets one node per window, joined in a disjunction (at most one, or exactly one for
    a must-visit stop): OR-Tools' own search slows down by orders of magnitude on cumul domains with holes
    (`RemoveInterval`), while separate nodes keep every domain an interval.
    """
    teams = instance.teams
    idle = np.array([instance.durations_of(team)[team.start_location, team.end_location] for team in teams])
    starts = np.array([team.shift.start_s for team in teams], dtype=np.int64)
    horizon = int(max(max(team.shift.end_s for team in teams), (starts + idle).max()))
    spans = [_spans(stop, horizon) for stop in stops]
    stop_of = tuple(row for row, windows in enumerate(spans) for _ in windows)
    depots = sorted({team.start_location for team in teams} | {team.end_location for team in teams})
    depot_node = {location: len(stop_of) + i for i, location in enumerate(depots)}
    locations = np.array([stops[row].location for row in stop_of] + depots, dtype=np.intp)
    service = np.array([stops[row].service_s for row in stop_of] + [0] * len(depots), dtype=np.int64)
    manager = pywrapcp.RoutingIndexManager(
        len(locations),
        len(teams),
        [depot_node[team.start_location] for team in teams],
        [depot_node[team.end_location] for team in teams],
    )
    routing = pywrapcp.RoutingModel(manager)
    # whole matrices handed to C++ once: no Python call per arc during the search
    between = np.ix_(locations, locations)
    # each travel profile's matrices (a car, an e-bike, on foot), for the teams that move by it
    distance, travel_and_service = [], []
    for profile in range(instance.profile_count):
        durations, distances = instance.matrices_of(profile)
        distance.append(routing.RegisterTransitMatrix(distances[between].tolist()))
        travel_and_service.append(routing.RegisterTransitMatrix((durations[between] + service[:, None]).tolist()))
    for vehicle, team in enumerate(teams):  # no span or fixed cost: the objective is distance + drops
        routing.SetArcCostEvaluatorOfVehicle(distance[team.profile], vehicle)
    routing.AddDimensionWithVehicleTransits(
        [travel_and_service[team.profile] for team in teams], horizon, horizon, False, "time"
    )
    time_dimension = routing.GetDimensionOrDie("time")
    visits = routing.RegisterUnaryTransitVector([1] * len(stop_of) + [0] * len(depots))
    capacities = [len(stops) if team.max_visits is None else team.max_visits for team in teams]
    routing.AddDimensionWithVehicleCapacity(visits, 0, capacities, True, "visits")
    _add_load(routing, teams, [stops[row] for row in stop_of], len(depots))
    for vehicle, team in enumerate(teams):
        _bound_shift(routing, time_dimension, vehicle, team, bool(able[:, vehicle].any()))
    penalty = _must_visit_penalty(instance, stops) if soften else None
    first = 0
    vehicle_of = {team.key: vehicle for vehicle, team in enumerate(teams)}
    for row, stop in enumerate(stops):
        indices = [manager.NodeToIndex(node) for node in range(first, first + len(spans[row]))]
        _bound_stop(routing, indices, spans[row], stop, able[row], penalty)
        if stop.move_cost and stop.home_team is not None:
            home = routing.Start(vehicle_of[stop.home_team])
            for index in indices:  # a stop's window nodes: one is visited; visited by another team it costs the move
                routing.AddSoftSameVehicleConstraint([home, index], stop.move_cost)
        first += len(spans[row])
    breaks = _add_breaks(routing, manager, time_dimension, teams, np.any(able, axis=0), service)
    return _Model(manager, routing, time_dimension, stops, stop_of, breaks)


def _add_load(routing: pywrapcp.RoutingModel, teams: Sequence[Team], visited: Sequence[Stop], depots: int) -> None:
    """The "load" dimension: stops' demand against teams' capacity, when any team has a capacity and any stop a
    demand (the capacitated benchmarks; a branch day has neither)."""
    total = sum(stop.demand for stop in visited)
    if total == 0 or all(team.capacity is None for team in teams):
        return
    demand = routing.RegisterUnaryTransitVector([stop.demand for stop in visited] + [0] * depots)
    capacities = [total if team.capacity is None else team.capacity for team in teams]
    routing.AddDimensionWithVehicleCapacity(demand, 0, capacities, True, "load")


def _spans(stop: Stop, horizon: int) -> list[tuple[int, int]]:
    """The stop's windows cut to the horizon, in order; the whole horizon for a stop without windows."""
    if not stop.windows:
        return [(0, horizon)]
    return sorted((w.start_s, min(w.end_s, horizon)) for w in stop.windows if w.start_s <= horizon)


def _bound_shift(
    routing: pywrapcp.RoutingModel, time_dimension: pywrapcp.RoutingDimension, vehicle: int, team: Team, serves: bool
) -> None:
    """Leave at or after the shift start, be back by its end. A team that may serve no stop stays home: its end is
    left open, so that its empty day is a plan even when its shift is too short to go from its start to its end
    (such a team serves no stop, see `eligible`)."""
    time_dimension.CumulVar(routing.Start(vehicle)).SetRange(team.shift.start_s, team.shift.end_s)
    if serves:
        time_dimension.CumulVar(routing.End(vehicle)).SetRange(team.shift.start_s, team.shift.end_s)


def _bound_stop(
    routing: pywrapcp.RoutingModel,
    indices: list[int],
    spans: list[tuple[int, int]],
    stop: Stop,
    able: npt.NDArray[np.bool_],
    must_visit_penalty: int | None,
) -> None:
    """The stop's window nodes: window, allowed teams, pinned position; and the cost of dropping the stop."""
    time_dimension = routing.GetDimensionOrDie("time")
    barred = [int(vehicle) for vehicle in np.flatnonzero(~able)]
    for index, (opens, closes) in zip(indices, spans, strict=True):
        time_dimension.CumulVar(index).SetRange(opens, closes)
        if barred:
            # SetAllowedVehiclesForIndex does not take a Python list in ortools 9.15 (absl::Span binding); the
            # domain of the vehicle variable says the same and the search's filters read it
            routing.VehicleVar(index).RemoveValues(barred)
        if stop.pin_position is not None:
            routing.GetDimensionOrDie("visits").CumulVar(index).SetValue(stop.pin_position - 1)
    if not stop.must_visit:
        routing.AddDisjunction(indices, stop.drop_cost)
    elif must_visit_penalty is not None:
        routing.AddDisjunction(indices, must_visit_penalty)
    elif len(indices) > 1:
        routing.AddDisjunction(indices)  # no penalty: exactly one of its windows


def _must_visit_penalty(instance: Instance, stops: Sequence[Stop]) -> int:
    """More than any plan that drops no must-visit stop can cost: every arc at the longest distance, plus every
    optional stop dropped."""
    arcs = len(stops) + len(instance.teams)
    optional = sum(stop.drop_cost for stop in stops if not stop.must_visit)
    longest = max(int(instance.matrices_of(profile)[1].max(initial=0)) for profile in range(instance.profile_count))
    return arcs * (longest + 1) + optional + 1


def _add_breaks(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    time_dimension: pywrapcp.RoutingDimension,
    teams: Sequence[Team],
    serves: npt.NDArray[np.bool_],
    service: npt.NDArray[np.int64],
) -> tuple[tuple[pywrapcp.IntervalVar, ...], ...]:
    """Each team's breaks as fixed-duration intervals that may not overlap a visit (its service time); none for a
    team that may serve no stop and so stays home."""
    if not any(team.breaks for team, working in zip(teams, serves, strict=True) if working):
        return tuple(() for _ in teams)
    solver = routing.solver()
    visit_transits = [int(service[manager.IndexToNode(index)]) for index in range(routing.Size() + len(teams))]
    intervals = []
    for vehicle, team in enumerate(teams):
        rests = tuple(
            solver.FixedDurationIntervalVar(
                rest.earliest_start_s, rest.latest_start_s, rest.duration_s, False, f"break {i} of {team.key}"
            )
            for i, rest in enumerate(team.breaks if serves[vehicle] else ())
        )
        if rests:
            time_dimension.SetBreakIntervalsOfVehicle(list(rests), vehicle, visit_transits)
        intervals.append(rests)
    return tuple(intervals)


def _route(instance: Instance, model: _Model, solution: pywrapcp.Assignment, vehicle: int) -> Route:
    """A team's day read from the solution: visits at their earliest start times (the minimum of the time cumul
    in the solution), arrival = previous departure + travel, waiting = start - arrival."""
    team = instance.teams[vehicle]
    routing, cumul = model.routing, model.time.CumulVar
    index = solution.Value(routing.NextVar(routing.Start(vehicle)))
    if routing.IsEnd(index):
        return Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0)
    start_s = solution.Min(cumul(routing.Start(vehicle)))
    location, departure, distance, travel = team.start_location, start_s, 0, 0
    visits = []
    while not routing.IsEnd(index):
        stop = model.stops[model.stop_of[model.manager.IndexToNode(index)]]
        leg = int(instance.durations_of(team)[location, stop.location])
        distance += int(instance.distances_of(team)[location, stop.location])
        travel += leg
        begins = solution.Min(cumul(index))
        visits.append(Visit(stop.key, departure + leg, begins - departure - leg, begins, begins + stop.service_s))
        location, departure = stop.location, begins + stop.service_s
        index = solution.Value(routing.NextVar(index))
    distance += int(instance.distances_of(team)[location, team.end_location])
    travel += int(instance.durations_of(team)[location, team.end_location])
    rests = tuple(
        BreakTaken(solution.StartValue(interval), rest.duration_s)
        for interval, rest in zip(model.breaks[vehicle], team.breaks, strict=True)
    )
    return Route(team.key, tuple(visits), start_s, solution.Min(cumul(index)), distance, travel, rests)
