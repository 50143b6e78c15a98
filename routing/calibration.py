"""Traffic by the hour learnt from legs really travelled: each leg's seconds against the road engine's for the same
two places, by the local hour it began in. Every fifth leg is held out, and the factors are judged on those alone,
against the factors in force: a calibration says how wrong it is on legs it has not seen."""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from routing.traffic import HOURS, LEAST_FACTOR, MOST_FACTOR, HourFactors

HELD_OUT_EVERY = 5  # every fifth leg, in the order they were travelled, is held out
LEAST_LEGS_PER_HOUR = 5  # an hour with fewer legs takes the factor of all the legs
LEAST_LEGS = 20  # fewer legs in all: too few to learn from
# a leg this many times longer or shorter than the engine says was not a drive (a lunch, a detour, a lost fix)
NOT_A_DRIVE = 4.0


class TooFewLegs(ValueError):
    """Not enough legs to learn traffic from."""


@dataclass(frozen=True, slots=True)
class Leg:
    """A trip between two places: when it began (local hour), what the engine says it takes, what it took."""

    hour: int
    engine_s: float
    taken_s: float

    @property
    def ratio(self) -> float:
        return self.taken_s / self.engine_s


@dataclass(frozen=True, slots=True)
class Calibration:
    """Factors learnt from `learnt_from` legs, judged on `held_out` others: the median absolute error of predicted
    against taken seconds, as a share of the taken, with the factors in force (`error_before`) and the new
    (`error_after`). `set_aside`: legs that were not drives."""

    factors: HourFactors
    legs_per_hour: tuple[int, ...]
    learnt_from: int
    held_out: int
    set_aside: int
    error_before: float
    error_after: float

    @property
    def better(self) -> bool:
        return self.error_after < self.error_before


def calibrate(legs: Sequence[Leg], in_force: HourFactors) -> Calibration:
    """Learn the factor of each hour from `legs` (in the order they were travelled): the median of taken / engine
    seconds of the hour's legs, or of all legs for an hour with fewer than `LEAST_LEGS_PER_HOUR`. `TooFewLegs`
    below `LEAST_LEGS` drives."""
    drives = [leg for leg in legs if leg.engine_s > 0 and 1 / NOT_A_DRIVE <= leg.ratio <= NOT_A_DRIVE]
    if len(drives) < LEAST_LEGS:
        raise TooFewLegs(f"{len(drives)} legs that were drives, at least {LEAST_LEGS} are needed")
    held = drives[HELD_OUT_EVERY - 1 :: HELD_OUT_EVERY]
    learnt = [leg for index, leg in enumerate(drives) if index % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    overall = statistics.median(leg.ratio for leg in learnt)
    per_hour: list[list[float]] = [[] for _ in range(HOURS)]
    for leg in learnt:
        per_hour[leg.hour].append(leg.ratio)
    factors = HourFactors(
        tuple(
            _bounded(statistics.median(ratios) if len(ratios) >= LEAST_LEGS_PER_HOUR else overall)
            for ratios in per_hour
        )
    )
    return Calibration(
        factors=factors,
        legs_per_hour=tuple(len(ratios) for ratios in per_hour),
        learnt_from=len(learnt),
        held_out=len(held),
        set_aside=len(legs) - len(drives),
        error_before=error(held, in_force),
        error_after=error(held, factors),
    )


def error(legs: Sequence[Leg], factors: HourFactors) -> float:
    """The median absolute error of the engine's seconds × the hour's factor against the seconds taken, as a share
    of the taken."""
    return statistics.median(abs(leg.engine_s * factors.factors[leg.hour] - leg.taken_s) / leg.taken_s for leg in legs)


def _bounded(factor: float) -> float:
    return round(min(MOST_FACTOR, max(LEAST_FACTOR, factor)), 3)
