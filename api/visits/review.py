"""The supervisor's review of a day beside its sheets: where each team is and has been, and the presence scores
of its visits."""

from datetime import date
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.branches.rules import rules_of
from api.db import utcnow
from api.models.users import Role, User
from api.models.visits import Visit
from api.problems import RoleNotAllowed
from api.rules.presence import doubtful
from api.sheets import service as sheets_service
from api.tracks import service as tracks_service
from api.tracks.schemas import DayTracksRead, PresenceBrief
from api.visits.presence import presence_of


def day_tracks(session: Session, user: User, work_date: date, branch_id: UUID | None) -> DayTracksRead:
    """The day's tracks and presence scores of the supervisor's own branch (audited as a read of the tracks)."""
    if user.role is not Role.SUPERVISOR:
        raise RoleNotAllowed("Only the branch's supervisors see its tracks.", role=user.role)
    assert user.branch_id is not None  # only an admin has no branch
    branch = branches_service.get_branch(session, user, branch_id or user.branch_id)
    _, sheets = sheets_service.day_sheets(session, user, work_date, run_id=None, branch_id=branch.id)
    threshold = rules_of(branch).tracking.presence_threshold
    visits = list(session.scalars(select(Visit).where(Visit.sheet_id.in_([sheet.id for sheet in sheets]))))
    assessed = presence_of(session, [visit.id for visit in visits])
    briefs = []
    for visit in visits:
        if not assessed[visit.id]:
            continue
        latest = assessed[visit.id][-1]
        briefs.append(
            PresenceBrief(
                visit_id=visit.id,
                visit_request_id=visit.visit_request_id,
                stage=latest.stage.value,
                score=latest.score,
                doubtful=doubtful(latest.score, threshold),
                flagged=[signal["name"] for signal in latest.signals if signal["flagged"]],
            )
        )
    return DayTracksRead(
        work_date=work_date,
        branch_id=branch.id,
        presence_threshold=threshold,
        teams=tracks_service.day_paths(session, user, branch, work_date, sheets),
        presence=briefs,
        as_of=utcnow(),
    )
