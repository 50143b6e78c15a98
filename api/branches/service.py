from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.branches.rules import rules_of
from api.branches.schemas import BranchCreate, BranchUpdate
from api.db import utcnow
from api.models.branches import Branch
from api.models.users import Role, User
from api.pagination import paginate
from api.problems import Conflict, NotFound, ValidationFailed, problem_members
from api.rules.branch import looser_hours
from api.scope import in_scope


class BranchNotFound(NotFound):
    title = "Branch not found"
    slug = "branch-not-found"
    members = problem_members(branch_id=(UUID, "The branch asked for."))


class BranchNameTaken(Conflict):
    title = "A branch with this name exists"
    slug = "branch-name-taken"
    members = problem_members(branch_id=(UUID, "The branch that has the name."))


class HoursLooserThanPack(ValidationFailed):
    title = "The branch's hours are looser than its jurisdiction allows"
    slug = "hours-looser-than-pack"
    members = problem_members(
        pack=(str, "The branch's jurisdiction pack."),
        pack_from=(str, "The pack's earliest visit, HH:MM local time."),
        pack_until=(str, "The pack's latest end of a visit."),
    )


class BranchRequired(ValidationFailed):
    title = "Name the branch"
    slug = "branch-required"


def visible_branches(user: User) -> Select[Branch]:
    return select(Branch).where(in_scope(user, Branch.id))


def get_branch(session: Session, user: User, branch_id: UUID) -> Branch:
    branch = session.scalar(visible_branches(user).where(Branch.id == branch_id))
    if branch is None:
        raise BranchNotFound(f"No branch {branch_id}.", branch_id=branch_id)
    return branch


def branch_for_new_row(session: Session, user: User, branch_id: UUID | None) -> Branch:
    """The branch a new row goes to: an admin names it; others create in their own branch (or name it)."""
    if branch_id is None:
        if user.role is Role.ADMIN:
            raise BranchRequired(
                "An admin must give branch_id.", errors=[{"pointer": "#/branch_id", "detail": "required"}]
            )
        assert user.branch_id is not None
        branch_id = user.branch_id
    return get_branch(session, user, branch_id)


def local_today(branch: Branch, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(branch.timezone)).date()


def list_branches(session: Session, user: User, cursor: str | None, limit: int) -> tuple[list[Branch], str | None]:
    return paginate(session, visible_branches(user), Branch, cursor, limit)


def _ensure_name_free(session: Session, name: str, except_id: UUID | None = None) -> None:
    clash = session.scalar(select(Branch.id).where(Branch.name == name))
    if clash is not None and clash != except_id:
        raise BranchNameTaken(f"Branch {name!r} already exists.", branch_id=clash)


def create_branch(session: Session, data: BranchCreate) -> Branch:
    _ensure_name_free(session, data.name)
    branch = Branch(
        name=data.name,
        timezone=data.timezone,
        language=data.language,
        office_address=data.office_address,
        office_point=data.office.to_wkt(),
        jurisdiction=data.jurisdiction,
        visiting_from=data.visiting_from,
        visiting_until=data.visiting_until,
        max_on_site_min=data.max_on_site_min,
        track_retention_days=data.track_retention_days,
        out_of_contact_min=data.out_of_contact_min,
        off_route_m=data.off_route_m,
        off_route_min=data.off_route_min,
        presence_threshold=data.presence_threshold,
        departure_checklist=data.departure_checklist,
        evidence_recording_coverage=data.evidence_recording_coverage,
        evidence_photo_purposes=[purpose.value for purpose in data.evidence_photo_purposes],
        travel_hour_factors=data.travel_hour_factors,
        promise_grace_days=data.promise_grace_days,
    )
    _ensure_hours_allowed(branch)
    session.add(branch)
    session.flush()
    return branch


def update_branch(session: Session, user: User, branch_id: UUID, data: BranchUpdate) -> Branch:
    branch = get_branch(session, user, branch_id)
    changes: dict[str, Any] = data.changes()
    if "name" in changes:
        _ensure_name_free(session, changes["name"], except_id=branch.id)
    if "office" in changes:
        branch.office_point = changes.pop("office").to_wkt()
    if "evidence_photo_purposes" in changes:
        changes["evidence_photo_purposes"] = [purpose.value for purpose in changes["evidence_photo_purposes"]]
    for name, value in changes.items():
        setattr(branch, name, value)
    _ensure_hours_allowed(branch)
    session.flush()
    session.refresh(branch)
    return branch


def _ensure_hours_allowed(branch: Branch) -> None:
    """The branch's own hours keep their order and may only be stricter than its pack's."""
    rules = rules_of(branch)
    if rules.opens >= rules.closes:
        raise ValidationFailed(
            f"The visiting hours {rules.opens:%H:%M}-{rules.closes:%H:%M} are empty: visiting_from must be earlier"
            " than visiting_until (and than the pack's end).",
            errors=[{"pointer": "#/visiting_from", "detail": "not earlier than visiting_until"}],
        )
    why = looser_hours(rules.pack, branch.visiting_from, branch.visiting_until)
    if why is not None:
        field = (
            "visiting_from"
            if branch.visiting_from and branch.visiting_from < rules.pack.hours.opens
            else "visiting_until"
        )
        raise HoursLooserThanPack(
            f"A branch's hours may only be stricter than its jurisdiction's: {why}.",
            pack=rules.pack.code.value,
            pack_from=rules.pack.hours.opens.strftime("%H:%M"),
            pack_until=rules.pack.hours.closes.strftime("%H:%M"),
            errors=[{"pointer": f"#/{field}", "detail": why}],
        )
