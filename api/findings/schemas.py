"""What each kind of finding carries: the feed's items and the webhooks' bodies are these, checked when published."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, create_model

from api.cases.models import InvalidReason
from api.findings.models import Finding, FindingKind
from api.schemas import Instant


class FindingPayload(BaseModel):
    """What a finding says; every kind names its case by reference."""

    model_config = ConfigDict(extra="forbid")

    case_reference: str = Field(description="The creditor's reference of the case.")


class AtAVisit(FindingPayload):
    """A finding made at a visit."""

    visit_id: UUID


class RepaymentPromised(AtAVisit):
    """The debtor (or family) promised to pay this amount by this date."""

    date: date
    amount: Decimal = Field(description="A decimal string, e.g. 2000.00, in the case's currency.")


class FoundEmployer(BaseModel):
    """Where the debtor works, as learned at the door."""

    model_config = ConfigDict(extra="forbid")

    name: str
    address: str = ""
    phone: str | None = None


class ContactFound(AtAVisit):
    """New phone numbers (added to the case, unverified unless the agents verified them) or the debtor's employer."""

    phones: list[str] = Field(description="Numbers the case did not have.")
    employer: FoundEmployer | None


class FakeAddressSuspected(AtAVisit):
    """The agents see signs that the address is fake."""

    notes: str = Field(description="The agents' notes on the visit.")


class VisitFailed(AtAVisit):
    """Nobody was met at the door."""

    reason: str


class AddressReported(FindingPayload):
    """The address was reported invalid (by an agent, the evening pre-check or a visit's outcome); it waits for the
    supervisor's decision."""

    report_id: UUID
    address_id: UUID
    reason: InvalidReason
    note: str
    raised_by: Literal["agent", "precheck", "outcome"] = "agent"


class AddressConfirmedInvalid(FindingPayload):
    """The supervisor confirmed the address invalid: its visits are cancelled; the case goes back to its collector."""

    report_id: UUID
    address_id: UUID
    reason: InvalidReason


class AddressReportRejected(FindingPayload):
    """The supervisor rejected the report: the visit stays."""

    report_id: UUID
    address_id: UUID
    why: str = Field(description="The supervisor's reason, for the agents.")


class EvidenceFlagged(AtAVisit):
    """A photo of the visit the supervisor should look at."""

    evidence_id: UUID
    purpose: str = Field(description="What the photo shows, e.g. door, mailbox.")
    flags: list[str] = Field(
        description="far_from_address, outside_visit_time, not_on_work_date, no_capture_time or no_position."
    )


class VisitOverstayed(AtAVisit):
    """The team stayed longer at the door than the branch's maximum time on site: the visit is flagged for review."""

    on_site_s: int = Field(description="Seconds from the arrival at the door to the outcome's submission.")
    max_on_site_s: int = Field(description="The branch's maximum time on site.")


PAYLOADS: dict[FindingKind, type[FindingPayload]] = {
    FindingKind.REPAYMENT_PROMISED: RepaymentPromised,
    FindingKind.CONTACT_FOUND: ContactFound,
    FindingKind.ADDRESS_REPORTED: AddressReported,
    FindingKind.ADDRESS_CONFIRMED_INVALID: AddressConfirmedInvalid,
    FindingKind.ADDRESS_REPORT_REJECTED: AddressReportRejected,
    FindingKind.FAKE_ADDRESS_SUSPECTED: FakeAddressSuspected,
    FindingKind.VISIT_FAILED: VisitFailed,
    FindingKind.EVIDENCE_FLAGGED: EvidenceFlagged,
    FindingKind.VISIT_OVERSTAYED: VisitOverstayed,
}


def payload_of(kind: FindingKind, fields: dict[str, Any]) -> dict[str, Any]:
    """The payload of a new finding, checked against its kind's schema, as stored (JSON values)."""
    return PAYLOADS[kind].model_validate(fields).model_dump(mode="json")


class FindingEvent(BaseModel):
    """A finding from the field, as the feed lists it and a webhook sends it."""

    id: int = Field(description="Its place in the feed (pass the last one seen as `after`); the Webhook-Id.")
    kind: FindingKind
    case_id: UUID
    payload: FindingPayload
    created_at: Instant


def _event(kind: FindingKind) -> type[FindingEvent]:
    payload = PAYLOADS[kind]
    model = create_model(
        f"{payload.__name__}Event",
        __base__=FindingEvent,
        __doc__=f"A `{kind.value}` finding: {payload.__doc__}",
        kind=(Literal[kind.value], ...),  # type: ignore[valid-type]
        payload=(payload, ...),
    )
    return model


EVENTS: dict[FindingKind, type[FindingEvent]] = {kind: _event(kind) for kind in FindingKind}
AnyFindingEvent = Annotated[Union[tuple(EVENTS.values())], Field(discriminator="kind")]  # noqa: UP007


def event_of(finding: Finding) -> FindingEvent:
    return EVENTS[finding.kind].model_validate(
        {
            "id": finding.id,
            "kind": finding.kind.value,
            "case_id": finding.case_id,
            "payload": finding.payload,
            "created_at": finding.created_at,
        }
    )
