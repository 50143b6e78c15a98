"""Payments in, and promises out."""

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BeforeValidator, Field, Strict

from api.cases.schemas import AmountText, Currency, Reference, number_or_string
from api.models.cases import DebtCase
from api.models.payments import Payment, PaymentChannel, Promise
from api.rules.promises import PromiseState
from api.schemas import Body, FromJson, Instant, Read

PaidAmount = Annotated[
    Decimal,
    Field(gt=0, max_digits=14, decimal_places=2, description="A number or a decimal string, e.g. `500.00`."),
    Strict(False),
    BeforeValidator(number_or_string),
]
PaymentReference = Annotated[
    str, Field(min_length=1, max_length=64, description="The core system's reference, unique in the branch.")
]


class PaymentIn(Body):
    """A payment the core system booked on a case."""

    case_id: FromJson[UUID]
    amount: PaidAmount
    currency: Currency = Field(description="The case's currency (ISO 4217, e.g. CNY).")
    paid_at: FromJson[AwareDatetime] = Field(
        description="When it was paid, with its offset, e.g. 2026-12-08T10:00:00+08:00."
    )
    channel: FromJson[PaymentChannel]
    reference: PaymentReference


class PaymentBatch(Body):
    """Payments to record, all or none. A reference already recorded with the same payment is left as it is (a
    resent batch changes nothing); with another payment it is refused."""

    payments: list[PaymentIn] = Field(min_length=1, max_length=10_000)


class PaymentsRecorded(Read):
    """What a batch of payments did."""

    recorded: int = Field(description="Payments new to the branch.")
    duplicates: int = Field(description="Payments already recorded under the same reference, left as they were.")
    promises_changed: int = Field(description="Promises whose state or paid amount the payments changed.")


class PaymentRead(Read):
    id: UUID
    case_id: UUID
    amount: AmountText
    currency: str
    paid_at: Instant
    channel: PaymentChannel
    reference: Reference
    created_at: Instant

    @classmethod
    def from_row(cls, row: Payment) -> "PaymentRead":
        return cls.model_validate(row)


class PromiseRead(Read):
    """A repayment promise made at a visit, followed against the case's payments."""

    id: UUID
    case_id: UUID
    case_reference: str = Field(description="The case's reference in the agency's core system.")
    debtor_name: str
    visit_id: UUID
    made_at: Instant = Field(description="When it was made: the visit's arrival.")
    due_on: date = Field(
        description="The date promised; payments count until the end of it plus the branch's promise_grace_days."
    )
    amount: AmountText
    currency: str
    paid: AmountText = Field(description="What was paid towards it in time, so far.")
    state: PromiseState = Field(
        description="pending: not yet due and not paid in full; kept: paid in full in time; partly_kept: part paid"
        " in time; broken: nothing paid in time."
    )
    settled_at: Instant | None = Field(description="When it was found kept, partly kept or broken; null: pending.")
    follow_up_request_id: UUID | None = Field(description="The follow-up visit request made of it, if any.")

    @classmethod
    def from_row(cls, row: Promise, case: DebtCase) -> "PromiseRead":
        return cls(
            id=row.id,
            case_id=row.case_id,
            case_reference=case.reference,
            debtor_name=case.debtor_name,
            visit_id=row.visit_id,
            made_at=row.made_at,
            due_on=row.due_on,
            amount=row.amount,
            currency=row.currency,
            paid=row.paid,
            state=row.state,
            settled_at=row.settled_at,
            follow_up_request_id=row.follow_up_request_id,
        )
