from datetime import date, datetime, time
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.models.cases import Address, DebtCase
from api.rules.eligibility import EligibilityFlag


class VisitPurpose(StrEnum):
    """Why a phone collector wants the door visited."""

    FIND_NEW_INFORMATION = "find_new_information"
    CONFIRM_ADDRESS = "confirm_address"
    NEGOTIATE = "negotiate"
    DELIVER_LETTER = "deliver_letter"


class VisitRequestStatus(StrEnum):
    """`open`: waiting to be planned; `planned`: on a visit sheet; `completed`: visited; `cancelled`: withdrawn,
    or its address was confirmed invalid."""

    OPEN = "open"
    PLANNED = "planned"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class VisitRequest(Base):
    __tablename__ = "visit_request"
    __table_args__ = (
        ForeignKeyConstraint(["address_id", "case_id"], ["address.id", "address.case_id"]),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("earliest_date <= latest_date", name="date_order"),
        CheckConstraint(
            "(window_start IS NULL AND window_end IS NULL) OR (window_start < window_end)", name="window_order"
        ),
        Index("ix_visit_request_status_dates", "status", "earliest_date", "latest_date"),
        Index("ix_visit_request_earliest_date", "earliest_date"),  # the results' requests due
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    address_id: Mapped[UUID] = mapped_column(index=True)
    purpose: Mapped[VisitPurpose] = mapped_column(enum_column_type(VisitPurpose, "visit_purpose"))
    priority: Mapped[int] = mapped_column(SmallInteger(), default=3)
    requested_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    earliest_date: Mapped[date] = mapped_column(Date())
    latest_date: Mapped[date] = mapped_column(Date())
    window_start: Mapped[time | None] = mapped_column(Time())
    window_end: Mapped[time | None] = mapped_column(Time())
    notes: Mapped[str] = mapped_column(Text(), default="")
    status: Mapped[VisitRequestStatus] = mapped_column(
        enum_column_type(VisitRequestStatus, "visit_request_status"), default=VisitRequestStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    case: Mapped[DebtCase] = relationship(viewonly=True)
    address: Mapped[Address] = relationship(viewonly=True)


class EligibilityRelease(Base):
    """A supervisor's release of one request from one block of the eligibility gate, with the reason."""

    __tablename__ = "eligibility_release"
    __table_args__ = (UniqueConstraint("visit_request_id", "flag"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    visit_request_id: Mapped[UUID] = mapped_column(ForeignKey("visit_request.id"), index=True)
    flag: Mapped[EligibilityFlag] = mapped_column(enum_column_type(EligibilityFlag, "eligibility_flag"))
    reason: Mapped[str] = mapped_column(Text())
    released_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    released_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
