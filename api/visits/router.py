from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from api.branches.rules import rules_of
from api.branches.service import BranchNotFound
from api.db import SessionDep
from api.deps import Agent, CurrentUser, FieldRulesDep, Manager, require_roles
from api.models.branches import Branch
from api.models.users import Role, User
from api.models.visits import Visit, VisitStatus
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import ClientIdReused, RoleNotAllowed, ValidationFailed, problem_responses
from api.schemas import Day
from api.sheets.service import SheetNotCurrent, StopCancelled, StopMoved, StopNotOnSheet, VisitSheetNotFound
from api.teams.service import TeamNotFound
from api.tracks.schemas import DayTracksRead
from api.visits import cash, door, hours, outcomes, presence, review, service
from api.visits.evidence_policy import EvidenceIncomplete
from api.visits.schemas import (
    CashApprovalCreate,
    CashApprovalRead,
    CheckInCreate,
    DepartureCheckCreate,
    DepartureCheckRead,
    HoursOverrideCreate,
    OutcomeCreate,
    PresenceRead,
    StartVisit,
    VisitRead,
)

router = APIRouter(tags=["visits"])

Starter = Annotated[User, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]

_OUTCOME_PROBLEMS = (
    RoleNotAllowed,
    service.VisitNotFound,
    outcomes.VisitNotInProgress,
    outcomes.CareNoteRequired,
    cash.CashNotApproved,
    cash.ItemNotApproved,
    outcomes.ThirdPartyAskedAgain,
    ClientIdReused,
    StopCancelled,
)
_DOOR_PROBLEMS = (
    StopNotOnSheet,
    StopCancelled,
    hours.NotTheWorkDate,
    hours.OutsideVisitingHours,
    hours.NotAVisitingDay,
    hours.VisitNotEligible,
)


def _read(session: Session, visit: Visit, user: User) -> VisitRead:
    subject = service.visit_subjects(session, [visit])[visit.id]
    presence = _presence(session, user, [visit])
    return VisitRead.from_row(visit, service.outcomes_of(session, visit), subject, presence[visit.id])


def _presence(session: Session, user: User, visits: Sequence[Visit]) -> dict[UUID, list[PresenceRead]]:
    """The visits' presence assessments, for supervisors and admins only: an agent is not shown what gives a visit
    away."""
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        return {visit.id: [] for visit in visits}
    rows = presence.presence_of(session, [visit.id for visit in visits])
    threshold = {
        visit.id: rules_of(session.get_one(Branch, visit.branch_id)).tracking.presence_threshold for visit in visits
    }
    return {
        visit_id: [PresenceRead.from_row(row, threshold[visit_id]) for row in own] for visit_id, own in rows.items()
    }


@router.post(
    "/teams/{team_id}/departure-checks",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, TeamNotFound, door.ChecklistIncomplete, ClientIdReused),
)
def confirm_departure(
    team_id: UUID, body: DepartureCheckCreate, session: SessionDep, user: Agent
) -> DepartureCheckRead:
    """Confirm, from your own login, that the branch's departure checklist is done (recorder, camera, letters…)."""
    check = door.confirm_departure(session, user, team_id, body)
    return DepartureCheckRead.model_validate(check, from_attributes=True)


@router.post(
    "/visit-sheets/{sheet_id}/stops/{visit_request_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed,
        VisitSheetNotFound,
        SheetNotCurrent,
        StopMoved,
        *_DOOR_PROBLEMS,
        door.CheckInTooFar,
        door.VisitAlreadyStarted,
        ClientIdReused,
    ),
)
def check_in(
    sheet_id: UUID, visit_request_id: UUID, body: CheckInCreate, session: SessionDep, user: Agent, rules: FieldRulesDep
) -> VisitRead:
    """Check in at a stop of your team's sheet with the phone's position; both agents do, each for themselves."""
    return _read(session, door.check_in(session, user, sheet_id, visit_request_id, body, rules), user)


@router.post(
    "/visit-sheets/{sheet_id}/stops/{visit_request_id}/hours-override",
    responses=problem_responses(
        RoleNotAllowed,
        VisitSheetNotFound,
        SheetNotCurrent,
        StopMoved,
        StopNotOnSheet,
        StopCancelled,
        door.VisitAlreadyStarted,
        hours.OverrideNotAllowed,
        hours.OverrideNeedsConsent,
    ),
)
def override_hours(
    sheet_id: UUID, visit_request_id: UUID, body: HoursOverrideCreate, session: SessionDep, user: Manager
) -> VisitRead:
    """Let the team check in and start this stop's visit outside the sheet's work date or the visiting hours, with
    the reason; recorded on the visit. Refused, recording nothing, where the jurisdiction's pack allows no override
    of the rule that keeps the door shut (or, while it is open, of the visiting hours), or allows it only with the
    debtor's consent and the body does not say how it was given (`debtor_consent`)."""
    return _read(session, door.override_hours(session, user, sheet_id, visit_request_id, body), user)


@router.get("/visits", responses=problem_responses(ValidationFailed))
def list_visits(
    session: SessionDep,
    user: CurrentUser,
    work_date: Annotated[Day | None, Query(description="Only visits of this day's sheets.")] = None,
    team_id: Annotated[UUID | None, Query(description="Only this team's visits.")] = None,
    case_id: Annotated[UUID | None, Query(description="Only visits of this case.")] = None,
    status: Annotated[VisitStatus | None, Query(description="Only visits in this state.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[VisitRead]:
    """Visits with their case, address, check-ins and outcomes, oldest first: what a supervisor reviews after the
    day (agents: their team's; phone collectors: their cases')."""
    rows, next_cursor = service.list_visits(
        session, user, work_date=work_date, team_id=team_id, case_id=case_id, status=status, cursor=cursor, limit=limit
    )
    recorded, subjects = service.outcomes_by_visit(session, rows), service.visit_subjects(session, rows)
    assessed = _presence(session, user, rows)
    return Page[VisitRead](
        items=[VisitRead.from_row(visit, recorded[visit.id], subjects[visit.id], assessed[visit.id]) for visit in rows],
        next_cursor=next_cursor,
    )


@router.get("/visits/{visit_id}", responses=problem_responses(service.VisitNotFound))
def get_visit(visit_id: UUID, session: SessionDep, user: CurrentUser) -> VisitRead:
    """A visit with its check-ins and outcomes (agents: their team's; phone collectors: their cases')."""
    return _read(session, service.get_visit(session, user, visit_id), user)


@router.post(
    "/visits/{visit_id}/start",
    responses=problem_responses(
        RoleNotAllowed,
        service.VisitNotFound,
        door.VisitAlreadyStarted,
        *_DOOR_PROBLEMS,
        door.DepartureCheckMissing,
        door.AgentsNotBothCheckedIn,
        door.CheckInsTooFarApart,
        door.OverrideReasonRequired,
    ),
)
def start_visit(
    visit_id: UUID, body: StartVisit, session: SessionDep, user: Starter, rules: FieldRulesDep
) -> VisitRead:
    """Start the visit once both agents checked in near the address; a supervisor may override, with a reason."""
    return _read(session, door.start_visit(session, user, visit_id, body, rules), user)


@router.post(
    "/visits/{visit_id}/outcome", status_code=status.HTTP_201_CREATED, responses=problem_responses(*_OUTCOME_PROBLEMS)
)
def submit_outcome(visit_id: UUID, body: OutcomeCreate, session: SessionDep, user: Agent) -> VisitRead:
    """Submit what happened at the door; your partner confirms it."""
    return _read(session, outcomes.submit_outcome(session, user, visit_id, body), user)


@router.post(
    "/visits/{visit_id}/outcome/confirm",
    responses=problem_responses(
        RoleNotAllowed, service.VisitNotFound, outcomes.NothingToConfirm, outcomes.SameAgentConfirms, EvidenceIncomplete
    ),
)
def confirm_outcome(visit_id: UUID, session: SessionDep, user: Agent, rules: FieldRulesDep) -> VisitRead:
    """Confirm the outcome (or amendment) your partner submitted: the visit is complete."""
    return _read(session, outcomes.confirm_outcome(session, user, visit_id, rules), user)


@router.post(
    "/visits/{visit_id}/outcome/amendments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*_OUTCOME_PROBLEMS, outcomes.NothingToConfirm),
)
def amend_outcome(visit_id: UUID, body: OutcomeCreate, session: SessionDep, user: Agent) -> VisitRead:
    """Correct a confirmed outcome: a new outcome linked to it, confirmed by your partner; both are kept."""
    return _read(session, outcomes.amend_outcome(session, user, visit_id, body), user)


@router.post(
    "/visits/{visit_id}/cash-approvals",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, service.VisitNotFound, cash.VisitCompleted),
)
def approve_cash(visit_id: UUID, body: CashApprovalCreate, session: SessionDep, user: Manager) -> CashApprovalRead:
    """Allow the team to take a cash payment at this visit, up to an amount, or to receive one named item (a
    cheque, a bank card…); without it, cash and items are refused."""
    approval = cash.approve_cash(session, user, visit_id, body)
    return CashApprovalRead.model_validate(approval, from_attributes=True)


@router.get("/visits/{visit_id}/cash-approvals", responses=problem_responses(service.VisitNotFound))
def list_cash_approvals(visit_id: UUID, session: SessionDep, user: CurrentUser) -> list[CashApprovalRead]:
    """The supervisors' approvals of cash and of items at the visit, oldest first."""
    return [
        CashApprovalRead.model_validate(row, from_attributes=True)
        for row in cash.cash_approvals(session, user, visit_id)
    ]


@router.get(
    "/visit-sheets/days/{work_date}/tracks",
    responses=problem_responses(RoleNotAllowed, BranchNotFound, ValidationFailed),
)
def get_day_tracks(
    work_date: Day,
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(Role.SUPERVISOR))],
    branch_id: Annotated[UUID | None, Query(description="Your branch (the default).")] = None,
) -> DayTracksRead:
    """Each team's last position and path of the day, and its visits' presence scores: the review of the day beside
    its sheets (supervisors of the branch; each read is audited)."""
    return review.day_tracks(session, user, work_date, branch_id)
