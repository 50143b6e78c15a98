"""The case dossier's document: every record of a case's field collection, citing the audit chain."""

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.cases.schemas import AmountText
from api.schemas import Instant, Read


class DossierKind(StrEnum):
    """What a record of a case's dossier is: a restriction set on the case and its lifting; a visit request and a
    supervisor's release of it from a block of the eligibility gate (the visit cap's too); a published sheet version
    holding the case and the case's stop on it; a visit, a supervisor's hours or start override of it, an agent's
    check-in; a cash approval, an outcome or an amendment of it; an item of evidence; an address report and the
    supervisor's decision on it."""

    RESTRICTION = "restriction"
    RESTRICTION_LIFTED = "restriction_lifted"
    VISIT_REQUEST = "visit_request"
    ELIGIBILITY_RELEASE = "eligibility_release"
    SHEET_VERSION = "sheet_version"
    SHEET_STOP = "sheet_stop"
    VISIT = "visit"
    HOURS_OVERRIDE = "hours_override"
    CHECK_IN = "check_in"
    START_OVERRIDE = "start_override"
    CASH_APPROVAL = "cash_approval"
    EVIDENCE = "evidence"
    OUTCOME = "outcome"
    AMENDMENT = "amendment"
    ADDRESS_REPORT = "address_report"
    ADDRESS_DECISION = "address_decision"


class AuditPosition(Read):
    """An audit-chain row that recorded the record: its place in the chain and its hash."""

    seq: int
    hash: str = Field(description="The row's SHA-256, as `fieldvisit audit verify` recomputes it.")
    action: str = Field(description="insert or update.")
    at: Instant


class DossierRecord(Read):
    """One thing that happened in the collection of the case, with the rows of the audit chain that recorded it."""

    at: Instant
    kind: DossierKind
    entity: str = Field(description="The table the record is a row of.")
    entity_id: str = Field(description="The row's key as the audit chain names it (a sheet stop: `sheet_id,position`).")
    summary: str = Field(description="The record in one line, for a person.")
    data: dict[str, Any] = Field(description="The row's columns, JSON-safe (moments in UTC, amounts as text).")
    audit: list[AuditPosition] = Field(description="The chain's rows (inserts and updates) of this record, in order.")


class DossierCase(Read):
    """The case the dossier is of."""

    id: UUID
    reference: str
    debtor_name: str
    debtor_id_number_masked: str
    amount_owed: AmountText
    currency: str
    branch_id: UUID
    branch_name: str
    timezone: str = Field(description="The branch's time zone, in which the printed dossier shows times.")
    created_at: Instant
    audit: list[AuditPosition] = Field(description="The chain's rows of the case itself.")


class AuditChainState(Read):
    """The audit chain's head when the dossier was made, its read included, and whether the chain held when the
    dossier was made: every hash recomputed from the first row (as `fieldvisit audit verify` does)."""

    head_seq: int = Field(description="The chain's last row (0: an empty chain).")
    head_hash: str = Field(description="The last row's hash, as the chain's head keeps it.")
    verified: bool = Field(description="Whether every row's hash held, from the first to the committed head.")
    broken_seq: int | None = Field(description="The first row that does not hold, when one does not.")


class DossierWarningKind(StrEnum):
    """Why a dossier cannot be trusted as it stands: the chain does not hold, or a row says other than what the
    chain recorded of it (the row was changed outside the application)."""

    CHAIN_BROKEN = "chain_broken"
    ROW_DISAGREES = "row_disagrees"


class DossierWarning(Read):
    """What a reader of the dossier must know first: shown on top of the JSON and on the PDF's first page."""

    kind: DossierWarningKind
    message: str = Field(description="The warning in words.")
    entity: str | None = Field(description="The table of the row that disagrees.")
    entity_id: str | None = Field(description="Its key, as the audit chain names it.")
    column: str | None = Field(description="The column whose value disagrees.")
    row_value: Any = Field(description="What the row says now.")
    chain_value: Any = Field(description="What the chain recorded last.")
    seq: int | None = Field(description="The chain row: the last that recorded the column, or the first that broke.")


class DossierRead(Read):
    """The whole record of a case's field collection, in time order, each record citing the audit chain."""

    warnings: list[DossierWarning] = Field(
        description="Empty when the chain holds and every record's row is what the chain recorded; else read these"
        " first: the records named are not vouched for."
    )
    case: DossierCase
    generated_at: Instant
    records: list[DossierRecord]
    audit_chain: AuditChainState


class ResultFigures(BaseModel):
    """A period's results for one key. A visit counts in the period of its work date; rates and shares are
    fractions from 0 to 1, null where there is nothing to divide by; amounts are decimal strings in the cases'
    currency."""

    requests_due: int = Field(description="Visit requests whose first possible date (earliest_date) is in the period.")
    planned: int = Field(description="Stops on the teams' latest published sheets of the period's work dates.")
    left_out: int = Field(description="Requests the last published run of each work date left out.")
    left_out_by_reason: dict[str, int] = Field(description="left_out by reason (the runs' reason codes).")
    visits_done: int = Field(description="Visits completed (both agents confirmed the outcome).")
    visits_failed: int = Field(description="Visits done where nobody was met (contact_result nobody).")
    cancelled: int = Field(description="Stops of those sheets cancelled (address confirmed invalid, or taken off).")
    right_party_contact_rate: float | None = Field(description="Visits done that met the debtor / visits done.")
    family_contact_rate: float | None = Field(description="Visits done that met the debtor's family / visits done.")
    promises_made: int = Field(description="Repayment promises made at the visits done.")
    promised_amount: AmountText = Field(description="What those promises promised.")
    promises_kept: int = Field(description="Of them, kept: paid in full by their date plus the grace days.")
    kept_amount: AmountText = Field(description="What the kept promises promised.")
    promises_partly_kept: int = Field(description="Of them, past due with part paid in time.")
    partly_kept_paid: AmountText = Field(description="What was paid in time towards the partly kept promises.")
    promises_broken: int = Field(description="Of them, past due with nothing paid in time.")
    broken_amount: AmountText = Field(description="What the broken promises promised.")
    kept_rate: float | None = Field(description="Kept / (kept + partly kept + broken): of the promises settled.")
    paid_after_visits: AmountText = Field(
        description="Payments on the visited cases within payment_days after a visit done (each payment to the"
        " last visit before it)."
    )
    cash_collected: AmountText = Field(
        description="Cash handed over at the visits done, with the supervisor's approval."
    )
    average_on_site_min: float | None = Field(description="Mean minutes on site of the visits done.")
    km_per_visit: float | None = Field(description="Km driven to the visits done (each from the stop before) / visits.")
    on_time_share: float | None = Field(
        description="Visits done that started within 15 minutes before to 30 minutes after their planned start."
    )
    evidence_complete_share: float | None = Field(
        description="Visits done with no photo flagged for review (no evidence_flagged finding)."
    )
    doubtful_presence_share: float | None = Field(
        description="Visits assessed at completion whose presence score is under the branch's threshold."
    )
    addresses_invalid: int = Field(description="Address reports the supervisor confirmed in the period.")


class ResultRow(BaseModel):
    """One period and key of a results report."""

    period_start: date = Field(description="The period's first day (a week starts on Monday).")
    key: str = Field(description="The team's name, the agent's or collector's id, the bucket; or `unassigned`.")
    label: str = Field(description="How a person reads the key: a name, or the key itself.")
    figures: ResultFigures


class ResultsOverview(BaseModel):
    """The results screen's first view, read at once: the branch on the day and over the month to it, the month's
    days, and the month per team and per agent with their days (for sparklines). Days with nothing counted are
    absent from the lists of days."""

    day: date
    month_start: date = Field(description="The first day of the day's month.")
    payment_days: int = Field(description="Payments this many days after a visit count as paid after it.")
    day_figures: ResultFigures = Field(description="The branch on the day.")
    month_figures: ResultFigures = Field(description="The branch from month_start to the day.")
    trend: list[ResultRow] = Field(description="The branch, one row per day of the month to the day.")
    teams: list[ResultRow] = Field(description="One row per team (by name) for the month to the day.")
    team_trend: list[ResultRow] = Field(description="One row per team and day of the month to the day.")
    agents: list[ResultRow] = Field(description="One row per agent for the month to the day.")
    agent_trend: list[ResultRow] = Field(description="One row per agent and day of the month to the day.")


class ResultVisit(BaseModel):
    """A visit behind a figure of the results."""

    visit_id: UUID
    work_date: date
    team_name: str
    debtor_name: str
    case_reference: str
    address_text: str
    contact_result: str | None = Field(description="Whom the team met, as last confirmed.")
    started_at: Instant | None
    completed_at: Instant
