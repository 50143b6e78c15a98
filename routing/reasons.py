"""Why a stop is not planned, in words a supervisor understands.

`unservable` is a diagnosis made before any search: the stops that no plan can include, because no team has the
skills, a pin cannot be honoured, or no team can get there inside the stop's windows and be back by the end of its
shift. `explain_dropped` words the stops a solver left out although each fits on its own. Both only read the
instance; no solver is involved.

A stop "fits on its own" on a team when the team, leaving its start at the start of its shift, can serve it inside
one of its windows and reach its end location by the end of its shift, taking every break inside its allowed start
times: before leaving, on the way (travel may be interrupted by a break), while waiting, or after coming back. A
break never interrupts a visit. These are the rules the solvers apply.
"""

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from routing.model import Break, Instance, Stop, Team
from routing.plan import Dropped, DropReason

_ANY_TIME = np.int64(2**52)  # the end of the "window" of a stop without windows: later than any shift end
_TEAMS_NAMED = 3  # longer lists of teams are cut in details: "A, B, C and 4 more"


def eligible(instance: Instance, stops: Sequence[Stop] | None = None) -> npt.NDArray[np.bool_]:
    """Which team may serve which stop on its own: a boolean matrix [stop, team] over `stops` (default: all stops
    of the instance) and `instance.teams`.

    True when the team has every required skill, may make visits (max_visits is not 0), can carry the stop's
    demand, is the pinned team if the stop has one, can get from its start to its end inside its shift at all, and
    fits the stop alone into its day (see the module docstring). Pin positions are not judged here; `unservable`
    does that.
    """
    chosen = instance.stops if stops is None else stops
    allowed = _skilled(instance.teams, chosen) & _carried(instance.teams, chosen) & _reachable(instance, chosen)
    allowed &= np.array([team.max_visits != 0 and _day_fits(instance, team) for team in instance.teams])
    team_index = {team.key: k for k, team in enumerate(instance.teams)}
    for row, stop in enumerate(chosen):
        if stop.pin_team is not None:
            pinned = team_index[stop.pin_team]
            allowed[row, :pinned] = False
            allowed[row, pinned + 1 :] = False
    return allowed


def unservable(instance: Instance) -> dict[str, Dropped]:
    """The stops no plan can include, by stop key, each with its reason and a detail for the supervisor.

    NO_TEAM_WITH_SKILL: no team has all required skills (or the pinned team lacks them), or the only teams that do
    make no visits today or cannot carry its demand. PIN_IMPOSSIBLE: the pinned team cannot fit the stop into its
    day, cannot carry it, makes no visits or fewer than the pinned position, or too few other stops could come
    before that position. OUTSIDE_EVERY_SHIFT: no team with the skills can serve it inside one of its windows and
    be back by the end of its shift. Must-visit stops are judged the same way: a must-visit stop that cannot be
    served is reported here, not raised.
    """
    skilled = _skilled(instance.teams, instance.stops)
    able = eligible(instance)
    result: dict[str, Dropped] = {}
    for row, stop in enumerate(instance.stops):
        if stop.pin_team is None:
            found = _free_stop_problem(instance, stop, skilled[row], able[row])
        else:
            found = _pinned_stop_problem(instance, row, skilled[row], able)
        if found is not None:
            result[stop.key] = Dropped(stop.key, *found)
    return result


def explain_dropped(instance: Instance, keys: Iterable[str]) -> tuple[Dropped, ...]:
    """Reasons for stops a solver left out, in the order of `keys`.

    A stop that no plan can include gets its reason from `unservable`. Any other stop fits on its own, so it was
    left out because the teams that can do it spent their day on stops that cost more to drop: LOWER_PRIORITY, with
    the teams and its drop cost in the detail (for a must-visit stop: it could not be fitted together with the
    other must-visit stops). Raises ValueError for a key that is not a stop of the instance.
    """
    wanted = tuple(keys)
    by_key = {stop.key: stop for stop in instance.stops}
    unknown = [key for key in wanted if key not in by_key]
    if unknown:
        raise ValueError(f"not stops of this instance: {', '.join(unknown)}")
    impossible = unservable(instance)
    servable = [by_key[key] for key in wanted if key not in impossible]
    able = eligible(instance, servable)
    explained = {stop.key: _lower_priority(instance, stop, able[row]) for row, stop in enumerate(servable)}
    return tuple(impossible.get(key) or explained[key] for key in wanted)


_Problem = tuple[DropReason, str, tuple[str, ...]]  # the reason, its detail and the teams it is about


def _free_stop_problem(
    instance: Instance, stop: Stop, skilled: npt.NDArray[np.bool_], able: npt.NDArray[np.bool_]
) -> _Problem | None:
    if not skilled.any():
        return DropReason.NO_TEAM_WITH_SKILL, f"no team has {_skills(stop)}", ()
    working = [team for k, team in enumerate(instance.teams) if skilled[k] and team.max_visits != 0]
    if not working and not stop.required_skills:
        return DropReason.NO_TEAM_WITH_SKILL, "no team makes visits today (every team has max_visits 0)", ()
    if not working:
        holders = [team for k, team in enumerate(instance.teams) if skilled[k]]
        return (
            DropReason.NO_TEAM_WITH_SKILL,
            f"the teams with {_skills(stop)} ({_team_list(holders)}) make no visits today",
            _keys(holders),
        )
    if not any(_carries(team, stop) for team in working):
        largest = max(team.capacity or 0 for team in working)
        return (
            DropReason.NO_TEAM_WITH_SKILL,
            f"no team{_with_skills(stop)} can carry its demand of {stop.demand} (the largest capacity is {largest})",
            _keys(working),
        )
    if not able.any():
        return (
            DropReason.OUTSIDE_EVERY_SHIFT,
            f"no team{_with_skills(stop)} can get there, start the visit {_windows(stop)} and be back by the end "
            f"of its shift (the latest shift ends at {_clock(max(team.shift.end_s for team in working))})",
            _keys(working),
        )
    return None


def _pinned_stop_problem(
    instance: Instance, row: int, skilled: npt.NDArray[np.bool_], able: npt.NDArray[np.bool_]
) -> _Problem | None:
    stop = instance.stops[row]
    assert stop.pin_team is not None
    column = next(k for k, team in enumerate(instance.teams) if team.key == stop.pin_team)
    team = instance.teams[column]
    found = _pin_problem(stop, team, bool(skilled[column]), bool(able[row, column]), int(able[:, column].sum()) - 1)
    return (*found, (team.key,)) if found is not None else None


def _pin_problem(stop: Stop, team: Team, skilled: bool, able: bool, before: int) -> tuple[DropReason, str] | None:
    """Why the stop cannot be kept on the team it is pinned to; `before`: how many other stops the team could do."""
    if not skilled:
        missing = ", ".join(sorted(stop.required_skills - team.skills))
        return DropReason.NO_TEAM_WITH_SKILL, f"it is pinned to team {team.label}, which lacks the skill(s) {missing}"
    if team.max_visits == 0:
        return DropReason.PIN_IMPOSSIBLE, f"it is pinned to team {team.label}, which makes no visits today"
    if not _carries(team, stop):
        return (
            DropReason.PIN_IMPOSSIBLE,
            f"it is pinned to team {team.label}, which cannot carry its demand of {stop.demand} "
            f"(capacity {team.capacity})",
        )
    if not able:
        return (
            DropReason.PIN_IMPOSSIBLE,
            f"it is pinned to team {team.label}, which cannot get there, start the visit {_windows(stop)} and be "
            f"back by the end of its shift at {_clock(team.shift.end_s)}",
        )
    if stop.pin_position is None:
        return None
    if team.max_visits is not None and stop.pin_position > team.max_visits:
        return (
            DropReason.PIN_IMPOSSIBLE,
            f"it is pinned to visit {stop.pin_position} of team {team.label}, which makes at most {team.max_visits}",
        )
    if before < stop.pin_position - 1:
        return (
            DropReason.PIN_IMPOSSIBLE,
            f"it is pinned to visit {stop.pin_position} of team {team.label}, but only {before} other stop(s) "
            "could come before it",
        )
    return None


def _lower_priority(instance: Instance, stop: Stop, able: npt.NDArray[np.bool_]) -> Dropped:
    teams = [team for k, team in enumerate(instance.teams) if able[k]]
    whose = f"team {teams[0].label}" if len(teams) == 1 else f"the teams that can do it ({_team_list(teams)})"
    if stop.must_visit:
        detail = (
            f"it must be visited and fits on its own, but the day of {whose} could not take it together with "
            "the other must-visit stops"
        )
    elif stop.drop_cost == 0:
        detail = "it fits on its own, but dropping it costs nothing (drop cost 0)"
    else:
        detail = (
            f"it fits on its own, but the day of {whose} is full of stops that cost more to drop, or fitting it "
            f"in would add more travel than its drop cost of {stop.drop_cost}"
        )
    return Dropped(stop.key, DropReason.LOWER_PRIORITY, detail, _keys(teams))


def _day_fits(instance: Instance, team: Team) -> bool:
    """The team can go from its start to its end, taking its breaks, inside its shift."""
    idle = instance.durations_of(team)[[team.start_location], [team.end_location]]
    rests = sorted(team.breaks, key=lambda rest: rest.earliest_start_s)
    back, rested = _earliest_finish(np.full(1, team.shift.start_s), idle, rests)
    return bool(rested[0] and back[0] <= team.shift.end_s)


def _carries(team: Team, stop: Stop) -> bool:
    return team.capacity is None or stop.demand <= team.capacity


def _carried(teams: Sequence[Team], stops: Sequence[Stop]) -> npt.NDArray[np.bool_]:
    """[stop, team]: the stop's demand fits in the team's capacity."""
    capacity = np.array([np.inf if team.capacity is None else team.capacity for team in teams])
    demand = np.array([stop.demand for stop in stops], dtype=np.float64)
    return demand[:, None] <= capacity[None, :]


def _skilled(teams: Sequence[Team], stops: Sequence[Stop]) -> npt.NDArray[np.bool_]:
    """[stop, team]: the team has every skill the stop requires."""
    needs = sorted({skill for stop in stops for skill in stop.required_skills})
    if not needs:
        return np.ones((len(stops), len(teams)), dtype=bool)
    column = {skill: j for j, skill in enumerate(needs)}
    required = np.zeros((len(stops), len(needs)), dtype=np.int64)
    for row, stop in enumerate(stops):
        required[row, [column[skill] for skill in stop.required_skills]] = 1
    held = np.array([[skill in team.skills for skill in needs] for team in teams], dtype=np.int64)
    return required @ held.T == required.sum(axis=1, keepdims=True)


def _reachable(instance: Instance, stops: Sequence[Stop]) -> npt.NDArray[np.bool_]:
    """[stop, team]: the stop fits on its own into the team's day (windows, shift, breaks; nothing else).

    One Python pass per team; the work over stops and their windows is numpy.
    """
    owner: list[int] = []
    opens: list[int] = []
    closes: list[int] = []
    for row, stop in enumerate(stops):
        for window in stop.windows:
            owner.append(row)
            opens.append(window.start_s)
            closes.append(window.end_s)
        if not stop.windows:
            owner.append(row)
            opens.append(0)
            closes.append(int(_ANY_TIME))
    by_window = np.array(owner, dtype=np.intp)
    location = np.array([stop.location for stop in stops], dtype=np.intp)[by_window]
    service = np.array([stop.service_s for stop in stops], dtype=np.int64)[by_window]
    window_start = np.array(opens, dtype=np.int64)
    window_end = np.array(closes, dtype=np.int64)
    reachable = np.zeros((len(stops), len(instance.teams)), dtype=bool)
    for k, team in enumerate(instance.teams):
        there = instance.durations_of(team)[team.start_location, location]
        back = instance.durations_of(team)[location, team.end_location]
        fits = _fits_in_day(team, there, back, service, window_start, window_end)
        reachable[:, k] = np.bincount(by_window, weights=fits, minlength=len(stops)) > 0
    return reachable


def _fits_in_day(
    team: Team,
    there: npt.NDArray[np.int64],
    back: npt.NDArray[np.int64],
    service: npt.NDArray[np.int64],
    window_start: npt.NDArray[np.int64],
    window_end: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Per window: the team can start the visit inside it and be back by its shift end, breaks included.

    Each way of splitting the breaks (in order of their earliest start) into those taken before the visit and
    those taken after it is tried; on each side the earliest schedule is the best one.
    """
    rests = sorted(team.breaks, key=lambda rest: rest.earliest_start_s)
    fits = np.zeros(there.shape, dtype=bool)
    for split in range(len(rests) + 1):
        ready, rested_before = _earliest_finish(np.full(there.shape, team.shift.start_s), there, rests[:split])
        start = np.maximum(ready, window_start)
        done, rested_after = _earliest_finish(start + service, back, rests[split:])
        fits |= rested_before & rested_after & (start <= window_end) & (done <= team.shift.end_s)
    return fits


def _earliest_finish(
    free_at: npt.NDArray[np.int64], travel: npt.NDArray[np.int64], rests: Sequence[Break]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """When a team free at `free_at` has travelled `travel` and taken `rests` in order, at the earliest, and
    whether every rest could start in time. Travel goes on until a rest may start and resumes after it."""
    now = free_at
    left = travel
    in_time = np.ones(travel.shape, dtype=bool)
    for rest in rests:
        driven = np.minimum(left, np.maximum(rest.earliest_start_s - now, 0))
        left = left - driven
        begins = np.maximum(now + driven, rest.earliest_start_s)
        in_time &= begins <= rest.latest_start_s
        now = begins + rest.duration_s
    return now + left, in_time


def _skills(stop: Stop) -> str:
    return "the skill(s) " + ", ".join(sorted(stop.required_skills))


def _with_skills(stop: Stop) -> str:
    return f" with {_skills(stop)}" if stop.required_skills else ""


def _keys(teams: Sequence[Team]) -> tuple[str, ...]:
    return tuple(team.key for team in teams)


def _team_list(teams: Sequence[Team]) -> str:
    named = ", ".join(team.label for team in teams[:_TEAMS_NAMED])
    more = len(teams) - _TEAMS_NAMED
    return f"{named} and {more} more" if more > 0 else named


def _windows(stop: Stop) -> str:
    if not stop.windows:
        return "at any time"
    spans = sorted(stop.windows, key=lambda window: window.start_s)
    return "between " + " or ".join(f"{_clock(w.start_s)} and {_clock(w.end_s)}" for w in spans)


def _clock(seconds: int) -> str:
    """Seconds after the start of the day as HH:MM (hours go past 24 for the next day)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
