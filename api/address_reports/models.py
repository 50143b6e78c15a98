from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from api.cases.models import AddressValidity, InvalidReason
from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type


class ReportStatus(StrEnum):
    """`pending` in the supervisor's queue; `confirmed`: the address is invalid and its visits are cancelled;
    `rejected`: the visits stay, and the agents are told why."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class AddressReport(Base):
    """An agent's report that an address cannot be visited, and the supervisor's decision on it."""

    __tablename__ = "address_report"
    __table_args__ = (
        CheckConstraint("status = 'pending' OR decided_by_id IS NOT NULL", name="decided_by_someone"),
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
    reported_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    decided_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_note: Mapped[str] = mapped_column(Text(), default="")
    client_id: Mapped[UUID] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
