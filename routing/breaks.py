"""Whether a team can visit stops in a given order and still take its breaks, and trimming an order until it can.

Used to turn routes planned without breaks (by PyVRP, which has none) into a plan OR-Tools accepts as a start.
The timing rules are the checker's: leave at or after the shift start, start each service inside one of the stop's
windows (waiting allowed), be back by the shift end; each break starts within its [earliest, latest] and is taken
before leaving, on the way (interrupting the travel), while waiting, or after coming back, never during a visit.
Earlier is never worse under these rules, so keeping the earliest clock for each set of breaks already taken
decides exactly.
"""

from collections.abc import Sequence

from routing.model import Break, Instance, Stop, Team


def fits(instance: Instance, team: Team, stops: Sequence[Stop]) -> bool:
    """Whether `team` can visit `stops` in this order inside their windows and its shift, taking all its breaks
    (a team with no visits takes none)."""
    if not stops:
        return True
    clock = {0: team.shift.start_s}  # breaks taken (a bit mask) -> earliest departure
    here = team.start_location
    for stop in stops:
        reached: dict[int, int] = {}
        for taken, ready in _leg(clock, int(instance.durations_s[here, stop.location]), team.breaks).items():
            start = _service_start(stop, ready)
            if start is not None:
                reached[taken] = start + stop.service_s
        if not reached:
            return False
        clock, here = reached, stop.location
    back = _leg(clock, int(instance.durations_s[here, team.end_location]), team.breaks)
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
