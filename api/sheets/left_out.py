"""Who could take a request a planning run's solver left out, and why not: each team of the run's draft with its
stops in the draft's order, where the request would add least (`routing.insertion`) or why no place fits. The
supervisor pins it to a team that can and re-solves (`PUT /planning-runs/{id}/edits/{request}`)."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models.branches import Branch
from api.models.sheets import PlanningRun, SheetStop, StopState, UnplannedReason, UnplannedRequest, VisitSheet
from api.models.users import User
from api.problems import Conflict, NotFound, problem_members
from api.roads.travel import Travel
from api.sheets import live, urgent
from api.sheets import service as sheets_service
from api.sheets.rest import day_from_now
from api.sheets.warm import previous_routes
from routing.insertion import insertions

# the reasons of the solver: the request could be visited, the teams' days had no room for it
SOLVER_REASONS = frozenset(
    {
        UnplannedReason.OUTSIDE_EVERY_SHIFT,
        UnplannedReason.NO_TEAM_WITH_SKILL,
        UnplannedReason.PIN_IMPOSSIBLE,
        UnplannedReason.LOWER_PRIORITY,
    }
)


class LeftOutRequestNotFound(NotFound):
    title = "The run did not leave this request out"
    slug = "left-out-request-not-found"
    members = problem_members(visit_request_id=(UUID, "The request."))


class LeftOutForNoTeam(Conflict):
    title = "No team can take this request on that day"
    slug = "left-out-for-no-team"
    members = problem_members(
        visit_request_id=(UUID, "The request."),
        reason=(
            str,
            "Why, as a code: the run's reason when it is not about the teams' days (`address_invalid`,"
            " `not_eligible`, `outside_legal_hours`…), or the reason that holds now (`not_plannable`,"
            " `not_eligible`, `outside_legal_hours`, `not_a_visiting_day`, `no_teams`).",
        ),
    )


def team_options(
    session: Session, user: User, run_id: UUID, request_id: UUID, travel: Travel
) -> list[urgent.TeamOption]:
    """Each team of the run where the left-out request would add least to its draft day, cheapest first; then the
    teams that cannot take it, and why."""
    run = sheets_service.get_run(session, user, run_id)
    row = session.scalar(
        select(UnplannedRequest).where(
            UnplannedRequest.run_id == run.id, UnplannedRequest.visit_request_id == request_id
        )
    )
    if row is None:
        raise LeftOutRequestNotFound(
            f"Run {run_id} did not leave request {request_id} out.", visit_request_id=request_id
        )
    if row.reason not in SOLVER_REASONS:
        raise LeftOutForNoTeam(f"No team can take it: {row.detail}.", visit_request_id=request_id, reason=row.reason)
    branch = session.get_one(Branch, run.branch_id)
    request = live.requests_by_id(session, [request_id])[request_id]
    problem = sheets_service.why_not_plannable(session, run.work_date, request)
    if problem:
        raise LeftOutForNoTeam(f"Request {request_id} {problem}.", visit_request_id=request_id, reason="not_plannable")
    windows = urgent.windows_on(session, branch, run.work_date, request)
    if isinstance(windows, urgent.NoWindow):
        raise LeftOutForNoTeam(
            f"No team can take it: {windows.detail}.", visit_request_id=request_id, reason=windows.reason
        )
    day_now = live.live_day(session, branch.id, run.work_date)
    day = day_from_now(session, branch, run.work_date, travel, _drafted(session, run), {request: windows}, day_now)
    if day is None:
        raise LeftOutForNoTeam(
            f"No team works for the branch on {run.work_date.isoformat()}.",
            visit_request_id=request_id,
            reason="no_teams",
        )
    routes = previous_routes(session, run.id, day, {}, ())
    return [
        urgent.option(day, day_now, day.teams[found.team], found)
        for found in insertions(day.instance, str(request_id), routes)
    ]


def _drafted(session: Session, run: PlanningRun) -> set[UUID]:
    """The requests the run's draft sheets plan (their kept stops aside)."""
    query = (
        select(SheetStop.visit_request_id)
        .join(VisitSheet, VisitSheet.id == SheetStop.sheet_id)
        .where(VisitSheet.run_id == run.id, SheetStop.state == StopState.PLANNED)
    )
    return set(session.scalars(query))
