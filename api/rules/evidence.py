"""What evidence a visit needs before it is complete: recordings covering a share of the time on site, and photos
of the purposes the branch requires."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class EvidencePurpose(StrEnum):
    """What the item shows: `whole_visit` (the recording), `door`, `mailbox`, `building`, `surroundings`,
    `signed_letter` (a letter or form the debtor signed), `other`."""

    WHOLE_VISIT = "whole_visit"
    DOOR = "door"
    MAILBOX = "mailbox"
    BUILDING = "building"
    SURROUNDINGS = "surroundings"
    SIGNED_LETTER = "signed_letter"
    OTHER = "other"


@dataclass(frozen=True)
class Shortfall:
    coverage: float  # share of the time on site the accepted recordings cover
    required_coverage: float
    missing_photos: list[str]

    @property
    def met(self) -> bool:
        return self.coverage >= self.required_coverage and not self.missing_photos


def shortfall(
    began: datetime,
    ended: datetime,
    recordings: Iterable[tuple[datetime, datetime]],
    photographed: set[str],
    required_coverage: float,
    required_photos: Sequence[str],
) -> Shortfall:
    """How the accepted evidence of a time on site [began, ended] measures up to what the branch requires."""
    return Shortfall(
        coverage=covered_share(began, ended, list(recordings)),
        required_coverage=required_coverage,
        missing_photos=[purpose for purpose in required_photos if purpose not in photographed],
    )


def covered_share(began: datetime, ended: datetime, intervals: list[tuple[datetime, datetime]]) -> float:
    """The share of [began, ended] the union of the intervals covers (1 for an empty span)."""
    span = (ended - began).total_seconds()
    if span <= 0:
        return 1.0
    covered, reach = 0.0, began
    for start, end in sorted(intervals):
        start, end = max(start, reach), min(end, ended)
        if end > start:
            covered += (end - start).total_seconds()
            reach = end
    return covered / span


def photo_taken_at(exif_time: datetime, zone_at_address: ZoneInfo) -> datetime:
    """A photo's EXIF time as an instant (UTC). Most phone cameras write the time without its UTC offset: it is
    the phone's clock where the photo was taken, that is at the address, as the door rules count it."""
    aware = exif_time if exif_time.tzinfo else exif_time.replace(tzinfo=zone_at_address)
    return aware.astimezone(UTC)
