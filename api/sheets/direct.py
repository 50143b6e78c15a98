"""A change to a day under way published at once, without a solver run (an urgent insertion, a late team's fix): the
new routes of the teams it changes become a succeeded in-day run of their sheets, each keeping its team's stops with
a visit or cancelled, published as the next versions of those teams' days (`service.publish_run`)."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from api.db import utcnow
from api.geo import point_shape
from api.models.branches import Branch
from api.models.sheets import PlanningRun, RunKind, RunStatus, VisitSheet
from api.models.users import User
from api.sheets import live
from api.sheets import service as sheets_service
from api.sheets.instance import PlannedDay, team_point
from api.sheets.planner import planned_sheet
from routing.plan import Route


def publish_routes(
    session: Session,
    user: User,
    branch: Branch,
    work_date: date,
    day: PlannedDay,
    routes: Mapping[str, Route],
    figures: dict[str, Any],
) -> tuple[PlanningRun, list[VisitSheet]]:
    """Publish `routes` (by team key of `day`) as new versions of those teams' sheets; the run and its sheets."""
    now = utcnow()
    run = PlanningRun(
        branch_id=branch.id,
        work_date=work_date,
        kind=RunKind.IN_DAY,
        status=RunStatus.SUCCEEDED,
        stage="done",
        progress=100,
        time_limit_s=0,  # no solver ran
        requested_by_id=user.id,
        started_at=now,
        finished_at=now,
        figures=figures,
    )
    session.add(run)
    session.flush()
    day_now = live.live_day(session, branch.id, work_date)
    office = point_shape(branch.office_point)
    sheets = []
    for key, route in routes.items():
        team = day.teams[key]
        kept = day_now.teams.get(team.id)
        head = live.visited_path(kept, day_now.requests, team_point(team, "start", (office.y, office.x)))
        sheets.append(planned_sheet(run, team, day, route, kept, head))
    session.add_all(sheets)
    session.flush()
    sheets_service.publish_run(session, user, run.id)
    for sheet in sheets:
        session.refresh(sheet)
    return run, sheets
