from uuid import UUID

from fastapi import APIRouter, status

from api.branches import service
from api.branches.schemas import BranchCreate, BranchRead, BranchUpdate
from api.db import SessionDep
from api.deps import Admin, CurrentUser
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import ValidationFailed, problem_responses

router = APIRouter(prefix="/branches", tags=["branches"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(service.BranchNameTaken, service.HoursLooserThanPack),
)
def create_branch(body: BranchCreate, session: SessionDep, user: Admin) -> BranchRead:
    """Open a branch office (admins)."""
    return BranchRead.from_row(service.create_branch(session, body))


@router.get("", responses=problem_responses(ValidationFailed))
def list_branches(
    session: SessionDep, user: CurrentUser, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[BranchRead]:
    """Branches you belong to (admins: all)."""
    rows, next_cursor = service.list_branches(session, user, cursor, limit)
    return Page[BranchRead](items=[BranchRead.from_row(b) for b in rows], next_cursor=next_cursor)


@router.get("/{branch_id}", responses=problem_responses(service.BranchNotFound))
def get_branch(branch_id: UUID, session: SessionDep, user: CurrentUser) -> BranchRead:
    """One branch."""
    return BranchRead.from_row(service.get_branch(session, user, branch_id))


@router.patch(
    "/{branch_id}",
    responses=problem_responses(service.BranchNotFound, service.BranchNameTaken, service.HoursLooserThanPack),
)
def update_branch(branch_id: UUID, body: BranchUpdate, session: SessionDep, user: Admin) -> BranchRead:
    """Change a branch's name, time zone, office or visiting hours (admins)."""
    return BranchRead.from_row(service.update_branch(session, user, branch_id, body))
