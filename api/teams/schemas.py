from collections.abc import Mapping
from datetime import date, time
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.geo import GeoPoint
from api.models.teams import Team
from api.models.users import User
from api.schemas import Body, FromJson, Instant, LocalTime, Patch, Read
from routing.matrix import TravelMode

AgentIds = Annotated[
    list[FromJson[UUID]],
    Field(max_length=10, description="The team's two agents, seat 1 first; both of the team's branch and active."),
]
TeamName = Annotated[str, Field(min_length=1, max_length=60, description="Unique within the branch and work date.")]
MaxVisits = Annotated[int, Field(ge=1, le=60, description="Most visits the team is planned for in a day.")]
Experienced = Annotated[bool, Field(description="May be sent to cases with a complaint history.")]
StartPoint = Annotated[GeoPoint | None, Field(description="Where the team sets out; null: the branch office.")]
EndPoint = Annotated[GeoPoint | None, Field(description="Where the team ends its day; null: the branch office.")]
Travel = Annotated[
    FromJson[TravelMode] | None,
    Field(
        description="How the team travels: driving, cycling (e-bikes), walking or transit; its speed and, on a"
        " branch's road data, its profile (car, bicycle, foot: `fieldvisit roads build --profile`). null: the"
        " server's FIELDVISIT_PLANNING__TRAVEL_MODE."
    ),
]


class BreakWindow(BaseModel):
    """A break of `minutes` taken in one piece somewhere within [starts_after, ends_before] (branch-local)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    starts_after: LocalTime
    ends_before: LocalTime
    minutes: int = Field(ge=1, le=240)


LUNCH = BreakWindow(starts_after=time(11, 30), ends_before=time(13, 30), minutes=45)


class TeamCreate(Body):
    """A new two-agent team for one work date. Supervisors create in their own branch; an admin names the branch."""

    work_date: FromJson[date] = Field(description="The branch's local date the team works; today or later.")
    name: TeamName
    agent_ids: AgentIds
    branch_id: FromJson[UUID] | None = Field(default=None, description="Branch of the team (required for admins).")
    shift_start: LocalTime = Field(default=time(9, 0), description="Leaves its start point at or after this time.")
    shift_end: LocalTime = Field(default=time(18, 0), description="Is back at its end point by this time.")
    lunch_break: BreakWindow | None = Field(
        default_factory=lambda: LUNCH.model_copy(), description="The day's break inside the shift; null: none."
    )
    max_visits: MaxVisits = 16
    experienced: Experienced = False
    travel_mode: Travel = None
    start_point: StartPoint = None
    end_point: EndPoint = None


class TeamUpdate(Patch):
    """Changes to a team; members left out keep their value. `agent_ids` replaces both seats."""

    nullable = frozenset({"lunch_break", "start_point", "end_point", "travel_mode"})

    name: TeamName | None = None
    agent_ids: AgentIds | None = None
    shift_start: LocalTime | None = None
    shift_end: LocalTime | None = None
    lunch_break: BreakWindow | None = None
    max_visits: MaxVisits | None = None
    experienced: Experienced | None = None
    travel_mode: Travel = None
    start_point: StartPoint = None
    end_point: EndPoint = None


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
    shift_start: LocalTime
    shift_end: LocalTime
    lunch_break: BreakWindow | None
    max_visits: int
    experienced: bool
    travel_mode: TravelMode | None = Field(description="How the team travels; null: as the server's settings say.")
    start_point: GeoPoint | None = Field(description="Null: the branch office.")
    end_point: GeoPoint | None = Field(description="Null: the branch office.")
    stood_down_at: Instant | None = Field(description="When it was stood down for the rest of its day; else null.")
    stood_down_reason: str
    created_at: Instant
    updated_at: Instant

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
            shift_start=team.shift_start,
            shift_end=team.shift_end,
            lunch_break=lunch_break(team),
            max_visits=team.max_visits,
            experienced=team.experienced,
            travel_mode=team.travel_mode,
            start_point=_point(team.start_lat, team.start_lon),
            end_point=_point(team.end_lat, team.end_lon),
            stood_down_at=team.stood_down_at,
            stood_down_reason=team.stood_down_reason,
            created_at=team.created_at,
            updated_at=team.updated_at,
        )


def lunch_break(team: Team) -> BreakWindow | None:
    if team.break_minutes == 0 or team.break_from is None or team.break_until is None:
        return None
    return BreakWindow(starts_after=team.break_from, ends_before=team.break_until, minutes=team.break_minutes)


def _point(lat: float | None, lon: float | None) -> GeoPoint | None:
    return None if lat is None or lon is None else GeoPoint(lat=lat, lon=lon)


class StandDownCreate(Body):
    """Stand a team down for the rest of its day (an agent did not turn up and no spare agent pairs with the other):
    its stops not started go to other teams through the in-day re-plan, or are left out with reasons."""

    reason: Annotated[str, Field(min_length=5, max_length=1000)] = Field(description="Why, in words kept on the team.")
