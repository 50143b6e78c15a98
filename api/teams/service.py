from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.db import utcnow
from api.models.branches import Branch
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.pagination import filter_equal, paginate
from api.problems import Conflict, NotFound, ValidationFailed, problem_members
from api.scope import in_scope
from api.teams.schemas import StandDownCreate, TeamCreate, TeamUpdate, lunch_break
from api.users import service as users_service


class TeamNotFound(NotFound):
    title = "Team not found"
    slug = "team-not-found"
    members = problem_members(team_id=(UUID, "The team asked for."))


class TeamNotTwoAgents(ValidationFailed):
    title = "A team has exactly two agents"
    slug = "team-not-two-agents"


class TeamAgentsNotDistinct(ValidationFailed):
    title = "A team's two agents must be different people"
    slug = "team-agents-not-distinct"
    members = problem_members(agent_id=(UUID, "The agent named twice."))


class AgentNotEligible(ValidationFailed):
    title = "Not an agent of the team's branch"
    slug = "agent-not-eligible"
    members = problem_members(agent_id=(UUID, "The user who is not an agent of the branch."))


class AgentInactive(ValidationFailed):
    title = "Agent is deactivated"
    slug = "agent-inactive"
    members = problem_members(agent_id=(UUID, "The inactive agent."))


class WorkDateInPast(ValidationFailed):
    title = "Work date is in the past"
    slug = "work-date-in-past"
    members = problem_members(
        work_date=(date, "The date asked for."),
        today=(date, "Today in the branch's time zone."),
    )


class TeamDayInvalid(ValidationFailed):
    title = "The team's shift and break do not fit together"
    slug = "team-day-invalid"


class AgentAlreadyInTeam(Conflict):
    title = "Agent is already in a team on that date"
    slug = "agent-already-in-team"
    members = problem_members(
        agent_id=(UUID, "The agent."),
        team_id=(UUID, "The team the agent is in that day."),
        work_date=(date, "The day."),
    )


class TeamNameTaken(Conflict):
    title = "A team with this name exists on that date"
    slug = "team-name-taken"
    members = problem_members(team_id=(UUID, "The team of that day with the name."))


class TeamStoodDown(Conflict):
    title = "The team is stood down for the rest of its day"
    slug = "team-stood-down"
    members = problem_members(
        team_id=(UUID, "The team."),
        stood_down_at=(datetime, "When it was stood down."),
        reason=(str, "Why, in words."),
    )


class TeamAtTheDoor(Conflict):
    title = "The team's pair cannot change while one of its visits is open"
    slug = "team-at-the-door"
    members = problem_members(team_id=(UUID, "The team."), visit_id=(UUID, "Its visit not yet confirmed by both."))


def ensure_not_stood_down(team: Team) -> None:
    if team.stood_down_at is not None:
        raise TeamStoodDown(
            f"{team.name} was stood down at {team.stood_down_at:%H:%M} UTC ({team.stood_down_reason}): its stops go"
            " to other teams.",
            team_id=team.id,
            stood_down_at=team.stood_down_at,
            reason=team.stood_down_reason,
        )


def stand_down(session: Session, user: User, team_id: UUID, data: StandDownCreate) -> Team:
    """Stand the team down for the rest of its day: no new visit starts; plans made from now leave it its stops with
    a visit or cancelled and give the others to other teams (or leave them out, with reasons)."""
    team = get_team(session, user, team_id)
    branch = session.get_one(Branch, team.branch_id)
    _ensure_not_past(branch, team.work_date)
    ensure_not_stood_down(team)
    team.stood_down_at, team.stood_down_reason = utcnow(), data.reason
    session.flush()
    return team


def teams_of(agent_id: UUID) -> Select[UUID]:
    """The ids of the teams the agent is seated in, as a subquery."""
    return select(TeamMember.team_id).where(TeamMember.agent_id == agent_id)


def visible_teams(user: User) -> Select[Team]:
    query = select(Team).where(in_scope(user, Team.branch_id))
    if user.role is Role.AGENT:
        query = query.where(Team.id.in_(teams_of(user.id)))
    return query


def get_team(session: Session, user: User, team_id: UUID) -> Team:
    team = session.scalar(visible_teams(user).where(Team.id == team_id))
    if team is None:
        raise TeamNotFound(f"No team {team_id}.", team_id=team_id)
    return team


def list_teams(
    session: Session,
    user: User,
    *,
    work_date: date | None,
    branch_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Team], str | None]:
    query = filter_equal(visible_teams(user), (Team.work_date, work_date), (Team.branch_id, branch_id))
    return paginate(session, query, Team, cursor, limit)


def agents_by_id(session: Session, teams: Sequence[Team]) -> dict[UUID, User]:
    """The agents seated in `teams` (always of the teams' own branch), for showing their names."""
    ids = {member.agent_id for team in teams for member in team.members}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def create_team(session: Session, user: User, data: TeamCreate) -> Team:
    _ensure_two_distinct(data.agent_ids)
    branch = branches_service.branch_for_new_row(session, user, data.branch_id)
    _ensure_not_past(branch, data.work_date)
    _ensure_agents_eligible(session, user, branch.id, data.agent_ids)
    _ensure_name_free(session, branch.id, data.work_date, data.name)
    _ensure_agents_free(session, data.agent_ids, data.work_date)
    team = Team(branch_id=branch.id, work_date=data.work_date, name=data.name)
    _set_day(team, {field: getattr(data, field) for field in _DAY_FIELDS})
    team.members = _seats(branch.id, data.work_date, data.agent_ids)
    session.add(team)
    session.flush()  # the database's keys back up the checks against a concurrent request (409 conflict)
    return team


def update_team(session: Session, user: User, team_id: UUID, data: TeamUpdate) -> Team:
    team = get_team(session, user, team_id)
    branch = session.get(Branch, team.branch_id)
    assert branch is not None
    _ensure_not_past(branch, team.work_date)
    changes = data.changes()
    name: str | None = changes.get("name")
    agent_ids: list[UUID] | None = changes.get("agent_ids")
    if agent_ids is not None:
        _ensure_two_distinct(agent_ids)
    if not changes:
        return team
    if agent_ids is not None:
        _ensure_agents_eligible(session, user, team.branch_id, agent_ids)
    _set_day(team, {field: getattr(data, field) for field in changes if field in _DAY_FIELDS})
    if name is not None:
        _ensure_name_free(session, team.branch_id, team.work_date, name, except_team_id=team_id)
        team.name = name
    if agent_ids is not None:
        _ensure_agents_free(session, agent_ids, team.work_date, except_team_id=team_id)
        # both seats are replaced: the old rows must be gone before the new ones take their keys
        team.members.clear()
        session.flush()
        team.members.extend(_seats(team.branch_id, team.work_date, agent_ids))
    team.updated_at = utcnow()
    session.flush()
    return team


_DAY_FIELDS = frozenset(
    {"shift_start", "shift_end", "lunch_break", "max_visits", "experienced", "travel_mode", "start_point", "end_point"}
)


def _set_day(team: Team, values: Mapping[str, Any]) -> None:
    """Apply the planning members given (a full set on create, the changed ones on update) and check that the
    shift and the break fit together."""
    for field, value in values.items():
        if field == "lunch_break":
            team.break_from = value.starts_after if value else None
            team.break_until = value.ends_before if value else None
            team.break_minutes = value.minutes if value else 0
        elif field in ("start_point", "end_point"):
            prefix = field.removesuffix("_point")
            setattr(team, f"{prefix}_lat", value.lat if value else None)
            setattr(team, f"{prefix}_lon", value.lon if value else None)
        else:
            setattr(team, field, value)
    _ensure_day_fits(team)


def _ensure_day_fits(team: Team) -> None:
    if team.shift_start >= team.shift_end:
        raise TeamDayInvalid(
            f"The shift must start before it ends ({team.shift_start:%H:%M} >= {team.shift_end:%H:%M}).",
            errors=[{"pointer": "#/shift_end", "detail": "not after shift_start"}],
        )
    rest = lunch_break(team)
    if rest is None:
        return
    room_min = _minutes(rest.ends_before) - _minutes(rest.starts_after)
    if rest.starts_after < team.shift_start or rest.ends_before > team.shift_end or room_min < rest.minutes:
        raise TeamDayInvalid(
            f"A {rest.minutes}-minute break between {rest.starts_after:%H:%M} and {rest.ends_before:%H:%M}"
            f" does not fit in the shift {team.shift_start:%H:%M}–{team.shift_end:%H:%M}.",
            errors=[{"pointer": "#/lunch_break", "detail": "must lie inside the shift and leave room for its minutes"}],
        )


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _seats(branch_id: UUID, work_date: date, agent_ids: list[UUID]) -> list[TeamMember]:
    return [
        TeamMember(seat=seat, agent_id=agent_id, branch_id=branch_id, work_date=work_date)
        for seat, agent_id in enumerate(agent_ids, start=1)
    ]


def _ensure_two_distinct(agent_ids: list[UUID]) -> None:
    if len(agent_ids) != 2:
        raise TeamNotTwoAgents(
            f"A team has exactly two agents; {len(agent_ids)} given.",
            errors=[{"pointer": "#/agent_ids", "detail": "give exactly two agent ids"}],
        )
    if agent_ids[0] == agent_ids[1]:
        raise TeamAgentsNotDistinct(
            "The same agent cannot take both seats.",
            agent_id=agent_ids[0],
            errors=[{"pointer": "#/agent_ids/1", "detail": "same agent as seat 1"}],
        )


def _ensure_not_past(branch: Branch, work_date: date) -> None:
    today = branches_service.local_today(branch)
    if work_date < today:
        raise WorkDateInPast(
            f"{work_date.isoformat()} is before the branch's today, {today.isoformat()}.",
            work_date=work_date,
            today=today,
        )


def _ensure_agents_eligible(session: Session, actor: User, branch_id: UUID, agent_ids: list[UUID]) -> None:
    # users the actor may not see are treated like missing ones, so other branches do not leak
    candidates = users_service.visible_users(actor).where(User.id.in_(agent_ids), User.branch_id == branch_id)
    users = {user.id: user for user in session.scalars(candidates)}
    for index, agent_id in enumerate(agent_ids):
        agent = users.get(agent_id)
        if agent is None or agent.role is not Role.AGENT:
            raise AgentNotEligible(
                f"{agent_id} is not an agent of the team's branch.",
                agent_id=agent_id,
                errors=[{"pointer": f"#/agent_ids/{index}", "detail": "not an agent of the team's branch"}],
            )
        if not agent.active:
            raise AgentInactive(
                f"Agent {agent.username} is deactivated.",
                agent_id=agent_id,
                errors=[{"pointer": f"#/agent_ids/{index}", "detail": "deactivated"}],
            )


def _ensure_name_free(
    session: Session, branch_id: UUID, work_date: date, name: str, except_team_id: UUID | None = None
) -> None:
    query = select(Team.id).where(Team.branch_id == branch_id, Team.work_date == work_date, Team.name == name)
    if except_team_id is not None:
        query = query.where(Team.id != except_team_id)
    clash = session.scalar(query)
    if clash is not None:
        raise TeamNameTaken(f"Team {name!r} already exists on {work_date.isoformat()}.", team_id=clash)


def _ensure_agents_free(
    session: Session, agent_ids: list[UUID], work_date: date, except_team_id: UUID | None = None
) -> None:
    query = select(TeamMember.agent_id, TeamMember.team_id).where(
        TeamMember.agent_id.in_(agent_ids), TeamMember.work_date == work_date
    )
    if except_team_id is not None:
        query = query.where(TeamMember.team_id != except_team_id)
    taken: dict[UUID, UUID] = {agent_id: team_id for agent_id, team_id in session.execute(query)}
    for agent_id in agent_ids:
        if agent_id in taken:
            raise AgentAlreadyInTeam(
                f"Agent {agent_id} is already in a team on {work_date.isoformat()}.",
                agent_id=agent_id,
                team_id=taken[agent_id],
                work_date=work_date,
            )
