from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.db import SessionDep
from api.deps import require_roles
from api.findings import service
from api.findings.schemas import AnyFindingEvent, event_of
from api.models.users import Role, User
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses

router = APIRouter(tags=["findings"])

FindingReader = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN, Role.PHONE_COLLECTOR, Role.AGENT))]


class FindingFeed(BaseModel):
    """Findings after the cursor, oldest first, and the cursor to ask with next."""

    items: list[AnyFindingEvent]
    next_after: int = Field(description="Pass as `after` next time; unchanged when there was nothing new.")


@router.get("/events", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def list_findings(
    session: SessionDep,
    user: FindingReader,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="The last finding id seen; 0 for the start.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FindingFeed:
    """The findings feed of your scope (supervisors: the branch; phone collectors: their cases; agents: changes to
    their teams' sheets), in order."""
    rows = service.feed(session, user, after, limit)
    return FindingFeed(
        items=[event_of(row) for row in rows],
        next_after=rows[-1].id if rows else after,
    )
