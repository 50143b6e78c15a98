from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from api.db import SessionDep
from api.deps import Agent, FieldRulesDep, require_roles
from api.models.users import Role, User
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses
from api.teams.service import TeamNotFound
from api.tracks import service
from api.tracks.schemas import PositionsCreate, PositionsReceipt, TeamTrackRead

router = APIRouter(tags=["tracks"])

Supervisor = Annotated[User, Depends(require_roles(Role.SUPERVISOR))]


@router.post("/me/positions", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def send_positions(body: PositionsCreate, session: SessionDep, user: Agent, rules: FieldRulesDep) -> PositionsReceipt:
    """Your phone's fixes, buffered and sent when it can: those taken on duty are stored (a resend is a duplicate),
    the others are refused and not kept; the answer says which."""
    return service.receive_positions(session, user, body, rules)


@router.get("/teams/{team_id}/track", responses=problem_responses(RoleNotAllowed, TeamNotFound, ValidationFailed))
def get_team_track(
    team_id: UUID,
    session: SessionDep,
    user: Supervisor,
    since: Annotated[AwareDatetime | None, Query(description="Only fixes from this moment (phone's clock).")] = None,
) -> TeamTrackRead:
    """The team's on-duty tracks of its day, fix by fix (supervisors of its branch; the read is audited)."""
    return service.team_track(session, user, team_id, since)
