"""The input of a planning problem: teams, stops and the travel matrices between their locations.

Everything is an integer from here inward: seconds since the start of the planning day, metres, and rows of the
matrices for locations. Every class checks itself on construction and raises ``ValueError`` saying what is wrong.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

DAY_S = 24 * 3600


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An interval [start_s, end_s] in seconds after the start of the planning day (may run past midnight)."""

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        _check(0 <= self.start_s <= self.end_s, f"time window {self.start_s}..{self.end_s} must have 0 <= start <= end")

    def contains(self, t: int) -> bool:
        return self.start_s <= t <= self.end_s


@dataclass(frozen=True, slots=True)
class Break:
    """A rest the team must take: `duration_s` long, starting within [earliest_start_s, latest_start_s]."""

    earliest_start_s: int
    latest_start_s: int
    duration_s: int

    def __post_init__(self) -> None:
        _check(
            0 <= self.earliest_start_s <= self.latest_start_s,
            f"break start {self.earliest_start_s}..{self.latest_start_s} must have 0 <= earliest <= latest",
        )
        _check(self.duration_s > 0, f"break duration {self.duration_s} s must be positive")


@dataclass(frozen=True, slots=True)
class Team:
    """A crew for the day: where it starts and ends, its shift, its capacity for visits and load, and its skills."""

    key: str  # the caller's id, returned untouched in the Plan
    start_location: int  # row of Instance.durations_s
    end_location: int
    shift: TimeWindow  # leave the start no earlier than shift.start_s, be back at the end by shift.end_s
    max_visits: int | None = None
    skills: frozenset[str] = frozenset()
    breaks: tuple[Break, ...] = ()
    capacity: int | None = None  # most total Stop.demand on its route; None: unlimited
    name: str = ""  # how explanations of dropped stops name the team; empty: by its key
    profile: int = 0  # the travel matrices it moves by (`Instance.durations_of`): 0, or one of Instance.profiles

    @property
    def label(self) -> str:
        return self.name or self.key

    def __post_init__(self) -> None:
        _check(bool(self.key), "a team needs a key")
        _check(self.max_visits is None or self.max_visits >= 0, f"team {self.key}: max_visits must be >= 0")
        _check(self.capacity is None or self.capacity >= 0, f"team {self.key}: capacity must be >= 0")
        _check(self.profile >= 0, f"team {self.key}: profile must be >= 0")
        for rest in self.breaks:
            _check(
                self.shift.start_s <= rest.earliest_start_s
                and rest.latest_start_s + rest.duration_s <= self.shift.end_s,
                f"team {self.key}: a break must lie inside the shift",
            )


@dataclass(frozen=True, slots=True)
class Stop:
    """A place to visit: how long the visit takes, when it may start, what dropping it costs and who may do it."""

    key: str  # the caller's id, returned untouched in the Plan
    location: int  # row of Instance.durations_s
    service_s: int
    windows: tuple[TimeWindow, ...] = ()  # the service starts inside one of them; empty: any time of the shift
    drop_cost: int = 0  # cost of leaving the stop unplanned, in the objective's unit (metres); ignored if must_visit
    must_visit: bool = False
    required_skills: frozenset[str] = frozenset()
    pin_team: str | None = None  # only this team may visit it
    pin_position: int | None = None  # 1-based position in pin_team's route
    demand: int = 0  # load it takes from the visiting team's capacity
    home_team: str | None = None  # the team that has it now (a day under way): visiting it by another costs move_cost
    move_cost: int = 0  # in the objective's unit (metres), added when a team other than home_team visits it

    def __post_init__(self) -> None:
        _check(bool(self.key), "a stop needs a key")
        _check(self.service_s >= 0, f"stop {self.key}: service_s must be >= 0")
        _check(self.demand >= 0, f"stop {self.key}: demand must be >= 0")
        _check(self.drop_cost >= 0, f"stop {self.key}: drop_cost must be >= 0")
        _check(self.move_cost >= 0, f"stop {self.key}: move_cost must be >= 0")
        _check(self.move_cost == 0 or self.home_team is not None, f"stop {self.key}: move_cost needs a home_team")
        ordered = sorted(self.windows, key=lambda w: w.start_s)
        for before, after in pairwise(ordered):
            _check(before.end_s < after.start_s, f"stop {self.key}: time windows overlap")
        _check(
            self.pin_position is None or (self.pin_team is not None and self.pin_position >= 1),
            f"stop {self.key}: pin_position needs pin_team and must be >= 1",
        )


def frozen_matrix(values: npt.ArrayLike, name: str) -> npt.NDArray[np.int64]:
    """`values` as a read-only int64 square matrix without negative entries; a read-only int64 array is kept as it
    is (no copy of a large matrix), anything else is copied."""
    if isinstance(values, np.ndarray) and values.dtype == np.int64 and not values.flags.writeable:
        matrix = values
    else:
        matrix = np.array(values, dtype=np.int64, copy=True)
        matrix.setflags(write=False)
    _check(
        matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1], f"{name} must be a square matrix, got {matrix.shape}"
    )
    _check(not matrix.size or matrix.min() >= 0, f"{name} must not be negative")
    return matrix


@dataclass(frozen=True, slots=True)
class Instance:
    """One day of one branch: its teams, the stops to plan, and travel times (s) and distances (m) between
    locations, indexed by the `location` rows the teams and stops name. Teams that travel differently (a car, an
    e-bike, on foot) have their own matrices: `durations_s` and `distances_m` are profile 0's, `profiles` holds
    (durations, distances) of profiles 1, 2, ..., and each team moves by its `Team.profile`'s."""

    teams: tuple[Team, ...]
    stops: tuple[Stop, ...]
    durations_s: npt.NDArray[np.int64] = field(repr=False)
    distances_m: npt.NDArray[np.int64] = field(repr=False)
    profiles: tuple[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]], ...] = field(repr=False)

    def __init__(
        self,
        teams: Iterable[Team],
        stops: Iterable[Stop],
        durations_s: npt.ArrayLike,
        distances_m: npt.ArrayLike,
        profiles: Iterable[tuple[npt.ArrayLike, npt.ArrayLike]] = (),
    ) -> None:
        object.__setattr__(self, "teams", tuple(teams))
        object.__setattr__(self, "stops", tuple(stops))
        object.__setattr__(self, "durations_s", frozen_matrix(durations_s, "durations_s"))
        object.__setattr__(self, "distances_m", frozen_matrix(distances_m, "distances_m"))
        frozen = tuple(
            (frozen_matrix(durations, f"profile {k} durations_s"), frozen_matrix(distances, f"profile {k} distances_m"))
            for k, (durations, distances) in enumerate(profiles, start=1)
        )
        object.__setattr__(self, "profiles", frozen)
        self._validate()

    @property
    def profile_count(self) -> int:
        return 1 + len(self.profiles)

    def matrices_of(self, profile: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(durations_s, distances_m) of a profile."""
        return (self.durations_s, self.distances_m) if profile == 0 else self.profiles[profile - 1]

    def durations_of(self, team: Team) -> npt.NDArray[np.int64]:
        """The travel seconds the team moves by."""
        return self.matrices_of(team.profile)[0]

    def distances_of(self, team: Team) -> npt.NDArray[np.int64]:
        """The travel metres the team moves by."""
        return self.matrices_of(team.profile)[1]

    def _validate(self) -> None:
        size = self.durations_s.shape[0]
        _check(self.distances_m.shape == self.durations_s.shape, "durations_s and distances_m differ in shape")
        _check(len(self.teams) > 0, "an instance needs at least one team")
        for durations, distances in self.profiles:
            _check(
                durations.shape == distances.shape == self.durations_s.shape,
                "every profile's matrices have the shape of durations_s",
            )
        team_keys = [team.key for team in self.teams]
        _check(len(set(team_keys)) == len(team_keys), "team keys must be unique")
        stop_keys = [stop.key for stop in self.stops]
        _check(len(set(stop_keys)) == len(stop_keys), "stop keys must be unique")
        for team in self.teams:
            _check(
                0 <= team.start_location < size and 0 <= team.end_location < size,
                f"team {team.key}: location outside the matrix (size {size})",
            )
            _check(team.profile < self.profile_count, f"team {team.key}: profile {team.profile} has no matrices")
        known = set(team_keys)
        positions: set[tuple[str, int]] = set()
        for stop in self.stops:
            _check(0 <= stop.location < size, f"stop {stop.key}: location {stop.location} outside the matrix")
            _check(
                stop.pin_team is None or stop.pin_team in known, f"stop {stop.key}: unknown pin_team {stop.pin_team}"
            )
            _check(
                stop.home_team is None or stop.home_team in known,
                f"stop {stop.key}: unknown home_team {stop.home_team}",
            )
            if stop.pin_position is not None:
                assert stop.pin_team is not None
                slot = (stop.pin_team, stop.pin_position)
                _check(slot not in positions, f"stop {stop.key}: two stops pinned to position {slot}")
                positions.add(slot)

    def team(self, key: str) -> Team:
        return next(team for team in self.teams if team.key == key)

    def moves_cost(self, routes: Iterable[tuple[str, Iterable[str]]]) -> int:
        """What the stops of `routes` (a team's key and its stops' keys) cost for being visited by a team other than
        their home team (`Stop.move_cost`)."""
        stops = {stop.key: stop for stop in self.stops}
        return sum(
            stops[key].move_cost for team, keys in routes for key in keys if stops[key].home_team not in (None, team)
        )

    def stop(self, key: str) -> Stop:
        return next(stop for stop in self.stops if stop.key == key)
