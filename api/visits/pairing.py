"""A team's pair does not change while one of its visits is open: the two who checked in at the door are the two
who report and confirm its outcome. Checked on every flush that takes a seat from a team (`create_app` wires it)."""

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from api.models.teams import Team, TeamMember
from api.models.visits import Visit, VisitStatus
from api.teams.service import TeamAtTheDoor


def refuse_repair_at_the_door(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: refuse it (`TeamAtTheDoor`) if it takes a seat from a team with a visit not yet confirmed."""
    teams = {row.team_id for row in session.deleted if isinstance(row, TeamMember)}
    teams |= {row.id for row in session.dirty if isinstance(row, Team) and inspect(row).attrs.members.history.deleted}
    if not teams:
        return
    with session.no_autoflush:
        found = session.execute(
            select(Visit.id, Visit.team_id)
            .where(Visit.team_id.in_(teams), Visit.status != VisitStatus.COMPLETED)
            .limit(1)
        ).first()
        if found is None:
            return
        team = session.get_one(Team, found.team_id)
    raise TeamAtTheDoor(
        f"{team.name} has a visit that both its agents have not yet closed: its pair changes once the visit is"
        " confirmed.",
        team_id=team.id,
        visit_id=found.id,
    )
