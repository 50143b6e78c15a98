"""A road engine's answers kept between calls, so that a day's matrix is priced once: the same points again cost
nothing, and a point added to them (an urgent visit, a team's new position) costs its own row and column.

Kept per engine (its road data or server) in this process, for `MAX_AGE_S`, at most `MAX_POINTS` points for each
of the `MAX_ENGINES` engines used last. The raw answers are kept (seconds and metres as the engine gave them, NaN
where it found no route, and how far it moved each point onto its roads), so that what is computed from them
(calibration, the unreachable points, the fallback's prices) is computed afresh for each set of points.
"""

import threading
import time
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MAX_POINTS = 3_000  # two float64 tables of 3,000 x 3,000: 144 MB
MAX_ENGINES = 4  # the engines (branches' road data, servers) answers are kept for: the most recently used
MAX_AGE_S = 3_600  # a server's data may change behind its URL: nothing is kept longer than this
UNKNOWN = -1.0  # a pair not asked yet (a road engine's seconds and metres are never negative)
_clock = time.monotonic


@dataclass(slots=True)
class Answers:
    """The raw answers for one set of points (row: from, column: to): `UNKNOWN` where not asked yet."""

    durations: npt.NDArray[np.float64]
    distances: npt.NDArray[np.float64]
    snapped: npt.NDArray[np.float64]

    @property
    def stale(self) -> npt.NDArray[np.intp]:
        """Points whose rows and columns hold every pair not asked yet: the new points (never asked about), and one
        end of each other such pair."""
        unknown = self.durations == UNKNOWN
        stale = np.diagonal(unknown).copy()
        unknown |= unknown.T
        for point in np.flatnonzero(unknown.any(axis=1) & ~stale):
            if (unknown[point] & ~stale).any():
                stale[point] = True
        return np.flatnonzero(stale)


@dataclass(slots=True)
class _Store:
    index: dict[tuple[float, float], int] = field(default_factory=dict)
    durations: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0)))
    distances: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0)))
    snapped: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    since: float = field(default_factory=lambda: _clock())

    def rows(self, coordinates: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
        """The stored rows of the points, new points added (all their pairs unknown)."""
        keys = [(round(float(lat), 6), round(float(lon), 6)) for lat, lon in coordinates]
        if _clock() - self.since > MAX_AGE_S:
            self._restart([])
        new = list(dict.fromkeys(key for key in keys if key not in self.index))
        if len(self.index) + len(new) > MAX_POINTS:
            self._restart(keys)
        if new:
            self._grow(new)
        return np.array([self.index[key] for key in keys], dtype=np.intp)

    def _grow(self, new: list[tuple[float, float]]) -> None:
        size, grown = len(self.index), len(self.index) + len(new)
        for key in new:
            self.index[key] = len(self.index)
        for name in ("durations", "distances"):
            table = np.full((grown, grown), UNKNOWN)
            table[:size, :size] = getattr(self, name)
            setattr(self, name, table)
        self.snapped = np.concatenate([self.snapped, np.zeros(len(new))])

    def _restart(self, keys: list[tuple[float, float]]) -> None:
        """Keep only what is known between these points, from now."""
        known = [key for key in dict.fromkeys(keys) if key in self.index]
        rows = np.array([self.index[key] for key in known], dtype=np.intp)
        self.durations = self.durations[np.ix_(rows, rows)]
        self.distances = self.distances[np.ix_(rows, rows)]
        self.snapped = self.snapped[rows]
        self.index = {key: row for row, key in enumerate(known)}
        self.since = _clock()


_stores: dict[Hashable, _Store] = {}
_locks: dict[Hashable, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def kept(engine: Hashable, coordinates: npt.NDArray[np.float64]) -> Iterator[Answers]:
    """The answers kept for `engine` between the points (``(lat, lon)`` rows), to be completed by the caller
    (every `UNKNOWN` pair asked): what it leaves in them is kept for the next call. One caller per engine at a
    time; a caller that raises keeps nothing."""
    with _guard:
        lock = _locks.setdefault(engine, threading.Lock())
        store = _stores.pop(engine, None) or _Store()
        _stores[engine] = store  # the most recently used last
        for dropped in list(_stores)[:-MAX_ENGINES]:
            del _stores[dropped]
    with lock:
        rows = store.rows(coordinates)
        grid = np.ix_(rows, rows)
        answers = Answers(store.durations[grid], store.distances[grid], store.snapped[rows].copy())
        yield answers
        store.durations[grid] = answers.durations
        store.distances[grid] = answers.distances
        store.snapped[rows] = answers.snapped


def forget() -> None:
    """Drop every kept answer (tests)."""
    with _guard:
        _stores.clear()
