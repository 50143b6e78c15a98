from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.address_reports import service
from api.address_reports.schemas import AddressReportCreate, AddressReportRead, ReportDecision
from api.db import SessionDep
from api.deps import Agent, CurrentUser, Manager
from api.models.address_reports import ReportStatus
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses

router = APIRouter(tags=["address_reports"])


_DECISION_PROBLEMS = (RoleNotAllowed, service.AddressReportNotFound, service.ReportAlreadyDecided)


@router.post(
    "/addresses/{address_id}/invalid-reports",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed, service.AddressNotOnYourSheets, service.AddressAlreadyReported, service.ClientIdReused
    ),
)
def report_invalid_address(
    address_id: UUID, body: AddressReportCreate, session: SessionDep, user: Agent
) -> AddressReportRead:
    """Report an address of your team's sheet as demolished, vague, incomplete, nonexistent or otherwise invalid."""
    return AddressReportRead.from_row(service.report_address(session, user, address_id, body))


@router.get("/invalid-address-reports", responses=problem_responses(ValidationFailed))
def list_address_reports(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[ReportStatus | None, Query(description="Only reports in this state, e.g. pending.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[AddressReportRead]:
    """The branch's reports (the supervisor's queue: status=pending); agents see their own reports."""
    rows, next_cursor = service.list_reports(session, user, status, cursor, limit)
    return Page(items=[AddressReportRead.from_row(row) for row in rows], next_cursor=next_cursor)


@router.get("/invalid-address-reports/{report_id}", responses=problem_responses(service.AddressReportNotFound))
def get_address_report(report_id: UUID, session: SessionDep, user: CurrentUser) -> AddressReportRead:
    """A report and its decision."""
    return AddressReportRead.from_row(service.get_report(session, user, report_id))


@router.post(
    "/invalid-address-reports/{report_id}/confirm",
    responses=problem_responses(*_DECISION_PROBLEMS, service.CorrectionNeedsRejection),
)
def confirm_address_report(
    report_id: UUID, body: ReportDecision, session: SessionDep, user: Manager
) -> AddressReportRead:
    """Confirm the address invalid: its visits are cancelled and planning skips it."""
    return AddressReportRead.from_row(service.confirm_report(session, user, report_id, body))


@router.post(
    "/invalid-address-reports/{report_id}/reject",
    responses=problem_responses(*_DECISION_PROBLEMS, service.RejectionReasonRequired),
)
def reject_address_report(
    report_id: UUID, body: ReportDecision, session: SessionDep, user: Manager
) -> AddressReportRead:
    """Reject the report: the visit stays, with the corrected point or text if given; the agents read `note`."""
    return AddressReportRead.from_row(service.reject_report(session, user, report_id, body))
