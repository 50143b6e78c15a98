"""Traffic by the hour where the road engine has none: a factor per hour of the local day on the engine's travel
times (morning and evening peaks above 1, the night below), applied to a day's matrix.

A plan needs one matrix, so each leg is priced at the hour it is likely driven: a leg into a stop at the mean
factor over the times that stop may be visited (its windows, or the day's working hours), a leg home at the hour the
day ends. A stop with a narrow window gets the hour it is reached in exactly; one open all day, the day's mean.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from routing.model import DAY_S, TimeWindow

HOURS = 24
HOUR_S = 3600
LEAST_FACTOR, MOST_FACTOR = 0.5, 4.0  # a factor outside these is a mistake, not traffic


@dataclass(frozen=True, slots=True)
class HourFactors:
    """`factors[h]`: how many times the engine's seconds a trip started in local hour h takes."""

    factors: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.factors) != HOURS:
            raise ValueError(f"hour factors need one value per hour, {HOURS}, got {len(self.factors)}")
        for hour, factor in enumerate(self.factors):
            if not (math.isfinite(factor) and LEAST_FACTOR <= factor <= MOST_FACTOR):
                raise ValueError(f"the factor of hour {hour} must be in {LEAST_FACTOR}..{MOST_FACTOR}, got {factor}")

    @classmethod
    def flat(cls) -> "HourFactors":
        return cls((1.0,) * HOURS)

    @property
    def is_flat(self) -> bool:
        return all(factor == 1.0 for factor in self.factors)

    def at(self, seconds: float) -> float:
        """The factor of the hour `seconds` after midnight falls in (a day may run past midnight)."""
        return self.factors[int(seconds // HOUR_S) % HOURS]

    def over(self, spans: Sequence[TimeWindow]) -> float:
        """The mean factor over `spans` (seconds after midnight), each hour weighted by how much of it they cover;
        spans of no length count their hour."""
        weight = total = 0.0
        for span in spans:
            if span.end_s == span.start_s:
                weight, total = weight + 1, total + self.at(span.start_s)
                continue
            start = span.start_s
            while start < span.end_s:
                end = min(span.end_s, (start // HOUR_S + 1) * HOUR_S)
                weight, total = weight + (end - start), total + (end - start) * self.at(start)
                start = end
        return total / weight if weight else 1.0


def by_arrival(
    durations_s: npt.NDArray[np.int64], arrivals: Sequence[Sequence[TimeWindow]], factors: HourFactors, *, barred: int
) -> npt.NDArray[np.int64]:
    """`durations_s` with each column (the legs into a place) × the mean factor over the times it is arrived at
    (`arrivals`, one list of spans per column), rounded up; entries of `barred` seconds or more (no plan goes there)
    are kept as they are."""
    if factors.is_flat:
        return durations_s
    column = np.array([factors.over(spans) for spans in arrivals], dtype=np.float64)
    scaled = np.ceil(durations_s * column[None, :]).astype(np.int64)
    return np.where(durations_s >= barred, durations_s, scaled)


def working_hours(shifts: Sequence[TimeWindow]) -> TimeWindow:
    """From the earliest shift's start to the latest's end: when a place open all day is visited."""
    if not shifts:
        return TimeWindow(0, DAY_S)
    return TimeWindow(min(shift.start_s for shift in shifts), max(shift.end_s for shift in shifts))
