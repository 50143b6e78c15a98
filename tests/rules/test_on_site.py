"""Don't stay long: a visit longer on site than the branch's maximum is flagged."""

from datetime import UTC, datetime, timedelta

from api.rules.on_site import overstayed, time_on_site_s

ARRIVED = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_only_a_stay_beyond_the_maximum_overstays() -> None:
    assert overstayed(ARRIVED, ARRIVED + timedelta(minutes=60), 3600) is None
    assert overstayed(ARRIVED, ARRIVED + timedelta(minutes=60, seconds=1), 3600) == 3601
    assert overstayed(ARRIVED, ARRIVED + timedelta(minutes=5), 600) is None


def test_clocks_the_wrong_way_round_are_no_time_on_site() -> None:
    assert time_on_site_s(ARRIVED, ARRIVED - timedelta(seconds=30)) == 0
    assert overstayed(ARRIVED, ARRIVED - timedelta(hours=2), 60) is None
