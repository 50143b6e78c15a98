from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from api.branches.service import BranchNotFound, BranchRequired
from api.db import SessionDep
from api.deps import Manager, require_roles
from api.models.teams import Team
from api.models.users import Role, User
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses
from api.schemas import Day
from api.teams import service
from api.teams.schemas import StandDownCreate, TeamCreate, TeamRead, TeamUpdate

router = APIRouter(prefix="/teams", tags=["teams"])

# agents see the teams they are seated in; phone collectors have no business with teams
TeamViewer = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN, Role.AGENT))]

_WRITE_PROBLEMS = (
    RoleNotAllowed,
    service.TeamNotTwoAgents,
    service.TeamDayInvalid,
    service.TeamAgentsNotDistinct,
    service.AgentNotEligible,
    service.AgentInactive,
    service.WorkDateInPast,
    service.AgentAlreadyInTeam,
    service.TeamNameTaken,
)


def _read(session: Session, team: Team) -> TeamRead:
    return TeamRead.from_row(team, service.agents_by_id(session, [team]))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(BranchNotFound, BranchRequired, *_WRITE_PROBLEMS),
)
def create_team(body: TeamCreate, session: SessionDep, user: Manager) -> TeamRead:
    """Seat two agents of a branch in a team for one work date (supervisors and admins)."""
    return _read(session, service.create_team(session, user, body))


@router.get("", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def list_teams(
    session: SessionDep,
    user: TeamViewer,
    work_date: Annotated[Day | None, Query(description="Only teams working on this date.")] = None,
    branch_id: Annotated[UUID | None, Query(description="Only this branch (admins).")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[TeamRead]:
    """Teams of your branch (admins: of every branch; agents: the teams they are in)."""
    rows, next_cursor = service.list_teams(
        session, user, work_date=work_date, branch_id=branch_id, cursor=cursor, limit=limit
    )
    agents = service.agents_by_id(session, rows)
    return Page[TeamRead](items=[TeamRead.from_row(team, agents) for team in rows], next_cursor=next_cursor)


@router.get("/{team_id}", responses=problem_responses(RoleNotAllowed, service.TeamNotFound))
def get_team(team_id: UUID, session: SessionDep, user: TeamViewer) -> TeamRead:
    """One team with its two agents."""
    return _read(session, service.get_team(session, user, team_id))


@router.patch("/{team_id}", responses=problem_responses(service.TeamNotFound, service.TeamAtTheDoor, *_WRITE_PROBLEMS))
def update_team(team_id: UUID, body: TeamUpdate, session: SessionDep, user: Manager) -> TeamRead:
    """Rename a team or replace its two agents (supervisors and admins)."""
    return _read(session, service.update_team(session, user, team_id, body))


@router.post(
    "/{team_id}/stand-down",
    responses=problem_responses(RoleNotAllowed, service.TeamNotFound, service.WorkDateInPast, service.TeamStoodDown),
)
def stand_down_team(team_id: UUID, body: StandDownCreate, session: SessionDep, user: Manager) -> TeamRead:
    """Stand a team down for the rest of its day: no new visit starts, and the next in-day re-plan (POST
    /planning-runs for the date) gives its stops not started to other teams or leaves them out with reasons."""
    return _read(session, service.stand_down(session, user, team_id, body))
