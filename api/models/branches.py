from datetime import datetime, time
from enum import StrEnum
from uuid import UUID, uuid4

from geoalchemy2 import WKBElement
from sqlalchemy import JSON, CheckConstraint, Double, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.geo import point_column_type
from api.rules.packs import Jurisdiction
from api.rules.tracking import TrackingRules

DEFAULT_CHECKLIST = ("recorder_charged", "camera_charged", "letters_carried", "forms_carried")
DEFAULT_RECORDING_COVERAGE = 0.9
DEFAULT_PHOTO_PURPOSES = ("door", "mailbox")
DEFAULT_MAX_ON_SITE_MIN = 60
TRACKING = TrackingRules()


class Language(StrEnum):
    """The language of the branch's printed sheets: `zh` prints Chinese with the English beside it, `en` English."""

    ZH = "zh"
    EN = "en"


class Branch(Base):
    __tablename__ = "branch"
    __table_args__ = (
        CheckConstraint("visiting_from < visiting_until", name="visiting_hours_order"),
        CheckConstraint("max_on_site_min BETWEEN 5 AND 600", name="max_on_site_range"),
        CheckConstraint("track_retention_days BETWEEN 1 AND 365", name="track_retention_range"),
        CheckConstraint("presence_threshold BETWEEN 0 AND 100", name="presence_threshold_range"),
        CheckConstraint("promise_grace_days BETWEEN 0 AND 30", name="promise_grace_days_range"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[Language] = mapped_column(enum_column_type(Language, "language"), default=Language.ZH)
    office_address: Mapped[str] = mapped_column(String(300))
    office_point: Mapped[WKBElement] = mapped_column(point_column_type())
    jurisdiction: Mapped[Jurisdiction] = mapped_column(
        enum_column_type(Jurisdiction, "jurisdiction"), default=Jurisdiction.CN, server_default=Jurisdiction.CN.value
    )
    # the branch's own visiting hours, only ever stricter than its pack's; None: the pack's
    visiting_from: Mapped[time | None] = mapped_column(Time())
    visiting_until: Mapped[time | None] = mapped_column(Time())
    # a visit longer on site than this is flagged for review ("leave as soon as the purpose is reached")
    max_on_site_min: Mapped[int] = mapped_column(Integer(), default=DEFAULT_MAX_ON_SITE_MIN, server_default="60")
    # on-duty tracks: kept this long after their work date; a gap or a time off route this long is a finding
    track_retention_days: Mapped[int] = mapped_column(
        Integer(), default=TRACKING.retention_days, server_default=str(TRACKING.retention_days)
    )
    out_of_contact_min: Mapped[int] = mapped_column(
        Integer(), default=TRACKING.out_of_contact_s // 60, server_default=str(TRACKING.out_of_contact_s // 60)
    )
    off_route_m: Mapped[int] = mapped_column(
        Integer(), default=TRACKING.off_route_m, server_default=str(TRACKING.off_route_m)
    )
    off_route_min: Mapped[int] = mapped_column(
        Integer(), default=TRACKING.off_route_s // 60, server_default=str(TRACKING.off_route_s // 60)
    )
    # a visit whose presence score is under this is a "presence doubtful" finding
    presence_threshold: Mapped[int] = mapped_column(
        Integer(), default=TRACKING.presence_threshold, server_default=str(TRACKING.presence_threshold)
    )
    # what each agent confirms before the team's first visit of the day
    departure_checklist: Mapped[list[str]] = mapped_column(JSON(), default=lambda: list(DEFAULT_CHECKLIST))
    # the evidence a visit needs before it is complete: recordings over this share of the time on site, and photos
    evidence_recording_coverage: Mapped[float] = mapped_column(Double(), default=DEFAULT_RECORDING_COVERAGE)
    evidence_photo_purposes: Mapped[list[str]] = mapped_column(JSON(), default=lambda: list(DEFAULT_PHOTO_PURPOSES))
    # a repayment promise is kept by payments up to the end of its date plus this many days
    promise_grace_days: Mapped[int] = mapped_column(Integer(), default=3, server_default="3")
    # traffic by the hour on the road engine's times: 24 factors, one per local hour (`routing.traffic`); None: 1
    travel_hour_factors: Mapped[list[float] | None] = mapped_column(JSON())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
