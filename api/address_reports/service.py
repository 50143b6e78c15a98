"""Invalid addresses: agents report, the branch's supervisor confirms or rejects. Only a confirmation cancels the
address's visits and takes it out of planning; two supervisors deciding at once: one wins, the other gets 409. A
report the system raised resolves itself when its cause goes away; a person's report waits for the supervisor."""

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.address_reports.schemas import AddressReportCreate, ReportDecision
from api.audit.chain import update_where
from api.db import utcnow
from api.findings import service as findings_service
from api.models.address_reports import POINT_PROBLEMS, AddressProblem, AddressReport, ReportOrigin, ReportStatus
from api.models.cases import Address, AddressValidity, DebtCase, InvalidReason
from api.models.findings import FindingKind
from api.models.sheets import SheetStatus, SheetStop, VisitSheet
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.models.visits import Visit, VisitStatus
from api.pagination import filter_equal, paginate
from api.problems import ClientIdReused, Conflict, NotFound, ValidationFailed, problem_members
from api.rules.grades import PointSource
from api.scope import in_scope
from api.sheets import service as sheets_service
from api.teams.service import teams_of


class AddressReportNotFound(NotFound):
    title = "Address report not found"
    slug = "address-report-not-found"
    members = problem_members(report_id=(UUID, "The report asked for."))


class AddressNotOnYourSheets(NotFound):
    title = "The address is on none of your team's sheets"
    slug = "address-not-on-your-sheets"
    members = problem_members(
        address_id=(UUID, "The address asked about."),
        visit_id=(UUID, "The visit named, which is not your team's visit to this address."),
    )


class AddressAlreadyReported(Conflict):
    title = "The address is reported or confirmed invalid already"
    slug = "address-already-reported"
    members = problem_members(validity=(AddressValidity, "Where the address stands now."))


class ReportAlreadyDecided(Conflict):
    title = "The report has been decided already"
    slug = "report-already-decided"
    members = problem_members(status_now=(ReportStatus, "The decision taken already."))


class CorrectionNeedsRejection(ValidationFailed):
    title = "A corrected address rejects the report"
    slug = "correction-needs-rejection"


class RejectionReasonRequired(ValidationFailed):
    title = "Tell the agents why the report is rejected"
    slug = "rejection-reason-required"


_REASON_WORDS = {
    InvalidReason.DEMOLISHED: "已拆除",
    InvalidReason.VAGUE: "地址模糊",
    InvalidReason.INCOMPLETE: "地址不完整",
    InvalidReason.NONEXISTENT: "地址不存在",
    InvalidReason.OTHER: "其他",
}


def visible_reports(user: User) -> Select[AddressReport]:
    query = select(AddressReport).where(in_scope(user, AddressReport.branch_id))
    if user.role is Role.AGENT:
        query = query.where(AddressReport.reported_by_id == user.id)
    elif user.role is Role.PHONE_COLLECTOR:
        mine = select(DebtCase.id).where(DebtCase.phone_collector_id == user.id)
        query = query.where(AddressReport.case_id.in_(mine))
    return query


def get_report(session: Session, user: User, report_id: UUID) -> AddressReport:
    report = session.scalar(visible_reports(user).where(AddressReport.id == report_id))
    if report is None:
        raise AddressReportNotFound(f"No address report {report_id}.", report_id=report_id)
    return report


def list_reports(
    session: Session, user: User, status: ReportStatus | None, cursor: str | None, limit: int
) -> tuple[list[AddressReport], str | None]:
    return paginate(
        session, filter_equal(visible_reports(user), (AddressReport.status, status)), AddressReport, cursor, limit
    )


def report_address(session: Session, user: User, address_id: UUID, data: AddressReportCreate) -> AddressReport:
    """An agent reports an address of one of their team's published sheets; it waits for the supervisor."""
    earlier = session.scalar(select(AddressReport).where(AddressReport.client_id == data.client_id))
    if earlier is not None:
        if earlier.reported_by_id != user.id or earlier.address_id != address_id:
            raise ClientIdReused("This client_id was used for another report.", client_id=data.client_id)
        return earlier
    address = _address_on_own_sheet(session, user, address_id)
    if address.validity in (AddressValidity.REPORTED_INVALID, AddressValidity.CONFIRMED_INVALID):
        raise AddressAlreadyReported(
            f"Address {address_id} is {address.validity.value.replace('_', ' ')}.", validity=address.validity
        )
    return raise_report(
        session,
        address,
        ReportOrigin.AGENT,
        data.reason,
        data.note,
        reported_by_id=user.id,
        visit_id=_own_visit(session, user, data.visit_id, address.id),
        client_id=data.client_id,
    )


def raise_report(
    session: Session,
    address: Address,
    origin: ReportOrigin,
    reason: InvalidReason,
    note: str,
    *,
    problem: AddressProblem | None = None,
    candidates: list[dict[str, Any]] | None = None,
    reported_by_id: UUID | None = None,
    visit_id: UUID | None = None,
    client_id: UUID | None = None,
) -> AddressReport:
    """Put the address in the supervisor's queue: it waits there, out of planning, until confirmed or rejected."""
    case = session.get_one(DebtCase, address.case_id)
    report = AddressReport(
        address_id=address.id,
        case_id=case.id,
        branch_id=case.branch_id,
        visit_id=visit_id,
        raised_by=origin,
        problem=problem,
        grade=address.grade if origin is ReportOrigin.PRECHECK else None,
        candidates=candidates or [],
        reason=reason,
        note=note,
        previous_validity=address.validity,
        reported_by_id=reported_by_id,
        client_id=client_id or uuid4(),
    )
    session.add(report)
    address.validity, address.invalid_reason, address.invalid_note = AddressValidity.REPORTED_INVALID, reason, note
    session.flush()  # the partial unique index refuses a second open report made at the same moment (409)
    findings_service.publish(
        session,
        case,
        FindingKind.ADDRESS_REPORTED,
        report_id=str(report.id),
        address_id=str(address.id),
        reason=reason.value,
        note=note,
        raised_by=origin.value,
    )
    return report


def confirm_report(session: Session, user: User, report_id: UUID, data: ReportDecision) -> AddressReport:
    """The address is invalid: planning skips it, and its open or planned visit requests are cancelled and taken off
    the current sheets, except one whose visit has started: that visit runs to its end, its outcome and evidence
    being the record of what happened at the door."""
    if data.point is not None or data.raw_text is not None:
        raise CorrectionNeedsRejection(
            "A corrected point or text rejects the report: send it to /reject.",
            errors=[{"pointer": "#/point" if data.point is not None else "#/raw_text", "detail": "only to reject"}],
        )
    report = _decide(session, user, report_id, ReportStatus.CONFIRMED, data.note)
    address = session.get_one(Address, report.address_id)
    address.validity = AddressValidity.CONFIRMED_INVALID
    started = select(Visit.visit_request_id).where(
        Visit.address_id == address.id, Visit.status != VisitStatus.CHECKING_IN
    )
    pending = list(
        session.scalars(
            select(VisitRequest.id).where(
                VisitRequest.address_id == address.id,
                VisitRequest.status.in_((VisitRequestStatus.OPEN, VisitRequestStatus.PLANNED)),
                VisitRequest.id.not_in(started),
            )
        )
    )
    if pending:
        update_where(
            session,
            VisitRequest,
            [
                VisitRequest.id.in_(pending),
                VisitRequest.status.in_((VisitRequestStatus.OPEN, VisitRequestStatus.PLANNED)),
            ],
            {"status": VisitRequestStatus.CANCELLED, "updated_at": utcnow()},
        )
    reason = f"地址已确认无效（{_REASON_WORDS[report.reason]}）the address was confirmed invalid: {report.reason.value}"
    sheets_service.cancel_stops(session, pending, reason + (f". {data.note}" if data.note.strip() else ""))
    findings_service.publish(
        session,
        session.get_one(DebtCase, report.case_id),
        FindingKind.ADDRESS_CONFIRMED_INVALID,
        report_id=str(report.id),
        address_id=str(address.id),
        reason=report.reason.value,
    )
    session.flush()
    return report


def reject_report(session: Session, user: User, report_id: UUID, data: ReportDecision) -> AddressReport:
    """The visit stays; the address is as it was before the report, with the supervisor's corrected point or text if
    given (it goes back to planning as corrected), and the agents read the reason. Rejecting the pre-check's doubt
    about a point, without another point, makes it the supervisor's: planning trusts it from then on."""
    if not data.note.strip():
        raise RejectionReasonRequired(
            "Give the reason in note: the agents read it.",
            errors=[{"pointer": "#/note", "detail": "required to reject"}],
        )
    report = _decide(session, user, report_id, ReportStatus.REJECTED, data.note)
    address = _as_before(session, report)
    if data.raw_text is not None and data.raw_text != address.raw_text:
        address.raw_text = data.raw_text  # graded anew; a geocoder's point was for the old text
        if address.point_source is PointSource.GEOCODER:
            address.place(None, PointSource.GEOCODER)
    if data.point is not None:
        address.place(data.point.to_wkt(), PointSource.SUPERVISOR, by_id=user.id)
    elif report.problem in POINT_PROBLEMS and address.point is not None and data.raw_text is None:
        address.place(address.point, PointSource.SUPERVISOR, by_id=user.id)  # the supervisor vouches for it
    findings_service.publish(
        session,
        session.get_one(DebtCase, report.case_id),
        FindingKind.ADDRESS_REPORT_REJECTED,
        report_id=str(report.id),
        address_id=str(address.id),
        why=data.note,
    )
    session.flush()
    return report


def resolve_report(session: Session, report: AddressReport, why: str) -> bool:
    """The system closes a report it raised whose cause went away: the address is as it was before the report and
    back in planning, and the feed says so. Whether the report was still pending (a supervisor may have decided)."""
    if report.raised_by is not ReportOrigin.PRECHECK or report.problem is None:
        raise ValueError(f"report {report.id} is {report.raised_by.value}'s: only a person may close it")
    resolved = update_where(
        session,
        AddressReport,
        [AddressReport.id == report.id, AddressReport.status == ReportStatus.PENDING],
        {"status": ReportStatus.RESOLVED, "decided_at": utcnow(), "decision_note": why},
    )
    session.refresh(report)
    if resolved != 1:
        return False
    address = _as_before(session, report)
    findings_service.publish(
        session,
        session.get_one(DebtCase, report.case_id),
        FindingKind.ADDRESS_REPORT_RESOLVED,
        report_id=str(report.id),
        address_id=str(address.id),
        problem=report.problem.value,
        why=why,
    )
    session.flush()
    return True


def _as_before(session: Session, report: AddressReport) -> Address:
    """The report's address as it was before the report (valid, or as doubtful as it was), back in planning."""
    address = session.get_one(Address, report.address_id)
    address.validity, address.invalid_reason, address.invalid_note = report.previous_validity, None, ""
    return address


def _decide(session: Session, user: User, report_id: UUID, status: ReportStatus, note: str) -> AddressReport:
    report = get_report(session, user, report_id)
    # a conditional update: of two supervisors deciding at once, exactly one changes the row
    decided = update_where(
        session,
        AddressReport,
        [AddressReport.id == report.id, AddressReport.status == ReportStatus.PENDING],
        {"status": status, "decided_by_id": user.id, "decided_at": utcnow(), "decision_note": note},
    )
    session.refresh(report)
    if decided != 1:
        raise ReportAlreadyDecided(f"Report {report_id} was {report.status.value} already.", status_now=report.status)
    return report


def _address_on_own_sheet(session: Session, user: User, address_id: UUID) -> Address:
    mine = teams_of(user.id)
    on_sheet = (
        select(VisitRequest.address_id)
        .join(SheetStop, SheetStop.visit_request_id == VisitRequest.id)
        .join(VisitSheet, VisitSheet.id == SheetStop.sheet_id)
        .where(VisitSheet.team_id.in_(mine), VisitSheet.status == SheetStatus.PUBLISHED)
    )
    address = session.scalar(select(Address).where(Address.id == address_id, Address.id.in_(on_sheet)))
    if address is None:
        raise AddressNotOnYourSheets(f"Address {address_id} is on none of your team's sheets.", address_id=address_id)
    return address


def _own_visit(session: Session, user: User, visit_id: UUID | None, address_id: UUID) -> UUID | None:
    if visit_id is None:
        return None
    mine = teams_of(user.id)
    visit = session.scalar(
        select(Visit).where(Visit.id == visit_id, Visit.team_id.in_(mine), Visit.address_id == address_id)
    )
    if visit is None:
        raise AddressNotOnYourSheets(f"Visit {visit_id} is not your team's visit to this address.", visit_id=visit_id)
    return visit.id
