from datetime import date
from uuid import UUID

from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import Session

from api.auth.security import hash_password
from api.branches import service as branches_service
from api.db import utcnow
from api.models.auth import RefreshToken
from api.models.branches import Branch
from api.models.teams import TeamMember
from api.models.users import Role, User
from api.pagination import filter_equal, paginate
from api.problems import Conflict, NotFound, RoleNotAllowed, ValidationFailed, problem_members
from api.scope import in_scope
from api.users.schemas import UserCreate, UserUpdate


class UserNotFound(NotFound):
    title = "User not found"
    slug = "user-not-found"
    members = problem_members(user_id=(UUID, "The user asked for."))


class UsernameTaken(Conflict):
    title = "Username is taken"
    slug = "username-taken"
    members = problem_members(username=(str, "The username."))


class AgentHasTeams(Conflict):
    title = "Agent is in a team"
    slug = "agent-has-teams"
    members = problem_members(work_dates=(list[date], "The days the agent is in a team."))


class AdminHasNoBranch(ValidationFailed):
    title = "This admin belongs to no branch"
    slug = "admin-has-no-branch"


# who may create or change users of which role
_MANAGED_BY = {
    Role.ADMIN: set(Role),
    Role.SUPERVISOR: {Role.AGENT, Role.PHONE_COLLECTOR},
}


def _ensure_may_manage(actor: User, role: Role) -> None:
    if role not in _MANAGED_BY.get(actor.role, set()):
        raise RoleNotAllowed(f"A {actor.role.value} may not manage {role.value} accounts.", role=actor.role)


def visible_users(user: User) -> Select[User]:
    return select(User).where(in_scope(user, User.branch_id))


def get_user(session: Session, actor: User, user_id: UUID) -> User:
    user = session.scalar(visible_users(actor).where(User.id == user_id))
    if user is None:
        raise UserNotFound(f"No user {user_id}.", user_id=user_id)
    return user


def list_users(
    session: Session,
    actor: User,
    *,
    branch_id: UUID | None,
    role: Role | None,
    active: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[User], str | None]:
    query = filter_equal(visible_users(actor), (User.branch_id, branch_id), (User.role, role), (User.active, active))
    return paginate(session, query, User, cursor, limit)


def create_user(session: Session, actor: User, data: UserCreate) -> User:
    _ensure_may_manage(actor, data.role)
    if data.role is Role.ADMIN and data.branch_id is None:
        branch_id = None
    else:
        branch_id = branches_service.branch_for_new_row(session, actor, data.branch_id).id
    if session.scalar(select(exists().where(User.username == data.username))):
        raise UsernameTaken(f"Username {data.username!r} is taken.", username=data.username)
    user = User(
        username=data.username,
        full_name=data.full_name,
        role=data.role,
        branch_id=branch_id,
        password_hash=hash_password(data.password.get_secret_value()),
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def _team_dates(session: Session, user: User) -> list[str]:
    rows = session.scalars(
        select(TeamMember.work_date).where(TeamMember.agent_id == user.id).order_by(TeamMember.work_date)
    )
    return [d.isoformat() for d in rows]


def update_user(session: Session, actor: User, user_id: UUID, data: UserUpdate) -> User:
    user = get_user(session, actor, user_id)
    _ensure_may_manage(actor, user.role)
    changes = data.changes()
    if "role" in changes:
        _ensure_may_manage(actor, changes["role"])
        if changes["role"] is not user.role and user.role is Role.AGENT and (dates := _team_dates(session, user)):
            raise AgentHasTeams("Take the agent out of their teams before changing the role.", work_dates=dates)
        if changes["role"] is not Role.ADMIN and user.branch_id is None:
            raise AdminHasNoBranch(
                "Only an admin may belong to no branch; create an account in a branch for the new role.",
                errors=[{"pointer": "#/role", "detail": "needs a branch this user does not have"}],
            )
        user.role = changes["role"]
    if "full_name" in changes:
        user.full_name = changes["full_name"]
    if "password" in changes:
        user.password_hash = hash_password(changes["password"].get_secret_value())
        _end_sessions(session, user)
    if "active" in changes and changes["active"] != user.active:
        if not changes["active"]:
            branch = session.get(Branch, user.branch_id) if user.branch_id else None
            today = branches_service.local_today(branch).isoformat() if branch else ""
            upcoming = [d for d in _team_dates(session, user) if d >= today]
            if upcoming:
                raise AgentHasTeams(
                    "Take the agent out of their upcoming teams before deactivating.", work_dates=upcoming
                )
            _end_sessions(session, user)
        user.active = changes["active"]
    session.flush()
    return user


def _end_sessions(session: Session, user: User) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
