"""The branch's evidence policy: what a visit needs before it can be completed."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.models.branches import Branch
from api.models.visit_evidence import EvidenceItem, EvidenceKind, EvidenceStatus
from api.models.visits import CheckIn, Visit
from api.problems import Conflict, problem_members
from api.rules import evidence as evidence_rules

_IN_CHUNK = 5_000  # visits a query names at once


class EvidenceIncomplete(Conflict):
    title = "The visit's evidence does not meet the branch's policy"
    slug = "evidence-incomplete"
    members = problem_members(
        recording_coverage=(
            float,
            "Share (0 to 1) of the time on site that the accepted recordings cover. The time on site runs from the"
            " first check-in at the door (or a supervisor's start without one) to the moment the outcome was"
            " submitted; a recording covers the span from its capture time for its measured duration.",
        ),
        required_coverage=(float, "The share the branch requires (its evidence_recording_coverage)."),
        missing_photos=(list[str], "Photo purposes the branch requires that no accepted photo has."),
    )


def shortfall(session: Session, visit: Visit, until: datetime) -> evidence_rules.Shortfall:
    """How the accepted evidence measures up to the branch's policy for the time on site: from the first check-in
    (or a supervisor's start) to `until`, when the outcome was submitted."""
    branch = session.get_one(Branch, visit.branch_id)
    accepted = list(
        session.scalars(
            select(EvidenceItem).where(
                EvidenceItem.visit_id == visit.id, EvidenceItem.status == EvidenceStatus.ACCEPTED
            )
        )
    )
    photographed = {item.purpose.value for item in accepted if item.kind is EvidenceKind.PHOTO}
    began = arrival(session, visit) or until
    recordings = [
        (item.captured_at, item.captured_at + timedelta(seconds=item.duration_s or 0))
        for item in accepted
        if item.kind is EvidenceKind.RECORDING
    ]
    rules = branches_service.rules_of(branch)
    return evidence_rules.shortfall(
        began, until, recordings, photographed, rules.recording_coverage, rules.photo_purposes
    )


def arrival(session: Session, visit: Visit) -> datetime | None:
    """When the team was at the door: the first check-in, or a supervisor's start without one."""
    return arrivals(session, [visit])[visit.id]


def arrivals(session: Session, visits: Sequence[Visit]) -> dict[UUID, datetime | None]:
    """`arrival` of each visit, read in one query for them all."""
    first: dict[UUID, datetime] = {}
    for start in range(0, len(visits), _IN_CHUNK):
        ids = [visit.id for visit in visits[start : start + _IN_CHUNK]]
        rows = session.execute(
            select(CheckIn.visit_id, func.min(CheckIn.received_at))
            .where(CheckIn.visit_id.in_(ids))
            .group_by(CheckIn.visit_id)
        )
        first |= {visit_id: received for visit_id, received in rows}
    return {visit.id: min(filter(None, (first.get(visit.id), visit.started_at)), default=None) for visit in visits}


def ensure_met(session: Session, visit: Visit, until: datetime) -> None:
    gap = shortfall(session, visit, until)
    if gap.met:
        return
    missing = []
    if gap.coverage < gap.required_coverage:
        missing.append(
            f"recordings cover {gap.coverage:.0%} of the time on site, at least {gap.required_coverage:.0%} is needed"
        )
    if gap.missing_photos:
        missing.append("photos of: " + ", ".join(gap.missing_photos))
    raise EvidenceIncomplete(
        "The visit cannot be completed yet: " + "; ".join(missing) + ".",
        recording_coverage=round(gap.coverage, 3),
        required_coverage=gap.required_coverage,
        missing_photos=gap.missing_photos,
    )
