"""Payments from the agency's core system, and the repayment promises made at the door that they keep or break."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.rules.promises import PromiseState


class PaymentChannel(StrEnum):
    """How the debtor paid."""

    BANK_TRANSFER = "bank_transfer"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    CARD = "card"
    CASH = "cash"
    OTHER = "other"


class Payment(Base):
    """A payment on a case, as the core system booked it; its reference is the core system's, one per branch."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("branch_id", "reference"),
        Index("ix_payment_branch_paid_at", "branch_id", "paid_at"),  # settling promises, payments after visits
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"))
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime())
    channel: Mapped[PaymentChannel] = mapped_column(enum_column_type(PaymentChannel, "payment_channel"))
    reference: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Promise(Base):
    """A repayment promise from a visit's confirmed outcome (an amendment changes it), followed against the case's
    payments."""

    __tablename__ = "promise"
    __table_args__ = (Index("ix_promise_branch_due", "branch_id", "due_on"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"))
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    visit_id: Mapped[UUID] = mapped_column(ForeignKey("visit.id"), unique=True)
    made_at: Mapped[datetime] = mapped_column(UtcDateTime())  # when the debtor promised: the visit's arrival
    due_on: Mapped[date] = mapped_column(Date())
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    currency: Mapped[str] = mapped_column(String(3))
    paid: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True), default=Decimal("0.00"))  # in time, so far
    state: Mapped[PromiseState] = mapped_column(enum_column_type(PromiseState, "promise_state"))
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # when it was last found kept or broken
    follow_up_request_id: Mapped[UUID | None] = mapped_column(ForeignKey("visit_request.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
