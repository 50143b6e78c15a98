"""The case dossier's document: every record of a case's field collection, citing the audit chain."""

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field

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
