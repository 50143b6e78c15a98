"""What each kind of finding carries: the feed's items and the webhooks' bodies are these, checked when published."""

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, create_model

from api.models.cases import InvalidReason
from api.models.findings import Finding, FindingKind
from api.schemas import Instant


class FindingPayload(BaseModel):
    """What a finding says."""

    model_config = ConfigDict(extra="forbid")


class CasePayload(FindingPayload):
    """A finding about a case names it by reference."""

    case_reference: str = Field(description="The creditor's reference of the case.")


class AtAVisit(CasePayload):
    """A finding made at a visit."""

    visit_id: UUID


class RepaymentPromised(AtAVisit):
    """The debtor (or family) promised to pay this amount by this date."""

    date: date
    amount: Decimal = Field(description="A decimal string, e.g. 2000.00, in the case's currency.")


class PromiseBroken(AtAVisit):
    """A repayment promise made at the visit passed its date (and the branch's grace days) without being paid in
    full: `partly_kept` when some of it was paid in time, else `broken`."""

    promise_id: UUID
    state: Literal["broken", "partly_kept"]
    due_on: date
    amount: Decimal = Field(description="What was promised, a decimal string in the case's currency.")
    paid: Decimal = Field(description="What was paid towards it in time.")


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


class AddressReported(CasePayload):
    """The address was reported invalid (by an agent, the evening pre-check or a visit's outcome); it waits for the
    supervisor's decision."""

    report_id: UUID
    address_id: UUID
    reason: InvalidReason
    note: str
    raised_by: Literal["agent", "precheck", "outcome"] = "agent"


class AddressConfirmedInvalid(CasePayload):
    """The supervisor confirmed the address invalid: its visits are cancelled; the case goes back to its collector."""

    report_id: UUID
    address_id: UUID
    reason: InvalidReason


class AddressReportRejected(CasePayload):
    """The supervisor rejected the report: the visit stays."""

    report_id: UUID
    address_id: UUID
    why: str = Field(description="The supervisor's reason, for the agents.")


class AddressReportResolved(CasePayload):
    """A report the system raised resolved itself: its cause went away (a later geocoding pass placed the address at
    its door), so the address goes back to planning without the supervisor."""

    report_id: UUID
    address_id: UUID
    problem: str = Field(description="The pre-check's problem that went away, e.g. no_point.")
    why: str = Field(description="What cured it, in words.")


class GeocoderRefused(FindingPayload):
    """A geocoding provider refused the branch's queries for its key or its spent quota: no address it was asked
    for got its answer, until an admin fixes the key or the plan. Raised once per provider, reason and day."""

    provider: str = Field(description="The provider's name, e.g. amap, nominatim.")
    reason: Literal["key_refused", "quota_exhausted"]
    label: str = Field(description="The reason in words with its code, e.g. 密钥被拒 key refused (key_refused).")
    detail: str = Field(description="The provider's own words, e.g. INVALID_USER_KEY (infocode 10001).")
    addresses: int = Field(description="Addresses of the branch left without an answer by it in the pass.")
    local_date: date = Field(description="The branch's date: one such finding per provider and reason a day.")


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


class PresenceSignal(BaseModel):
    """One signal behind a presence score: what was measured, its weight, how far it supports presence."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="e.g. dwell, co_presence, continuity, mock_location, photo_agreement.")
    value: float | None = Field(description="What was measured, in `unit`; null: no data.")
    unit: str
    weight: float = Field(description="Its weight in the score; 0 when it does not apply (no photos yet, say).")
    score: float = Field(ge=0, le=1, description="How far it supports presence, 0 to 1.")
    flagged: bool = Field(description="It says fraud on its own (a spoofed position, say).")
    detail: str = Field(description="What it found, in a sentence with its figures.")


class PresenceDoubtful(AtAVisit):
    """The visit's presence score is under the branch's threshold: the track, the check-ins and the evidence do not
    show both agents at the door for the time claimed."""

    stage: Literal["start", "completion"] = Field(description="When it was assessed: the visit's start or completion.")
    score: int = Field(ge=0, le=100)
    threshold: int = Field(description="The branch's presence threshold.")
    flagged: list[str] = Field(description="The signals that say fraud on their own.")
    signals: list[PresenceSignal]


class AboutATeam(FindingPayload):
    """A finding about a team's day, from its agents' on-duty tracks."""

    team_id: UUID
    team_name: str
    work_date: date
    agent_id: UUID = Field(description="The agent whose track shows it.")
    agent_name: str
    since: Instant = Field(description="When it began: the last fix before the gap, or the first fix off route.")


class TeamOutOfContact(AboutATeam):
    """No position from an agent on duty for longer than the branch allows."""

    minutes: int = Field(description="Minutes without a fix when it was found (more if it still lasts).")
    ongoing: bool = Field(description="Still no fix when it was found.")


class TeamOffRoute(AboutATeam):
    """An agent on duty far from the day's route for longer than the branch allows."""

    minutes: int = Field(description="Minutes off route.")
    distance_m: int = Field(description="The farthest fix from the route, in metres.")


class SheetChanged(FindingPayload):
    """A new version of a team's sheet was published for a day already under way (an in-day re-plan, an urgent
    visit, a team stood down): the team's phones fetch `/me/sheet?since_version=` to tell the agents what changed."""

    team_id: UUID
    team_name: str
    work_date: date
    sheet_id: UUID = Field(description="The new current sheet.")
    version: int
    previous_version: int
    added: int = Field(description="Stops new to the team's day, moved in from another team included.")
    removed: int = Field(description="Stops gone from the team's day, moved out to another team included.")
    moved_in: int
    moved_out: int
    retimed: int = Field(description="Stops whose start moved by more than 15 minutes.")
    summary: str = Field(description="What changed, in words.")


class LateMove(BaseModel):
    """A stop the late team will miss, and the team proposed to take it."""

    visit_request_id: UUID
    to_team_id: UUID | None = Field(description="Null: no team can take it today; the fix leaves it for another day.")
    to_team_name: str | None


class TeamRunningLate(FindingPayload):
    """From where a team is now, it can no longer reach all its planned stops inside their windows, the legal hours
    and its shift. The proposal moves each stop it will miss to the team where it adds least; the supervisor applies
    it in one action (`POST /visit-sheets/days/{work_date}/late-fixes`)."""

    team_id: UUID
    team_name: str
    work_date: date
    sheet_id: UUID = Field(description="The sheet the finding is about: it is raised once per version.")
    version: int
    after: Instant = Field(description="When it is through the stops it can still make: it misses the others.")
    missed: int
    proposal: list[LateMove]
    summary: str = Field(description="What will be missed and the fix, in words.")


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
    FindingKind.PRESENCE_DOUBTFUL: PresenceDoubtful,
    FindingKind.TEAM_OUT_OF_CONTACT: TeamOutOfContact,
    FindingKind.TEAM_OFF_ROUTE: TeamOffRoute,
    FindingKind.SHEET_CHANGED: SheetChanged,
    FindingKind.TEAM_RUNNING_LATE: TeamRunningLate,
    FindingKind.ADDRESS_REPORT_RESOLVED: AddressReportResolved,
    FindingKind.GEOCODER_REFUSED: GeocoderRefused,
    FindingKind.PROMISE_BROKEN: PromiseBroken,
}


def payload_of(kind: FindingKind, fields: dict[str, Any]) -> dict[str, Any]:
    """The payload of a new finding, checked against its kind's schema, as stored (JSON values)."""
    return PAYLOADS[kind].model_validate(fields).model_dump(mode="json")


class FindingEvent(BaseModel):
    """A finding from the field, as the feed lists it and a webhook sends it."""

    id: int = Field(description="Its place in the feed (pass the last one seen as `after`); the Webhook-Id.")
    kind: FindingKind
    case_id: UUID | None = Field(description="The case it is about; null for a finding about a team or a branch.")
    team_id: UUID | None = Field(description="The team it is about, for findings from tracks; else null.")
    payload: FindingPayload
    created_at: Instant


def _event(kind: FindingKind) -> type[FindingEvent]:
    payload = PAYLOADS[kind]
    tag: Any = Literal[kind.value]  # a type made at run time, which mypy cannot read as one
    model = create_model(
        f"{payload.__name__}Event",
        __base__=FindingEvent,
        __doc__=f"A `{kind.value}` finding: {payload.__doc__}",
        kind=(tag, ...),
        payload=(payload, ...),
    )
    return model


EVENTS: dict[FindingKind, type[FindingEvent]] = {kind: _event(kind) for kind in FindingKind}
if TYPE_CHECKING:  # the union of the kinds' events, made at run time: to mypy, any of them
    AnyFindingEvent = FindingEvent
else:
    AnyFindingEvent = Annotated[Union[tuple(EVENTS.values())], Field(discriminator="kind")]  # noqa: UP007


def event_of(finding: Finding) -> FindingEvent:
    return EVENTS[finding.kind].model_validate(
        {
            "id": finding.id,
            "kind": finding.kind.value,
            "case_id": finding.case_id,
            "team_id": finding.team_id,
            "payload": finding.payload,
            "created_at": finding.created_at,
        }
    )
