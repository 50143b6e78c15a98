from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.rules.valuables import ApprovalKind


class VisitStatus(StrEnum):
    """`checking_in`: agents are arriving; `in_progress`: both checked in (or a supervisor overrode); `reported`: one
    agent submitted the outcome, the other has to confirm it; `completed`: both agreed on the outcome;
    `amendment_reported`: completed, and an amendment of its outcome waits for the other agent's confirmation."""

    CHECKING_IN = "checking_in"
    IN_PROGRESS = "in_progress"
    REPORTED = "reported"
    COMPLETED = "completed"
    AMENDMENT_REPORTED = "amendment_reported"


AWAITING_CONFIRMATION = (VisitStatus.REPORTED, VisitStatus.AMENDMENT_REPORTED)


class ReviewFlag(StrEnum):
    """Why a supervisor should look at a visit: `overstayed`: longer on site than the branch's maximum."""

    OVERSTAYED = "overstayed"


class DepartureCheck(Base):
    """One agent's confirmation, before the team's first visit of the day, that the branch's checklist is done."""

    __tablename__ = "departure_check"
    __table_args__ = (UniqueConstraint("team_id", "agent_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    team_id: Mapped[UUID] = mapped_column(ForeignKey("team.id"), index=True)
    agent_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    work_date: Mapped[date] = mapped_column(Date())
    items: Mapped[list[str]] = mapped_column(JSON())  # the checklist items confirmed, all of the branch's list
    client_id: Mapped[UUID] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Visit(Base):
    """What happens at the door for one stop of a published sheet: check-ins, start, outcome."""

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("sheet_id", "visit_request_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    sheet_id: Mapped[UUID] = mapped_column(ForeignKey("visit_sheet.id"), index=True)
    visit_request_id: Mapped[UUID] = mapped_column(ForeignKey("visit_request.id"), index=True)
    team_id: Mapped[UUID] = mapped_column(ForeignKey("team.id"), index=True)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    address_id: Mapped[UUID] = mapped_column(ForeignKey("address.id"))
    status: Mapped[VisitStatus] = mapped_column(
        enum_column_type(VisitStatus, "visit_status"), default=VisitStatus.CHECKING_IN
    )
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    override_reason: Mapped[str] = mapped_column(Text(), default="")  # a supervisor started it without both check-ins
    override_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    # a supervisor allowed the door outside the sheet's work date or the visiting hours
    hours_override_reason: Mapped[str] = mapped_column(Text(), default="")
    hours_override_consent: Mapped[str] = mapped_column(Text(), default="")  # how the debtor agreed to the time
    hours_override_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    hours_override_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # from the arrival at the door to the submission of the first outcome; set with that outcome
    on_site_s: Mapped[int | None] = mapped_column(Integer())
    review_flags: Mapped[list[str]] = mapped_column(JSON(), default=list, server_default="[]")  # ReviewFlag values
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    check_ins: Mapped[list["CheckIn"]] = relationship(order_by="CheckIn.received_at", lazy="selectin", viewonly=True)


class CheckIn(Base):
    """One agent at the door: where the phone says it is, how sure it is, and when."""

    __tablename__ = "check_in"
    __table_args__ = (CheckConstraint("accuracy_m >= 0", name="accuracy_positive"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    visit_id: Mapped[UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    agent_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    lat: Mapped[float] = mapped_column(Double())
    lon: Mapped[float] = mapped_column(Double())
    accuracy_m: Mapped[float] = mapped_column(Double())
    distance_m: Mapped[float] = mapped_column(Double())  # from the address point, computed by the server
    device_time: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    client_id: Mapped[UUID] = mapped_column(unique=True)


class Outcome(Base):
    """What happened at the door, as one agent submitted it and the other confirmed it. Never edited: a correction
    is a new outcome that `amends` this one; both are kept."""

    __tablename__ = "outcome"
    __table_args__ = (
        CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> submitted_by_id", name="two_agents"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    visit_id: Mapped[UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    amends_id: Mapped[UUID | None] = mapped_column(ForeignKey("outcome.id"), unique=True)
    contact_result: Mapped[str] = mapped_column(String(20))
    promise_date: Mapped[date | None] = mapped_column(Date())
    promise_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2, asdecimal=True))
    cash_collected: Mapped[Decimal | None] = mapped_column(Numeric(14, 2, asdecimal=True))
    suspected_fake_address: Mapped[bool] = mapped_column(Boolean(), default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON())  # the whole submitted outcome, as validated
    submitted_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    confirmed_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    client_id: Mapped[UUID] = mapped_column(unique=True)
    sequence: Mapped[int] = mapped_column(Integer(), default=1)  # 1 for the original, 2.. for amendments


class CashApproval(Base):
    """A supervisor's permission, given before the visit's outcome, to take a cash payment of up to `max_amount`
    or (kind `item`) to receive the one valuable it describes: a cheque, a bank card, a document of title…"""

    __tablename__ = "cash_approval"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'cash' AND max_amount > 0 AND item_description = '')"
            " OR (kind = 'item' AND max_amount IS NULL AND item_description <> '')",
            name="cash_or_item",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    visit_id: Mapped[UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    kind: Mapped[ApprovalKind] = mapped_column(
        enum_column_type(ApprovalKind, "approval_kind"), default=ApprovalKind.CASH, server_default="cash"
    )
    max_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2, asdecimal=True))
    item_description: Mapped[str] = mapped_column(Text(), default="", server_default="")
    reason: Mapped[str] = mapped_column(Text())
    approved_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PresenceStage(StrEnum):
    """When a visit's presence was assessed: `start`, when it started; `completion`, when both agents agreed on its
    outcome."""

    START = "start"
    COMPLETION = "completion"


class VisitPresence(Base):
    """A visit's presence assessment at its start or its completion: the score and the signals behind it."""

    __tablename__ = "visit_presence"
    __table_args__ = (UniqueConstraint("visit_id", "stage"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    visit_id: Mapped[UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    stage: Mapped[PresenceStage] = mapped_column(enum_column_type(PresenceStage, "presence_stage"))
    score: Mapped[int] = mapped_column(SmallInteger())
    signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
