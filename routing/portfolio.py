"""`solve`: plan a day on both cores with a portfolio of engines and keep the best plan the checker accepts."""

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from functools import partial

from routing.breaks import timed_route
from routing.check import check
from routing.decompose import large, solve_decomposed
from routing.engines import engines
from routing.insertion import insert_unplanned
from routing.model import Instance
from routing.plan import Plan, Route, SolverStats
from routing.pyvrp_engine import expressible, seed_routes, solve_pyvrp
from routing.reasons import explain_dropped
from routing.solver import check_initial_routes, solve_ortools

# returning the plans and checking them take about this much of the caller's time limit (a 1,000-stop day)
_WRAP_UP_S = 0.5
# a worker may hand its plan back this long after the engines' deadline (the limit less _WRAP_UP_S): its process
# started late on a busy machine, or its engine overran; later it is stopped and its plan not waited for
_LATE_S = _WRAP_UP_S + 2.0
# of a seeded solve's time, PyVRP's share for the routes OR-Tools starts from
_SEEDING_SHARE = 0.7
# when neither PyVRP search finds a plan the checker accepts, OR-Tools gets what is left of the limit, at least this
_FALLBACK_LEAST = timedelta(seconds=1)
_STOP_POLL_S = 0.25  # how often a wait for the engines asks whether to stop

Engine = Callable[..., Plan | None]
Routes = Mapping[str, Sequence[str]]


def solve_seeded(instance: Instance, *, time_limit: timedelta, seed: int = 0, settle: bool = False) -> Plan:
    """OR-Tools' search started from PyVRP's routes (`routing.pyvrp_engine.seed_routes`), for instances PyVRP
    expresses but for their breaks: PyVRP has part of the time to plan the day without breaks, OR-Tools the rest to
    fit the breaks in, place what was trimmed and improve. Without seed routes it is OR-Tools alone. With `settle`
    each stops once its search has settled."""
    began = time.perf_counter()
    routes = seed_routes(instance, time_limit=time_limit * _SEEDING_SHARE, seed=seed, settle=settle)
    left = max(timedelta(), time_limit - timedelta(seconds=time.perf_counter() - began))
    plan = solve_ortools(
        instance, time_limit=left, seed=seed, initial_routes=routes, warm=settle and bool(routes), restart=not routes
    )
    engine = "ortools" if routes is None else "pyvrp+ortools"
    if routes and (plan.stats.timed_out or len(plan.planned) < sum(map(len, routes.values()))):
        # OR-Tools had too little time left to take the routes over (a busy machine): they are a plan as they are
        seeded = _seed_plan(instance, routes, seed)
        if seeded is not None and _cost(instance, seeded) < _cost(instance, plan):
            plan, engine = seeded, "pyvrp"
    return replace(plan, stats=replace(plan.stats, engine=engine, wall_s=time.perf_counter() - began))


def solve_warm(instance: Instance, *, time_limit: timedelta, initial_routes: Routes, seed: int = 0) -> Plan:
    """OR-Tools' search from a previous plan until settled, the stops it lacks first put in where they fit
    (`routing.insertion.insert_unplanned`): OR-Tools' local search from a day under way, which lacks the stops of
    the teams stood down and those the previous plan dropped, adds hardly any of them before the time limit. When
    OR-Tools cannot take the routes over in time (a busy machine), or its plan is no better, the routes as they are
    with breaks timed. A day with stops pinned to a position is handed to OR-Tools as it is."""
    began = time.perf_counter()
    if any(stop.pin_position is not None for stop in instance.stops):
        return solve_ortools(instance, time_limit=time_limit, seed=seed, initial_routes=initial_routes, warm=True)
    routes = insert_unplanned(instance, initial_routes)
    left = max(timedelta(), time_limit - timedelta(seconds=time.perf_counter() - began))
    plan = solve_ortools(instance, time_limit=left, seed=seed, initial_routes=routes, warm=True, restart=False)
    inserted = _seed_plan(instance, routes, seed, engine="insertion")
    if inserted is not None and (plan.stats.timed_out or _cost(instance, inserted) < _cost(instance, plan)):
        plan = inserted
    return replace(plan, stats=replace(plan.stats, wall_s=time.perf_counter() - began))


def _seed_plan(instance: Instance, routes: Routes, seed: int, engine: str = "pyvrp") -> Plan | None:
    """Routes with their breaks timed (`routing.breaks.timed_route`), if the checker accepts them: PyVRP's trimmed
    routes may break a constraint it penalises (a skill, a pin)."""
    by_key = {stop.key: stop for stop in instance.stops}
    timed = [timed_route(instance, team, [by_key[key] for key in routes.get(team.key, ())]) for team in instance.teams]
    if any(route is None for route in timed):
        return None
    ordered = tuple(route for route in timed if route is not None)
    planned = {visit.stop for route in ordered for visit in route.visits}
    left_out = [stop for stop in instance.stops if stop.key not in planned]
    objective = sum(route.distance_m for route in ordered) + sum(s.drop_cost for s in left_out if not s.must_visit)
    objective += instance.moves_cost((route.team, [visit.stop for visit in route.visits]) for route in ordered)
    stats = SolverStats(engine, "seed_routes", objective, 0.0, seed)
    plan = Plan(ordered, explain_dropped(instance, [stop.key for stop in left_out]), stats)
    return plan if check(instance, plan).ok else None


def _no_plan(instance: Instance, seed: int) -> Plan:
    """What `solve` gives when no engine's plan came back within the limit: every team stays home, `timed_out`."""
    routes = tuple(Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0) for team in instance.teams)
    objective = sum(stop.drop_cost for stop in instance.stops if not stop.must_visit)
    stats = SolverStats("none", "no_plan_in_time", objective, 0.0, seed, timed_out=True)
    return Plan(routes, explain_dropped(instance, [stop.key for stop in instance.stops]), stats)


def _engines(instance: Instance, seed: int, initial_routes: Routes | None) -> list[Engine]:
    """Two PyVRP searches with different seeds when the instance fits PyVRP's model; OR-Tools from PyVRP's routes
    beside OR-Tools alone when it fits but for breaks; otherwise two OR-Tools strategies. With `initial_routes`,
    one engine improves them (`solve_warm`: the stops they lack put in first) and the other searches afresh, both
    until settled (OR-Tools alone: both improve them, from different strategies should they fail to restore)."""
    if initial_routes is None:
        ortools = partial(solve_ortools, seed=seed)
        if expressible(instance):
            return [partial(solve_pyvrp, seed=seed), partial(solve_pyvrp, seed=seed + 1)]
        if expressible(instance, breaks=False):
            return [partial(solve_seeded, seed=seed), ortools]
        return [partial(ortools, first_solution="LOCAL_CHEAPEST_INSERTION"), ortools]
    ortools = partial(solve_ortools, seed=seed, initial_routes=initial_routes, warm=True)
    warm = partial(solve_warm, seed=seed, initial_routes=initial_routes)
    if expressible(instance):
        return [
            partial(solve_pyvrp, seed=seed, initial_routes=initial_routes),
            partial(solve_pyvrp, seed=seed + 1, settle=True),
        ]
    if expressible(instance, breaks=False):
        return [warm, partial(solve_seeded, seed=seed, settle=True)]
    return [warm, partial(ortools, first_solution="LOCAL_CHEAPEST_INSERTION")]


def _cost(instance: Instance, plan: Plan) -> tuple[int, int]:
    """Must-visit stops left out first, then the objective: distance plus what the dropped stops and the stops moved
    off their home team cost."""
    dropped = {d.stop for d in plan.dropped}
    must = sum(1 for stop in instance.stops if stop.must_visit and stop.key in dropped)
    penalties = sum(stop.drop_cost for stop in instance.stops if stop.key in dropped and not stop.must_visit)
    return must, plan.distance_m + penalties + instance.moves_cost(plan.team_stops())


@contextmanager
def _worker(
    engine: Engine, instance: Instance, finish_by: float, stop: Callable[[], bool] | None = None
) -> Iterator[Callable[[float], Plan | None]]:
    """Run the engine in an engine process (`routing.engines`) until `finish_by`; the context gives a function that
    waits for its plan until a `time.monotonic()` instant (None if it has not come by then, or once `stop()` says
    so). On leaving, a process that answered waits for the next solve; any other is stopped."""
    worker = engines.take()
    answered = False
    try:
        worker.connection.send((engine, instance, finish_by))

        def result(by: float) -> Plan | None:
            nonlocal answered
            while not worker.connection.poll(max(0.0, min(_STOP_POLL_S, by - time.monotonic()))):
                if time.monotonic() >= by or (stop is not None and stop()):
                    return None
            try:
                outcome = worker.connection.recv()
            except EOFError:  # the process died without a word (killed, out of memory)
                return None
            answered = True
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        yield result
    finally:
        engines.done(worker, answered)


def solve(
    instance: Instance,
    *,
    time_limit: timedelta,
    seed: int = 0,
    workers: int = 2,
    initial_routes: Routes | None = None,
    stop: Callable[[], bool] | None = None,
) -> Plan:
    """Assign the stops to teams and order them, within `time_limit`.

    With `workers` >= 2 two engines run at once, each in a process of its own, until the time limit. For the
    instances PyVRP can express (skills, visit limits, capacity and team pins as load dimensions; windows; no
    breaks or position pins) they are two PyVRP searches, seeded `seed` and `seed + 1`:
    where OR-Tools beside PyVRP never won, a second PyVRP search often does (bench/README.md has the figures); a
    large such day (`routing.decompose.large`) is cut into halves after a while, each searched on its own core
    (`routing.decompose`). For instances PyVRP expresses but for their breaks, OR-Tools started from PyVRP's routes
    (`solve_seeded`) runs beside OR-Tools alone; for the rest, OR-Tools with two first-solution strategies. Every
    plan is verified by `routing.check.check`; the best valid one wins (fewest must-visit stops dropped, then
    distance plus drop costs), ties to the first engine. When neither PyVRP search finds a valid plan (must-visit
    stops that cannot all fit), OR-Tools, which names what it drops, gets what is left of the limit, at least 1 s.
    With `workers` = 1 only OR-Tools runs, in one process. Deterministic engines given the same seed and limit
    give the same choice; `Plan.stats.engine` names the winner.

    The engines run in spawned processes, never in the caller's (OR-Tools holds the GIL for its whole search: a
    server planning in a thread would stop answering), and die with the caller's process. `stop()`, asked a few
    times a second while the engines search, ends the waiting at once (a cancelled run): the engines are stopped
    and the plan is the timed-out one below. The time limit holds within a small margin, however busy
    the machine: each engine gets what is left of the limit once its process has started (a second or more under
    load; at least 0.2 s), and a worker whose plan has not come back 2 s after the time limit is stopped and left
    out. What can still run over: that grace, the OR-Tools fallback above (at least 1 s) and checking the plans.
    When no engine's plan came back in time, every stop is dropped and `Plan.stats.timed_out` says so: the caller
    should not take it for a plan.

    `initial_routes` is a previous plan (stop keys in order, per team key; stops that no plan can include, or on a
    team that may not have them, are skipped): a re-solve after an edit, or a day under way. Where PyVRP alone does
    not express the instance, the improving engine first puts in the stops the plan lacks where they fit
    (`solve_warm`), without moving any other. One engine then improves it and the other
    searches afresh (lest the edit leave the old plan in a poor corner), and each stops once its search has settled
    (`routing.settle`), at the latest at the time limit. Raises ValueError for a team or stop key in it that the
    instance does not have.
    """
    started = time.perf_counter()
    check_initial_routes(instance, initial_routes or {})
    warm = initial_routes is not None
    finish_by = (
        time.monotonic() + time_limit.total_seconds() - _WRAP_UP_S
    )  # CLOCK_MONOTONIC: one clock for every process of the machine, whatever the wall clock does
    if workers < 2:
        alone = partial(solve_ortools, seed=seed, initial_routes=initial_routes, warm=warm)
        with _worker(alone, instance, finish_by, stop) as only:
            plans: list[Plan | None] = [only(finish_by + _LATE_S)]
    elif not warm and expressible(instance) and large(instance):
        plans = [solve_decomposed(instance, finish_by=finish_by, seed=seed)]
    else:
        first, second = _engines(instance, seed, initial_routes)
        with _worker(first, instance, finish_by, stop) as one, _worker(second, instance, finish_by, stop) as other:
            plans = [one(finish_by + _LATE_S), other(finish_by + _LATE_S)]
    valid = [plan for plan in plans if plan is not None and check(instance, plan).ok]
    if valid:
        best = min(valid, key=lambda plan: (*_cost(instance, plan), plan.stats.timed_out))
    else:
        if all(plan is not None and plan.stats.engine == "pyvrp" for plan in plans):
            left = max(_FALLBACK_LEAST.total_seconds(), time_limit.total_seconds() - (time.perf_counter() - started))
            ortools = partial(solve_ortools, seed=seed, initial_routes=initial_routes, warm=warm)
            with _worker(ortools, instance, time.monotonic() + left) as fallback:
                plans.append(fallback(time.monotonic() + left + _LATE_S))
        # no engine found a plan the checker accepts: give OR-Tools' plan, which names its dropped stops
        found = [plan for plan in reversed(plans) if plan is not None]
        best = found[0] if found else _no_plan(instance, seed)
    return replace(best, stats=replace(best.stats, wall_s=time.perf_counter() - started))
