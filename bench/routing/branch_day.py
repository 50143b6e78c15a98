"""A realistic, seeded day of a Shanghai branch: visits in clusters over 30 x 30 km, windows, skills, lunch breaks.

Per day of N visits: visiting hours 08:00–21:00, about 40 % of visits with a preferred 2–4 h window inside them,
service 15–40 min, priority 1–5 turned into a drop cost, about 10 % complaint cases needing the skill "experienced";
0.06 N teams (60 for 1,000 visits) working 09:00–18:00 from the branch office with at most 16 visits, a 45 min
lunch break starting between 11:30 and 12:45 (so it ends by 13:30), one team in three experienced. Travel comes
from routing.matrix.GreatCircle by car (its Shanghai defaults: detour factor, city speed, parking time).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from routing.matrix import GreatCircle, TravelMode
from routing.model import Break, Instance, Stop, Team, TimeWindow

HOUR = 3600
CENTRE = (31.2304, 121.4737)  # (lat, lon) of the branch office, central Shanghai
AREA_KM = 30.0
CLUSTERS = 12
CLUSTERED_SHARE = 0.8
CLUSTER_SIGMA_KM = 1.5
VISITING_HOURS = TimeWindow(8 * HOUR, 21 * HOUR)
PREFERRED_WINDOW_SHARE = 0.4
SERVICE_MINUTES = (15, 40)
DROP_COST_PER_PRIORITY_M = 20_000  # a priority-5 visit is worth a 100 km detour
COMPLAINT_SHARE = 0.1
EXPERIENCED = "experienced"
TEAMS_PER_VISIT = 0.06
SHIFT = TimeWindow(9 * HOUR, 18 * HOUR)
MAX_VISITS = 16
LUNCH = Break(earliest_start_s=11 * HOUR + 1800, latest_start_s=12 * HOUR + 2700, duration_s=45 * 60)
TRAVEL = GreatCircle(TravelMode.DRIVING)
KM_PER_DEGREE = 111.32


@dataclass(frozen=True, slots=True)
class BranchDay:
    """Which day to generate: its number of visits and the seed."""

    visits: int
    seed: int

    def build(self) -> Instance:
        return branch_day(self.visits, self.seed)


def _points_km(rng: np.random.Generator, count: int) -> npt.NDArray[np.float64]:
    """Visit positions in km from the office: most around cluster centres, the rest spread over the area."""
    half = AREA_KM / 2
    centres = rng.uniform(-0.8 * half, 0.8 * half, size=(CLUSTERS, 2))
    clustered = rng.random(count) < CLUSTERED_SHARE
    around = centres[rng.integers(0, CLUSTERS, size=count)] + rng.normal(0.0, CLUSTER_SIGMA_KM, size=(count, 2))
    spread = rng.uniform(-half, half, size=(count, 2))
    return np.clip(np.where(clustered[:, None], around, spread), -half, half)


def _lat_lon(points_km: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    lat = CENTRE[0] + points_km[:, 1] / KM_PER_DEGREE
    lon = CENTRE[1] + points_km[:, 0] / (KM_PER_DEGREE * np.cos(np.radians(CENTRE[0])))
    return np.column_stack([lat, lon])


def _window(rng: np.random.Generator) -> tuple[TimeWindow, ...]:
    if rng.random() >= PREFERRED_WINDOW_SHARE:
        return (VISITING_HOURS,)
    length = int(rng.integers(4, 9)) * 1800  # 2 to 4 h in half hours
    start = int(rng.integers(VISITING_HOURS.start_s // 1800, (VISITING_HOURS.end_s - length) // 1800 + 1)) * 1800
    return (TimeWindow(start, start + length),)


def _stop(rng: np.random.Generator, number: int) -> Stop:
    priority = int(rng.integers(1, 6))
    return Stop(
        key=f"V{number:04d}",
        location=number,
        service_s=int(rng.integers(SERVICE_MINUTES[0], SERVICE_MINUTES[1] + 1)) * 60,
        windows=_window(rng),
        drop_cost=priority * DROP_COST_PER_PRIORITY_M,
        required_skills=frozenset({EXPERIENCED}) if rng.random() < COMPLAINT_SHARE else frozenset(),
    )


def team_count(visits: int) -> int:
    """Teams on duty for a day of `visits` visits (60 for 1,000)."""
    return max(1, round(visits * TEAMS_PER_VISIT))


def branch_day(visits: int, seed: int) -> Instance:
    """The Instance of one generated branch day; the same (visits, seed) always gives the same day."""
    if visits < 1:
        raise ValueError(f"a branch day needs at least one visit, not {visits}")
    rng = np.random.default_rng(seed)
    points = np.vstack([np.zeros((1, 2)), _points_km(rng, visits)])  # row 0: the branch office
    travel = TRAVEL.matrices([(float(lat), float(lon)) for lat, lon in _lat_lon(points)])
    stops = [_stop(rng, number) for number in range(1, visits + 1)]
    teams = [
        Team(
            key=f"T{number:03d}",
            start_location=0,
            end_location=0,
            shift=SHIFT,
            max_visits=MAX_VISITS,
            skills=frozenset({EXPERIENCED}) if number % 3 == 1 else frozenset(),
            breaks=(LUNCH,),
        )
        for number in range(1, team_count(visits) + 1)
    ]
    return Instance(teams, stops, durations_s=travel.durations_s, distances_m=travel.distances_m)
