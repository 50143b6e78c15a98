"""Traffic by the hour: factors on a day's matrix (`routing.traffic`), and learning them from legs really driven,
judged on legs held out (`routing.calibration`)."""

import random
import statistics

import numpy as np
import pytest

from routing.calibration import LEAST_LEGS, Leg, TooFewLegs, calibrate, error
from routing.model import TimeWindow
from routing.traffic import HOUR_S, HourFactors, by_arrival, working_hours

PEAKS = tuple(1.5 if hour in (7, 8, 17, 18) else 1.0 for hour in range(24))


def _h(hour: float) -> int:
    return int(hour * HOUR_S)


def test_the_mean_over_spans_weighs_each_hour_by_how_much_of_it_they_cover() -> None:
    factors = HourFactors(PEAKS)

    assert factors.over([TimeWindow(_h(8), _h(9))]) == 1.5
    assert factors.over([TimeWindow(_h(8.5), _h(9.5))]) == pytest.approx(1.25)  # half the peak, half not
    assert factors.over([TimeWindow(_h(9), _h(17))]) == 1.0
    assert factors.over([TimeWindow(_h(8), _h(9)), TimeWindow(_h(12), _h(15))]) == pytest.approx((1.5 + 3) / 4)
    assert factors.over([TimeWindow(_h(7.5), _h(7.5))]) == 1.5  # a moment counts its hour
    assert factors.at(_h(25)) == 1.0 and factors.at(_h(31.5)) == 1.5  # past midnight, the next day's hours


def test_each_column_is_priced_at_the_hours_it_is_arrived_at_and_barred_trips_stay_barred() -> None:
    durations = np.array([[0, 600, 10**9], [600, 0, 600], [10**9, 601, 0]], dtype=np.int64)
    arrivals = [[TimeWindow(_h(17), _h(18))], [TimeWindow(_h(10), _h(12))], [TimeWindow(_h(8), _h(8))]]

    scaled = by_arrival(durations, arrivals, HourFactors(PEAKS), barred=10**9)

    assert scaled.tolist() == [[0, 600, 10**9], [900, 0, 900], [10**9, 601, 0]]
    assert by_arrival(durations, arrivals, HourFactors.flat(), barred=10**9) is durations


@pytest.mark.parametrize("factors", [(1.0,) * 23, (1.0,) * 23 + (0.2,), (1.0,) * 23 + (float("nan"),)])
def test_hour_factors_that_are_not_24_sensible_numbers_are_refused(factors: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="hour"):
        HourFactors(factors)


def test_working_hours_run_from_the_earliest_shift_to_the_latest() -> None:
    assert working_hours([TimeWindow(_h(9), _h(17)), TimeWindow(_h(8), _h(16))]) == TimeWindow(_h(8), _h(18) - HOUR_S)


def _legs(count: int, truth: tuple[float, ...], seed: int = 1, noise: float = 0.1) -> list[Leg]:
    rng = random.Random(seed)
    legs = []
    for _ in range(count):
        hour, engine_s = rng.choice((8, 8, 11, 14, 18)), rng.uniform(300, 1800)
        legs.append(Leg(hour, engine_s, engine_s * truth[hour] * rng.uniform(1 - noise, 1 + noise)))
    return legs


def test_factors_are_learnt_per_hour_and_judged_on_every_fifth_leg_held_out() -> None:
    truth = tuple(1.8 if hour == 8 else 1.6 if hour == 18 else 1.2 for hour in range(24))
    legs = _legs(200, truth)

    learnt = calibrate(legs, HourFactors.flat())

    assert (learnt.learnt_from, learnt.held_out, learnt.set_aside) == (160, 40, 0)
    assert learnt.factors.factors[8] == pytest.approx(1.8, abs=0.05)
    assert learnt.factors.factors[18] == pytest.approx(1.6, abs=0.05)
    assert learnt.factors.factors[11] == pytest.approx(1.2, abs=0.05)
    learnt_legs = [leg for index, leg in enumerate(legs) if index % 5 != 4]
    assert learnt.factors.factors[3] == round(statistics.median(leg.ratio for leg in learnt_legs), 3)  # none at 3 am
    assert learnt.legs_per_hour[3] == 0 and sum(learnt.legs_per_hour) == 160
    assert learnt.error_before == pytest.approx(error(legs[4::5], HourFactors.flat()))
    assert learnt.error_before > 0.15 and learnt.error_after < 0.06 and learnt.better


def test_legs_that_were_no_drive_are_set_aside_and_too_few_are_refused() -> None:
    legs = [*_legs(30, (1.0,) * 24), Leg(12, 600, 600 * 10), Leg(12, 600, 60)]  # a lunch; a fix lost

    assert calibrate(legs, HourFactors.flat()).set_aside == 2
    with pytest.raises(TooFewLegs, match=f"at least {LEAST_LEGS}"):
        calibrate(legs[: LEAST_LEGS - 1], HourFactors.flat())
