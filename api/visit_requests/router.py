from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.cases.service import CaseNotFound
from api.db import SessionDep
from api.deps import CaseWorker, Manager
from api.models.visit_requests import VisitPurpose, VisitRequestStatus
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses
from api.schemas import Day
from api.visit_requests import service
from api.visit_requests.schemas import (
    EligibilityReleaseCreate,
    EligibilityReleaseRead,
    VisitRequestCreate,
    VisitRequestRead,
    VisitRequestUpdate,
)

router = APIRouter(prefix="/visit-requests", tags=["visit_requests"])

SCHEDULE_PROBLEMS = (
    service.VisitDateInPast,
    service.VisitDatesOutOfOrder,
    service.VisitWindowInvalid,
    service.WindowOutsideVisitingHours,
    service.VisitRequestDuplicate,
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(CaseNotFound, service.AddressNotOfCase, service.AddressInvalid, *SCHEDULE_PROBLEMS),
)
def create_visit_request(body: VisitRequestCreate, session: SessionDep, user: CaseWorker) -> VisitRequestRead:
    """Ask for a visit to an address of a case (phone collectors: their own cases; managers: any of the branch)."""
    return VisitRequestRead.from_row(service.create_visit_request(session, user, body))


@router.get("", responses=problem_responses(ValidationFailed))
def list_visit_requests(
    session: SessionDep,
    user: CaseWorker,
    status: Annotated[VisitRequestStatus | None, Query(description="Only requests with this status.")] = None,
    on_date: Annotated[
        Day | None,
        Query(
            alias="date",
            description="Only requests that may be visited this day: earliest_date <= date <= latest_date.",
        ),
    ] = None,
    from_date: Annotated[Day | None, Query(description="Only requests whose dates reach this day or later.")] = None,
    to_date: Annotated[Day | None, Query(description="Only requests whose dates start on this day or earlier.")] = None,
    case_id: Annotated[UUID | None, Query(description="Only requests of this case.")] = None,
    purpose: Annotated[VisitPurpose | None, Query(description="Only requests with this purpose.")] = None,
    branch_id: Annotated[UUID | None, Query(description="Only this branch (admins).")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[VisitRequestRead]:
    """Visit requests of your branch (phone collectors: of their cases; admins: of every branch)."""
    rows, next_cursor = service.list_visit_requests(
        session,
        user,
        status=status,
        on_date=on_date,
        from_date=from_date,
        to_date=to_date,
        case_id=case_id,
        purpose=purpose,
        branch_id=branch_id,
        cursor=cursor,
        limit=limit,
    )
    return Page[VisitRequestRead](items=[VisitRequestRead.from_row(r) for r in rows], next_cursor=next_cursor)


@router.get("/{visit_request_id}", responses=problem_responses(service.VisitRequestNotFound))
def get_visit_request(visit_request_id: UUID, session: SessionDep, user: CaseWorker) -> VisitRequestRead:
    """One visit request."""
    return VisitRequestRead.from_row(service.get_visit_request(session, user, visit_request_id))


@router.patch(
    "/{visit_request_id}",
    responses=problem_responses(
        service.VisitRequestNotFound,
        service.VisitRequestNotOpen,
        service.VisitRequestStatusChangeNotAllowed,
        service.AddressInvalid,
        *SCHEDULE_PROBLEMS,
    ),
)
def update_visit_request(
    visit_request_id: UUID, body: VisitRequestUpdate, session: SessionDep, user: CaseWorker
) -> VisitRequestRead:
    """Reschedule, reprioritise or annotate an open request, cancel it, or reopen a cancelled one."""
    return VisitRequestRead.from_row(service.update_visit_request(session, user, visit_request_id, body))


@router.post(
    "/{visit_request_id}/eligibility-releases",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed,
        service.VisitRequestNotFound,
        service.EligibilityReleaseNotAllowed,
        service.EligibilityAlreadyReleased,
    ),
)
def release_eligibility(
    visit_request_id: UUID, body: EligibilityReleaseCreate, session: SessionDep, user: Manager
) -> EligibilityReleaseRead:
    """Release the request from one block of the eligibility gate, with a reason, where the rule pack allows it."""
    return EligibilityReleaseRead.model_validate(service.release_eligibility(session, user, visit_request_id, body))
