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
from routing.pyvrp_engine import expressible, solve_pyvrp
from routing.solver import solve_ortools

# spawning a worker and importing the engines costs about this much of the caller's time limit
_STARTUP_S = 0.8

Engine = Callable[..., Plan | None]


def _engines(instance: Instance, seed: int) -> list[Engine]:
    """PyVRP (when the instance fits its model) beside OR-Tools; otherwise two OR-Tools strategies."""
    ortools = partial(solve_ortools, seed=seed)
    if expressible(instance):
        return [partial(solve_pyvrp, seed=seed), ortools]
    return [partial(solve_ortools, seed=seed, first_solution="LOCAL_CHEAPEST_INSERTION"), ortools]


def _cost(instance: Instance, plan: Plan) -> tuple[int, int]:
    """Must-visit stops left out first, then the objective: distance plus what the dropped stops cost."""
    dropped = {d.stop for d in plan.dropped}
    must = sum(1 for stop in instance.stops if stop.must_visit and stop.key in dropped)
    penalties = sum(stop.drop_cost for stop in instance.stops if stop.key in dropped and not stop.must_visit)
    return must, plan.distance_m + penalties


def solve(instance: Instance, *, time_limit: timedelta, seed: int = 0, workers: int = 2) -> Plan:
    """Assign the stops to teams and order them, within `time_limit`.

    With `workers` >= 2 the engines run at once in separate processes, each for the whole time limit: PyVRP for the
    instances it can express (skills, visit limits, capacity and team pins as load dimensions; windows; no breaks or
    position pins) and OR-Tools, the engine of the full model. Every plan is verified by `routing.check.check`; the
    best valid one wins (fewest must-visit stops dropped, then distance plus drop costs), ties to the first engine.
    With `workers` = 1 only OR-Tools runs, in this process. Deterministic engines given the same seed and limit
    give the same choice; `Plan.stats.engine` names the winner.
    """
    started = time.perf_counter()
    if workers < 2:
        return solve_ortools(instance, time_limit=time_limit, seed=seed)
    engines = _engines(instance, seed)
    budget = timedelta(seconds=max(0.2, time_limit.total_seconds() - _STARTUP_S))
    with ProcessPoolExecutor(max_workers=len(engines), mp_context=get_context("spawn")) as pool:
        futures: list[Future[Plan | None]] = [pool.submit(engine, instance, time_limit=budget) for engine in engines]
        plans = [future.result() for future in futures]
    valid = [plan for plan in plans if plan is not None and check(instance, plan).ok]
    if not valid:  # no engine found a plan the checker accepts: give OR-Tools' plan, which names its dropped stops
        best = next(plan for plan in reversed(plans) if plan is not None)
    else:
        best = min(valid, key=lambda plan: _cost(instance, plan))
    return replace(best, stats=replace(best.stats, wall_s=time.perf_counter() - started))
