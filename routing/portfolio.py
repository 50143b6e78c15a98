"""`solve`: plan a day on both cores with a portfolio of engines and keep the best plan the checker accepts."""

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from multiprocessing import get_context

from routing.check import check
from routing.decompose import large, solve_decomposed
from routing.model import Instance
from routing.plan import Plan
from routing.pyvrp_engine import expressible, seed_routes, solve_pyvrp
from routing.solver import check_initial_routes, solve_ortools

# returning the plans and checking them take about this much of the caller's time limit (a 1,000-stop day)
_WRAP_UP_S = 0.5
_LEAST_S = 0.2  # an engine gets at least this long, even when starting its process took the whole limit
# of a seeded solve's time, PyVRP's share for the routes OR-Tools starts from
_SEEDING_SHARE = 0.7
# when neither PyVRP search finds a plan the checker accepts, OR-Tools gets this share of the limit after them
_FALLBACK_SHARE = 0.25
_FALLBACK_LEAST = timedelta(seconds=1)

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
    plan = solve_ortools(instance, time_limit=left, seed=seed, initial_routes=routes, warm=settle and bool(routes))
    engine = "ortools" if routes is None else "pyvrp+ortools"
    return replace(plan, stats=replace(plan.stats, engine=engine, wall_s=time.perf_counter() - began))


def _engines(instance: Instance, seed: int, initial_routes: Routes | None) -> list[Engine]:
    """Two PyVRP searches with different seeds when the instance fits PyVRP's model; OR-Tools from PyVRP's routes
    beside OR-Tools alone when it fits but for breaks; otherwise two OR-Tools strategies. With `initial_routes`,
    one engine improves them and the other searches afresh, both until settled (OR-Tools alone: both improve them,
    from different strategies should they fail to restore)."""
    if initial_routes is None:
        ortools = partial(solve_ortools, seed=seed)
        if expressible(instance):
            return [partial(solve_pyvrp, seed=seed), partial(solve_pyvrp, seed=seed + 1)]
        if expressible(instance, breaks=False):
            return [partial(solve_seeded, seed=seed), ortools]
        return [partial(ortools, first_solution="LOCAL_CHEAPEST_INSERTION"), ortools]
    ortools = partial(solve_ortools, seed=seed, initial_routes=initial_routes, warm=True)
    if expressible(instance):
        return [
            partial(solve_pyvrp, seed=seed, initial_routes=initial_routes),
            partial(solve_pyvrp, seed=seed + 1, settle=True),
        ]
    if expressible(instance, breaks=False):
        return [ortools, partial(solve_seeded, seed=seed, settle=True)]
    return [ortools, partial(ortools, first_solution="LOCAL_CHEAPEST_INSERTION")]


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


def solve(
    instance: Instance,
    *,
    time_limit: timedelta,
    seed: int = 0,
    workers: int = 2,
    initial_routes: Routes | None = None,
) -> Plan:
    """Assign the stops to teams and order them, within `time_limit`.

    With `workers` >= 2 two engines run at once in separate processes, each for the whole time limit. For the
    instances PyVRP can express (skills, visit limits, capacity and team pins as load dimensions; windows; no
    breaks or position pins) they are two PyVRP searches, seeded `seed` and `seed + 1`: where OR-Tools beside PyVRP
    never won, a second PyVRP search often does (bench/README.md has the figures); a large such day
    (`routing.decompose.large`) is cut into halves after a while, each searched on its own core
    (`routing.decompose`). For instances PyVRP expresses
    but for their breaks, OR-Tools started from PyVRP's routes (`solve_seeded`) runs beside OR-Tools alone; for the
    rest, OR-Tools with two first-solution strategies. Every plan is verified by `routing.check.check`; the best
    valid one wins (fewest must-visit stops dropped, then distance plus drop costs), ties to the first engine. When
    neither PyVRP search finds a valid plan (must-visit stops that cannot all fit), OR-Tools, which names what it
    drops, gets a quarter of the limit (at least 1 s) after them. With `workers` = 1 only OR-Tools runs, in this
    process. Deterministic engines given the same seed and limit give the same choice; `Plan.stats.engine` names
    the winner.

    `initial_routes` is a previous plan (stop keys in order, per team key; stops that no plan can include, or on a
    team that may not have them, are skipped): a re-solve after an edit. One engine then improves it and the other
    searches afresh (lest the edit leave the old plan in a poor corner), and each stops once its search has settled
    (`routing.settle`), at the latest at the time limit. Raises ValueError for a team or stop key in it that the
    instance does not have.
    """
    started = time.perf_counter()
    check_initial_routes(instance, initial_routes or {})
    warm = initial_routes is not None
    if workers < 2:
        plan = solve_ortools(instance, time_limit=time_limit, seed=seed, initial_routes=initial_routes, warm=warm)
        return replace(plan, stats=replace(plan.stats, wall_s=time.perf_counter() - started))
    finish_by = time.time() + time_limit.total_seconds() - _WRAP_UP_S  # wall clock: the same in every process
    if not warm and expressible(instance) and large(instance):
        plans: list[Plan | None] = [solve_decomposed(instance, finish_by=finish_by, seed=seed)]
    else:
        engines = _engines(instance, seed, initial_routes)
        with ProcessPoolExecutor(max_workers=len(engines), mp_context=get_context("spawn")) as pool:
            futures: list[Future[Plan | None]] = [
                pool.submit(_until, engine, instance, finish_by) for engine in engines
            ]
            plans = [future.result() for future in futures]
    valid = [plan for plan in plans if plan is not None and check(instance, plan).ok]
    if valid:
        best = min(valid, key=lambda plan: _cost(instance, plan))
    elif all(plan is not None and plan.stats.engine == "pyvrp" for plan in plans):
        fallback = max(_FALLBACK_LEAST, time_limit * _FALLBACK_SHARE)
        best = solve_ortools(instance, time_limit=fallback, seed=seed, initial_routes=initial_routes, warm=warm)
    else:  # no engine found a plan the checker accepts: give OR-Tools' plan, which names its dropped stops
        best = next(plan for plan in reversed(plans) if plan is not None)
    return replace(best, stats=replace(best.stats, wall_s=time.perf_counter() - started))
