"""The findings feed: what visits learn, in order, for the supervisor of the branch and the case's phone collector."""

from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.findings.schemas import payload_of
from api.models.cases import DebtCase
from api.models.findings import STAFF_ONLY, Finding, FindingKind
from api.models.teams import Team
from api.models.users import Role, User
from api.scope import in_scope
from api.teams.service import teams_of


def publish(session: Session, case: DebtCase, kind: FindingKind, **payload: Any) -> Finding:
    """Add a finding about the case to the feed, in the caller's transaction; its payload must be its kind's
    (`api.findings.schemas`)."""
    finding = stage(session, case, kind, **payload)
    session.flush()
    return finding


def stage(session: Session, case: DebtCase, kind: FindingKind, **payload: Any) -> Finding:
    """`publish` without the flush, for a caller adding many that flushes them once (they keep their order)."""
    stored = payload_of(kind, payload | {"case_reference": case.reference})
    finding = Finding(branch_id=case.branch_id, case_id=case.id, kind=kind, payload=stored)
    session.add(finding)
    return finding


def publish_for_team(session: Session, team: Team, kind: FindingKind, **payload: Any) -> Finding:
    """Add a finding about a team's day (from its tracks) to the branch's feed, in the caller's transaction."""
    stored = payload_of(kind, payload | {"team_id": team.id, "team_name": team.name, "work_date": team.work_date})
    finding = Finding(branch_id=team.branch_id, team_id=team.id, kind=kind, payload=stored)
    session.add(finding)
    session.flush()
    return finding


def publish_for_branch(session: Session, branch_id: UUID, kind: FindingKind, **payload: Any) -> Finding:
    """Add a finding about the branch itself (its geocoding) to its feed, in the caller's transaction."""
    finding = Finding(branch_id=branch_id, kind=kind, payload=payload_of(kind, payload))
    session.add(finding)
    session.flush()
    return finding


def visible_findings(user: User) -> Select[Finding]:
    """Managers see their branch's feed; a phone collector what is about their cases; an agent the changes to their
    own teams' sheets."""
    query = select(Finding).where(in_scope(user, Finding.branch_id))
    if user.role is Role.AGENT:
        return query.where(Finding.kind == FindingKind.SHEET_CHANGED, Finding.team_id.in_(teams_of(user.id)))
    if user.role is Role.PHONE_COLLECTOR:
        query = query.where(
            Finding.case_id.in_(select(DebtCase.id).where(DebtCase.phone_collector_id == user.id)),
            Finding.kind.not_in(STAFF_ONLY),
        )
    return query


def feed(session: Session, user: User, after: int, limit: int) -> list[Finding]:
    """The user's findings after the cursor, oldest first."""
    return list(session.scalars(visible_findings(user).where(Finding.id > after).order_by(Finding.id).limit(limit)))
