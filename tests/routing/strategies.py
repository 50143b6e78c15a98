"""Hypothesis strategies for small random routing instances, shared by the routing tests.

Locations are random points on a 5 km square; distances are their Euclidean distances rounded up to whole metres
and travel times those distances at a whole number of metres per second, rounded up, so both matrices are symmetric,
zero on the diagonal and satisfy the triangle inequality exactly. Everything is drawn from hypothesis, so examples
replay and shrink deterministically.
"""

import numpy as np
from hypothesis import strategies as st

from routing.model import Break, Instance, Stop, Team, TimeWindow

SIDE_M = 5_000
SPEEDS_M_PER_S = (1, 5, 10)  # walking, transit, driving
SKILLS = ("legal", "mandarin")
HOUR_S = 3600


def road_matrices(points: list[tuple[int, int]], speed_m_per_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Durations (s) and distances (m) between integer points: ceil'd Euclidean metres, ceil'd seconds at a speed.

    Rounding up keeps the triangle inequality: ceil(x + y) <= ceil(x) + ceil(y). The square roots are exact enough:
    a perfect square's root is exact in IEEE doubles, and other roots at this scale are far from an integer.
    """
    xy = np.array(points, dtype=np.int64).reshape(-1, 2)
    squared = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)
    distances_m = np.ceil(np.sqrt(squared)).astype(np.int64)
    durations_s = -(-distances_m // speed_m_per_s)
    return durations_s, distances_m


def _rare(chance_in: int) -> st.SearchStrategy[bool]:
    """True once in `chance_in` draws; shrinks to False."""
    return st.integers(0, chance_in - 1).map(lambda drawn: drawn == chance_in - 1)


# Strategies are built once: building one per draw costs more than drawing from it.
ONE_IN_THREE, ONE_IN_FOUR, ONE_IN_FIVE = _rare(3), _rare(4), _rare(5)
COORDINATE = st.integers(0, SIDE_M)
POINT = st.tuples(COORDINATE, COORDINATE)
SPEED = st.sampled_from(SPEEDS_M_PER_S)
TEAM_SKILLS = st.frozensets(st.sampled_from(SKILLS))
REQUIRED_SKILL = st.sampled_from(SKILLS).map(lambda skill: frozenset({skill}))
MAX_VISITS = st.none() | st.integers(0, 6)
CAPACITY = st.none() | st.integers(0, 12)
SHIFT_START_S = st.integers(0, 10 * HOUR_S)
SHIFT_LENGTH_S = st.integers(HOUR_S, 12 * HOUR_S)
SERVICE_S = st.integers(0, 1800)
DROP_COST = st.integers(0, 50_000)
DEMAND = st.integers(0, 4)
PIN_POSITION = st.integers(1, 3)
WINDOW_BOUND_S = st.integers(0, 20 * HOUR_S)
WINDOW_BOUNDS = [st.lists(WINDOW_BOUND_S, min_size=2 * n, max_size=2 * n, unique=True) for n in range(3)]


@st.composite
def time_windows(draw: st.DrawFn) -> tuple[TimeWindow, ...]:
    """0..2 disjoint windows within the first 20 hours of the day, in order."""
    bounds = sorted(draw(WINDOW_BOUNDS[draw(st.integers(0, len(WINDOW_BOUNDS) - 1))]))
    return tuple(TimeWindow(start, end) for start, end in zip(bounds[::2], bounds[1::2], strict=True))


WINDOWS = time_windows()


@st.composite
def shift_breaks(draw: st.DrawFn, shift: TimeWindow) -> tuple[Break, ...]:
    """Usually none; sometimes one break that fits inside `shift`."""
    if not draw(ONE_IN_THREE):
        return ()
    duration_s = draw(st.integers(60, min(HOUR_S, shift.end_s - shift.start_s)))
    earliest_s = draw(st.integers(shift.start_s, shift.end_s - duration_s))
    latest_s = draw(st.integers(earliest_s, shift.end_s - duration_s))
    return (Break(earliest_s, latest_s, duration_s),)


@st.composite
def teams(draw: st.DrawFn, key: str, depots: int, *, with_loads: bool = True) -> Team:
    """A team starting and ending at one of the first `depots` locations, with a shift of 1..12 h; a capacity for
    demand only `with_loads`."""
    shift_start_s = draw(SHIFT_START_S)
    shift = TimeWindow(shift_start_s, shift_start_s + draw(SHIFT_LENGTH_S))
    depot = st.integers(0, depots - 1)
    return Team(
        key=key,
        start_location=draw(depot),
        end_location=draw(depot),
        shift=shift,
        max_visits=draw(MAX_VISITS),
        skills=draw(TEAM_SKILLS),
        breaks=draw(shift_breaks(shift)),
        capacity=draw(CAPACITY) if with_loads else None,
    )


@st.composite
def small_instances(draw: st.DrawFn, *, max_teams: int = 3, max_stops: int = 8, with_loads: bool = True) -> Instance:
    """A valid Instance: 1..max_teams teams sharing 1..teams depots, 0..max_stops stops each at its own location,
    with windows, skills, visit limits, some must-visit stops, occasional pins and breaks, and (`with_loads`, for
    engines that model Team.capacity) capacities and demands."""
    team_count = draw(st.integers(1, max_teams))
    depots = draw(st.integers(1, team_count))
    stop_count = draw(st.integers(0, max_stops))
    points = [draw(POINT) for _ in range(depots + stop_count)]
    durations_s, distances_m = road_matrices(points, draw(SPEED))
    crews = [draw(teams(f"team{index}", depots, with_loads=with_loads)) for index in range(team_count)]
    crew_key = st.sampled_from([crew.key for crew in crews])
    taken_slots: set[tuple[str, int]] = set()
    stops = []
    for index in range(stop_count):
        pin_team = draw(crew_key) if draw(ONE_IN_FIVE) else None
        pin_position = draw(PIN_POSITION) if pin_team is not None and draw(st.booleans()) else None
        if pin_position is not None and (pin_team, pin_position) in taken_slots:
            pin_position = None
        if pin_team is not None and pin_position is not None:
            taken_slots.add((pin_team, pin_position))
        stops.append(
            Stop(
                key=f"stop{index}",
                location=depots + index,
                service_s=draw(SERVICE_S),
                windows=draw(WINDOWS),
                drop_cost=draw(DROP_COST),
                must_visit=draw(ONE_IN_FIVE),
                required_skills=draw(REQUIRED_SKILL) if draw(ONE_IN_FOUR) else frozenset(),
                pin_team=pin_team,
                pin_position=pin_position,
                demand=draw(DEMAND) if with_loads else 0,
            )
        )
    return Instance(crews, stops, durations_s, distances_m)
