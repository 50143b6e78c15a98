"""On-duty tracks: when an agent's phone may be tracked at all, how long a track is kept, and when a track says the
team is out of contact or off its route. Off duty nothing is tracked (PIPL art. 28: movement tracks are sensitive
personal information, collected only as far as the purpose needs)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from math import cos, radians

import numpy as np
import numpy.typing as npt

from routing.matrix import EARTH_MEAN_RADIUS_M


@dataclass(frozen=True, slots=True)
class TrackingRules:
    """A branch's settings for tracks, with the firm's defaults."""

    retention_days: int = 30  # a track is purged this many days after its work date
    out_of_contact_s: int = 15 * 60  # no fix for longer than this while on duty: the team is out of contact
    off_route_m: int = 2_000  # farther than this from the day's route (its roads, or straight lines between stops)…
    off_route_s: int = 20 * 60  # …for longer than this: the team is off route
    presence_threshold: int = 60  # a visit whose presence score is under this is doubtful


@dataclass(frozen=True, slots=True)
class Duty:
    """When an agent is on duty: from their departure check to the end of the team's current sheet (later by as
    much as the team left late), plus a margin."""

    begins: datetime
    ends: datetime

    def covers(self, at: datetime) -> bool:
        return self.begins <= at <= self.ends


def duty(checked_at: datetime, sheet_leaves_at: datetime, sheet_returns_at: datetime, margin: timedelta) -> Duty:
    """A team that leaves after its sheet's planned departure works as much later: the sheet's end moves by the
    delay (a team that leaves early ends on time)."""
    late = max(timedelta(0), checked_at - sheet_leaves_at)
    return Duty(checked_at, sheet_returns_at + late + margin)


def server_time(device_at: datetime, clock_skew_s: int) -> datetime:
    """When a fix was taken by the server's clock: the device's time less the device clock's skew."""
    return device_at - timedelta(seconds=clock_skew_s)


def purged_before(today: date, retention_days: int) -> date:
    """Tracks of work dates before this one are past their retention."""
    return today - timedelta(days=retention_days)


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a track: a gap (from the last fix before it to the first after it, or to now) or a time off
    route (from the first fix off it to the last); `ongoing` when it lasts until now."""

    begins: datetime
    ends: datetime
    ongoing: bool = False
    distance_m: int = 0  # off route: the farthest fix from the route

    @property
    def duration_s(self) -> int:
        return int((self.ends - self.begins).total_seconds())


def gaps(times: Sequence[datetime], on_duty: Duty, now: datetime, max_gap_s: int) -> list[Span]:
    """The gaps longer than `max_gap_s` in a track's sorted fix times while on duty, counting from the duty's start
    and, while the duty lasts, up to `now` (an ongoing gap)."""
    ends = min(now, on_duty.ends)
    if ends <= on_duty.begins:
        return []
    marks = [on_duty.begins, *(at for at in times if on_duty.begins < at < ends), ends]
    limit = timedelta(seconds=max_gap_s)
    found = []
    for index, (before, after) in enumerate(pairwise(marks)):
        if after - before > limit:
            found.append(Span(before, after, ongoing=index == len(marks) - 2 and ends == now))
    return found


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class TimedFix:
    at: datetime
    lat: float
    lon: float
    accuracy_m: float


def distance_to_route_m(point: Point, route: Sequence[Point]) -> float:
    """Metres from the point to the nearest of the route's legs (an equirectangular projection around the point:
    exact enough for the few kilometres that matter here)."""
    return _distance_m(point, _lat_lon(route))


def _lat_lon(route: Sequence[Point]) -> npt.NDArray[np.float64]:
    return np.array([(stop.lat, stop.lon) for stop in route], dtype=np.float64).reshape(-1, 2)


def _distance_m(point: Point, route: npt.NDArray[np.float64]) -> float:
    """`distance_to_route_m` of a route's (lat, lon) rows, its legs measured at once (a route along the roads has
    thousands)."""
    scale_x = radians(1) * EARTH_MEAN_RADIUS_M * cos(radians(point.lat))
    scale_y = radians(1) * EARTH_MEAN_RADIUS_M
    x, y = (route[:, 1] - point.lon) * scale_x, (route[:, 0] - point.lat) * scale_y
    if len(x) == 1:
        return float(np.hypot(x[0], y[0]))
    ax, ay, dx, dy = x[:-1], y[:-1], np.diff(x), np.diff(y)
    length = dx * dx + dy * dy
    along = np.divide(-(ax * dx + ay * dy), length, out=np.zeros_like(length), where=length > 0)
    t = np.clip(along, 0.0, 1.0)
    return float(np.hypot(ax + t * dx, ay + t * dy).min())


def off_route(fixes: Sequence[TimedFix], route: Sequence[Point], max_m: int, min_s: int) -> list[Span]:
    """The stretches of sorted fixes farther than `max_m` from the route (beyond their accuracy too) for at least
    `min_s`: from the first such fix to the last of the run."""
    if not route:
        return []
    legs = _lat_lon(route)
    found: list[Span] = []
    run: list[tuple[datetime, float]] = []

    def close_run() -> None:
        if run and (run[-1][0] - run[0][0]).total_seconds() >= min_s:
            found.append(Span(run[0][0], run[-1][0], distance_m=round(max(far for _, far in run))))
        run.clear()

    for fix in fixes:
        far = _distance_m(Point(fix.lat, fix.lon), legs)
        if far - fix.accuracy_m > max_m:
            run.append((fix.at, far))
        else:
            close_run()
    close_run()
    return found


LEG_END_M = 150  # a fix this close to a door is still there: the drive between two doors begins and ends farther out


def driven(fixes: Sequence[TimedFix], left: datetime, arrived: datetime, start: Point, end: Point) -> Span:
    """When a team drove from one door (`start`, whose visit ended at `left`) to the next (`end`, reached at
    `arrived`): from its last fix near the first door to its first fix near the next after that, where the tracks
    show them; else from `left` to `arrived`. `fixes` sorted, by server time."""
    between = [fix for fix in fixes if left <= fix.at <= arrived]
    begins = max((fix.at for fix in between if _near(fix, start)), default=left)
    ends = min((fix.at for fix in between if fix.at >= begins and _near(fix, end)), default=arrived)
    return Span(begins, ends)


def _near(fix: TimedFix, door: Point) -> bool:
    return _distance_m(Point(fix.lat, fix.lon), _lat_lon([door])) <= LEG_END_M
