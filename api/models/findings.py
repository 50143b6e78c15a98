from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type


class FindingKind(StrEnum):
    """What the field learned that the supervisor and the case's phone collector need to know: a repayment promise
    (and, once its date is past, that it was broken or kept only in part),
        new or verified contact data, an address reported or confirmed invalid (the case goes back to its collector) or
        a report rejected, a suspected fake address, a visit where nobody was met, a photo of a visit flagged for review
        (taken far from the address or outside the visit), a visit longer on site than the branch allows, a visit whose
    presence is doubtful; and, about a team rather than a case, a team out of contact or off its route, and a team's
    day changed by a new version of its sheet published while the day is under way, and a team that can no longer
    reach all its stops; a system report resolved by itself (its cause went away); and, about a branch's geocoding,
    a provider that refused its key or whose quota is spent (for the admin, once a provider and day)."""

    REPAYMENT_PROMISED = "repayment_promised"
    CONTACT_FOUND = "contact_found"
    ADDRESS_REPORTED = "address_reported"
    ADDRESS_CONFIRMED_INVALID = "address_confirmed_invalid"
    ADDRESS_REPORT_REJECTED = "address_report_rejected"
    FAKE_ADDRESS_SUSPECTED = "fake_address_suspected"
    VISIT_FAILED = "visit_failed"
    EVIDENCE_FLAGGED = "evidence_flagged"
    VISIT_OVERSTAYED = "visit_overstayed"
    PRESENCE_DOUBTFUL = "presence_doubtful"
    TEAM_OUT_OF_CONTACT = "team_out_of_contact"
    TEAM_OFF_ROUTE = "team_off_route"
    SHEET_CHANGED = "sheet_changed"
    TEAM_RUNNING_LATE = "team_running_late"
    ADDRESS_REPORT_RESOLVED = "address_report_resolved"
    GEOCODER_REFUSED = "geocoder_refused"
    PROMISE_BROKEN = "promise_broken"


# about the team's conduct, not the debtor: for the supervisor's feed and webhooks, not the phone collector's
STAFF_ONLY = frozenset(
    {
        FindingKind.PRESENCE_DOUBTFUL,
        FindingKind.TEAM_OUT_OF_CONTACT,
        FindingKind.TEAM_OFF_ROUTE,
        FindingKind.SHEET_CHANGED,
        FindingKind.TEAM_RUNNING_LATE,
        FindingKind.GEOCODER_REFUSED,
    }
)


class Finding(Base):
    """One event of the findings feed, about a case, (`team_id`) a team or (neither) the branch's geocoding; its
    `id` orders the feed and is the cursor."""

    __tablename__ = "finding"
    __table_args__ = (
        CheckConstraint(
            "case_id IS NOT NULL OR team_id IS NOT NULL OR kind = 'geocoder_refused'", name="about_case_team_or_branch"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    case_id: Mapped[UUID | None] = mapped_column(ForeignKey("debt_case.id"), index=True)
    team_id: Mapped[UUID | None] = mapped_column(ForeignKey("team.id"))
    kind: Mapped[FindingKind] = mapped_column(enum_column_type(FindingKind, "finding_kind"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
