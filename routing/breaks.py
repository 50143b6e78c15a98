"""Whether a team can visit stops in a given order and still take its breaks, and trimming an order until it can.

Used to turn routes planned without breaks (by PyVRP, which has none) into a plan OR-Tools accepts as a start.
The timing rules are the checker's: leave at or after the shift start, start each service inside one of the stop's
windows (waiting allowed), be back by the shift end; each break starts within its [earliest, latest] and is taken
before leaving, on the way (interrupting the travel), while waiting, or after coming back, never during a visit.
Earlier is never worse under these rules, so keeping the earliest clock for each set of breaks already taken
decides exactly.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

from routing.model import Break, Instance, Stop, Team, TimeWindow
from routing.plan import BreakTaken, Route, Visit


class _Timed(NamedTuple):
    """A route so far, for one set of breaks taken: when it is ready to go on, its visits and its breaks."""

    ready_s: int
    visits: tuple[Visit, ...]
    rests: tuple[BreakTaken, ...]


def fits(instance: Instance, team: Team, stops: Sequence[Stop]) -> bool:
    """Whether `team` can visit `stops` in this order inside their windows and its shift, taking all its breaks
    (a team with no visits takes none)."""
    if not stops:
        return True
    clock = {0: team.shift.start_s}  # breaks taken (a bit mask) -> earliest departure
    here = team.start_location
    for stop in stops:
        reached: dict[int, int] = {}
        for taken, ready in _leg(clock, int(instance.durations_of(team)[here, stop.location]), team.breaks).items():
            start = _service_start(stop, ready)
            if start is not None:
                reached[taken] = start + stop.service_s
        if not reached:
            return False
        clock, here = reached, stop.location
    back = _leg(clock, int(instance.durations_of(team)[here, team.end_location]), team.breaks)
    return back.get((1 << len(team.breaks)) - 1, team.shift.end_s + 1) <= team.shift.end_s


def trim(instance: Instance, team: Team, stops: Sequence[Stop]) -> list[Stop]:
    """`stops` in order, less the fewest and cheapest to drop, so that the team `fits`: each round drops the stop
    whose removal fits at the least drop cost (must-visit stops last), or else the cheapest one, and tries again."""
    kept = list(stops)
    while not fits(instance, team, kept):
        by_cost = sorted(range(len(kept)), key=lambda i: (kept[i].must_visit, kept[i].drop_cost))
        mending = next((i for i in by_cost if fits(instance, team, kept[:i] + kept[i + 1 :])), by_cost[0])
        del kept[mending]
    return kept


def late_route(instance: Instance, team: Team, stops: Sequence[Stop]) -> Route | None:
    """The earliest schedule of `team` visiting `stops` in this order when the ends of their last windows and of
    its shift are let slip: when a team running late will really reach them, for a day kept as it is although it no
    longer fits. None when even so its breaks cannot be taken."""
    slip = max([team.shift.end_s, *(stop.windows[-1].end_s for stop in stops if stop.windows)]) + 86_400
    slipped = [
        replace(stop, windows=(*stop.windows[:-1], TimeWindow(stop.windows[-1].start_s, slip)))
        if stop.windows
        else stop
        for stop in stops
    ]
    return timed_route(instance, replace(team, shift=TimeWindow(team.shift.start_s, slip)), slipped)


def timed_route(instance: Instance, team: Team, stops: Sequence[Stop]) -> Route | None:
    """The earliest schedule of `team` visiting `stops` in this order and taking its breaks, as a Route the checker
    accepts, or None when the team does not `fit` them. A break taken on the way shows as waiting at the next stop
    (as in OR-Tools' plans); a team with no visits stays home and takes no break."""
    if not stops:
        return Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0)
    states = {0: _Timed(team.shift.start_s, (), ())}  # breaks taken (a bit mask) -> the earliest route so far
    here, distance, travel = team.start_location, 0, 0
    for stop in stops:
        leg = int(instance.durations_of(team)[here, stop.location])
        reached: dict[int, _Timed] = {}
        for taken, (ready, before, rests) in _timed_leg(states, leg, team.breaks).items():
            start = _service_start(stop, ready)
            if start is not None:
                arrival = before.ready_s + leg
                visit = Visit(stop.key, arrival, start - arrival, start, start + stop.service_s)
                reached[taken] = _Timed(visit.departure_s, (*before.visits, visit), rests)
        if not reached:
            return None
        distance += int(instance.distances_of(team)[here, stop.location])
        travel += leg
        states, here = reached, stop.location
    leg = int(instance.durations_of(team)[here, team.end_location])
    back = _timed_leg(states, leg, team.breaks).get((1 << len(team.breaks)) - 1)
    if back is None or back[0] > team.shift.end_s:
        return None
    end_s, last, rests = back
    distance += int(instance.distances_of(team)[here, team.end_location])
    return Route(team.key, last.visits, team.shift.start_s, end_s, distance, travel + leg, rests)


def _timed_leg(
    states: dict[int, _Timed], travel_s: int, rests: Sequence[Break]
) -> dict[int, tuple[int, _Timed, tuple[BreakTaken, ...]]]:
    """`_leg` keeping what it decides: for each set of breaks taken by the end of the leg, the earliest the team is
    there, the route it left from and every break taken so far, with its start."""
    ready: dict[int, tuple[int, _Timed, tuple[BreakTaken, ...]]] = {}

    def onwards(taken: int, now: int, travel_left: int, source: _Timed, taken_so_far: tuple[BreakTaken, ...]) -> None:
        if taken not in ready or now + travel_left < ready[taken][0]:
            ready[taken] = (now + travel_left, source, taken_so_far)
        for bit, rest in enumerate(rests):
            begins = max(now, rest.earliest_start_s)
            if taken & (1 << bit) or begins > rest.latest_start_s:
                continue
            onwards(
                taken | (1 << bit),
                begins + rest.duration_s,
                travel_left - min(travel_left, begins - now),
                source,
                (*taken_so_far, BreakTaken(begins, rest.duration_s)),
            )

    for taken, state in states.items():
        onwards(taken, state.ready_s, travel_s, state, state.rests)
    return ready


def _leg(clock: dict[int, int], travel_s: int, rests: Sequence[Break]) -> dict[int, int]:
    """For each set of breaks (a bit mask) taken by the end of a leg of `travel_s`, the earliest the team is there
    and done with them; `clock` gives the departure for each set taken before. A break starts as early as it may:
    before, during or after the travel, which it interrupts."""
    ready: dict[int, int] = {}

    def onwards(taken: int, now: int, travel_left: int) -> None:
        ready[taken] = min(ready.get(taken, now + travel_left), now + travel_left)
        for bit, rest in enumerate(rests):
            begins = max(now, rest.earliest_start_s)
            if taken & (1 << bit) or begins > rest.latest_start_s:
                continue
            onwards(taken | (1 << bit), begins + rest.duration_s, travel_left - min(travel_left, begins - now))

    for taken, departure in clock.items():
        onwards(taken, departure, travel_s)
    return ready


def _service_start(stop: Stop, arrival: int) -> int | None:
    """The earliest service start at or after `arrival` inside one of the stop's windows; None when all have
    closed. A stop without windows starts on arrival."""
    if not stop.windows:
        return arrival
    starts = [max(arrival, w.start_s) for w in stop.windows if arrival <= w.end_s]
    return min(starts, default=None)
