from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.models.cases import Address, AddressValidity, InvalidReason
from api.rules.grades import AddressGrade


class ReportStatus(StrEnum):
    """`pending` in the supervisor's queue; `confirmed`: the address is invalid and its visits are cancelled;
    `rejected`: the visits stay, and the agents are told why; `resolved`: the system's report whose cause went away
    (a later geocoding pass placed the address at its door), closed by the system itself."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    RESOLVED = "resolved"


class ReportResolver(StrEnum):
    """Who closed a report: a supervisor's decision, or the system when the report's cause went away."""

    SUPERVISOR = "supervisor"
    SYSTEM = "system"


class ReportOrigin(StrEnum):
    """Who raised the report: an agent at or before the door, the evening pre-check, or a visit's outcome that
    found no such address or a demolished one."""

    AGENT = "agent"
    PRECHECK = "precheck"
    OUTCOME = "outcome"


class AddressProblem(StrEnum):
    """What the evening pre-check found wrong with an address due the next day."""

    NO_POINT = "no_point"  # no point, and no geocoder found one
    VAGUE_TEXT = "vague_text"  # the text is vague (附近, 对面, a landmark with no number …)
    INCOMPLETE_TEXT = "incomplete_text"  # the text stops at a road, a district or is unparseable
    UNTRUSTED_MATCH = "untrusted_match"  # the geocoder's match is coarser than the text
    FAR_FROM_DISTRICT = "far_from_district"  # the point lies far from the district the text names
    SHARED_POINT = "shared_point"  # another debtor's different address has the very same point
    NO_ROAD = "no_road"  # the road engine cannot reach the point (no road near it, or cut off from the others')


POINT_PROBLEMS = frozenset(
    {AddressProblem.UNTRUSTED_MATCH, AddressProblem.FAR_FROM_DISTRICT, AddressProblem.SHARED_POINT}
)


class AddressReport(Base):
    """A report that an address cannot be visited (an agent's, the pre-check's or an outcome's), and the
    supervisor's decision on it."""

    __tablename__ = "address_report"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'resolved') OR decided_by_id IS NOT NULL", name="decided_by_someone_or_resolved"
        ),
        CheckConstraint("raised_by != 'agent' OR reported_by_id IS NOT NULL", name="agent_report_has_agent"),
        CheckConstraint("(raised_by = 'precheck') = (problem IS NOT NULL)", name="precheck_report_has_problem"),
        # one open report per address at a time
        Index(
            "uq_address_report_pending",
            "address_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    address_id: Mapped[UUID] = mapped_column(ForeignKey("address.id"), index=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"))
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    visit_id: Mapped[UUID | None] = mapped_column(ForeignKey("visit.id"))
    reason: Mapped[InvalidReason] = mapped_column(enum_column_type(InvalidReason, "report_reason"))
    note: Mapped[str] = mapped_column(Text(), default="")
    previous_validity: Mapped[AddressValidity] = mapped_column(enum_column_type(AddressValidity, "previous_validity"))
    status: Mapped[ReportStatus] = mapped_column(
        enum_column_type(ReportStatus, "report_status"), default=ReportStatus.PENDING
    )
    raised_by: Mapped[ReportOrigin] = mapped_column(enum_column_type(ReportOrigin, "report_origin"))
    problem: Mapped[AddressProblem | None] = mapped_column(enum_column_type(AddressProblem, "address_problem"))
    grade: Mapped[AddressGrade | None] = mapped_column(enum_column_type(AddressGrade, "report_grade"))  # as checked
    # the geocoders' candidates the pre-check saw: [{lat, lon, precision, provider, level, formatted}]
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON(), default=list)
    reported_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))  # the agent; none if raised
    decided_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_note: Mapped[str] = mapped_column(Text(), default="")
    client_id: Mapped[UUID] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    address: Mapped[Address] = relationship(lazy="joined", innerjoin=True)  # its last geocoding, for the queue

    @property
    def resolved_by(self) -> ReportResolver | None:
        if self.status is ReportStatus.PENDING:
            return None
        return ReportResolver.SYSTEM if self.status is ReportStatus.RESOLVED else ReportResolver.SUPERVISOR
