from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.cases.service import CaseNotFound
from api.db import SessionDep
from api.deps import CaseWorker, Manager
from api.pagination import CursorQuery, LimitQuery, Page
from api.payments import service
from api.payments.schemas import PaymentBatch, PaymentsRecorded, PromiseRead
from api.problems import ValidationFailed, problem_responses
from api.rules.promises import PromiseState
from api.schemas import Day
from api.visit_requests.router import SCHEDULE_PROBLEMS
from api.visit_requests.schemas import VisitRequestRead
from api.visit_requests.service import AddressInvalid

payments_router = APIRouter(prefix="/payments", tags=["payments"])
promises_router = APIRouter(prefix="/promises", tags=["payments"])


@payments_router.post(
    "",
    responses=problem_responses(CaseNotFound, service.PaymentReferenceTaken, ValidationFailed),
)
def record_payments(body: PaymentBatch, session: SessionDep, user: Manager) -> PaymentsRecorded:
    """Record payments the core system booked (supervisors: their branch's cases; admins: any), all or none, and
    settle the promises of their cases. Idempotent per reference: a resent batch records nothing twice."""
    return service.record_payments(session, user, body.payments)


@promises_router.get("", responses=problem_responses(ValidationFailed))
def list_promises(
    session: SessionDep,
    user: CaseWorker,
    state: Annotated[PromiseState | None, Query(description="Only promises in this state.")] = None,
    due_from: Annotated[Day | None, Query(description="Only promises due on this day or later.")] = None,
    due_until: Annotated[Day | None, Query(description="Only promises due on this day or earlier.")] = None,
    case_id: Annotated[UUID | None, Query(description="Only promises of this case.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[PromiseRead]:
    """Repayment promises made at visits, with their state (supervisors: their branch; phone collectors: their
    cases; admins: all)."""
    rows, next_cursor = service.list_promises(
        session,
        user,
        state=state,
        due_from=due_from,
        due_until=due_until,
        case_id=case_id,
        cursor=cursor,
        limit=limit,
    )
    cases = service.cases_of(session, rows)
    return Page[PromiseRead](
        items=[PromiseRead.from_row(row, cases[row.case_id]) for row in rows], next_cursor=next_cursor
    )


@promises_router.post(
    "/{promise_id}/follow-up",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        service.PromiseNotFound,
        service.PromiseNotBroken,
        service.FollowUpExists,
        AddressInvalid,
        *SCHEDULE_PROBLEMS,
    ),
)
def follow_up_promise(promise_id: UUID, session: SessionDep, user: CaseWorker) -> VisitRequestRead:
    """Turn a broken (or partly kept) promise into a negotiation visit request to the address where it was made,
    from tomorrow for a week, at priority 4."""
    return VisitRequestRead.from_row(service.follow_up(session, user, promise_id))
