"""What a user may see of the visits: the visibility query every lookup and list shares, and what a list of
visits names."""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.models.cases import Address, DebtCase
from api.models.sheets import SheetStop, VisitSheet
from api.models.users import Role, User
from api.models.visits import Outcome, Visit, VisitStatus
from api.pagination import filter_equal, paginate
from api.problems import NotFound, problem_members
from api.scope import in_scope
from api.sheets import service as sheets_service
from api.sheets.schemas import care_flags
from api.teams.service import teams_of
from api.visits.schemas import VisitSubject


class VisitNotFound(NotFound):
    title = "Visit not found"
    slug = "visit-not-found"
    members = problem_members(visit_id=(UUID, "The visit asked for."))


def visible_visits(user: User) -> Select[Visit]:
    query = select(Visit).where(in_scope(user, Visit.branch_id))
    if user.role is Role.AGENT:
        query = query.where(Visit.team_id.in_(teams_of(user.id)))
    elif user.role is Role.PHONE_COLLECTOR:
        query = query.where(Visit.case_id.in_(select(DebtCase.id).where(DebtCase.phone_collector_id == user.id)))
    return query


def get_visit(session: Session, user: User, visit_id: UUID) -> Visit:
    visit = session.scalar(visible_visits(user).where(Visit.id == visit_id))
    if visit is None:
        raise VisitNotFound(f"No visit {visit_id}.", visit_id=visit_id)
    return visit


def outcomes_of(session: Session, visit: Visit) -> list[Outcome]:
    return outcomes_by_visit(session, [visit])[visit.id]


def outcomes_by_visit(session: Session, visits: Sequence[Visit]) -> dict[UUID, list[Outcome]]:
    """The outcomes of each visit in order (amendments last), in one query."""
    found: dict[UUID, list[Outcome]] = {visit.id: [] for visit in visits}
    query = select(Outcome).where(Outcome.visit_id.in_(list(found))).order_by(Outcome.visit_id, Outcome.sequence)
    for outcome in session.scalars(query):
        found[outcome.visit_id].append(outcome)
    return found


def list_visits(
    session: Session,
    user: User,
    *,
    work_date: date | None,
    team_id: UUID | None,
    case_id: UUID | None,
    status: VisitStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Visit], str | None]:
    query = filter_equal(
        visible_visits(user), (Visit.team_id, team_id), (Visit.case_id, case_id), (Visit.status, status)
    )
    if work_date is not None:
        query = query.where(Visit.sheet_id.in_(select(VisitSheet.id).where(VisitSheet.work_date == work_date)))
    return paginate(session, query, Visit, cursor, limit)


def visit_subjects(session: Session, visits: Sequence[Visit]) -> dict[UUID, VisitSubject]:
    """The subjects of `visits`, in one query."""
    stop = (SheetStop.sheet_id == Visit.sheet_id) & (SheetStop.visit_request_id == Visit.visit_request_id)
    rows = session.execute(
        select(
            Visit.id,
            DebtCase.reference,
            DebtCase.debtor_name,
            DebtCase.complaint_history,
            Address.raw_text,
            Address.elderly_resident,
            VisitSheet.team_name,
            SheetStop.position,
        )
        .join(DebtCase, DebtCase.id == Visit.case_id)
        .join(Address, Address.id == Visit.address_id)
        .join(VisitSheet, VisitSheet.id == Visit.sheet_id)
        .outerjoin(SheetStop, stop)
        .where(Visit.id.in_([visit.id for visit in visits]))
    )
    return {
        visit_id: VisitSubject(reference, name, text, team, position, care_flags(complaint, elderly))
        for visit_id, reference, name, complaint, text, elderly, team, position in rows
    }


def ensure_stop_open(session: Session, visit: Visit) -> None:
    """Nothing more is done at a stop that was cancelled (its address confirmed invalid, say)."""
    sheets_service.ensure_not_cancelled(sheets_service.stop_of(session, visit.sheet_id, visit.visit_request_id))
