"""The door rule on plain values: the sheet's work date and the visiting hours, on the branch's wall clock."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from api.rules.hours import DoorRule, door_closed

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORK_DATE = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("clock", "day", "expected"),
    [
        (time(8, 0), WORK_DATE, None),
        (time(20, 59, 59), WORK_DATE, None),
        (time(7, 59, 59), WORK_DATE, DoorRule.VISITING_HOURS),
        (time(21, 0), WORK_DATE, DoorRule.VISITING_HOURS),
        (time(10, 0), date(2026, 12, 1), DoorRule.WORK_DATE),
        (time(10, 0), date(2026, 12, 3), DoorRule.WORK_DATE),
    ],
)
def test_the_door_is_open_on_the_work_date_inside_the_visiting_hours(
    clock: time, day: date, expected: DoorRule | None
) -> None:
    now = datetime.combine(day, clock, tzinfo=SHANGHAI)

    assert door_closed(now, WORK_DATE, time(8, 0), time(21, 0)) is expected
