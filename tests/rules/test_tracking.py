"""The rules of on-duty tracks, without a database: duty, retention, gaps and detours."""

from datetime import UTC, date, datetime, timedelta

import pytest

from api.rules.tracking import (
    Duty,
    Point,
    TimedFix,
    distance_to_route_m,
    duty,
    gaps,
    off_route,
    purged_before,
    server_time,
)

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
METRE_LAT = 1 / 111_195


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_duty_runs_from_the_departure_check_to_the_sheets_end_plus_the_margin() -> None:
    on_duty = duty(at(0), at(0), at(9 * 60), timedelta(minutes=30))

    assert on_duty.covers(at(0)) and on_duty.covers(at(9 * 60 + 30))
    assert not on_duty.covers(at(-0.01)) and not on_duty.covers(at(9 * 60 + 30.01))


def test_a_team_that_leaves_late_is_on_duty_as_much_later_and_one_that_leaves_early_ends_on_time() -> None:
    late = duty(at(50), at(0), at(9 * 60), timedelta(minutes=30))
    early = duty(at(-20), at(0), at(9 * 60), timedelta(minutes=30))

    assert late.ends == at(9 * 60 + 50 + 30) and late.begins == at(50)
    assert early.ends == at(9 * 60 + 30) and early.begins == at(-20)


def test_a_fix_is_timed_by_the_server_clock_less_the_devices_skew() -> None:
    assert server_time(at(10), 120) == at(8)
    assert server_time(at(10), -60) == at(11)


def test_tracks_are_kept_for_the_retention_after_their_work_date() -> None:
    assert purged_before(date(2026, 12, 31), 30) == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("minutes", "found"),
    [
        ([1, 2, 16, 17], []),  # 14 minutes apart at most: no gap over 15
        ([1, 2, 18, 19], [(2, 18)]),  # 16 minutes
        ([20, 21], [(0, 20)]),  # nothing from the departure check for 20 minutes
    ],
)
def test_a_gap_longer_than_the_limit_is_found_between_fixes(minutes: list[int], found: list[tuple[int, int]]) -> None:
    on_duty = Duty(at(0), at(600))

    spans = gaps([at(m) for m in minutes], on_duty, now=at(25), max_gap_s=15 * 60)

    assert [(span.begins, span.ends) for span in spans] == [(at(a), at(b)) for a, b in found]
    assert not any(span.ongoing for span in spans)


def test_a_gap_that_lasts_until_now_is_ongoing_and_none_is_counted_after_the_duty() -> None:
    on_duty = Duty(at(0), at(60))

    now_gap = gaps([at(1), at(2)], on_duty, now=at(30), max_gap_s=15 * 60)
    after_duty = gaps([at(1), at(58)], on_duty, now=at(200), max_gap_s=15 * 60)
    before_duty = gaps([], on_duty, now=at(-5), max_gap_s=60)

    assert [(span.begins, span.ends, span.ongoing) for span in now_gap] == [(at(2), at(30), True)]
    assert [(span.begins, span.ends, span.ongoing) for span in after_duty] == [(at(1), at(58), False)]
    assert before_duty == []


def test_the_distance_to_a_route_is_to_its_nearest_leg() -> None:
    route = [Point(31.0, 121.0), Point(31.0, 121.1)]  # a leg running east

    beside = distance_to_route_m(Point(31.0 + 500 * METRE_LAT, 121.05), route)
    beyond_its_end = distance_to_route_m(Point(31.0, 121.1 + 0.01), route)
    one_point = distance_to_route_m(Point(31.0 + 100 * METRE_LAT, 121.0), [Point(31.0, 121.0)])

    assert beside == pytest.approx(500, abs=1)
    assert beyond_its_end == pytest.approx(954, abs=3)  # 0.01° of longitude at 31° N
    assert one_point == pytest.approx(100, abs=0.5)


def test_a_time_off_route_counts_once_it_lasts_and_the_fix_is_off_beyond_its_accuracy() -> None:
    route = [Point(31.0, 121.0), Point(31.0, 121.1)]

    def fix(minutes: float, north_m: float, accuracy_m: float = 10) -> TimedFix:
        return TimedFix(at(minutes), 31.0 + north_m * METRE_LAT, 121.05, accuracy_m)

    long_detour = [fix(0, 0), *(fix(m, 3_000) for m in range(1, 23)), fix(23, 0)]
    short_detour = [fix(0, 0), *(fix(m, 3_000) for m in range(1, 15)), fix(15, 0)]
    inaccurate = [fix(m, 2_500, accuracy_m=600) for m in range(30)]

    spans = off_route(long_detour, route, max_m=2_000, min_s=20 * 60)

    assert [(span.begins, span.ends) for span in spans] == [(at(1), at(22))]
    assert spans[0].distance_m == pytest.approx(3_000, abs=2) and spans[0].duration_s == 21 * 60
    assert off_route(short_detour, route, max_m=2_000, min_s=20 * 60) == []
    assert off_route(inaccurate, route, max_m=2_000, min_s=20 * 60) == []
    assert off_route(long_detour, [], max_m=2_000, min_s=60) == []
