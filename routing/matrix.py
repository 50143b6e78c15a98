"""Travel times and distances between points: from great circles (offline), OSRM's library on road data built
here, or an OSRM server.

A provider turns a sequence of points, each ``(lat, lon)`` in WGS84 degrees, into two integer matrices: seconds and
metres from row point to column point. Rows are in the order of the points given, ready for ``Instance``.
"""

import atexit
import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from http.client import HTTPException
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import osrm

from routing.kept import Answers, kept
from routing.model import frozen_matrix

logger = logging.getLogger(__name__)

Point = tuple[float, float]  # (lat, lon) in degrees, WGS84
EARTH_MEAN_RADIUS_M = 6_371_008.8  # WGS84 mean radius R1 = (2a + b) / 3
_BLOCK_PAIRS = 1 << 16  # pairs computed at once: 512 KiB of float64, cache-sized
# travel to or from a point barred from plans (`Matrices.barring`): longer than any day and farther than any trip, so
# that no plan goes there and the planner's reasons find no team able to
UNREACHABLE_S = 7 * 24 * 3600
UNREACHABLE_M = 10_000_000


class MatrixUnavailable(Exception):
    """No matrix could be produced: the routing server failed and no fallback was configured."""


@dataclass(frozen=True, slots=True)
class Matrices:
    """Travel seconds and metres between points (row: from, column: to), and which provider produced them.
    `unreachable`: the points the provider's roads do not reach (by index, with why), whose travel is a fallback's
    straight line; a caller that must not send anyone there bars them (`barring`). `reused_pairs`: how many pairs
    came from a road engine's earlier answers, not asked again."""

    durations_s: npt.NDArray[np.int64] = field(repr=False)
    distances_m: npt.NDArray[np.int64] = field(repr=False)
    source: str
    unreachable: Mapping[int, str] = field(default_factory=dict)
    reused_pairs: int = 0  # of the pairs, those a road engine had answered before (`routing.kept`)

    def __post_init__(self) -> None:
        object.__setattr__(self, "durations_s", frozen_matrix(self.durations_s, "durations_s"))
        object.__setattr__(self, "distances_m", frozen_matrix(self.distances_m, "distances_m"))
        if self.durations_s.shape != self.distances_m.shape:
            raise ValueError(f"durations_s {self.durations_s.shape} and distances_m {self.distances_m.shape} differ")

    def barring(self, points: Iterable[int]) -> "Matrices":
        """These matrices with travel to and from `points` set to `UNREACHABLE_S` and `UNREACHABLE_M`: longer than
        any day, so that no plan goes there."""
        barred = np.zeros(len(self.durations_s), dtype=np.bool_)
        barred[list(points)] = True
        across = (barred[:, None] | barred[None, :]) & ~np.eye(len(barred), dtype=np.bool_)
        durations, distances = self.durations_s.copy(), self.distances_m.copy()
        durations[across], distances[across] = UNREACHABLE_S, UNREACHABLE_M
        return replace(self, durations_s=durations, distances_m=distances)


class MatrixProvider(Protocol):
    """Anything that can price travel between points, and draw it."""

    def matrices(self, points: Sequence[Point]) -> Matrices:
        """Travel seconds and metres between every ordered pair of `points`, ``(lat, lon)`` each."""
        ...

    def path(self, points: Sequence[Point]) -> list[Point]:
        """The line a team travels through `points` in their order: along the roads where the provider has them,
        straight where it has none. It begins and ends at the first and last point."""
        ...


@dataclass(frozen=True, slots=True)
class _ModeDefaults:
    speed_mps: float
    detour_factor: float
    fixed_s: int
    road_profile: str | None
    road_time_factor: float


class TravelMode(StrEnum):
    """How a team moves between visits, with defaults for a large Chinese city (Shanghai) that callers may override.

    - walking: 1.3 m/s along streets 1.3 x longer than the great circle, no fixed time;
    - cycling (e-bikes, common in Shanghai): 4.2 m/s (15 km/h), detour 1.3, plus 60 s per trip to park and lock;
    - transit: 5.5 m/s door to door (metro and bus with walking and transfers), detour 1.4, plus 300 s per trip
      to reach a station and wait;
    - driving: 6.5 m/s (about 23 km/h, city traffic), detour 1.4, plus 120 s per trip to park and walk in.

    On roads (`road_profile`: OSRM's car, bicycle or foot; transit has none), a trip takes the road engine's seconds
    x `road_time_factor` + `fixed_s`: OSRM's car profile drives free-flow, a median 37–41 km/h on city streets
    where traffic allows about 23, hence 1.6.
    """

    WALKING = "walking"
    CYCLING = "cycling"
    TRANSIT = "transit"
    DRIVING = "driving"

    @property
    def speed_mps(self) -> float:
        """Default average speed along the way, in metres per second."""
        return _MODE_DEFAULTS[self].speed_mps

    @property
    def detour_factor(self) -> float:
        """Default ratio of the way travelled to the great-circle distance."""
        return _MODE_DEFAULTS[self].detour_factor

    @property
    def fixed_s(self) -> int:
        """Default seconds added to every trip between two different places (access, waiting, parking)."""
        return _MODE_DEFAULTS[self].fixed_s

    @property
    def road_profile(self) -> str | None:
        """The road engine's profile for this mode (OSRM's ``car``, ``bicycle``, ``foot``), None without one."""
        return _MODE_DEFAULTS[self].road_profile

    @property
    def road_time_factor(self) -> float:
        """Default ratio of the time a trip takes to the road engine's free-flow time."""
        return _MODE_DEFAULTS[self].road_time_factor


_MODE_DEFAULTS = {
    TravelMode.WALKING: _ModeDefaults(1.3, 1.3, 0, "foot", 1.0),
    TravelMode.CYCLING: _ModeDefaults(4.2, 1.3, 60, "bicycle", 1.0),
    TravelMode.TRANSIT: _ModeDefaults(5.5, 1.4, 300, None, 1.0),
    TravelMode.DRIVING: _ModeDefaults(6.5, 1.4, 120, "car", 1.6),
}


def _coordinates(points: Sequence[Point]) -> npt.NDArray[np.float64]:
    """The points as an (n, 2) array of (lat, lon) degrees, checked to be on the globe."""
    if not len(points):
        return np.empty((0, 2))
    try:
        coordinates = np.array(points, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError("each point must be a (lat, lon) pair of numbers") from error
    if coordinates.ndim != 2 or coordinates.shape[1] != 2:
        raise ValueError("each point must be a (lat, lon) pair of numbers")
    lat, lon = coordinates[:, 0], coordinates[:, 1]
    bad = ~(np.isfinite(coordinates).all(axis=1) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"point {index} {tuple(coordinates[index])} is not a (lat, lon) in degrees")
    return coordinates


def _unit_vectors(points: Sequence[Point]) -> npt.NDArray[np.float64]:
    """The points as unit vectors from the centre of the earth, shape (3, n): one contiguous row per axis."""
    radians = np.radians(_coordinates(points))
    lat, lon = radians[:, 0], radians[:, 1]
    return np.stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def _great_circle_block(unit: npt.NDArray[np.float64], rows: slice, columns: slice) -> npt.NDArray[np.float64]:
    """Great-circle metres from the points `rows` to the points `columns`, on the WGS84 mean sphere.

    Haversine through the chord c between unit vectors, hav(theta) = (c / 2)^2, so theta = 2 asin(c / 2): exact in
    floating point for near points, symmetric bit for bit and zero from a point to itself. One broadcast per axis
    over the whole block, no loop over pairs.
    """
    metres = np.zeros((rows.stop - rows.start, columns.stop - columns.start))
    squared = np.empty_like(metres)
    for axis in unit:
        np.subtract.outer(axis[rows], axis[columns], out=squared)
        np.multiply(squared, squared, out=squared)
        np.add(metres, squared, out=metres)
    np.sqrt(metres, out=metres)
    np.multiply(metres, 0.5, out=metres)
    np.minimum(metres, 1.0, out=metres)
    np.arcsin(metres, out=metres)
    np.multiply(metres, 2 * EARTH_MEAN_RADIUS_M, out=metres)
    return metres


@dataclass(frozen=True, slots=True)
class GreatCircle:
    """The offline provider: great-circle distance x a detour factor, travelled at a mode's speed.

    A trip's metres are the great circle x `detour_factor`, rounded to the nearest metre; its seconds are
    ceil(metres / `speed_mps`) + `fixed_s`. Two points at the same place (0 m) are 0 s apart. Speed, detour
    factor and fixed time default to those of `mode`.
    """

    mode: TravelMode
    speed_mps: float
    detour_factor: float
    fixed_s: int

    def __init__(
        self,
        mode: TravelMode | str,
        speed_mps: float | None = None,
        detour_factor: float | None = None,
        fixed_s: int | None = None,
    ) -> None:
        mode = TravelMode(mode)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "speed_mps", float(mode.speed_mps if speed_mps is None else speed_mps))
        object.__setattr__(self, "detour_factor", float(mode.detour_factor if detour_factor is None else detour_factor))
        object.__setattr__(self, "fixed_s", int(mode.fixed_s if fixed_s is None else fixed_s))
        if not (math.isfinite(self.speed_mps) and self.speed_mps > 0):
            raise ValueError(f"speed_mps must be positive, got {self.speed_mps}")
        if not (math.isfinite(self.detour_factor) and self.detour_factor >= 1):
            raise ValueError(f"detour_factor must be >= 1, got {self.detour_factor}")
        if self.fixed_s < 0:
            raise ValueError(f"fixed_s must be >= 0, got {self.fixed_s}")

    def matrices(self, points: Sequence[Point]) -> Matrices:
        """Travel seconds and metres between every ordered pair of `points`, ``(lat, lon)`` each."""
        unit = _unit_vectors(points)
        size = unit.shape[1]
        durations_s = np.empty((size, size), dtype=np.int64)
        distances_m = np.empty((size, size), dtype=np.int64)
        height = max(1, _BLOCK_PAIRS // max(size, 1))
        for start in range(0, size, height):  # bands of rows small enough to stay in the CPU cache
            rows, columns = slice(start, min(start + height, size)), slice(start, size)
            way = _great_circle_block(unit, rows, columns)  # the band right of the diagonal: the rest is symmetric
            np.multiply(way, self.detour_factor, out=way)
            np.rint(way, out=way)
            distances_m[rows, columns] = way
            distances_m[columns, rows] = way.T
            moved = np.minimum(way, 1.0)  # 0 at the same place, else 1: only real trips pay the fixed time
            np.divide(way, self.speed_mps, out=way)
            np.ceil(way, out=way)
            np.multiply(moved, self.fixed_s, out=moved)
            np.add(way, moved, out=way)
            durations_s[rows, columns] = way
            durations_s[columns, rows] = way.T
        durations_s.setflags(write=False)
        distances_m.setflags(write=False)
        return Matrices(durations_s, distances_m, source=f"great-circle {self.mode}")

    def path(self, points: Sequence[Point]) -> list[Point]:
        """Straight from point to point."""
        return list(points)


_DRIVING = GreatCircle(TravelMode.DRIVING)


@dataclass(frozen=True, slots=True)
class _Block:
    """One /table request: travel from the points `sources` to the points `destinations` (global indices)."""

    sources: Sequence[int]
    destinations: Sequence[int]

    def named(self) -> tuple[list[int], list[int], list[int]]:
        """The points the request names (each once where the block is square), and the positions among them of
        the sources and of the destinations."""
        if self.sources == self.destinations:
            everyone = list(range(len(self.sources)))
            return list(self.sources), everyone, everyone
        named = [*self.sources, *self.destinations]
        return named, list(range(len(self.sources))), list(range(len(self.sources), len(named)))


def _blocks(size: int, max_points: int) -> Iterator[_Block]:
    """Cover the size x size matrix with requests naming at most `max_points` coordinates each."""
    if 0 < size <= max_points:
        yield _Block(range(size), range(size))
        return
    step = max_points // 2
    chunks = [range(start, min(start + step, size)) for start in range(0, size, step)]
    for sources in chunks:
        for destinations in chunks:
            yield _Block(sources, destinations)


def _blocks_between(sources: Sequence[int], destinations: Sequence[int], max_points: int) -> Iterator[_Block]:
    """Cover travel from `sources` to `destinations` with requests naming at most `max_points` coordinates each."""
    if not len(sources) or not len(destinations):
        return
    if len(sources) + len(destinations) <= max_points:
        yield _Block(tuple(sources), tuple(destinations))
        return
    step = max_points // 2
    for start in range(0, len(sources), step):
        for end in range(0, len(destinations), step):
            yield _Block(tuple(sources[start : start + step]), tuple(destinations[end : end + step]))


def _osrm_matrix(payload: Mapping[str, Any], key: str, block: _Block) -> npt.NDArray[np.float64]:
    """The block's `key` table from an OSRM response, checked for shape; a pair without a route (null) is NaN."""
    try:
        table = np.array(payload[key], dtype=np.float64)  # None becomes NaN
    except (KeyError, TypeError, ValueError) as error:
        raise MatrixUnavailable(f"OSRM response has no usable {key!r} table") from error
    expected = (len(block.sources), len(block.destinations))
    if table.shape != expected:
        raise MatrixUnavailable(f"OSRM {key} table has shape {table.shape}, expected {expected}")
    table[(table < 0) & (table > -1)] = 0.0  # OSRM answers -0.1 m for two points snapped onto one segment
    routed = table[~np.isnan(table)]
    if not (np.isfinite(routed).all() and (routed >= 0).all()):
        raise MatrixUnavailable(f"OSRM {key} table has negative or infinite values")
    return table


def _snapped_m(payload: Mapping[str, Any], key: str, count: int) -> npt.NDArray[np.float64]:
    """How far OSRM moved each of the block's `key` points ("sources" or "destinations") onto its nearest road,
    in metres; 0 where the answer does not say."""
    waypoints = payload.get(key)
    if waypoints is None:
        return np.zeros(count)
    try:
        snapped = np.array([float(waypoint.get("distance", 0.0)) for waypoint in waypoints])
    except (AttributeError, TypeError, ValueError) as error:
        raise MatrixUnavailable(f"OSRM response has unusable {key!r} waypoints") from error
    if snapped.shape != (count,) or not (np.isfinite(snapped).all() and (snapped >= 0).all()):
        raise MatrixUnavailable(f"OSRM response has unusable {key!r} waypoints")
    return snapped


def _cut_off(durations: npt.NDArray[np.float64], snapped: npt.NDArray[np.float64], max_snap_m: float) -> dict[int, str]:
    """The points a road engine cannot reach, with why: farther than `max_snap_m` from any road, or cut off from
    the largest group of points that roads join (an island of the road graph, a walled compound): no route in
    either direction between it and that group. A missing route in one direction only is not a cut."""
    size = len(snapped)
    why = {
        int(point): f"no road within {max_snap_m:,.0f} m (the nearest is {snapped[point]:,.0f} m away)"
        for point in np.flatnonzero(snapped > max_snap_m)
    }
    on_road = np.ones(size, dtype=np.bool_)
    on_road[list(why)] = False
    joined = ~np.isnan(durations)
    joined |= joined.T
    joined &= on_road[:, None] & on_road[None, :]
    group = np.full(size, -1)
    sizes: list[int] = []
    for start in np.flatnonzero(on_road):
        if group[start] >= 0:
            continue
        members = np.zeros(size, dtype=np.bool_)
        members[start] = True
        frontier = members.copy()
        while frontier.any():
            frontier = joined[frontier].any(axis=0) & ~members
            members |= frontier
        group[members] = len(sizes)
        sizes.append(int(members.sum()))
    if sizes:
        largest = int(np.argmax(sizes))  # of groups as large, the one with the earliest point
        for point in np.flatnonzero(on_road & (group != largest)):
            why[int(point)] = "no road route joins it to the other points (cut off from their roads)"
    return why


Fetch = Callable[[npt.NDArray[np.float64], _Block], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class _RoadTables:
    """What the OSRM providers share: a matrix assembled from /table answers (`fetch` gives one per block), the
    points the roads do not reach found, the pairs without a route priced by `fallback`, routed seconds calibrated
    (× `time_factor`, + `fixed_s` per trip between two places)."""

    engine: str
    fetch: Fetch
    max_points: int
    max_snap_m: float
    fallback: MatrixProvider | None
    time_factor: float
    fixed_s: int
    kept_as: Callable[[], Hashable]  # the engine's key among the answers kept (`routing.kept`)

    def matrices(self, points: Sequence[Point]) -> Matrices:
        coordinates = _coordinates(points)
        size = len(coordinates)
        with kept(self.kept_as(), coordinates) as known:
            asked = self._ask(coordinates, known)
            durations, distances, snapped = known.durations.copy(), known.distances.copy(), known.snapped.copy()
        durations = durations * self.time_factor + np.where(distances > 0, self.fixed_s, 0)
        matrices = self._complete(points, durations, distances, _cut_off(durations, snapped, self.max_snap_m))
        return replace(matrices, reused_pairs=size * size - asked)

    def _ask(self, coordinates: npt.NDArray[np.float64], known: Answers) -> int:
        """Ask the engine for the pairs not known yet: the rows and columns of the points with one. How many pairs
        it was asked for."""
        size = len(coordinates)
        stale = known.stale
        if len(stale) == size:
            blocks = list(_blocks(size, self.max_points))
        else:
            rest = np.setdiff1d(np.arange(size), stale)
            stale_list, rest_list = stale.tolist(), rest.tolist()
            everyone = list(range(size))
            blocks = [
                *_blocks_between(stale_list, everyone, self.max_points),
                *_blocks_between(rest_list, stale_list, self.max_points),
            ]
        for block in blocks:
            payload = self.fetch(coordinates, block)
            sources, destinations = list(block.sources), list(block.destinations)
            grid = np.ix_(sources, destinations)
            known.durations[grid] = _osrm_matrix(payload, "durations", block)
            known.distances[grid] = _osrm_matrix(payload, "distances", block)
            from_road = _snapped_m(payload, "sources", len(sources))
            to_road = _snapped_m(payload, "destinations", len(destinations))
            known.snapped[sources] = np.maximum(known.snapped[sources], from_road)
            known.snapped[destinations] = np.maximum(known.snapped[destinations], to_road)
        return sum(len(block.sources) * len(block.destinations) for block in blocks)

    def _complete(
        self,
        points: Sequence[Point],
        durations: npt.NDArray[np.float64],
        distances: npt.NDArray[np.float64],
        unreachable: dict[int, str],
    ) -> Matrices:
        """The road tables with the travel of the unreachable points, and of the other pairs without a route, priced
        by the fallback."""
        cut = np.zeros(len(points), dtype=np.bool_)
        cut[list(unreachable)] = True
        across = (cut[:, None] | cut[None, :]) & ~np.eye(len(points), dtype=np.bool_)
        missing = (np.isnan(durations) | np.isnan(distances)) & ~across
        priced = missing | across
        notes = []
        if priced.any():  # not for a lone point: it has no travel to price
            if self.fallback is None and unreachable:
                point, why = next(iter(unreachable.items()))
                raise MatrixUnavailable(f"{self.engine} cannot reach point {point}: {why}")
            if self.fallback is None:
                row, column = np.argwhere(missing)[0]
                raise MatrixUnavailable(f"{self.engine} found no route from point {row} to point {column}")
            fallback = self.fallback.matrices(points)
            durations[priced] = fallback.durations_s[priced]
            distances[priced] = fallback.distances_m[priced]
            if missing.any():
                notes.append(f"pairs without a road route, priced by {fallback.source}: {int(missing.sum())}")
            if unreachable:
                notes.append(f"points off the road network, priced by {fallback.source}: {len(unreachable)}")
        return Matrices(
            np.ceil(durations).astype(np.int64),
            np.rint(distances).astype(np.int64),
            source=self.engine + (f" ({'; '.join(notes)})" if notes else ""),
            unreachable=unreachable,
        )


def _check_road_settings(max_snap_m: float, time_factor: float, fixed_s: int) -> None:
    if not (math.isfinite(max_snap_m) and max_snap_m > 0):
        raise ValueError(f"max_snap_m must be positive, got {max_snap_m}")
    if not (math.isfinite(time_factor) and time_factor > 0):
        raise ValueError(f"time_factor must be positive, got {time_factor}")
    if fixed_s < 0:
        raise ValueError(f"fixed_s must be >= 0, got {fixed_s}")


def _with_fallback(engine: str, tables: _RoadTables, points: Sequence[Point]) -> Matrices:
    """The road matrices, or where the engine cannot answer at all, the fallback's, saying why."""
    try:
        return tables.matrices(points)
    except MatrixUnavailable as error:
        if tables.fallback is None:
            raise
        logger.warning("%s unavailable, using the fallback: %s", engine, error)
        fallback = tables.fallback.matrices(points)
        return replace(fallback, source=f"{fallback.source} (OSRM unavailable: {error})")


class _NoRoute(Exception):
    """The roads join no route between a leg's two ends."""


LegFetch = Callable[[Point, Point], Mapping[str, Any]]  # OSRM's /route answer (GeoJSON, full overview) for one leg


def _leg_shape(answer: Mapping[str, Any], max_snap_m: float) -> list[Point]:
    """The route's line from an OSRM /route answer; none where an end is farther than `max_snap_m` from the roads."""
    try:
        if any(float(waypoint["distance"]) > max_snap_m for waypoint in answer["waypoints"]):
            return []
        return [(float(lat), float(lon)) for lon, lat in answer["routes"][0]["geometry"]["coordinates"]]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise MatrixUnavailable(f"OSRM answered a route without its line: {error!r}") from error


def _road_path(engine: str, fetch: LegFetch, points: Sequence[Point], max_snap_m: float) -> list[Point]:
    """The roads' line through `points`, leg by leg, from each point to the road and from the road to the next. A leg
    without a route, or with an end farther than `max_snap_m` from the roads, is straight; once the engine cannot be
    asked at all, the rest is straight too (a drawing never fails a plan)."""
    line, asking = list(points[:1]), True
    for start, end in pairwise(points):
        shape: list[Point] = []
        if asking and start != end:
            try:
                shape = _leg_shape(fetch(start, end), max_snap_m)
            except _NoRoute:
                pass
            except MatrixUnavailable as error:
                logger.warning("%s cannot draw routes, drawing straight lines: %s", engine, error)
                asking = False
        line.extend([*shape, end])
    return line


@dataclass(frozen=True, slots=True)
class OsrmTable:
    """Road travel from an OSRM server's table service, falling back to another provider when it fails.

    Each request names at most `max_points_per_request` coordinates (OSRM's default ``--max-table-size`` is 100);
    larger inputs are split into source x destination blocks and assembled. Each connection and each read waits
    at most `timeout_s`. If a request times out, cannot connect, gets an HTTP error or an unusable answer, the
    whole matrix comes from `fallback`, with the reason in ``Matrices.source`` and a logged warning; without a
    fallback, `MatrixUnavailable` is raised. Seconds are OSRM's × `time_factor` (its profiles drive free-flow),
    plus `fixed_s` per trip between two places, rounded up; metres to the nearest.

    Routes OSRM does not find do not discard the rest: a point farther than `max_snap_m` from any road, or cut off
    from the roads the other points are on, is in ``Matrices.unreachable``, and its travel, like that of a pair of
    other points without a route one way, is priced by `fallback` (without one, `MatrixUnavailable`).
    ``Matrices.source`` counts both.
    """

    base_url: str
    profile: str = "driving"
    timeout_s: float = 10
    fallback: MatrixProvider | None = _DRIVING
    max_points_per_request: int = 100
    max_snap_m: float = 500
    time_factor: float = 1.0
    fixed_s: int = 0

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if not self.profile or not self.profile.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"profile must be a plain name such as 'driving', got {self.profile!r}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        if self.max_points_per_request < 2:
            raise ValueError(f"max_points_per_request must be >= 2, got {self.max_points_per_request}")
        _check_road_settings(self.max_snap_m, self.time_factor, self.fixed_s)

    def matrices(self, points: Sequence[Point]) -> Matrices:
        """Travel seconds and metres between every ordered pair of `points`, ``(lat, lon)`` each."""
        tables = _RoadTables(
            "osrm",
            self._request,
            self.max_points_per_request,
            self.max_snap_m,
            self.fallback,
            self.time_factor,
            self.fixed_s,
            lambda: ("osrm", self.base_url, self.profile),
        )
        return _with_fallback(f"OSRM at {self.base_url}", tables, points)

    def path(self, points: Sequence[Point]) -> list[Point]:
        """Along the roads, from the server's route service (see `_road_path`)."""
        return _road_path(f"OSRM at {self.base_url}", self._route, points, self.max_snap_m)

    def _route(self, start: Point, end: Point) -> dict[str, Any]:
        ends = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in (start, end))
        url = f"{self.base_url.rstrip('/')}/route/v1/{self.profile}/{ends}?overview=full&geometries=geojson"
        return self._get(url)

    def _url(self, coordinates: npt.NDArray[np.float64], block: _Block) -> str:
        """The /table URL for one block: coordinates as lon,lat; sources and destinations when it is not square."""
        named, sources, destinations = block.named()
        query = ""
        if block.sources != block.destinations:
            query = f"&sources={';'.join(map(str, sources))}&destinations={';'.join(map(str, destinations))}"
        path = ";".join(f"{coordinates[i, 1]:.6f},{coordinates[i, 0]:.6f}" for i in named)
        base = self.base_url.rstrip("/")
        return f"{base}/table/v1/{self.profile}/{path}?annotations=duration,distance{query}"

    def _request(self, coordinates: npt.NDArray[np.float64], block: _Block) -> dict[str, Any]:
        """One /table call."""
        return self._get(self._url(coordinates, block))

    def _get(self, url: str) -> dict[str, Any]:
        """One call, its failures turned into `MatrixUnavailable` saying why (`_NoRoute` for OSRM's NoRoute)."""
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            message = _osrm_message(error)
            if message.startswith(": NoRoute:"):
                raise _NoRoute(message) from error
            raise MatrixUnavailable(f"HTTP {error.code} from {self.base_url}{message}") from error
        except TimeoutError as error:
            raise MatrixUnavailable(f"no answer from {self.base_url} within {self.timeout_s:g} s") from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise MatrixUnavailable(f"no answer from {self.base_url} within {self.timeout_s:g} s") from error
            raise MatrixUnavailable(f"cannot reach {self.base_url}: {error.reason}") from error
        except (OSError, HTTPException) as error:
            raise MatrixUnavailable(f"connection to {self.base_url} failed: {error!r}") from error
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise MatrixUnavailable(f"OSRM answered with something other than JSON: {body[:80]!r}") from error
        if not isinstance(payload, dict):
            raise MatrixUnavailable("OSRM answered with JSON that is not an object")
        if payload.get("code") != "Ok":
            raise MatrixUnavailable(f"OSRM answered {payload.get('code')!r}: {payload.get('message', '')}")
        return payload


def _osrm_message(error: urllib.error.HTTPError) -> str:
    """OSRM's own explanation of an HTTP error (its JSON code and message), if it gave one."""
    try:
        payload = json.loads(error.read())
        return f": {payload['code']}: {payload.get('message', '')}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


@dataclass(frozen=True, slots=True)
class EmbeddedOsrm:
    """Road travel from OSRM's library in this process (osrm-bindings), on road data that osrm-extract and
    osrm-contract built (contraction hierarchies: the fastest tables). `data` is the ``.osrm`` base path; `engine`
    names the answers (``Matrices.source``). Tables name at most `max_points_per_table` points; otherwise as
    `OsrmTable`: calibrated seconds, points off the roads in ``Matrices.unreachable``, pairs without a route and
    data that cannot be read priced by `fallback`."""

    data: Path
    engine: str = "osrm embedded"
    fallback: MatrixProvider | None = _DRIVING
    max_snap_m: float = 500
    time_factor: float = 1.0
    fixed_s: int = 0
    # points a table names: the library's answer costs about 140 bytes a pair until read (2,000 points in one table
    # peaked 1.2 GB above the engine; in tables of 750 x 750, 0.3 GB and 15 % slower: bench/roads)
    max_points_per_table: int = 1_500

    def __post_init__(self) -> None:
        _check_road_settings(self.max_snap_m, self.time_factor, self.fixed_s)
        if self.max_points_per_table < 2:
            raise ValueError(f"max_points_per_table must be >= 2, got {self.max_points_per_table}")

    def matrices(self, points: Sequence[Point]) -> Matrices:
        """Travel seconds and metres between every ordered pair of `points`, ``(lat, lon)`` each."""
        tables = _RoadTables(
            self.engine,
            self._table,
            self.max_points_per_table,
            self.max_snap_m,
            self.fallback,
            self.time_factor,
            self.fixed_s,
            lambda: ("embedded", str(self.data), _built_ns(self.data)),
        )
        return _with_fallback(f"{self.engine} ({self.data})", tables, points)

    def path(self, points: Sequence[Point]) -> list[Point]:
        """Along the roads, from the library's route service (see `_road_path`)."""
        return _road_path(f"{self.engine} ({self.data})", self._route, points, self.max_snap_m)

    def _route(self, start: Point, end: Point) -> Mapping[str, Any]:
        parameters = osrm.RouteParameters(
            coordinates=[(lon, lat) for lat, lon in (start, end)], geometries="geojson", overview="full"
        )
        try:
            return _engine(self.data).Route(parameters)
        except (OSError, RuntimeError) as error:
            if str(error).startswith("NoRoute"):
                raise _NoRoute(str(error)) from error
            raise MatrixUnavailable(f"road data {self.data} cannot be used: {error}") from error

    def _table(self, coordinates: npt.NDArray[np.float64], block: _Block) -> Mapping[str, Any]:
        named, sources, destinations = block.named()
        answer = _library_table(self.data, coordinates[named], sources, destinations, ["duration", "distance"])
        ends = ("sources", "destinations")
        waypoints = {key: [{"distance": point["distance"]} for point in answer[key]] for key in ends}
        return {"durations": answer["durations"], "distances": answer["distances"], **waypoints}


def snapped_m(data: Path, points: Sequence[Point]) -> npt.NDArray[np.float64]:
    """How far each point is from the nearest road in the road data `data` (a ``.osrm`` base path), in metres."""
    coordinates = _coordinates(points)
    if not len(coordinates):
        return np.zeros(0)
    answer = _library_table(data, coordinates, range(len(coordinates)), [0], ["duration"])
    return np.array([float(point["distance"]) for point in answer["sources"]])


def _library_table(
    data: Path,
    coordinates: npt.NDArray[np.float64],
    sources: Sequence[int],
    destinations: Sequence[int],
    annotations: list[str],
) -> Any:
    """OSRM's library's table answer (the /table JSON) on the road data `data`. It refuses a lone coordinate,
    which is sent twice."""
    lon_lat = [(float(lon), float(lat)) for lat, lon in coordinates] * (2 if len(coordinates) == 1 else 1)
    try:
        parameters = osrm.TableParameters(
            coordinates=lon_lat, sources=list(sources), destinations=list(destinations), annotations=annotations
        )
        return _engine(data).Table(parameters)
    except (OSError, RuntimeError) as error:
        raise MatrixUnavailable(f"road data {data} cannot be used: {error}") from error


def _engine(data: Path) -> osrm.OSRM:
    """OSRM's engine on the road data `data`, loaded once per process and build."""
    return _loaded(str(data), _built_ns(data))


def _built_ns(data: Path) -> int:
    """When the road data was built (`MatrixUnavailable` where there is none)."""
    try:
        return data.with_suffix(".osrm.hsgr").stat().st_mtime_ns
    except OSError as error:
        raise MatrixUnavailable(f"road data {data} cannot be used: {error}") from error


@lru_cache(maxsize=4)
def _loaded(data: str, built_ns: int) -> osrm.OSRM:
    # built_ns (when the data was built) keys the cache: data built again is loaded again
    return osrm.OSRM(storage_config=data, algorithm="CH", use_shared_memory=False)


atexit.register(_loaded.cache_clear)  # the engines go before the interpreter: nanobind reports what outlives it
