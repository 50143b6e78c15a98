"""The time zone of a place, from its position and offline: a debtor's local time is the time where the debtor is,
not at the branch (a branch may cover two zones)."""

from functools import lru_cache
from zoneinfo import ZoneInfo

import tzfpy


@lru_cache(maxsize=65_536)
def zone_at(lat: float, lon: float, fallback: str) -> ZoneInfo:
    """The IANA zone at (lat, lon); `fallback` (the branch's) where the map has none, e.g. at sea."""
    name = tzfpy.get_tz(lon, lat)
    return ZoneInfo(name or fallback)


def load() -> None:
    """Read the time-zone map now (about 60 ms) rather than at a planner's first address."""
    zone_at(0.0, 0.0, "UTC")
