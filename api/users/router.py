from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.branches.service import BranchNotFound, BranchRequired
from api.db import SessionDep
from api.deps import CurrentUser, Manager
from api.models.users import Role
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import RoleNotAllowed, problem_responses
from api.users import service
from api.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(tags=["users"])


@router.get("/me")
def read_me(user: CurrentUser) -> UserRead:
    """The logged-in user."""
    return UserRead.model_validate(user)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, BranchNotFound, BranchRequired, service.UsernameTaken),
)
def create_user(body: UserCreate, session: SessionDep, user: Manager) -> UserRead:
    """Create an account (supervisors: agents and phone collectors of their branch; admins: anyone)."""
    return UserRead.model_validate(service.create_user(session, user, body))


@router.get("/users")
def list_users(
    session: SessionDep,
    user: Manager,
    branch_id: Annotated[UUID | None, Query(description="Only this branch (admins).")] = None,
    role: Annotated[Role | None, Query(description="Only this role.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or deactivated (false) users.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[UserRead]:
    """Users of your branch (admins: of every branch)."""
    rows, next_cursor = service.list_users(
        session, user, branch_id=branch_id, role=role, active=active, cursor=cursor, limit=limit
    )
    return Page[UserRead](items=[UserRead.model_validate(u) for u in rows], next_cursor=next_cursor)


@router.get("/users/{user_id}", responses=problem_responses(service.UserNotFound))
def get_user(user_id: UUID, session: SessionDep, user: Manager) -> UserRead:
    """One user of your branch."""
    return UserRead.model_validate(service.get_user(session, user, user_id))


@router.patch(
    "/users/{user_id}",
    responses=problem_responses(service.UserNotFound, RoleNotAllowed, service.AgentHasTeams, service.AdminHasNoBranch),
)
def update_user(user_id: UUID, body: UserUpdate, session: SessionDep, user: Manager) -> UserRead:
    """Rename, change the role or password of, deactivate or reactivate a user."""
    return UserRead.model_validate(service.update_user(session, user, user_id, body))
