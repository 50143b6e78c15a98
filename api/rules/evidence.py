"""What evidence a visit needs before it is complete: recordings covering a share of the time on site, and photos
of the purposes the branch requires."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


# One figure for whether a photo agrees with its visit, for the evidence flags the supervisor reads and the
# presence score alike. 300 m: the check-in geofence (200 m) plus what a phone's fix drifts by between buildings; a
# photo farther out was not taken at the door. The presence score flagged only beyond 1,000 m, so a photo the
# evidence list flagged as far left the score uncapped; the setting FIELDVISIT_EVIDENCE__PHOTO_RADIUS_M moves both.
PHOTO_FAR_M = 300
# 15 min either side of the visit: the agents photograph the building before the first check-in and the door after
# the outcome, and a phone's clock may be a few minutes off (both consumers already used 15 min).
PHOTO_SLACK = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class PhotoAgreement:
    far: bool  # its EXIF position is farther than the distance from the address (False without a position)
    outside_visit: bool  # its time is outside the visit and the slack, or the visit has no arrival yet (False untimed)

    @property
    def agrees(self) -> bool:
        return not (self.far or self.outside_visit)


def photo_agreement(
    distance_m: float | None,
    taken_at: datetime | None,
    began: datetime | None,
    ended: datetime,
    *,
    far_m: float = PHOTO_FAR_M,
    slack: timedelta = PHOTO_SLACK,
) -> PhotoAgreement:
    """Whether a photo agrees with its visit: taken within `far_m` of the address (`distance_m`, None without an EXIF
    position), and between the arrival (`began`) and `ended` give or take `slack` (`taken_at` as an instant, read
    with `photo_taken_at`; None without a capture time). A missing position or time is unknown, not disagreement."""
    far = distance_m is not None and distance_m > far_m
    outside = taken_at is not None and (began is None or not began - slack <= taken_at <= ended + slack)
    return PhotoAgreement(far, outside)
