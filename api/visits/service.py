"""The rules of a visit at the door, enforced by the server: the departure check, the two-person rule, outcomes
submitted by one agent and confirmed by the other, amendments instead of edits."""

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.address_reports import service as reports_service
from api.branches import service as branches_service
from api.config import VisitSettings
from api.db import utcnow
from api.findings import service as findings_service
from api.geo import GeoPoint, distance_m, point_shape
from api.models.address_reports import ReportOrigin
from api.models.branches import Branch
from api.models.cases import (
    Address,
    AddressValidity,
    ContactSource,
    ContactStatus,
    DebtCase,
    DebtorContact,
    InvalidReason,
)
from api.models.findings import FindingKind
from api.models.sheets import SheetStop, StopState, VisitSheet
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.models.visits import (
    AWAITING_CONFIRMATION,
    CashApproval,
    CheckIn,
    DepartureCheck,
    Outcome,
    PresenceStage,
    ReviewFlag,
    Visit,
    VisitStatus,
)
from api.pagination import filter_equal, paginate
from api.problems import ClientIdReused, Conflict, NotFound, ValidationFailed, problem_members
from api.rules import valuables
from api.rules.branch import BranchRules
from api.rules.eligibility import EligibilityFlag
from api.rules.grades import PointSource
from api.rules.hours import Closed, DoorRule, door_closed, hours_detail
from api.rules.on_site import overstayed, time_on_site_s
from api.rules.position import Fix, check_ins_apart, checkin_too_far, door_point
from api.rules.subdivisions import address_subdivision
from api.rules.third_parties import Asked, Inquiry, ThirdParty, ThirdPartyKind, asked_again_without_reason
from api.rules.zones import zone_at
from api.scope import in_scope
from api.sheets import eligibility
from api.sheets import service as sheets_service
from api.sheets.schemas import care_flags
from api.teams import service as teams_service
from api.teams.service import TeamNotFound, teams_of
from api.third_parties import service as third_parties_service
from api.third_parties.schemas import ThirdPartyAsked
from api.tracks import service as tracks_service
from api.visits import evidence_policy, presence
from api.visits.schemas import (
    CashApprovalCreate,
    CheckInCreate,
    ContactResult,
    DepartureCheckCreate,
    HoursOverrideCreate,
    OutcomeCreate,
    StartVisit,
    VisitSubject,
)


class VisitNotFound(NotFound):
    title = "Visit not found"
    slug = "visit-not-found"
    members = problem_members(visit_id=(UUID, "The visit asked for."))


class ChecklistIncomplete(ValidationFailed):
    title = "Every item of the departure checklist must be confirmed"
    slug = "checklist-incomplete"
    members = problem_members(
        missing=(list[str], "Items of the branch's checklist not confirmed."),
        unknown=(list[str], "Items sent that are not on it."),
    )


class CheckInTooFar(ValidationFailed):
    title = "Too far from the address to check in"
    slug = "check-in-too-far"
    members = problem_members(
        distance_m=(int, "Metres from the address to the fix, as the server measured them."),
        radius_m=(int, "The geofence radius."),
        accuracy_m=(float, "The fix's accuracy as sent; counted up to the radius."),
    )


class VisitAlreadyStarted(Conflict):
    title = "The visit has started already"
    slug = "visit-already-started"
    members = problem_members(visit_id=(UUID, "The visit."))


class DepartureCheckMissing(Conflict):
    title = "The team's departure check is not complete"
    slug = "departure-check-missing"
    members = problem_members(missing_agents=(list[UUID], "The agents whose departure check is missing."))


class AgentsNotBothCheckedIn(Conflict):
    title = "Both agents must check in at the address"
    slug = "agents-not-both-checked-in"
    members = problem_members(missing_agents=(list[UUID], "The team's agents who have not checked in."))


class CheckInsTooFarApart(Conflict):
    title = "The two check-ins are too far apart in time"
    slug = "check-ins-too-far-apart"
    members = problem_members(gap_s=(int, "Seconds between the two agents' latest check-ins."))


class OverrideReasonRequired(ValidationFailed):
    title = "A supervisor's start needs the reason"
    slug = "override-reason-required"


class VisitNotInProgress(Conflict):
    title = "The visit is not in progress"
    slug = "visit-not-in-progress"
    members = problem_members(visit_id=(UUID, "The visit."))


class NothingToConfirm(Conflict):
    title = "No outcome waits for confirmation"
    slug = "nothing-to-confirm"
    members = problem_members(visit_id=(UUID, "The visit."))


class SameAgentConfirms(Conflict):
    title = "The other agent must confirm the outcome"
    slug = "same-agent-confirms"
    members = problem_members(submitted_by_id=(UUID, "Who submitted the outcome (you)."))


class CareNoteRequired(ValidationFailed):
    title = "A visit flagged for care needs a note"
    slug = "care-note-required"


class CashNotApproved(Conflict):
    title = "No cash without a supervisor's approval for this visit"
    slug = "cash-not-approved"
    members = problem_members(approved_up_to=(str, "The amount approved for this visit, if any (a decimal string)."))


class ItemNotApproved(Conflict):
    title = "No valuables without a supervisor's approval naming them"
    slug = "item-not-approved"
    members = problem_members(
        description=(str, "The first item refused, as the outcome describes it."),
        approval_id=(UUID, "The approval it names."),
        why=(
            valuables.ItemRefusal,
            "`not_approved`: this visit has no such approval; `cash_approval`: it approves cash, not an item;"
            " `other_item`: it names another item; `approval_used`: another item of the outcome uses it.",
        ),
    )


class ThirdPartyAskedAgain(ValidationFailed):
    title = "This third party was asked about the case at an earlier visit"
    slug = "third-party-asked-again"
    members = problem_members(
        rule_label=(str, "The pack's rule on third parties, e.g. `CN: debtor and guarantors only`."),
        rule_source=(str, "Where the rule comes from."),
        asked_before=(list[ThirdPartyAsked], "When and by which visit they were asked before."),
    )


class VisitCompleted(Conflict):
    title = "The visit is complete"
    slug = "visit-completed"
    members = problem_members(visit_id=(UUID, "The visit."))


_DOOR_MEMBERS = problem_members(
    rule=(DoorRule, "The rule: `work_date`, `visiting_hours` or `visiting_day` (a public holiday, say)."),
    rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `US §1006.6(b)(1)`, `CN: public holiday`."),
    rule_source=(str, "Where the rule comes from."),
    pack=(str, "The branch's jurisdiction pack, e.g. `CN`."),
    override_allowed=(bool, "Whether a supervisor's written override lets the visit go ahead anyway."),
    override_needs_consent=(bool, "Whether that override must record the debtor's consent (`debtor_consent`)."),
    work_date=(date, "The sheet's work date."),
    local_time=(str, "The time now at the address, HH:MM in its own time zone."),
    timezone=(str, "The address's time zone."),
    visiting_from=(str, "The visiting hours begin, HH:MM local time at the address."),
    visiting_until=(str, "They end, HH:MM local time."),
)


class NotTheWorkDate(Conflict):
    title = "The sheet is for another day"
    slug = "not-the-work-date"
    members = _DOOR_MEMBERS


class OutsideVisitingHours(Conflict):
    title = "Outside the legal visiting hours at the address"
    slug = "outside-visiting-hours"
    members = _DOOR_MEMBERS


class NotAVisitingDay(Conflict):
    title = "No visits on this day at the address"
    slug = "not-a-visiting-day"
    members = _DOOR_MEMBERS


class VisitNotEligible(Conflict):
    title = "The case keeps this visit from the door now"
    slug = "visit-not-eligible"
    members = problem_members(
        flag=(EligibilityFlag, "What holds it: a case flag in force (e.g. `attorney`) or `visit_cap`."),
        rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `US §1006.6(b)(2)`, `CN: represented`."),
        rule_source=(str, "Where the rule comes from."),
        release_allowed=(
            bool,
            "Whether a supervisor may release the request from it, with a reason (POST"
            " /visit-requests/{id}/eligibility-releases); an inconvenient time is waited out instead.",
        ),
    )


class OverrideNotAllowed(Conflict):
    title = "The jurisdiction allows no override of this rule"
    slug = "override-not-allowed"
    members = problem_members(
        rule=(DoorRule, "The rule: `work_date`, `visiting_hours` or `visiting_day`."),
        rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `IN: RBI hours`."),
        rule_source=(str, "Where the rule comes from."),
        pack=(str, "The branch's jurisdiction pack, e.g. `IN`."),
    )


class OverrideNeedsConsent(Conflict):
    title = "The jurisdiction allows this override only with the debtor's consent"
    slug = "override-needs-consent"
    members = problem_members(
        rule=(DoorRule, "The rule: `visiting_hours`."),
        rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `ID POJK 22/2023 Pasal 62(2)f`."),
        rule_source=(str, "Where the rule comes from."),
        pack=(str, "The branch's jurisdiction pack, e.g. `ID`."),
    )


CONSENT_MIN_CHARS = 10

_DOOR_PROBLEMS = {
    DoorRule.WORK_DATE: NotTheWorkDate,
    DoorRule.VISITING_HOURS: OutsideVisitingHours,
    DoorRule.VISITING_DAY: NotAVisitingDay,
}


def visible_visits(user: User) -> Select[Visit]:
    query = select(Visit).where(in_scope(user, Visit.branch_id))
    if user.role is Role.AGENT:
        query = query.where(Visit.team_id.in_(teams_of(user.id)))
    elif user.role is Role.PHONE_COLLECTOR:
        query = query.where(Visit.case_id.in_(select(DebtCase.id).where(DebtCase.phone_collector_id == user.id)))
    return query


def get_visit(session: Session, user: User, visit_id: UUID) -> Visit:
    visit = session.scalar(visible_visits(user).where(Visit.id == visit_id))
    if visit is None:
        raise VisitNotFound(f"No visit {visit_id}.", visit_id=visit_id)
    return visit


def outcomes_of(session: Session, visit: Visit) -> list[Outcome]:
    return outcomes_by_visit(session, [visit])[visit.id]


def outcomes_by_visit(session: Session, visits: Sequence[Visit]) -> dict[UUID, list[Outcome]]:
    """The outcomes of each visit in order (amendments last), in one query."""
    found: dict[UUID, list[Outcome]] = {visit.id: [] for visit in visits}
    query = select(Outcome).where(Outcome.visit_id.in_(list(found))).order_by(Outcome.visit_id, Outcome.sequence)
    for outcome in session.scalars(query):
        found[outcome.visit_id].append(outcome)
    return found


def list_visits(
    session: Session,
    user: User,
    *,
    work_date: date | None,
    team_id: UUID | None,
    case_id: UUID | None,
    status: VisitStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Visit], str | None]:
    query = filter_equal(
        visible_visits(user), (Visit.team_id, team_id), (Visit.case_id, case_id), (Visit.status, status)
    )
    if work_date is not None:
        query = query.where(Visit.sheet_id.in_(select(VisitSheet.id).where(VisitSheet.work_date == work_date)))
    return paginate(session, query, Visit, cursor, limit)


def visit_subjects(session: Session, visits: Sequence[Visit]) -> dict[UUID, VisitSubject]:
    """The subjects of `visits`, in one query."""
    stop = (SheetStop.sheet_id == Visit.sheet_id) & (SheetStop.visit_request_id == Visit.visit_request_id)
    rows = session.execute(
        select(
            Visit.id,
            DebtCase.reference,
            DebtCase.debtor_name,
            DebtCase.complaint_history,
            Address.raw_text,
            Address.elderly_resident,
            VisitSheet.team_name,
            SheetStop.position,
        )
        .join(DebtCase, DebtCase.id == Visit.case_id)
        .join(Address, Address.id == Visit.address_id)
        .join(VisitSheet, VisitSheet.id == Visit.sheet_id)
        .outerjoin(SheetStop, stop)
        .where(Visit.id.in_([visit.id for visit in visits]))
    )
    return {
        visit_id: VisitSubject(reference, name, text, team, position, care_flags(complaint, elderly))
        for visit_id, reference, name, complaint, text, elderly, team, position in rows
    }


def confirm_departure(session: Session, user: User, team_id: UUID, data: DepartureCheckCreate) -> DepartureCheck:
    """The agent's own departure check for their team's day; a retry with the same client id returns the first."""
    team = _own_team(session, user, team_id)
    earlier = session.scalar(select(DepartureCheck).where(DepartureCheck.client_id == data.client_id))
    if earlier is not None:
        if earlier.agent_id != user.id or earlier.team_id != team.id:
            raise ClientIdReused("This client_id was used for another departure check.", client_id=data.client_id)
        return earlier
    checklist = session.get_one(Branch, team.branch_id).departure_checklist
    missing = [item for item in checklist if item not in data.items]
    unknown = [item for item in data.items if item not in checklist]
    if missing or unknown:
        raise ChecklistIncomplete(
            "Confirm exactly the branch's checklist: " + ", ".join(checklist) + ".",
            missing=missing,
            unknown=unknown,
            errors=[{"pointer": "#/items", "detail": f"missing {missing}, unknown {unknown}"}],
        )
    check = session.scalar(
        select(DepartureCheck).where(DepartureCheck.team_id == team.id, DepartureCheck.agent_id == user.id)
    )
    if check is None:
        check = DepartureCheck(team_id=team.id, agent_id=user.id, work_date=team.work_date, client_id=data.client_id)
        session.add(check)
    check.items = list(checklist)
    session.flush()
    tracks_service.open_track(session, team, user.id, check.created_at)
    return check


def check_in(
    session: Session, user: User, sheet_id: UUID, request_id: UUID, data: CheckInCreate, rules: VisitSettings
) -> Visit:
    """Record the agent's check-in at a stop of their team's current sheet, if near enough to the address, on the
    sheet's day and inside the visiting hours."""
    sheet = sheets_service.door_sheet(session, sheets_service.get_sheet(session, user, sheet_id), request_id)
    stop = sheets_service.stop_of(session, sheet.id, request_id)
    earlier = session.scalar(select(CheckIn).where(CheckIn.client_id == data.client_id))
    if earlier is None:
        teams_service.ensure_not_stood_down(session.get_one(Team, sheet.team_id))
    if earlier is not None:
        if earlier.agent_id != user.id or earlier.visit_id != stop.visit_id:
            raise ClientIdReused("This client_id was used for another check-in.", client_id=data.client_id)
        return session.get_one(Visit, earlier.visit_id)
    sheets_service.ensure_not_cancelled(stop)
    visit = _visit_for(session, sheet, stop)
    if visit.status is not VisitStatus.CHECKING_IN:
        raise VisitAlreadyStarted(f"Visit {visit.id} is {visit.status.value}.", visit_id=visit.id)
    _ensure_door_open(session, visit, sheet)
    _ensure_eligible(session, visit, sheet)
    point = point_shape(session.get_one(Address, visit.address_id).point)
    distance = distance_m(data.lat, data.lon, point.y, point.x)
    if checkin_too_far(distance, data.accuracy_m, rules.geofence_radius_m):
        raise CheckInTooFar(
            f"You are {distance:.0f} m from the address; check in within {rules.geofence_radius_m} m"
            f" (plus the fix's accuracy, {data.accuracy_m:.0f} m, up to {rules.geofence_radius_m} m).",
            distance_m=round(distance),
            radius_m=rules.geofence_radius_m,
            accuracy_m=data.accuracy_m,
        )
    session.add(
        CheckIn(
            visit_id=visit.id,
            agent_id=user.id,
            lat=data.lat,
            lon=data.lon,
            accuracy_m=data.accuracy_m,
            distance_m=distance,
            device_time=data.device_time,
            client_id=data.client_id,
        )
    )
    session.flush()
    session.refresh(visit)
    _sync_stop(session, visit)
    return visit


def override_hours(session: Session, user: User, sheet_id: UUID, request_id: UUID, data: HoursOverrideCreate) -> Visit:
    """A supervisor lets the team check in and start this stop's visit outside the sheet's work date or the
    visiting hours, giving the reason; it is recorded on the visit."""
    sheet = sheets_service.door_sheet(session, sheets_service.get_sheet(session, user, sheet_id), request_id)
    stop = sheets_service.stop_of(session, sheet.id, request_id)
    sheets_service.ensure_not_cancelled(stop)
    visit = _visit_for(session, sheet, stop)
    if visit.status is not VisitStatus.CHECKING_IN:
        raise VisitAlreadyStarted(f"Visit {visit.id} is {visit.status.value}.", visit_id=visit.id)
    _ensure_override_allowed(session, visit, sheet, data)
    visit.hours_override_reason, visit.hours_override_by_id = data.reason, user.id
    visit.hours_override_consent = data.debtor_consent
    visit.hours_override_at = utcnow()
    session.flush()
    _sync_stop(session, visit)
    return visit


def start_visit(session: Session, user: User, visit_id: UUID, data: StartVisit, rules: VisitSettings) -> Visit:
    """Start the visit: both agents of the team checked in within the allowed gap, after their departure check; or
    a supervisor's override, recorded with its reason."""
    visit = get_visit(session, user, visit_id)
    if visit.status is not VisitStatus.CHECKING_IN:
        raise VisitAlreadyStarted(f"Visit {visit.id} is {visit.status.value}.", visit_id=visit.id)
    ensure_stop_open(session, visit)
    sheet = session.get_one(VisitSheet, visit.sheet_id)
    _ensure_door_open(session, visit, sheet)
    _ensure_eligible(session, visit, sheet)
    team = session.get_one(Team, visit.team_id)
    teams_service.ensure_not_stood_down(team)
    members = [member.agent_id for member in team.members]
    _ensure_departure_checked(session, team, members)
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        if not data.override_reason:
            raise OverrideReasonRequired(
                "Give override_reason to start a visit without the agents' check-ins.",
                errors=[{"pointer": "#/override_reason", "detail": "required for a supervisor's start"}],
            )
        visit.override_reason, visit.override_by_id = data.override_reason, user.id
    else:
        _ensure_both_checked_in(visit, members, rules)
    visit.status, visit.started_at = VisitStatus.IN_PROGRESS, utcnow()
    session.flush()
    _sync_stop(session, visit)
    presence.assess_visit(session, visit, PresenceStage.START, rules)
    return visit


def submit_outcome(session: Session, user: User, visit_id: UUID, data: OutcomeCreate) -> Visit:
    """One agent's account of the visit, for the other to confirm."""
    visit = get_visit(session, user, visit_id)
    if _retried(session, user, visit, data.client_id):
        return visit
    ensure_stop_open(session, visit)
    if visit.status is not VisitStatus.IN_PROGRESS:
        raise VisitNotInProgress(f"Visit {visit.id} is {visit.status.value}.", visit_id=visit.id)
    _ensure_care_note(session, visit, data)
    _ensure_valuables_approved(session, visit, data)
    inquiries = _ensure_third_parties_heard(session, visit, data)
    outcome = _outcome(visit, user, data, amends=None)
    session.add(outcome)
    visit.status = VisitStatus.REPORTED
    session.flush()
    third_parties_service.record_inquiries(
        session, visit.case_id, visit.id, outcome.id, outcome.submitted_at, inquiries
    )
    _measure_time_on_site(session, visit, outcome)
    session.flush()
    _sync_stop(session, visit)
    return visit


def amend_outcome(session: Session, user: User, visit_id: UUID, data: OutcomeCreate) -> Visit:
    """A correction of the confirmed outcome, linked to it; the other agent confirms it too. Both are kept."""
    visit = get_visit(session, user, visit_id)
    if _retried(session, user, visit, data.client_id):
        return visit
    outcomes = outcomes_of(session, visit)
    if visit.status is not VisitStatus.COMPLETED or outcomes[-1].confirmed_at is None:
        raise NothingToConfirm(
            f"Visit {visit.id} has no confirmed outcome to amend (it is {visit.status.value}).", visit_id=visit.id
        )
    _ensure_care_note(session, visit, data)
    _ensure_valuables_approved(session, visit, data)
    inquiries = _ensure_third_parties_heard(session, visit, data)
    outcome = _outcome(visit, user, data, amends=outcomes[-1])
    session.add(outcome)
    visit.status = VisitStatus.AMENDMENT_REPORTED
    session.flush()
    third_parties_service.record_inquiries(
        session, visit.case_id, visit.id, outcome.id, outcome.submitted_at, inquiries
    )
    session.flush()
    _sync_stop(session, visit)
    return visit


def confirm_outcome(session: Session, user: User, visit_id: UUID, rules: VisitSettings) -> Visit:
    """The other agent agrees with the outcome (or amendment) waiting: once the evidence meets the branch's policy,
    the visit is complete, the request done, and contacts found at the door join the case."""
    visit = get_visit(session, user, visit_id)
    outcomes = outcomes_of(session, visit)
    waiting = outcomes[-1] if outcomes and outcomes[-1].confirmed_at is None else None
    if waiting is None:
        raise NothingToConfirm(f"Visit {visit.id} has no outcome waiting for confirmation.", visit_id=visit.id)
    if waiting.submitted_by_id == user.id:
        raise SameAgentConfirms("You submitted this outcome; your partner confirms it.", submitted_by_id=user.id)
    if visit.status is VisitStatus.REPORTED:
        evidence_policy.ensure_met(session, visit, until=waiting.submitted_at)
    waiting.confirmed_by_id, waiting.confirmed_at = user.id, utcnow()
    completing = visit.status is VisitStatus.REPORTED
    if completing:
        visit.completed_at = waiting.confirmed_at
        session.get_one(VisitRequest, visit.visit_request_id).status = VisitRequestStatus.COMPLETED
    visit.status = VisitStatus.COMPLETED
    new_phones = _add_contacts(session, visit, waiting)
    _publish_findings(session, visit, waiting, new_phones)
    _learn_address(session, visit, waiting)
    session.flush()
    _sync_stop(session, visit, confirmed=waiting)
    if completing:
        presence.assess_visit(session, visit, PresenceStage.COMPLETION, rules)
    return visit


_MET_THERE = ("met_debtor", "met_family")
_NOT_THERE = {"no_such_address": InvalidReason.NONEXISTENT, "demolished": InvalidReason.DEMOLISHED}


def _learn_address(session: Session, visit: Visit, outcome: Outcome) -> None:
    """What the door taught about the address: where it is (the debtor or family met there and the two check-ins
    agreeing), or that it is not there (no such address, demolished: a report for the supervisor)."""
    address = session.get_one(Address, visit.address_id)
    details = outcome.details
    gone = _NOT_THERE.get(details.get("address_assessment", ""))
    if gone is not None:
        if address.validity not in (AddressValidity.REPORTED_INVALID, AddressValidity.CONFIRMED_INVALID):
            note = f"外访结果：{details['address_assessment']} the visit's outcome. {details.get('notes', '')}".strip()
            reports_service.raise_report(
                session, address, ReportOrigin.OUTCOME, gone, note, reported_by_id=outcome.submitted_by_id,
                visit_id=visit.id,
            )  # fmt: skip
        return
    if details.get("contact_result") not in _MET_THERE or address.point_source is PointSource.SUPERVISOR:
        return
    latest = {check_in.agent_id: check_in for check_in in visit.check_ins}
    if len(latest) != 2:
        return
    first, second = (Fix(c.lat, c.lon, c.accuracy_m) for c in latest.values())
    found = door_point(first, second)
    if found is None:
        return
    point = GeoPoint(lat=found.lat, lon=found.lon).to_wkt()
    address.place(point, PointSource.DOOR, accuracy_m=found.accuracy_m)
    if address.validity is AddressValidity.UNVERIFIED:
        address.validity = AddressValidity.VERIFIED


def approve_cash(session: Session, user: User, visit_id: UUID, data: CashApprovalCreate) -> CashApproval:
    """A supervisor allows a cash payment at the visit, up to an amount, or the receipt of one named item, before
    its outcome is recorded."""
    visit = get_visit(session, user, visit_id)
    if visit.status in (VisitStatus.COMPLETED, VisitStatus.AMENDMENT_REPORTED):
        raise VisitCompleted(f"Visit {visit.id} is complete; approve before the outcome.", visit_id=visit.id)
    approval = CashApproval(
        visit_id=visit.id,
        kind=data.kind,
        max_amount=data.max_amount,
        item_description=data.item_description.strip(),
        reason=data.reason,
        approved_by_id=user.id,
    )
    session.add(approval)
    session.flush()
    return approval


def cash_approvals(session: Session, user: User, visit_id: UUID) -> list[CashApproval]:
    """The cash approvals given for a visit the user may see, oldest first."""
    visit = get_visit(session, user, visit_id)
    return list(
        session.scalars(select(CashApproval).where(CashApproval.visit_id == visit.id).order_by(CashApproval.created_at))
    )


def _ensure_valuables_approved(session: Session, visit: Visit, data: OutcomeCreate) -> None:
    """No cash and no other valuables without a supervisor's approval of the visit, given beforehand."""
    if data.cash_payment is None and not data.items_received:
        return
    approvals = [
        valuables.Approval(row.id, row.kind, row.max_amount, row.item_description)
        for row in session.scalars(select(CashApproval).where(CashApproval.visit_id == visit.id))
    ]
    if data.cash_payment is not None and not valuables.cash_approved(data.cash_payment.amount, approvals):
        allowed = valuables.cash_allowed(approvals)
        raise CashNotApproved(
            f"Cash of {data.cash_payment.amount} needs a supervisor's approval for this visit"
            + (f"; the approval covers {allowed}." if allowed is not None else ", given before the outcome."),
            approved_up_to=str(allowed) if allowed is not None else None,
        )
    items = [valuables.ItemReceived(item.description, item.approval_id) for item in data.items_received]
    refused = valuables.item_refusals(items, approvals)
    if refused:
        first, why = items[refused[0][0]], refused[0][1]
        raise ItemNotApproved(
            f"'{first.description}' needs a supervisor's approval of this visit naming it, given before the outcome"
            f" ({why.value}).",
            description=first.description,
            approval_id=first.approval_id,
            why=why,
            errors=[
                {"pointer": f"#/items_received/{index}", "detail": f"{items[index].description}: {why.value}"}
                for index, why in refused
            ],
        )


def _inquiries(visit: Visit, data: OutcomeCreate) -> list[Inquiry]:
    """The third parties the outcome says were asked, each with its JSON pointer."""
    asked = [(f"#/neighbours/{index}", ThirdPartyKind.NEIGHBOUR, one) for index, one in enumerate(data.neighbours)]
    if data.property_management is not None:
        asked.append(("#/property_management", ThirdPartyKind.PROPERTY_MANAGEMENT, data.property_management))
    return [
        Inquiry(where, ThirdParty(kind, visit.address_id, inquiry.who), inquiry.reason_asked_again.strip())
        for where, kind, inquiry in asked
    ]


def _ensure_third_parties_heard(session: Session, visit: Visit, data: OutcomeCreate) -> list[Inquiry]:
    """The outcome's inquiries, once none asks a third party an earlier visit of the case asked without saying
    why: a neighbour or the property management is not asked about the debtor over and over."""
    inquiries = _inquiries(visit, data)
    if not inquiries:
        return inquiries
    rows = third_parties_service.asked_elsewhere(session, visit.case_id, visit.id)
    repeated = asked_again_without_reason(inquiries, [Asked(row.party, row.asked_at, row.visit_id) for row in rows])
    if repeated:
        rule = branches_service.rules_of(session.get_one(Branch, visit.branch_id)).pack.third_parties
        again = {one.inquiry.party.key for one in repeated}
        raise ThirdPartyAskedAgain(
            f"{len(repeated)} third part{'y was' if len(repeated) == 1 else 'ies were'} asked about this case at an"
            f" earlier visit; ask again only with reason_asked_again ({rule.label}).",
            rule_label=rule.label,
            rule_source=rule.source,
            asked_before=[ThirdPartyAsked.from_row(row) for row in rows if row.party.key in again],
            errors=[
                {
                    "pointer": one.inquiry.where,
                    "detail": f"{one.inquiry.party.who!r} was asked at visit {one.before[-1].visit_id} on"
                    f" {one.before[-1].asked_at:%Y-%m-%d}: give reason_asked_again",
                }
                for one in repeated
            ],
        )
    return inquiries


def _measure_time_on_site(session: Session, visit: Visit, outcome: Outcome) -> None:
    """From the arrival at the door to the first outcome: longer than the branch allows, and the visit is flagged
    for the supervisor's review ("leave as soon as the purpose is reached")."""
    arrived = evidence_policy.arrival(session, visit)
    if arrived is None:
        return
    visit.on_site_s = time_on_site_s(arrived, outcome.submitted_at)
    limit = branches_service.rules_of(session.get_one(Branch, visit.branch_id)).max_on_site_s
    on_site = overstayed(arrived, outcome.submitted_at, limit)
    if on_site is None:
        return
    visit.review_flags = [*visit.review_flags, ReviewFlag.OVERSTAYED.value]
    findings_service.publish(
        session,
        session.get_one(DebtCase, visit.case_id),
        FindingKind.VISIT_OVERSTAYED,
        visit_id=str(visit.id),
        on_site_s=on_site,
        max_on_site_s=limit,
    )


def _own_team(session: Session, user: User, team_id: UUID) -> Team:
    team = session.scalar(select(Team).where(Team.id == team_id).where(Team.id.in_(teams_of(user.id))))
    if team is None:
        raise TeamNotFound(f"No team {team_id}.", team_id=team_id)
    return team


def _visit_for(session: Session, sheet: VisitSheet, stop: SheetStop) -> Visit:
    request_id = stop.visit_request_id
    visit = session.scalar(select(Visit).where(Visit.sheet_id == sheet.id, Visit.visit_request_id == request_id))
    if visit is None:
        request = session.get_one(VisitRequest, request_id)
        visit = Visit(
            sheet_id=sheet.id,
            visit_request_id=request.id,
            team_id=sheet.team_id,
            branch_id=sheet.branch_id,
            case_id=request.case_id,
            address_id=request.address_id,
        )
        session.add(visit)
        session.flush()  # two agents' first check-ins at once: the unique key lets one create it (409 to the other)
    return visit


def ensure_stop_open(session: Session, visit: Visit) -> None:
    """Nothing more is done at a stop that was cancelled (its address confirmed invalid, say)."""
    sheets_service.ensure_not_cancelled(sheets_service.stop_of(session, visit.sheet_id, visit.visit_request_id))


def _sync_stop(session: Session, visit: Visit, confirmed: Outcome | None = None) -> None:
    """Keep the visit's stop saying where the visit stands: the phones rebuild their day from the sheet alone.
    `confirmed`: the outcome just confirmed, which tells a completed visit done from failed."""
    _hold_sheet(session, visit)
    stop = sheets_service.stop_of(session, visit.sheet_id, visit.visit_request_id)
    stop.visit_id = visit.id
    stop.awaiting_confirmation = visit.status in AWAITING_CONFIRMATION
    if stop.state is not StopState.CANCELLED:
        stop.state = _stop_state(visit, stop.state, confirmed)
    session.flush()


def _hold_sheet(session: Session, visit: Visit) -> None:
    """Lock the sheet the visit's stop is on: a publication that moves the visit to a new version of its sheet
    either comes first (the visit is then read on the new one) or waits for this transaction."""
    while True:
        sheet_id = visit.sheet_id
        sheets_service.lock_sheet(session, sheet_id)
        session.refresh(visit, ["sheet_id"])
        if visit.sheet_id == sheet_id:
            return


def _stop_state(visit: Visit, now: StopState, confirmed: Outcome | None) -> StopState:
    if visit.status is VisitStatus.CHECKING_IN:
        return StopState.CHECKING_IN
    if visit.status in (VisitStatus.IN_PROGRESS, VisitStatus.REPORTED):
        return StopState.IN_PROGRESS
    if confirmed is None:  # an amendment waits: the stop stays as its confirmed outcome left it
        return now
    return StopState.FAILED if confirmed.contact_result == ContactResult.NOBODY else StopState.DONE


def _door_now(
    session: Session, visit: Visit, sheet: VisitSheet
) -> tuple[BranchRules, ZoneInfo, datetime, Closed | None]:
    """The branch's rules, the address's time zone, now, and the rule that shuts the visit's door now (None: open):
    the hours in the address's zone, the holidays of its nation or state as its text stands now."""
    rules = branches_service.rules_of(session.get_one(Branch, visit.branch_id))
    address = session.get_one(Address, visit.address_id)
    point = point_shape(address.point)
    zone, subdivision = zone_at(point.y, point.x, rules.timezone), address_subdivision(rules.pack, address.raw_text)
    now = utcnow()
    return rules, zone, now, door_closed(rules, now, sheet.work_date, zone, subdivision=subdivision)


def _ensure_door_open(session: Session, visit: Visit, sheet: VisitSheet) -> None:
    """On the sheet's work date and inside the legal hours at the address (its own time zone), on a day its
    jurisdiction visits; or with a supervisor's written override where the rule broken allows one."""
    rules, zone, now, closed = _door_now(session, visit, sheet)
    if closed is None or _overridden(visit, closed):
        return
    advice = (
        "A supervisor may allow it with a reason (POST .../hours-override)"
        if closed.override
        else f"No override is allowed ({closed.rule.label})"
    )
    raise _DOOR_PROBLEMS[closed.door_rule](
        f"Not now: {closed.detail}. {advice}.",
        rule=closed.door_rule,
        rule_label=closed.rule.label,
        rule_source=closed.rule.source,
        pack=rules.pack.code.value,
        override_allowed=closed.override,
        override_needs_consent=closed.consent,
        work_date=sheet.work_date,
        local_time=now.astimezone(zone).strftime("%H:%M"),
        timezone=zone.key,
        visiting_from=rules.opens.strftime("%H:%M"),
        visiting_until=rules.closes.strftime("%H:%M"),
    )


def _overridden(visit: Visit, closed: Closed) -> bool:
    """A supervisor's override lets the visit past the rule: one the rule allows, with the debtor's consent recorded
    where the rule needs it."""
    consented = bool(visit.hours_override_consent) or not closed.consent
    return closed.override and bool(visit.hours_override_reason) and consented


def _ensure_override_allowed(session: Session, visit: Visit, sheet: VisitSheet, data: HoursOverrideCreate) -> None:
    """The rule keeping the door shut now allows a supervisor's written override; while the door is open, the pack
    allows overriding the visiting hours (an override asked ahead, for a visit that may run late). Where the pack
    allows it only with the debtor's consent, the override says how it was given."""
    rules, _, _, closed = _door_now(session, visit, sheet)
    if closed is None:
        hours = rules.pack.hours
        closed = Closed(DoorRule.VISITING_HOURS, rules.hours_rule, hours_detail(rules), hours.override, hours.consent)
    pack = rules.pack.code.value
    members = {"rule": closed.door_rule, "rule_label": closed.rule.label, "rule_source": closed.rule.source}
    if not closed.override:
        raise OverrideNotAllowed(f"{closed.detail}; the {pack} pack allows no override of it.", pack=pack, **members)
    if closed.consent and len(data.debtor_consent.strip()) < CONSENT_MIN_CHARS:
        raise OverrideNeedsConsent(
            f"{closed.detail}; the {pack} pack allows a visit then only with the debtor's consent: say how and when"
            f" the debtor gave it (`debtor_consent`, at least {CONSENT_MIN_CHARS} characters).",
            pack=pack,
            **members,
        )


def _ensure_eligible(session: Session, visit: Visit, sheet: VisitSheet) -> None:
    """The case as it stands now lets the visit through its door: no restriction or visit cap in force and not
    released (set after the sheet was published too), and not a time the debtor said is inconvenient."""
    rules = branches_service.rules_of(session.get_one(Branch, visit.branch_id))
    request = session.get_one(VisitRequest, visit.visit_request_id)
    block = eligibility.door_block(session, rules, sheet.work_date, request, utcnow())
    if block is None:
        return
    advice = (
        "A supervisor may release the request from it with a reason"
        if block.release
        else "Not until it no longer holds"
    )
    raise VisitNotEligible(
        f"Not now: {block.detail}. {advice}.",
        flag=block.flag,
        rule_label=block.rule.label,
        rule_source=block.rule.source,
        release_allowed=block.release,
    )


def _ensure_departure_checked(session: Session, team: Team, members: list[UUID]) -> None:
    checked = set(session.scalars(select(DepartureCheck.agent_id).where(DepartureCheck.team_id == team.id)))
    missing = [agent for agent in members if agent not in checked]
    if missing:
        raise DepartureCheckMissing(
            "Each agent confirms the departure checklist from their own login before the first visit.",
            missing_agents=missing,
        )


def _ensure_both_checked_in(visit: Visit, members: list[UUID], rules: VisitSettings) -> None:
    latest = {check.agent_id: check for check in visit.check_ins}
    missing = [agent for agent in members if agent not in latest]
    if missing:
        raise AgentsNotBothCheckedIn(
            f"{len(missing)} of the team's two agents has not checked in at the address yet.", missing_agents=missing
        )
    first, second = (latest[agent].received_at for agent in members)
    gap = check_ins_apart(first, second, rules.checkin_max_gap_s)
    if gap is not None:
        raise CheckInsTooFarApart(
            f"The check-ins are {gap.total_seconds() / 60:.0f} min apart; both must be within"
            f" {rules.checkin_max_gap_s // 60} min: check in again.",
            gap_s=int(gap.total_seconds()),
        )


def _ensure_care_note(session: Session, visit: Visit, data: OutcomeCreate) -> None:
    case = session.get_one(DebtCase, visit.case_id)
    address = session.get_one(Address, visit.address_id)
    if (case.complaint_history or address.elderly_resident) and not data.notes.strip():
        raise CareNoteRequired(
            "This visit is flagged for care (complaint history or elderly residents): describe how it went.",
            errors=[{"pointer": "#/notes", "detail": "required for a visit flagged for care"}],
        )


def _retried(session: Session, user: User, visit: Visit, client_id: UUID) -> bool:
    earlier = session.scalar(select(Outcome).where(Outcome.client_id == client_id))
    if earlier is None:
        return False
    if earlier.visit_id != visit.id or earlier.submitted_by_id != user.id:
        raise ClientIdReused("This client_id was used for another outcome.", client_id=client_id)
    return True


def _outcome(visit: Visit, user: User, data: OutcomeCreate, amends: Outcome | None) -> Outcome:
    return Outcome(
        visit_id=visit.id,
        amends_id=amends.id if amends else None,
        sequence=amends.sequence + 1 if amends else 1,
        contact_result=data.contact_result.value,
        promise_date=data.promise.date if data.promise else None,
        promise_amount=data.promise.amount if data.promise else None,
        suspected_fake_address=data.signs_fake_address,
        cash_collected=data.cash_payment.amount if data.cash_payment else None,
        details=data.model_dump(mode="json", exclude={"client_id"}),
        submitted_by_id=user.id,
        client_id=data.client_id,
    )


def _publish_findings(session: Session, visit: Visit, outcome: Outcome, new_phones: list[str]) -> None:
    """What the supervisor and the phone collector must hear about at once."""
    case, details, where = session.get_one(DebtCase, visit.case_id), outcome.details, {"visit_id": str(visit.id)}
    if details.get("promise"):
        findings_service.publish(session, case, FindingKind.REPAYMENT_PROMISED, **where, **details["promise"])
    if new_phones or details.get("employer"):
        employer = details.get("employer")
        findings_service.publish(
            session, case, FindingKind.CONTACT_FOUND, **where, phones=new_phones, employer=employer
        )
    if details.get("signs_fake_address") or details.get("address_assessment") == "fake":
        findings_service.publish(
            session, case, FindingKind.FAKE_ADDRESS_SUSPECTED, **where, notes=details.get("notes", "")
        )
    if details.get("contact_result") == "nobody":
        findings_service.publish(session, case, FindingKind.VISIT_FAILED, **where, reason="nobody answered")


def _add_contacts(session: Session, visit: Visit, outcome: Outcome) -> list[str]:
    """Add the phones found at the door that the case does not have; the ones added."""
    added: list[str] = []
    known = set(session.scalars(select(DebtorContact.phone).where(DebtorContact.case_id == visit.case_id)))
    for finding in outcome.details.get("contacts", []):
        if finding["phone"] not in known:
            session.add(
                DebtorContact(
                    case_id=visit.case_id,
                    phone=finding["phone"],
                    kind=finding["kind"],
                    status=ContactStatus.VERIFIED if finding["verified"] else ContactStatus.UNVERIFIED,
                    source=ContactSource.FIELD_VISIT,
                    holder=finding.get("holder", ""),
                    notes=f"found at the door on visit {visit.id}",
                )
            )
            known.add(finding["phone"])
            added.append(finding["phone"])
    return added
