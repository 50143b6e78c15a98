"""Cheapest insertion of one stop into the teams' routes of a day under way, each route otherwise kept as it is."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from routing.breaks import timed_route
from routing.model import Instance, Stop, Team
from routing.plan import Route


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


def _refusal(team: Team, stop: Stop, route: Sequence[Stop]) -> Refusal | None:
    if not stop.required_skills <= team.skills:
        return Refusal.SKILL
    if stop.pin_team is not None and stop.pin_team != team.key:
        return Refusal.PINNED_ELSEWHERE
    if team.max_visits is not None and len(route) + 1 > team.max_visits:
        return Refusal.VISIT_LIMIT
    return None
