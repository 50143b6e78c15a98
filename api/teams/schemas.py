from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas import Body, FromJson, Patch, Read
from api.teams.models import Team
from api.users.models import User

AgentIds = Annotated[
    list[FromJson[UUID]],
    Field(max_length=10, description="The team's two agents, seat 1 first; both of the team's branch and active."),
]
TeamName = Annotated[str, Field(min_length=1, max_length=60, description="Unique within the branch and work date.")]


class TeamCreate(Body):
    """A new two-agent team for one work date. Supervisors create in their own branch; an admin names the branch."""

    work_date: FromJson[date] = Field(description="The branch's local date the team works; today or later.")
    name: TeamName
    agent_ids: AgentIds
    branch_id: FromJson[UUID] | None = Field(default=None, description="Branch of the team (required for admins).")


class TeamUpdate(Patch):
    """Changes to a team; members left out keep their value. `agent_ids` replaces both seats."""

    name: TeamName | None = None
    agent_ids: AgentIds | None = None


class TeamMemberRead(BaseModel):
    """One seat of a team and the agent in it."""

    seat: int = Field(description="1 or 2.")
    agent_id: UUID
    username: str
    full_name: str


class TeamRead(Read):
    """A two-agent team of a branch for one work date, members in seat order."""

    id: UUID
    branch_id: UUID
    work_date: date
    name: str
    members: list[TeamMemberRead]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, team: Team, agents: Mapping[UUID, User]) -> "TeamRead":
        return cls(
            id=team.id,
            branch_id=team.branch_id,
            work_date=team.work_date,
            name=team.name,
            members=[
                TeamMemberRead(
                    seat=member.seat,
                    agent_id=member.agent_id,
                    username=agents[member.agent_id].username,
                    full_name=agents[member.agent_id].full_name,
                )
                for member in team.members
            ],
            created_at=team.created_at,
            updated_at=team.updated_at,
        )
