"""Timings of a route whose order is given: the earliest schedule of a team serving stops in that order."""

from collections.abc import Sequence

from routing.model import Instance, Stop, Team
from routing.plan import Route, Visit


def earliest_route(instance: Instance, team: Team, stops: Sequence[Stop]) -> Route:
    """Leave at the shift's start, drive to each stop in turn, wait for its next window, serve it, go home. No
    constraint is checked (`routing.check` does that): a stop reached after its windows is served late."""
    if not stops:
        return Route(team.key, (), team.shift.start_s, team.shift.start_s, 0, 0)
    location, clock, distance, travel = team.start_location, team.shift.start_s, 0, 0
    visits = []
    for stop in stops:
        leg = int(instance.durations_of(team)[location, stop.location])
        arrival = clock + leg
        opens = [window.start_s for window in stop.windows if window.end_s >= arrival]
        start = max(arrival, min(opens)) if opens else arrival
        visits.append(Visit(stop.key, arrival, start - arrival, start, start + stop.service_s))
        distance += int(instance.distances_of(team)[location, stop.location])
        travel += leg
        location, clock = stop.location, start + stop.service_s
    leg = int(instance.durations_of(team)[location, team.end_location])
    distance += int(instance.distances_of(team)[location, team.end_location])
    return Route(team.key, tuple(visits), team.shift.start_s, clock + leg, distance, travel + leg)
