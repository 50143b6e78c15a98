"""The solvers of the benchmark, each fed the same integer-scaled matrices (round(euclid * SCALE)).

Competitors return routes as customer numbers per vehicle; plan_from_routes turns them into a routing.plan.Plan with
timings recomputed, so that routing.check judges every solver's Plan alike. The library is called through its
public entry point.
"""

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from datetime import timedelta

import pyvrp
import vroom
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from pyvrp.stop import MaxRuntime

import routing
from bench.routing.instances import DEPOT, SCALE, VrptwInstance, scaled_matrix, stop_key
from routing.model import Instance
from routing.plan import Dropped, DropReason, Plan, SolverStats
from routing.schedule import earliest_route

VROOM_EXPLORATION_LEVEL = 5  # vroom's own default (`vroom -x`)

CustomerRoutes = list[list[int]]


def solve_pyvrp(vrptw: VrptwInstance, time_limit_s: float, seed: int) -> CustomerRoutes:
    """PyVRP's hybrid genetic search on the instance, stopped after `time_limit_s`."""
    matrix = scaled_matrix(vrptw)
    depot = pyvrp.Depot(location=DEPOT, tw_early=int(vrptw.ready[DEPOT]) * SCALE, tw_late=int(vrptw.due[DEPOT]) * SCALE)
    clients = [
        pyvrp.Client(
            location=c,
            delivery=[int(vrptw.demand[c])],
            service_duration=int(vrptw.service[c]) * SCALE,
            tw_early=int(vrptw.ready[c]) * SCALE,
            tw_late=int(vrptw.due[c]) * SCALE,
        )
        for c in range(1, vrptw.customers + 1)
    ]
    vehicle_type = pyvrp.VehicleType(
        num_available=vrptw.vehicles,
        capacity=[vrptw.capacity],
        tw_early=int(vrptw.ready[DEPOT]) * SCALE,
        tw_late=int(vrptw.due[DEPOT]) * SCALE,
    )
    locations = [pyvrp.Location(float(x), float(y)) for x, y in zip(vrptw.x, vrptw.y, strict=True)]
    data = pyvrp.ProblemData(locations, clients, [depot], [vehicle_type], [matrix], [matrix])
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=seed, collect_stats=False)
    return [[activity.idx + 1 for activity in route if activity.is_client()] for route in result.best.routes()]


def solve_vroom(vrptw: VrptwInstance, time_limit_s: float, seed: int) -> CustomerRoutes:
    """VROOM run to completion at its default exploration level on one thread (it has no time limit or seed)."""
    matrix = scaled_matrix(vrptw)
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=matrix)
    problem.set_costs_matrix(profile="car", matrix_input=matrix)
    shift = vroom.TimeWindow(int(vrptw.ready[DEPOT]) * SCALE, int(vrptw.due[DEPOT]) * SCALE)
    for vehicle in range(vrptw.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(vehicle, start=DEPOT, end=DEPOT, capacity=[vrptw.capacity], time_window=shift)
        )
    problem.add_job(
        [
            vroom.Job(
                c,
                location=c,
                delivery=[int(vrptw.demand[c])],
                default_service=int(vrptw.service[c]) * SCALE,
                time_windows=[vroom.TimeWindow(int(vrptw.ready[c]) * SCALE, int(vrptw.due[c]) * SCALE)],
            )
            for c in range(1, vrptw.customers + 1)
        ]
    )
    steps = problem.solve(exploration_level=VROOM_EXPLORATION_LEVEL, nb_threads=1).routes
    jobs = steps[steps["type"] == "job"]
    return [[int(job) for job in group["id"]] for _, group in jobs.groupby("vehicle_id", sort=True)]


def solve_ortools_tutorial(vrptw: VrptwInstance, time_limit_s: float, seed: int) -> CustomerRoutes:
    """The VRPTW model of the OR-Tools tutorial: arc cost = distance, a time dimension (travel + service, waiting
    allowed), a capacity dimension, PATH_CHEAPEST_ARC then GUIDED_LOCAL_SEARCH until the time limit."""
    matrix = scaled_matrix(vrptw).tolist()
    service = (vrptw.service * SCALE).tolist()
    demand = vrptw.demand.tolist()
    manager = pywrapcp.RoutingIndexManager(len(matrix), vrptw.vehicles, DEPOT)
    model = pywrapcp.RoutingModel(manager)

    def distance(from_index: int, to_index: int) -> int:
        return matrix[manager.IndexToNode(from_index)][manager.IndexToNode(to_index)]

    def travel_and_service(from_index: int, to_index: int) -> int:
        node = manager.IndexToNode(from_index)
        return matrix[node][manager.IndexToNode(to_index)] + service[node]

    def load(index: int) -> int:
        return demand[manager.IndexToNode(index)]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(distance))
    horizon = int(vrptw.due[DEPOT]) * SCALE
    model.AddDimension(model.RegisterTransitCallback(travel_and_service), horizon, horizon, False, "Time")
    time = model.GetDimensionOrDie("Time")
    for customer in range(1, vrptw.customers + 1):
        time.CumulVar(manager.NodeToIndex(customer)).SetRange(
            int(vrptw.ready[customer]) * SCALE, int(vrptw.due[customer]) * SCALE
        )
    for vehicle in range(vrptw.vehicles):
        time.CumulVar(model.Start(vehicle)).SetRange(int(vrptw.ready[DEPOT]) * SCALE, horizon)
        model.AddVariableMinimizedByFinalizer(time.CumulVar(model.Start(vehicle)))
        model.AddVariableMinimizedByFinalizer(time.CumulVar(model.End(vehicle)))
    model.AddDimensionWithVehicleCapacity(
        model.RegisterUnaryTransitCallback(load), 0, [vrptw.capacity] * vrptw.vehicles, True, "Capacity"
    )
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    solution = model.SolveWithParameters(parameters)
    if solution is None:
        raise RuntimeError(f"no solution found in {time_limit_s:g} s")
    routes = []
    for vehicle in range(vrptw.vehicles):
        index, route = solution.Value(model.NextVar(model.Start(vehicle))), []
        while not model.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(model.NextVar(index))
        routes.append(route)
    return routes


def library_entry_point() -> Callable[..., Plan] | None:
    """The library's solver: `routing.solve`, else `routing.solver.solve_ortools` while solve is being written;
    None when neither exists yet."""
    if hasattr(routing, "solve"):
        return routing.solve  # type: ignore[no-any-return]
    if importlib.util.find_spec("routing.solver") is not None:
        solver = importlib.import_module("routing.solver")
        return getattr(solver, "solve_ortools", None)
    return None


def solve_library(instance: Instance, time_limit_s: float, seed: int) -> Plan:
    """The library's own Plan for `instance`; raises RuntimeError when the library has no solver yet."""
    solve = library_entry_point()
    if solve is None:
        raise RuntimeError("routing has neither solve() nor solver.solve_ortools yet")
    return solve(instance, time_limit=timedelta(seconds=time_limit_s), seed=seed)


COMPETITORS: dict[str, Callable[[VrptwInstance, float, int], CustomerRoutes]] = {
    "pyvrp": solve_pyvrp,
    "vroom": solve_vroom,
    "ortools-tutorial": solve_ortools_tutorial,
}
SOLVERS = ("library", *COMPETITORS)


def routes_to_keys(routes: CustomerRoutes) -> list[list[str]]:
    """Customer numbers to the stop keys of instances.to_instance."""
    return [[stop_key(customer) for customer in route] for route in routes]


def plan_from_routes(
    instance: Instance, routes: Sequence[Sequence[str]], *, engine: str, wall_s: float, seed: int
) -> Plan:
    """A Plan from another solver's routes (stop keys in order, one sequence per team in instance order, missing
    teams idle); timings are recomputed here, stops on no route are dropped as left unassigned by `engine`."""
    stops = {stop.key: stop for stop in instance.stops}
    padded = list(routes) + [[]] * (len(instance.teams) - len(routes))
    built = tuple(
        earliest_route(instance, team, [stops[key] for key in keys])
        for team, keys in zip(instance.teams, padded, strict=True)
    )
    on_routes = {key for keys in routes for key in keys}
    dropped = tuple(
        Dropped(stop.key, DropReason.LOWER_PRIORITY, f"left unassigned by {engine}")
        for stop in instance.stops
        if stop.key not in on_routes
    )
    distance = sum(route.distance_m for route in built)
    return Plan(
        built, dropped, SolverStats(engine=engine, status="routes", objective=distance, wall_s=wall_s, seed=seed)
    )
