from datetime import date
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from api.cases.schemas import AmountText
from api.geo import GeoPoint
from api.models.visit_requests import VisitPurpose, VisitRequest, VisitRequestStatus
from api.rules.eligibility import EligibilityFlag
from api.rules.skills import required_skills
from api.schemas import Body, FromJson, Instant, LocalTime, Patch, Read

Priority = Annotated[int, Field(ge=1, le=5, description="1 (can wait) to 5 (most urgent).")]
Notes = Annotated[str, Field(max_length=2000, description="What the visiting team should know.")]


_AT = "local time at the address, in its own time zone, as the law counts visiting hours"


class VisitRequestCreate(Body):
    """A phone collector's (or manager's) request that a team visit one of a case's addresses between two dates,
    optionally within a time window of the day."""

    case_id: FromJson[UUID]
    address_id: FromJson[UUID] = Field(description="An address of the case.")
    purpose: FromJson[VisitPurpose]
    priority: Priority = 3
    earliest_date: FromJson[date] = Field(description="First day the visit may happen (branch-local), today or later.")
    latest_date: FromJson[date] | None = Field(
        default=None, description="Last day the visit may happen; defaults to earliest_date."
    )
    window_start: LocalTime | None = Field(
        default=None,
        description=f"Start of the time window, {_AT} (not the branch's); give both ends or neither. It must"
        " overlap the legal visiting hours there.",
    )
    window_end: LocalTime | None = Field(
        default=None,
        description=f"End of the time window, after window_start; {_AT}.",
    )
    notes: Notes = ""


class VisitRequestUpdate(Patch):
    """Changes to a visit request; members left out keep their value. Purpose, priority, dates and window change
    only while the request is open; `status` may only cancel an open request or reopen a cancelled one."""

    nullable: ClassVar[frozenset[str]] = frozenset({"window_start", "window_end"})

    purpose: FromJson[VisitPurpose] | None = None
    priority: Priority | None = None
    earliest_date: FromJson[date] | None = None
    latest_date: FromJson[date] | None = None
    window_start: LocalTime | None = Field(
        default=None,
        description=f"Start of the time window, {_AT}; `null` together with window_end: any time of day.",
    )
    window_end: LocalTime | None = Field(
        default=None,
        description=f"End of the time window; {_AT}.",
    )
    notes: Notes | None = None
    status: FromJson[VisitRequestStatus] | None = Field(
        default=None, description="`cancelled` (from open) or `open` (from cancelled)."
    )


class VisitRequestRead(Read):
    """A request to visit a debtor's address, with the case and address it is about."""

    id: UUID
    case_id: UUID
    case_reference: str = Field(description="The creditor's reference of the case.")
    debtor_name: str
    amount_owed: AmountText = Field(description="What the debtor owes on the case, in `currency`.")
    currency: str
    required_skills: list[str] = Field(
        description="The skills a team needs to take the visit: `experienced` for a debtor who has complained."
    )
    address_id: UUID
    address_text: str = Field(description="The address as written.")
    address_point: GeoPoint | None = Field(description="Where the address is, null until geocoded.")
    purpose: VisitPurpose
    priority: int = Field(description="1 (can wait) to 5 (most urgent).")
    requested_by_id: UUID
    earliest_date: date
    latest_date: date
    window_start: LocalTime | None = Field(description=f"Start of the time window, {_AT}; null for any time.")
    window_end: LocalTime | None = Field(description=f"End of the time window, {_AT}.")
    notes: str
    status: VisitRequestStatus
    created_at: Instant
    updated_at: Instant

    @classmethod
    def from_row(cls, request: VisitRequest) -> "VisitRequestRead":
        case, address = request.case, request.address
        return cls(
            id=request.id,
            case_id=request.case_id,
            case_reference=case.reference,
            debtor_name=case.debtor_name,
            amount_owed=case.amount_owed,
            currency=case.currency,
            required_skills=sorted(required_skills(case.complaint_history)),
            address_id=request.address_id,
            address_text=address.raw_text,
            address_point=GeoPoint.from_wkb(address.point),
            purpose=request.purpose,
            priority=request.priority,
            requested_by_id=request.requested_by_id,
            earliest_date=request.earliest_date,
            latest_date=request.latest_date,
            window_start=request.window_start,
            window_end=request.window_end,
            notes=request.notes,
            status=request.status,
            created_at=request.created_at,
            updated_at=request.updated_at,
        )


class EligibilityReleaseCreate(Body):
    """A supervisor's release of one request from one block of the eligibility gate, where the rule pack allows it."""

    flag: FromJson[EligibilityFlag] = Field(description="The case flag released, or `visit_cap`.")
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S", description="Why, for the record.")]


class EligibilityReleaseRead(Read):
    """A request's release from one block of the eligibility gate."""

    id: UUID
    visit_request_id: UUID
    flag: EligibilityFlag
    reason: str
    released_by_id: UUID
    released_at: Instant
