"""`solve`: plan a day on both cores with a portfolio of engines and keep the best plan the checker accepts."""

import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from multiprocessing import get_context

from routing.check import check
from routing.model import Instance
from routing.plan import Plan
from routing.pyvrp_engine import expressible, seed_routes, solve_pyvrp
from routing.solver import solve_ortools

# returning the plans and checking them take about this much of the caller's time limit (a 1,000-stop day)
_WRAP_UP_S = 0.5
_LEAST_S = 0.2  # an engine gets at least this long, even when starting its process took the whole limit
# of a seeded solve's time, PyVRP's share for the routes OR-Tools starts from
_SEEDING_SHARE = 0.7

Engine = Callable[..., Plan | None]


def solve_seeded(instance: Instance, *, time_limit: timedelta, seed: int = 0) -> Plan:
    """OR-Tools' search started from PyVRP's routes (`routing.pyvrp_engine.seed_routes`), for instances PyVRP
    expresses but for their breaks: PyVRP has part of the time to plan the day without breaks, OR-Tools the rest to
    fit the breaks in, place what was trimmed and improve. Without seed routes it is OR-Tools alone."""
    began = time.perf_counter()
    routes = seed_routes(instance, time_limit=time_limit * _SEEDING_SHARE, seed=seed)
    left = max(timedelta(), time_limit - timedelta(seconds=time.perf_counter() - began))
    plan = solve_ortools(instance, time_limit=left, seed=seed, initial_routes=routes)
    engine = "ortools" if routes is None else "pyvrp+ortools"
    return replace(plan, stats=replace(plan.stats, engine=engine, wall_s=time.perf_counter() - began))


def _engines(instance: Instance, seed: int) -> list[Engine]:
    """PyVRP beside OR-Tools when the instance fits PyVRP's model; OR-Tools from PyVRP's routes beside OR-Tools
    alone when it fits but for breaks; otherwise two OR-Tools strategies."""
    ortools = partial(solve_ortools, seed=seed)
    if expressible(instance):
        return [partial(solve_pyvrp, seed=seed), ortools]
    if expressible(instance, breaks=False):
        return [partial(solve_seeded, seed=seed), ortools]
    return [partial(solve_ortools, seed=seed, first_solution="LOCAL_CHEAPEST_INSERTION"), ortools]


def _cost(instance: Instance, plan: Plan) -> tuple[int, int]:
    """Must-visit stops left out first, then the objective: distance plus what the dropped stops cost."""
    dropped = {d.stop for d in plan.dropped}
    must = sum(1 for stop in instance.stops if stop.must_visit and stop.key in dropped)
    penalties = sum(stop.drop_cost for stop in instance.stops if stop.key in dropped and not stop.must_visit)
    return must, plan.distance_m + penalties


def _until(engine: Engine, instance: Instance, finish_by: float) -> Plan | None:
    """Run the engine for what is left until `finish_by` (a `time.time()`), once its process has started: spawning
    it and importing the engines take a second or more of the caller's time limit on a busy machine."""
    return engine(instance, time_limit=timedelta(seconds=max(_LEAST_S, finish_by - time.time())))


def solve(instance: Instance, *, time_limit: timedelta, seed: int = 0, workers: int = 2) -> Plan:
    """Assign the stops to teams and order them, within `time_limit`.

    With `workers` >= 2 two engines run at once in separate processes, each for the whole time limit, one of them
    OR-Tools, the engine of the full model. The other is PyVRP for the instances it can express (skills, visit
    limits, capacity and team pins as load dimensions; windows; no breaks or position pins), or for instances it can
    express but for their breaks, OR-Tools started from PyVRP's routes (`solve_seeded`), or else OR-Tools with
    another first-solution strategy. Every plan is verified by `routing.check.check`; the
    best valid one wins (fewest must-visit stops dropped, then distance plus drop costs), ties to the first engine.
    With `workers` = 1 only OR-Tools runs, in this process. Deterministic engines given the same seed and limit
    give the same choice; `Plan.stats.engine` names the winner.
    """
    started = time.perf_counter()
    if workers < 2:
        return solve_ortools(instance, time_limit=time_limit, seed=seed)
    engines = _engines(instance, seed)
    finish_by = time.time() + time_limit.total_seconds() - _WRAP_UP_S  # wall clock: the same in every process
    with ProcessPoolExecutor(max_workers=len(engines), mp_context=get_context("spawn")) as pool:
        futures: list[Future[Plan | None]] = [pool.submit(_until, engine, instance, finish_by) for engine in engines]
        plans = [future.result() for future in futures]
    valid = [plan for plan in plans if plan is not None and check(instance, plan).ok]
    if not valid:  # no engine found a plan the checker accepts: give OR-Tools' plan, which names its dropped stops
        best = next(plan for plan in reversed(plans) if plan is not None)
    else:
        best = min(valid, key=lambda plan: _cost(instance, plan))
    return replace(best, stats=replace(best.stats, wall_s=time.perf_counter() - started))
