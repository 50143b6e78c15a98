"""When a team may be at the door: on its sheet's work date and inside the branch's visiting hours, both read on the
branch's wall clock."""

from datetime import date, datetime, time
from enum import StrEnum


class DoorRule(StrEnum):
    """The rule that keeps a team from checking in or starting a visit now."""

    WORK_DATE = "work_date"  # the sheet is for another day
    VISITING_HOURS = "visiting_hours"  # outside the hours the branch may visit


def door_closed(now_local: datetime, work_date: date, visiting_from: time, visiting_until: time) -> DoorRule | None:
    """The rule broken by being at the door at `now_local` (the branch's local time), or None when it is allowed."""
    if now_local.date() != work_date:
        return DoorRule.WORK_DATE
    if not visiting_from <= now_local.time().replace(tzinfo=None) < visiting_until:
        return DoorRule.VISITING_HOURS
    return None
