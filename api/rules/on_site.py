"""Don't stay long: leave as soon as the purpose of the visit is reached; a longer stay is flagged for review."""

from datetime import datetime


def time_on_site_s(arrived: datetime, left: datetime) -> int:
    """Whole seconds from `arrived` to `left` (none if the clocks put them the other way round)."""
    return max(0, int((left - arrived).total_seconds()))


def overstayed(arrived: datetime, left: datetime, max_on_site_s: int) -> int | None:
    """The seconds on site from `arrived` to `left` when they exceed `max_on_site_s`; None within it."""
    on_site = time_on_site_s(arrived, left)
    return on_site if on_site > max_on_site_s else None
