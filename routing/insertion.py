"""Cheapest insertion into the teams' routes of a day under way, each route otherwise kept as it is: of one stop, with
why each team cannot take it (`insertions`), or of every stop the routes lack that fits (`insert_unplanned`)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from routing.breaks import fits, timed_route
from routing.model import Instance, Stop, Team
from routing.plan import Route
from routing.reasons import eligible, unservable

# how many of a stop's cheapest places `insert_unplanned` tries before leaving it out
_TRIES = 40


class Refusal(StrEnum):
    """Why a team cannot take the stop: it lacks a skill the stop needs, the stop is pinned to another team, its
    visit limit is reached, its own route no longer fits its shift (it runs late), or no place in its route keeps
    every stop in its window and the team inside its shift with its breaks."""

    SKILL = "skill"
    PINNED_ELSEWHERE = "pinned_elsewhere"
    VISIT_LIMIT = "visit_limit"
    RUNNING_LATE = "running_late"
    NO_TIME = "no_time"


@dataclass(frozen=True, slots=True)
class Insertion:
    """The best place for the stop in one team's route, or why there is none (`refusal`)."""

    team: str
    position: int | None  # 1-based place in the team's route; None when refused
    route: Route | None  # the team's route with the stop in it
    added_m: int  # distance the stop adds to the route
    added_s: int  # how much later the team gets back
    refusal: Refusal | None = None
    misses: str | None = None  # refused for time at a given place: the first stop the team could then not keep


def insertions(instance: Instance, stop_key: str, routes: Mapping[str, Sequence[str]]) -> list[Insertion]:
    """For each team of `instance`, the place in its route (`routes`: stop keys in order, by team key; missing: an
    empty route) where `stop_key` adds the least distance while every stop keeps its window and the team its shift,
    breaks, visit limit and skills: the possible ones by added distance, then the refused ones."""
    stop = instance.stop(stop_key)
    by_key = {each.key: each for each in instance.stops}
    found = [_best(instance, team, stop, [by_key[key] for key in routes.get(team.key, ())]) for team in instance.teams]
    return sorted(found, key=lambda option: (option.refusal is not None, option.added_m, option.added_s, option.team))


def _best(instance: Instance, team: Team, stop: Stop, route: list[Stop]) -> Insertion:
    refusal = _refusal(team, stop, route)
    base = timed_route(instance, team, route) if refusal is None else None
    if refusal is None and base is None:
        refusal = Refusal.RUNNING_LATE
    if refusal is not None or base is None:
        return Insertion(team.key, None, None, 0, 0, refusal)
    best: Insertion | None = None
    for place in range(len(route) + 1):
        timed = timed_route(instance, team, [*route[:place], stop, *route[place:]])
        if timed is None:
            continue
        option = Insertion(team.key, place + 1, timed, timed.distance_m - base.distance_m, timed.end_s - base.end_s)
        if best is None or (option.added_m, option.added_s) < (best.added_m, best.added_s):
            best = option
    return best or Insertion(team.key, None, None, 0, 0, Refusal.NO_TIME)


def insertion_at(
    instance: Instance, stop_key: str, routes: Mapping[str, Sequence[str]], team_key: str, place: int
) -> Insertion:
    """`stop_key` put at `place` (0-based) of the team's route (`routes` as for `insertions`, without the stop), or
    why not: a skill, a pin or the visit limit, the team's own route no longer fitting, or, for time, the first stop
    of the new route the team could no longer keep in its window and its shift (`misses`; the moved stop itself,
    or one after it)."""
    team = instance.team(team_key)
    stop = instance.stop(stop_key)
    by_key = {each.key: each for each in instance.stops}
    route = [by_key[key] for key in routes.get(team_key, ())]
    refusal = _refusal(team, stop, route)
    base = timed_route(instance, team, route) if refusal is None else None
    if refusal is None and base is None:
        refusal = Refusal.RUNNING_LATE
    if refusal is not None or base is None:
        return Insertion(team.key, None, None, 0, 0, refusal)
    trial = [*route[:place], stop, *route[place:]]
    timed = timed_route(instance, team, trial)
    if timed is None:
        missed = next(
            each for length, each in enumerate(trial, 1) if timed_route(instance, team, trial[:length]) is None
        )
        return Insertion(team.key, None, None, 0, 0, Refusal.NO_TIME, missed.key)
    return Insertion(team.key, place + 1, timed, timed.distance_m - base.distance_m, timed.end_s - base.end_s)


def _refusal(team: Team, stop: Stop, route: Sequence[Stop]) -> Refusal | None:
    if not stop.required_skills <= team.skills:
        return Refusal.SKILL
    if stop.pin_team is not None and stop.pin_team != team.key:
        return Refusal.PINNED_ELSEWHERE
    if team.max_visits is not None and len(route) + 1 > team.max_visits:
        return Refusal.VISIT_LIMIT
    return None


def insert_unplanned(
    instance: Instance, routes: Mapping[str, Sequence[str]], *, tries: int = _TRIES
) -> dict[str, list[str]]:
    """`routes` (stop keys in order, by team key) with the stops they lack put in, one at a time, each where it adds
    the least distance while every route still `fits`, if that is less than its drop cost (a must-visit stop: at
    any cost); no stop already on a route changes team or order. Must-visit stops go first, then by drop cost, the
    dearest first. Only the `tries` cheapest places of a stop are tried (a stop that fits none of them stays out),
    and a route that does not fit as it is gets nothing. Keys of stops no plan can include, or on a team that may
    not have them, are left out of the result. A cheap start for a search from a day under way: the stops of the
    teams stood down and those the previous plan dropped go where they fit, without moving any other."""
    able = eligible(instance)
    row_of = {stop.key: row for row, stop in enumerate(instance.stops)}
    impossible = unservable(instance)
    kept: dict[str, list[Stop]] = {}
    for column, team in enumerate(instance.teams):
        keys = [key for key in routes.get(team.key, ()) if key not in impossible and able[row_of[key], column]]
        kept[team.key] = [instance.stops[row_of[key]] for key in keys]
    placed = {stop.key for stops in kept.values() for stop in stops}
    waiting = sorted(
        (stop for stop in instance.stops if stop.key not in placed and stop.key not in impossible),
        key=lambda stop: (not stop.must_visit, -stop.drop_cost, row_of[stop.key]),
    )
    timing = {team.key: _departures(instance, team, kept[team.key]) for team in instance.teams}
    for stop in waiting:
        row = row_of[stop.key]
        places: list[tuple[int, int, int]] = []  # added distance, team column, index in its route
        for column, team in enumerate(instance.teams):
            route, departures = kept[team.key], timing[team.key]
            if departures is None or not able[row, column] or len(route) >= (team.max_visits or len(instance.stops)):
                continue
            chain = [team.start_location, *(each.location for each in route), team.end_location]
            distance, durations = instance.distances_of(team), instance.durations_of(team)
            closes = max((window.end_s for window in stop.windows), default=team.shift.end_s)
            for place in range(len(route) + 1):
                before, after = chain[place], chain[place + 1]
                if departures[place] + int(durations[before, stop.location]) > closes:
                    continue  # it would arrive after its last window
                added = int(distance[before, stop.location] + distance[stop.location, after] - distance[before, after])
                places.append((added, column, place))
        places.sort()
        for added, column, place in places[:tries]:
            if not stop.must_visit and added >= stop.drop_cost:
                break
            team = instance.teams[column]
            trial = [*kept[team.key][:place], stop, *kept[team.key][place:]]
            if fits(instance, team, trial):
                kept[team.key] = trial
                timing[team.key] = _departures(instance, team, trial)
                break
    return {team: [stop.key for stop in stops] for team, stops in kept.items() if stops}


def _departures(instance: Instance, team: Team, route: Sequence[Stop]) -> list[int] | None:
    """When the team leaves its start and each stop of `route` at the earliest (breaks taken as early as they may),
    or None when it cannot visit them in order."""
    timed = timed_route(instance, team, route)
    if timed is None:
        return None
    return [team.shift.start_s, *(visit.departure_s for visit in timed.visits)]
