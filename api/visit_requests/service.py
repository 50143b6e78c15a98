from dataclasses import dataclass, replace
from datetime import date, time
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from api.branches import service as branches_service
from api.branches.service import local_today
from api.cases import service as cases_service
from api.models.branches import Branch
from api.models.cases import Address, AddressValidity, DebtCase, InvalidReason
from api.models.users import User
from api.models.visit_requests import EligibilityRelease, VisitPurpose, VisitRequest, VisitRequestStatus
from api.pagination import filter_equal, paginate
from api.problems import Conflict, NotFound, ValidationFailed, problem_members
from api.rules.eligibility import EligibilityFlag, release_rule
from api.rules.hours import hours_detail, window_meets_hours
from api.rules.plannability import ADDRESS_REFUSED
from api.visit_requests.schemas import EligibilityReleaseCreate, VisitRequestCreate, VisitRequestUpdate


class VisitRequestNotFound(NotFound):
    title = "Visit request not found"
    slug = "visit-request-not-found"
    members = problem_members(visit_request_id=(UUID, "The request asked for."))


class AddressNotOfCase(ValidationFailed):
    title = "The address is not one of the case's"
    slug = "address-not-of-case"


class AddressInvalid(Conflict):
    title = "The address is reported or confirmed invalid"
    slug = "address-invalid"
    members = problem_members(
        address_id=(UUID, "The address."),
        validity=(AddressValidity, "Where the address stands."),
        invalid_reason=(InvalidReason, "Why it is invalid."),
    )


class VisitDateInPast(ValidationFailed):
    title = "The visit dates are in the past"
    slug = "visit-date-in-past"
    members = problem_members(today=(date, "Today in the branch's time zone."))


class VisitDatesOutOfOrder(ValidationFailed):
    title = "earliest_date is after latest_date"
    slug = "visit-dates-out-of-order"


class VisitWindowInvalid(ValidationFailed):
    title = "The time window needs both ends, the start before the end"
    slug = "visit-window-invalid"


class WindowOutsideVisitingHours(ValidationFailed):
    title = "The time window is outside the legal visiting hours at the address"
    slug = "window-outside-visiting-hours"
    members = problem_members(
        visiting_from=(str, "The visiting hours begin, HH:MM local time at the debtor's location."),
        visiting_until=(str, "They end, HH:MM local time."),
        rule=(str, "The rule the hours come from, e.g. `US §1006.6(b)(1)`, or the branch's stricter hours."),
    )


class VisitRequestDuplicate(Conflict):
    title = "The address already has a visit request for these dates"
    slug = "visit-request-duplicate"
    members = problem_members(visit_request_id=(UUID, "The request already asking for this address on these dates."))


class VisitRequestNotOpen(Conflict):
    title = "Only an open visit request can be rescheduled or changed"
    slug = "visit-request-not-open"
    members = problem_members(
        visit_request_id=(UUID, "The request."),
        resulting_status=(VisitRequestStatus, "Its status after the change."),
    )


class VisitRequestStatusChangeNotAllowed(Conflict):
    title = "This status change is not allowed here"
    slug = "visit-request-status-change-not-allowed"
    members = problem_members(
        visit_request_id=(UUID, "The request."),
        current_status=(VisitRequestStatus, "Its status now."),
    )


class EligibilityReleaseNotAllowed(Conflict):
    title = "The branch's rule pack allows no release from this rule"
    slug = "eligibility-release-not-allowed"
    members = problem_members(
        flag=(EligibilityFlag, "The block asked to be released."),
        rule=(str, "The pack's rule, e.g. `US §1006.6(b)(2)`."),
        source=(str, "Where the rule comes from."),
    )


class EligibilityAlreadyReleased(Conflict):
    title = "The request is already released from this block"
    slug = "eligibility-already-released"
    members = problem_members(release_id=(UUID, "The release."))


# statuses of a request that will still lead to a visit: a second one for the same address and dates double-books
_PENDING = (VisitRequestStatus.OPEN, VisitRequestStatus.PLANNED)
# the only status changes a person makes; planning sets planned and completed
_ALLOWED_STATUS_CHANGES = {
    (VisitRequestStatus.OPEN, VisitRequestStatus.CANCELLED),
    (VisitRequestStatus.CANCELLED, VisitRequestStatus.OPEN),
}
_OPEN_ONLY = frozenset({"purpose", "priority", "earliest_date", "latest_date", "window_start", "window_end"})
_SCHEDULE = frozenset({"earliest_date", "latest_date", "window_start", "window_end"})


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a visit may happen: a range of branch-local days and an optional time window of the day, local time
    at the address (as the law counts the visiting hours there)."""

    earliest_date: date
    latest_date: date
    window_start: time | None
    window_end: time | None


def visible_visit_requests(user: User) -> Select[VisitRequest]:
    """Requests on the cases the user sees, loaded with their case and address for VisitRequestRead."""
    case = aliased(DebtCase, cases_service.visible_cases(user).subquery(), name="visible_case")
    return (
        select(VisitRequest)
        .join(VisitRequest.case.of_type(case))
        .options(contains_eager(VisitRequest.case.of_type(case)), joinedload(VisitRequest.address))
    )


def get_visit_request(session: Session, user: User, visit_request_id: UUID) -> VisitRequest:
    request = session.scalar(visible_visit_requests(user).where(VisitRequest.id == visit_request_id))
    if request is None:
        raise VisitRequestNotFound(f"No visit request {visit_request_id}.", visit_request_id=visit_request_id)
    return request


def list_visit_requests(
    session: Session,
    user: User,
    *,
    status: VisitRequestStatus | None,
    on_date: date | None,
    from_date: date | None,
    to_date: date | None,
    case_id: UUID | None,
    purpose: VisitPurpose | None,
    branch_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[VisitRequest], str | None]:
    if from_date is not None and to_date is not None and from_date > to_date:
        raise ValidationFailed(
            "from_date is after to_date.", errors=[{"parameter": "from_date", "detail": "after to_date"}]
        )
    query = visible_visit_requests(user)
    if status is not None:
        query = query.where(VisitRequest.status == status)
    elif on_date is not None or from_date is not None or to_date is not None:
        # status leads ix_visit_request_status_dates: naming every status lets a date filter use the index
        query = query.where(VisitRequest.status.in_(list(VisitRequestStatus)))
    if on_date is not None:
        query = query.where(VisitRequest.earliest_date <= on_date, VisitRequest.latest_date >= on_date)
    if to_date is not None:
        query = query.where(VisitRequest.earliest_date <= to_date)
    if from_date is not None:
        query = query.where(VisitRequest.latest_date >= from_date)
    query = filter_equal(query, (VisitRequest.case_id, case_id), (VisitRequest.purpose, purpose))
    if branch_id is not None:
        query = query.where(VisitRequest.case.has(DebtCase.branch_id == branch_id))
    return paginate(session, query, VisitRequest, cursor, limit)


def create_visit_request(session: Session, user: User, data: VisitRequestCreate) -> VisitRequest:
    case = cases_service.get_case(session, user, data.case_id)
    address = session.scalar(select(Address).where(Address.id == data.address_id, Address.case_id == case.id))
    if address is None:
        raise AddressNotOfCase(
            f"Address {data.address_id} is not an address of case {case.reference}.",
            errors=[{"pointer": "#/address_id", "detail": "not an address of this case"}],
        )
    branch = _branch_of(session, case)
    schedule = Schedule(
        earliest_date=data.earliest_date,
        latest_date=data.latest_date or data.earliest_date,
        window_start=data.window_start,
        window_end=data.window_end,
    )
    check_schedule(schedule, branch)
    check_not_in_past(schedule, branch, earliest_too=True)
    _ensure_address_visitable(address)
    _ensure_no_duplicate(session, address.id, schedule)
    request = VisitRequest(
        case_id=case.id,
        address_id=address.id,
        purpose=data.purpose,
        priority=data.priority,
        requested_by_id=user.id,
        earliest_date=schedule.earliest_date,
        latest_date=schedule.latest_date,
        window_start=schedule.window_start,
        window_end=schedule.window_end,
        notes=data.notes,
        status=VisitRequestStatus.OPEN,
    )
    session.add(request)
    session.flush()
    return request


def update_visit_request(
    session: Session, user: User, visit_request_id: UUID, data: VisitRequestUpdate
) -> VisitRequest:
    request = get_visit_request(session, user, visit_request_id)
    # members sent with their current value are not changes: a client may send the whole row back
    changes: dict[str, Any] = {name: value for name, value in data.changes().items() if getattr(request, name) != value}
    status = changes.get("status", request.status)
    if "status" in changes and (request.status, status) not in _ALLOWED_STATUS_CHANGES:
        raise VisitRequestStatusChangeNotAllowed(
            f"A visit request cannot go from {request.status.value} to {status.value} here; "
            "only open -> cancelled and cancelled -> open.",
            visit_request_id=request.id,
            current_status=request.status,
        )
    if status is not VisitRequestStatus.OPEN and (plan_changes := sorted(_OPEN_ONLY & changes.keys())):
        raise VisitRequestNotOpen(
            f"The request is {status.value}; {', '.join(plan_changes)} can only change while it is open.",
            visit_request_id=request.id,
            resulting_status=status,
        )
    reopened = changes.get("status") is VisitRequestStatus.OPEN
    if reopened or _SCHEDULE & changes.keys():
        schedule = replace(_schedule_of(request), **{name: changes[name] for name in _SCHEDULE & changes.keys()})
        branch = _branch_of(session, request.case)
        check_schedule(schedule, branch)
        check_not_in_past(schedule, branch, earliest_too="earliest_date" in changes)
        if reopened:
            _ensure_address_visitable(request.address)
        _ensure_no_duplicate(session, request.address_id, schedule, except_id=request.id)
    for name, value in changes.items():
        setattr(request, name, value)
    session.flush()
    return request


def _branch_of(session: Session, case: DebtCase) -> Branch:
    branch = session.get(Branch, case.branch_id)
    assert branch is not None  # a foreign key
    return branch


def _schedule_of(request: VisitRequest) -> Schedule:
    return Schedule(request.earliest_date, request.latest_date, request.window_start, request.window_end)


def check_schedule(schedule: Schedule, branch: Branch) -> None:
    if schedule.earliest_date > schedule.latest_date:
        raise VisitDatesOutOfOrder(
            f"earliest_date {schedule.earliest_date} is after latest_date {schedule.latest_date}.",
            errors=[{"pointer": "#/latest_date", "detail": "before earliest_date"}],
        )
    start, end = schedule.window_start, schedule.window_end
    if start is None and end is None:
        return
    if start is None or end is None:
        missing = "window_start" if start is None else "window_end"
        raise VisitWindowInvalid(
            "Give both window_start and window_end, or neither.",
            errors=[{"pointer": f"#/{missing}", "detail": "required with the other end of the window"}],
        )
    if start >= end:
        raise VisitWindowInvalid(
            f"window_start {start:%H:%M} is not before window_end {end:%H:%M}.",
            errors=[{"pointer": "#/window_end", "detail": "not after window_start"}],
        )
    rules = branches_service.rules_of(branch)
    if not window_meets_hours(rules, start, end):
        raise WindowOutsideVisitingHours(
            f"The window {start:%H:%M}-{end:%H:%M} does not overlap the visiting hours at the debtor's location:"
            f" {hours_detail(rules)}.",
            visiting_from=rules.opens.strftime("%H:%M"),
            visiting_until=rules.closes.strftime("%H:%M"),
            rule=rules.hours_rule.label,
            errors=[{"pointer": "#/window_start", "detail": "outside visiting hours"}],
        )


def check_not_in_past(schedule: Schedule, branch: Branch, *, earliest_too: bool) -> None:
    """A request may not be moved into the past; one whose first day has passed may keep it while days remain."""
    today = local_today(branch)
    field = "earliest_date" if earliest_too and schedule.earliest_date < today else None
    if field is None and schedule.latest_date < today:
        field = "latest_date"
    if field is not None:
        raise VisitDateInPast(
            f"{field} is before today ({today}) in the branch's time zone.",
            today=today,
            errors=[{"pointer": f"#/{field}", "detail": "in the past"}],
        )


def _ensure_address_visitable(address: Address) -> None:
    """Refuse a request whose address planning will never take; a point it lacks may still come (geocoding, the
    pre-check, a supervisor), so that reason waits for planning."""
    if ADDRESS_REFUSED.intersection(address.plannability().reasons):
        raise AddressInvalid(
            f"Address {address.id} is {address.validity.value} ({address.invalid_reason}); it cannot be visited.",
            address_id=address.id,
            validity=address.validity,
            invalid_reason=address.invalid_reason,
        )


def _ensure_no_duplicate(session: Session, address_id: UUID, schedule: Schedule, except_id: UUID | None = None) -> None:
    query = select(VisitRequest.id).where(
        VisitRequest.address_id == address_id,
        VisitRequest.status.in_(_PENDING),
        VisitRequest.earliest_date <= schedule.latest_date,
        VisitRequest.latest_date >= schedule.earliest_date,
    )
    if except_id is not None:
        query = query.where(VisitRequest.id != except_id)
    clash = session.scalar(query.limit(1))
    if clash is not None:
        raise VisitRequestDuplicate(
            f"Visit request {clash} already asks for this address on overlapping dates.", visit_request_id=clash
        )


def release_eligibility(
    session: Session, user: User, visit_request_id: UUID, data: EligibilityReleaseCreate
) -> EligibilityRelease:
    """Let the request through one block of the eligibility gate, where the branch's pack allows a release."""
    request = get_visit_request(session, user, visit_request_id)
    pack = branches_service.rules_of(_branch_of(session, request.case)).pack
    rule, allowed = release_rule(pack, data.flag)
    if not allowed:
        raise EligibilityReleaseNotAllowed(
            f"{rule.label} allows no release ({rule.source}).",
            flag=data.flag,
            rule=rule.label,
            source=rule.source,
        )
    existing = session.scalar(
        select(EligibilityRelease.id).where(
            EligibilityRelease.visit_request_id == request.id, EligibilityRelease.flag == data.flag
        )
    )
    if existing is not None:
        raise EligibilityAlreadyReleased(
            f"Request {request.id} is already released from {data.flag.value}.", release_id=existing
        )
    release = EligibilityRelease(
        visit_request_id=request.id, flag=data.flag, reason=data.reason, released_by_id=user.id
    )
    session.add(release)
    session.flush()
    return release
