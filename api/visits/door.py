"""The door of a visit, enforced by the server: the departure check, the check-ins near the address, the hours
override and the start once both agents of the pair are there."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.geo import distance_m, point_shape
from api.models.branches import Branch
from api.models.cases import Address
from api.models.sheets import SheetStop, VisitSheet
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from api.models.visits import CheckIn, DepartureCheck, PresenceStage, Visit, VisitStatus
from api.problems import ClientIdReused, Conflict, ValidationFailed, problem_members
from api.rules.door import CheckedInApart, NotCheckedIn, checklist_gap, departure_unchecked, pair_at_the_door
from api.rules.field import FieldRules
from api.rules.position import checkin_too_far
from api.sheets import service as sheets_service
from api.teams import service as teams_service
from api.teams.service import TeamNotFound, teams_of
from api.tracks import service as tracks_service
from api.visits import aftermath, hours, presence
from api.visits.schemas import CheckInCreate, DepartureCheckCreate, HoursOverrideCreate, StartVisit
from api.visits.service import ensure_stop_open, get_visit


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


def confirm_departure(session: Session, user: User, team_id: UUID, data: DepartureCheckCreate) -> DepartureCheck:
    """The agent's own departure check for their team's day; a retry with the same client id returns the first."""
    team = _own_team(session, user, team_id)
    earlier = session.scalar(select(DepartureCheck).where(DepartureCheck.client_id == data.client_id))
    if earlier is not None:
        if earlier.agent_id != user.id or earlier.team_id != team.id:
            raise ClientIdReused("This client_id was used for another departure check.", client_id=data.client_id)
        return earlier
    checklist = session.get_one(Branch, team.branch_id).departure_checklist
    gap = checklist_gap(checklist, data.items)
    if gap is not None:
        raise ChecklistIncomplete(
            "Confirm exactly the branch's checklist: " + ", ".join(checklist) + ".",
            missing=gap.missing,
            unknown=gap.unknown,
            errors=[{"pointer": "#/items", "detail": f"missing {gap.missing}, unknown {gap.unknown}"}],
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
    session: Session, user: User, sheet_id: UUID, request_id: UUID, data: CheckInCreate, rules: FieldRules
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
    hours.ensure_door_open(session, visit, sheet)
    hours.ensure_eligible(session, visit, sheet)
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
    aftermath.sync_stop(session, visit)
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
    hours.ensure_override_allowed(session, visit, sheet, data)
    visit.hours_override_reason, visit.hours_override_by_id = data.reason, user.id
    visit.hours_override_consent = data.debtor_consent
    visit.hours_override_at = utcnow()
    session.flush()
    aftermath.sync_stop(session, visit)
    return visit


def start_visit(session: Session, user: User, visit_id: UUID, data: StartVisit, rules: FieldRules) -> Visit:
    """Start the visit: both agents of the team checked in within the allowed gap, after their departure check; or
    a supervisor's override, recorded with its reason."""
    visit = get_visit(session, user, visit_id)
    if visit.status is not VisitStatus.CHECKING_IN:
        raise VisitAlreadyStarted(f"Visit {visit.id} is {visit.status.value}.", visit_id=visit.id)
    ensure_stop_open(session, visit)
    sheet = session.get_one(VisitSheet, visit.sheet_id)
    hours.ensure_door_open(session, visit, sheet)
    hours.ensure_eligible(session, visit, sheet)
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
    aftermath.sync_stop(session, visit)
    presence.assess_visit(session, visit, PresenceStage.START, rules)
    return visit


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


def _ensure_departure_checked(session: Session, team: Team, members: list[UUID]) -> None:
    checked = set(session.scalars(select(DepartureCheck.agent_id).where(DepartureCheck.team_id == team.id)))
    missing = departure_unchecked(members, checked)
    if missing:
        raise DepartureCheckMissing(
            "Each agent confirms the departure checklist from their own login before the first visit.",
            missing_agents=missing,
        )


def _ensure_both_checked_in(visit: Visit, members: list[UUID], rules: FieldRules) -> None:
    latest = {check.agent_id: check.received_at for check in visit.check_ins}
    match pair_at_the_door(members, latest, rules.checkin_max_gap_s):
        case NotCheckedIn(missing):
            raise AgentsNotBothCheckedIn(
                f"{len(missing)} of the team's two agents has not checked in at the address yet.",
                missing_agents=missing,
            )
        case CheckedInApart(gap):
            raise CheckInsTooFarApart(
                f"The check-ins are {gap.total_seconds() / 60:.0f} min apart; both must be within"
                f" {rules.checkin_max_gap_s // 60} min: check in again.",
                gap_s=int(gap.total_seconds()),
            )
