"""The result of planning: ordered routes per team with their timings, and the stops left out with a reason."""

from dataclasses import dataclass
from enum import StrEnum


class DropReason(StrEnum):
    """Why a stop is not on any route, in words a supervisor understands."""

    OUTSIDE_EVERY_SHIFT = "outside_every_shift"  # no team can reach it inside both its windows and their shift
    NO_TEAM_WITH_SKILL = "no_team_with_skill"  # no team has the skills it requires (or its pinned team lacks them)
    PIN_IMPOSSIBLE = "pin_impossible"  # its pin to a team or position cannot be honoured
    LOWER_PRIORITY = "lower_priority"  # it fits on its own, but the day is full of stops that cost more to drop


@dataclass(frozen=True, slots=True)
class Visit:
    """A stop on a route: when the team arrives, waits, starts the visit and leaves (seconds of the day)."""

    stop: str
    arrival_s: int
    wait_s: int
    start_s: int
    departure_s: int


@dataclass(frozen=True, slots=True)
class BreakTaken:
    start_s: int
    duration_s: int


@dataclass(frozen=True, slots=True)
class Route:
    """One team's day, in order. A team with no visits has an empty route."""

    team: str
    visits: tuple[Visit, ...]
    start_s: int  # leaves its start location
    end_s: int  # arrives at its end location
    distance_m: int
    travel_s: int
    breaks: tuple[BreakTaken, ...] = ()


@dataclass(frozen=True, slots=True)
class Dropped:
    stop: str
    reason: DropReason
    detail: str  # in words, teams by their names
    teams: tuple[str, ...] = ()  # keys of the teams the reason is about (those that could serve it, or its pin's)


@dataclass(frozen=True, slots=True)
class SolverStats:
    """How the plan was found: which engine won, its status and objective, and the wall time spent.

    `timed_out` is True when no engine found a plan within the time limit: the limit ran out with no stop planned
    though some could be (every servable stop is dropped, and the reasons given are not why), so a caller should
    treat the run as failed rather than store empty routes. `status` does not say so: OR-Tools reports
    ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED for such a plan as for most plans the limit stopped."""

    engine: str
    status: str
    objective: int
    wall_s: float
    seed: int
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[Route, ...]
    dropped: tuple[Dropped, ...]
    stats: SolverStats

    @property
    def distance_m(self) -> int:
        return sum(route.distance_m for route in self.routes)

    @property
    def travel_s(self) -> int:
        return sum(route.travel_s for route in self.routes)

    @property
    def planned(self) -> tuple[str, ...]:
        return tuple(visit.stop for route in self.routes for visit in route.visits)

    def team_stops(self) -> list[tuple[str, list[str]]]:
        """Each route's team key and its stops' keys, in order."""
        return [(route.team, [visit.stop for visit in route.visits]) for route in self.routes]
