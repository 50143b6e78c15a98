from datetime import time
from functools import cache
from typing import Annotated, ClassVar
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field, model_validator

from api.branches.rules import rules_of
from api.geo import GeoPoint
from api.models.branches import (
    DEFAULT_CHECKLIST,
    DEFAULT_MAX_ON_SITE_MIN,
    DEFAULT_PHOTO_PURPOSES,
    DEFAULT_RECORDING_COVERAGE,
    TRACKING,
    Branch,
    Language,
)
from api.rules.evidence import EvidencePurpose
from api.rules.packs import DEFAULT_PACK, Jurisdiction
from api.schemas import Body, FromJson, Instant, LocalTime, Patch, Read
from routing.traffic import HOURS, LEAST_FACTOR, MOST_FACTOR


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_timezone(name: str) -> str:
    if name not in _timezones():
        raise ValueError(f"unknown IANA time zone {name!r}, e.g. Asia/Shanghai")
    return name


Timezone = Annotated[
    str, Field(max_length=64, description="IANA time zone, e.g. Asia/Shanghai."), AfterValidator(_known_timezone)
]
BranchName = Annotated[str, Field(min_length=1, max_length=120)]
OfficeAddress = Annotated[str, Field(min_length=1, max_length=300)]


def _check_hours(visiting_from: time | None, visiting_until: time | None) -> None:
    if visiting_from is not None and visiting_until is not None and visiting_from >= visiting_until:
        raise ValueError("visiting_from must be earlier than visiting_until")


Checklist = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]],
    Field(min_length=1, max_length=30, description="Items each agent confirms before the team's first visit."),
]
RecordingCoverage = Annotated[
    float,
    Field(ge=0, le=1, description="Share of the time on site the visit's recordings must cover, e.g. 0.9; 0: none."),
]
MaxOnSite = Annotated[
    int, Field(ge=5, le=600, description="Minutes on site after which a visit is flagged for review.")
]
TrackRetention = Annotated[
    int, Field(ge=1, le=365, description="Days an on-duty track is kept after its work date, then purged.")
]
OutOfContact = Annotated[
    int, Field(ge=5, le=240, description="Minutes without a fix from an agent on duty: the team is out of contact.")
]
OffRouteDistance = Annotated[
    int,
    Field(
        ge=200,
        le=50_000,
        description="Metres from the day's route (its roads where planned on them, else straight lines between stops).",
    ),
]
OffRouteTime = Annotated[
    int, Field(ge=5, le=240, description="Minutes farther than off_route_m from the route: the team is off route.")
]
PresenceThreshold = Annotated[
    int, Field(ge=0, le=100, description="A visit whose presence score is under this is 'presence doubtful'.")
]
GraceDays = Annotated[
    int,
    Field(
        ge=0, le=30, description="Days after a promise's date whose payments still keep it (to the end of the last)."
    ),
]
HourFactors = Annotated[
    list[Annotated[float, Field(ge=LEAST_FACTOR, le=MOST_FACTOR)]],
    Field(
        min_length=HOURS,
        max_length=HOURS,
        description=(
            "Traffic by the hour where the road engine has none: 24 factors on its travel times, one per local hour"
            " from 00:00 (1.3 at 08:00: trips begun between 08:00 and 09:00 take 30 % longer). A leg into a stop is"
            " priced at the mean over the hours the stop may be visited, a leg home at the shift's last hour. null:"
            " the engine's times all day. `POST /branches/{id}/travel-calibrations` learns them from the tracks."
        ),
    ),
]
PhotoPurposes = Annotated[
    list[FromJson[EvidencePurpose]],
    Field(max_length=7, description="Photos every visit needs before it is complete, e.g. door and mailbox."),
]


class BranchCreate(Body):
    """A new branch office."""

    name: BranchName
    timezone: Timezone
    language: FromJson[Language] = Field(default=Language.ZH, description="The language of printed sheets.")
    office_address: OfficeAddress
    office: GeoPoint
    jurisdiction: FromJson[Jurisdiction] = Field(
        default=Jurisdiction(DEFAULT_PACK), description="The rule pack whose law the branch's visits follow."
    )
    visiting_from: LocalTime | None = Field(
        default=None,
        description="The branch's own earliest visit, local time; only later than the pack's. Unset: the pack's.",
    )
    visiting_until: LocalTime | None = Field(
        default=None,
        description="The branch's own latest end of a visit; only earlier than the pack's. Unset: the pack's.",
    )
    max_on_site_min: MaxOnSite = DEFAULT_MAX_ON_SITE_MIN
    track_retention_days: TrackRetention = TRACKING.retention_days
    out_of_contact_min: OutOfContact = TRACKING.out_of_contact_s // 60
    off_route_m: OffRouteDistance = TRACKING.off_route_m
    off_route_min: OffRouteTime = TRACKING.off_route_s // 60
    presence_threshold: PresenceThreshold = TRACKING.presence_threshold
    departure_checklist: Checklist = Field(default_factory=lambda: list(DEFAULT_CHECKLIST))
    evidence_recording_coverage: RecordingCoverage = DEFAULT_RECORDING_COVERAGE
    evidence_photo_purposes: PhotoPurposes = Field(
        default_factory=lambda: [EvidencePurpose(purpose) for purpose in DEFAULT_PHOTO_PURPOSES]
    )
    travel_hour_factors: HourFactors | None = None
    promise_grace_days: GraceDays = 3

    @model_validator(mode="after")
    def _hours_in_order(self) -> "BranchCreate":
        _check_hours(self.visiting_from, self.visiting_until)
        return self


class BranchUpdate(Patch):
    """Changes to a branch; members left out keep their value."""

    nullable: ClassVar[frozenset[str]] = frozenset({"travel_hour_factors"})

    name: BranchName | None = None
    timezone: Timezone | None = None
    language: FromJson[Language] | None = None
    office_address: OfficeAddress | None = None
    office: GeoPoint | None = None
    jurisdiction: FromJson[Jurisdiction] | None = None
    visiting_from: LocalTime | None = None
    visiting_until: LocalTime | None = None
    max_on_site_min: MaxOnSite | None = None
    track_retention_days: TrackRetention | None = None
    out_of_contact_min: OutOfContact | None = None
    off_route_m: OffRouteDistance | None = None
    off_route_min: OffRouteTime | None = None
    presence_threshold: PresenceThreshold | None = None
    departure_checklist: Checklist | None = None
    evidence_recording_coverage: RecordingCoverage | None = None
    evidence_photo_purposes: PhotoPurposes | None = None
    travel_hour_factors: HourFactors | None = None
    promise_grace_days: GraceDays | None = None

    @model_validator(mode="after")
    def _hours_in_order(self) -> "BranchUpdate":
        _check_hours(self.visiting_from, self.visiting_until)
        return self


class BranchRead(Read):
    """A branch office with the hours its visits may happen in (local time at each address), from its jurisdiction's
    rule pack and its own stricter hours."""

    id: UUID
    name: str
    timezone: str
    language: Language
    office_address: str
    office: GeoPoint
    jurisdiction: Jurisdiction
    pack_version: str = Field(description="The version of the jurisdiction's rule pack in force.")
    visiting_from: LocalTime = Field(description="Visits start from this time, at the debtor's location.")
    visiting_until: LocalTime = Field(description="Visits end by this time.")
    hours_rule: str = Field(description="Where the hours come from: the pack's rule, or the branch's stricter hours.")
    max_on_site_min: int
    track_retention_days: int
    out_of_contact_min: int
    off_route_m: int
    off_route_min: int
    presence_threshold: int
    departure_checklist: list[str]
    evidence_recording_coverage: float
    evidence_photo_purposes: list[EvidencePurpose]
    travel_hour_factors: list[float] | None = Field(
        description="Traffic by the hour on the road engine's times, one factor per local hour; null: none."
    )
    promise_grace_days: int = Field(description="Days after a promise's date whose payments still keep it.")
    created_at: Instant
    updated_at: Instant

    @classmethod
    def from_row(cls, branch: Branch) -> "BranchRead":
        office = GeoPoint.from_wkb(branch.office_point)
        assert office is not None
        rules = rules_of(branch)
        return cls(
            id=branch.id,
            name=branch.name,
            timezone=branch.timezone,
            language=branch.language,
            office_address=branch.office_address,
            office=office,
            jurisdiction=branch.jurisdiction,
            pack_version=rules.pack.version,
            visiting_from=rules.opens,
            visiting_until=rules.closes,
            hours_rule=rules.hours_rule.label,
            max_on_site_min=branch.max_on_site_min,
            track_retention_days=branch.track_retention_days,
            out_of_contact_min=branch.out_of_contact_min,
            off_route_m=branch.off_route_m,
            off_route_min=branch.off_route_min,
            presence_threshold=branch.presence_threshold,
            departure_checklist=branch.departure_checklist,
            evidence_recording_coverage=branch.evidence_recording_coverage,
            evidence_photo_purposes=[EvidencePurpose(purpose) for purpose in branch.evidence_photo_purposes],
            travel_hour_factors=branch.travel_hour_factors,
            promise_grace_days=branch.promise_grace_days,
            created_at=branch.created_at,
            updated_at=branch.updated_at,
        )
