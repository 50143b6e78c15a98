"""Both cores on one large day PyVRP expresses: two PyVRP searches of the whole day with different seeds, then,
round after round, the best plan cut into two halves of neighbouring routes, each improved by PyVRP on its own core
from its current routes, and joined again.

A half is a smaller day (its teams, the stops on their routes and the unplanned stops nearest them) that the local
search goes through several times as often, and the two halves are searched at once. Each round cuts the plan
elsewhere (two anchor routes far apart, drawn at random; every route goes with the nearer anchor, half the planned
stops on each side), so that stops near one cut are inside a half in the next. A half's new routes are kept only if
they cost less than its old ones, so the plan never gets worse from one round to the next.
"""

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from multiprocessing import get_context

import numpy as np

from routing.children import die_with_parent
from routing.model import Instance
from routing.plan import Plan
from routing.pyvrp_engine import plan_of, solve_pyvrp
from routing.reasons import unservable

DECOMPOSE_FROM = 400  # servable stops from which a day is worth cutting in two (Solomon's 100 are not)
_WHOLE_SHARE = 0.4  # of the time, the two searches of the whole day
_ROUND_SHARE = 0.1  # of the time, each round of halves
_ROUND_LEAST_S = 2.0

Routes = dict[str, list[str]]

_day: Instance | None = None  # the day a worker process solves halves of, set once when it starts


def large(instance: Instance) -> bool:
    """Whether the day has enough servable stops for cutting it in two to pay."""
    return len(instance.stops) - len(unservable(instance)) >= DECOMPOSE_FROM


def solve_decomposed(instance: Instance, *, finish_by: float, seed: int = 0) -> Plan:
    """PyVRP's plan of the day by the rounds above, until `finish_by` (a `time.monotonic()` instant), on two worker
    processes; `stats.wall_s` is the whole call's."""
    began = time.perf_counter()
    total_s = finish_by - time.monotonic()
    rng = np.random.default_rng(seed)
    with ProcessPoolExecutor(2, mp_context=get_context("spawn"), initializer=_adopt, initargs=(instance,)) as pool:
        whole_by = time.monotonic() + _WHOLE_SHARE * total_s
        searches = [pool.submit(_whole, whole_by, seed + offset) for offset in (0, 1)]
        best = min(
            (future.result() for future in searches),
            key=lambda plan: (plan.stats.status != "feasible", plan.stats.objective),
        )
        routes, feasible = _routes(best), best.stats.status == "feasible"
        round_s = max(_ROUND_LEAST_S, _ROUND_SHARE * total_s)
        number = 0
        while finish_by - time.monotonic() >= round_s / 2:
            number += 1
            until = min(finish_by, time.monotonic() + round_s)
            cut = halves(instance, routes, rng)
            jobs = [
                pool.submit(_half, teams, stops, routes, until, seed + 2 * number + side)
                for side, (teams, stops) in enumerate(cut)
            ]
            for (teams, stops), job in zip(cut, jobs, strict=True):
                improved, ok, cost = job.result()
                old = {team: routes[team] for team in teams if team in routes}
                if ok and cost < _cost(instance, old, stops):
                    routes.update({team: improved.get(team, []) for team in teams})
    return plan_of(instance, routes, feasible=feasible, seed=seed, wall_s=time.perf_counter() - began)


def halves(
    instance: Instance, routes: Mapping[str, Sequence[str]], rng: np.random.Generator
) -> tuple[tuple[frozenset[str], frozenset[str]], tuple[frozenset[str], frozenset[str]]]:
    """The day cut in two, as (team keys, stop keys) per half: two anchor routes far apart (the first at random,
    the second the farthest from it), each route with the nearer anchor so that each half holds about half the
    planned stops; a team without a route goes to the smaller half, an unplanned stop to the half of the route
    nearest it, a stop pinned to a team to its team's half."""
    by_key = {stop.key: stop for stop in instance.stops}
    used = [team for team, keys in routes.items() if keys]
    centre = {team: _medoid(instance, [by_key[key].location for key in routes[team]]) for team in used}
    between = (instance.distances_m + instance.distances_m.T) / 2
    sides: list[set[str]] = [set(), set()]
    if used:
        first = used[int(rng.integers(len(used)))]
        second = max(used, key=lambda team: between[centre[first], centre[team]])
        lean = sorted(
            used, key=lambda team: between[centre[first], centre[team]] - between[centre[second], centre[team]]
        )
        planned = sum(len(routes[team]) for team in used)
        count = 0
        for team in lean:
            sides[0 if count < planned / 2 else 1].add(team)
            count += len(routes[team])
    for routing_team in instance.teams:
        if routing_team.key not in centre:
            sides[0 if len(sides[0]) <= len(sides[1]) else 1].add(routing_team.key)
    stops: list[set[str]] = [set(), set()]
    side_of = {team: side for side in (0, 1) for team in sides[side]}
    planned_on = {key: side_of[team] for team in used for key in routes[team]}
    medoids = [(centre[team], side_of[team]) for team in used]
    for stop in instance.stops:
        if stop.pin_team is not None:
            side = side_of[stop.pin_team]
        elif stop.key in planned_on:
            side = planned_on[stop.key]
        elif medoids:
            side = min(medoids, key=lambda pair: between[pair[0], stop.location])[1]
        else:
            side = 0
        stops[side].add(stop.key)
    return (frozenset(sides[0]), frozenset(stops[0])), (frozenset(sides[1]), frozenset(stops[1]))


def _medoid(instance: Instance, locations: Sequence[int]) -> int:
    """The location of the route nearest, in total, to its others."""
    rows = np.asarray(locations)
    return int(rows[instance.distances_m[np.ix_(rows, rows)].sum(axis=1).argmin()])


def _cost(instance: Instance, routes: Mapping[str, Sequence[str]], stops: frozenset[str]) -> int:
    """Distance of `routes` plus the drop costs of the optional stops of `stops` not on them: a half's objective."""
    teams = {team.key: team for team in instance.teams}
    location = {stop.key: stop.location for stop in instance.stops}
    distance = 0
    for team_key, keys in routes.items():
        if keys:
            team = teams[team_key]
            path = [team.start_location, *(location[key] for key in keys), team.end_location]
            distance += int(instance.distances_of(team)[path[:-1], path[1:]].sum())
    on_routes = {key for keys in routes.values() for key in keys}
    dropped = sum(
        stop.drop_cost
        for stop in instance.stops
        if not stop.must_visit and stop.key not in on_routes and stop.key in stops
    )
    return distance + dropped


def _routes(plan: Plan) -> Routes:
    return {route.team: [visit.stop for visit in route.visits] for route in plan.routes}


def _adopt(instance: Instance) -> None:
    global _day
    die_with_parent()
    _day = instance


def _whole(until: float, seed: int) -> Plan:
    assert _day is not None
    plan = solve_pyvrp(_day, time_limit=timedelta(seconds=max(0.1, until - time.monotonic())), seed=seed)
    assert plan is not None  # only days PyVRP expresses are cut in two
    return plan


def _half(
    teams: frozenset[str], stops: frozenset[str], routes: Mapping[str, Sequence[str]], until: float, seed: int
) -> tuple[Routes, bool, int]:
    """A half improved from its routes until `until`: its teams' new routes, whether PyVRP found them feasible, and
    their objective (distance plus the drop costs of the half's optional stops left out)."""
    assert _day is not None
    half = Instance(
        [team for team in _day.teams if team.key in teams],
        [stop for stop in _day.stops if stop.key in stops],
        _day.durations_s,
        _day.distances_m,
        _day.profiles,
    )
    start = {team: list(routes.get(team, ())) for team in teams}
    limit = timedelta(seconds=max(0.1, until - time.monotonic()))
    plan = solve_pyvrp(half, time_limit=limit, seed=seed, initial_routes=start, settle=False)
    assert plan is not None
    return _routes(plan), plan.stats.status == "feasible", plan.stats.objective
