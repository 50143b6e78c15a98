import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.models.cases import ContactKind
from api.rules.valuables import ApprovalKind
from api.schemas import Body, FromJson


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


# The outcome as reported at the door: the shape of `outcome.details`.
ShortText = Annotated[str, Field(max_length=200)]
Notes = Annotated[str, Field(max_length=4000)]
Phone = Annotated[str, Field(min_length=5, max_length=32, pattern=r"^\+?[0-9 ()-]{5,32}$")]
Amount = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]


class Part(BaseModel):
    """A part of a request body: unknown members are refused, so nothing the app sends is silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ContactResult(StrEnum):
    """Whom the agents met at the door: the debtor, a family member, someone else, or nobody answered."""

    MET_DEBTOR = "met_debtor"
    MET_FAMILY = "met_family"
    MET_OTHER = "met_other"
    NOBODY = "nobody"


class Answer(StrEnum):
    """A yes / no answer, or that the person did not know or would not say."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class AddressAssessment(StrEnum):
    """The agents' judgement of the address: the debtor lives there, moved away, sold the home, the address looks
    fake, there is no such address, the building is demolished, or they cannot tell. The last two but one put the
    address in the supervisor's invalid-address queue."""

    LIVES_HERE = "lives_here"
    MOVED = "moved"
    SOLD = "sold"
    FAKE = "fake"
    NO_SUCH_ADDRESS = "no_such_address"
    DEMOLISHED = "demolished"
    UNCLEAR = "unclear"


class Mailbox(Part):
    """The mailbox is always checked; whether it held mail addressed to the debtor."""

    checked: Literal[True] = Field(description="Always true: checking the mailbox is part of every visit.")
    mail_for_debtor: bool
    letter_left: bool = Field(default=False, description="The agents left a letter in the mailbox.")


class LocationInquiry(Part):
    """A question to a neighbour or the property management about where the debtor is. Only location questions are
    asked, never anything about the debt."""

    who: ShortText = Field(min_length=1, description="E.g. 'neighbour, flat 302' or 'property management office'.")
    debtor_lives_here: Answer
    debtor_works: Answer = Answer.UNKNOWN
    usual_return_time: ShortText = ""
    who_lives_here: ShortText = ""
    message_passed_on: bool = Field(default=False, description="Asked to pass on a message to contact the agency.")
    reason_asked_again: Annotated[str, Field(max_length=1000)] = Field(
        default="",
        description="Why this third party is asked again: required when an earlier visit of the case asked them (the"
        " same kind at the same address, named with the same words; the sheet's stop lists them).",
    )


class ContactFinding(Part):
    """A phone number found or verified at the door."""

    phone: Phone
    kind: ContactKind
    verified: bool = Field(description="True: confirmed to reach the debtor; false: newly found, not yet tried.")
    holder: ShortText = ""


class Employer(Part):
    """Where the debtor works, as learned at the door."""

    name: ShortText = Field(min_length=1)
    address: Annotated[str, Field(max_length=500)] = ""
    phone: Phone | None = None


class RepaymentPromise(Part):
    """The debtor (or family) promised to pay this amount by this date."""

    date: FromJson[date]
    amount: Amount


class CashPayment(Part):
    """Cash the debtor handed over, with the receipt given; allowed only with a supervisor's approval for the
    visit granted beforehand."""

    amount: Amount
    receipt_number: ShortText = Field(min_length=1)


class ItemReceived(Part):
    """A valuable other than cash the team received (a cheque, a bank card, a phone, a document of title…), with
    the supervisor's approval of the visit that names it, given beforehand."""

    description: ShortText = Field(min_length=1, description="What it is, in the words of its approval.")
    approval_id: FromJson[UUID] = Field(description="The approval (kind `item`) of this visit naming the item.")


class OutcomeReport(Body):
    """What happened at the door, as one agent reported it and the server validated it."""

    contact_result: FromJson[ContactResult]
    met_relation: ShortText = Field(default="", description="met_family: the relation, e.g. 'wife'.")
    met_who: ShortText = Field(default="", description="met_other: who, e.g. 'tenant'.")
    mailbox: Mailbox
    neighbours: list[LocationInquiry] = Field(default_factory=list, max_length=20)
    property_management: LocationInquiry | None = None
    documents_signed: bool = False
    contacts: list[ContactFinding] = Field(default_factory=list, max_length=20)
    employer: Employer | None = None
    promise: RepaymentPromise | None = None
    cash_payment: CashPayment | None = None
    items_received: list[ItemReceived] = Field(
        default_factory=list, max_length=10, description="Valuables other than cash, each with its own approval."
    )
    signs_moved: bool = False
    signs_house_sold: bool = False
    signs_fake_address: bool = False
    address_assessment: FromJson[AddressAssessment]
    notes: Notes = ""

    @model_validator(mode="after")
    def _who_was_met(self) -> "OutcomeReport":
        if self.contact_result is ContactResult.MET_FAMILY and not self.met_relation:
            raise ValueError("met_family needs met_relation")
        if self.contact_result is ContactResult.MET_OTHER and not self.met_who:
            raise ValueError("met_other needs met_who")
        return self

    @property
    def met_there(self) -> bool:
        """The debtor or their family was met at the address."""
        return self.contact_result in (ContactResult.MET_DEBTOR, ContactResult.MET_FAMILY)

    @property
    def fake_address_suspected(self) -> bool:
        return self.signs_fake_address or self.address_assessment is AddressAssessment.FAKE


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
    details: Mapped[dict[str, Any]] = mapped_column(JSON())  # the OutcomeReport as validated: read it as `report`
    submitted_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    confirmed_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    client_id: Mapped[UUID] = mapped_column(unique=True)
    sequence: Mapped[int] = mapped_column(Integer(), default=1)  # 1 for the original, 2.. for amendments

    @property
    def report(self) -> OutcomeReport:
        """The outcome as reported at the door: `details` is its only copy."""
        return OutcomeReport.model_validate_json(json.dumps(self.details))


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
