"""An urgent visit during the day: which teams can take a request now, at what cost and arrival, and inserting it
into the chosen team's day as a new version of that team's sheet only.

Each team's day goes on from now (`live.resumes`); its planned stops keep their order and the request goes where it
adds the least distance while every stop keeps its window, the legal hours at its address and the team its shift,
breaks, visit limit and skills (`routing.insertion`).
"""

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.models.branches import Branch
from api.models.sheets import PlanningRun, VisitSheet
from api.models.teams import Team
from api.models.users import User
from api.models.visit_requests import VisitRequest
from api.problems import Conflict, problem_members
from api.roads.travel import Travel
from api.rules.hours import Closed
from api.sheets import direct, eligibility, live, reasons
from api.sheets import service as sheets_service
from api.sheets.instance import PlannedDay, visit_windows
from api.sheets.rest import rest_of_day
from api.visit_requests import service as visit_requests_service
from routing.insertion import Insertion, Refusal, insertions
from routing.model import TimeWindow


class UrgentRequestNotPlannable(Conflict):
    title = "This visit request cannot be visited on that day"
    slug = "urgent-request-not-plannable"
    members = problem_members(
        visit_request_id=(UUID, "The request."),
        reason=(
            str,
            "Why, as a code: `not_plannable`, `already_on_a_sheet`, `not_eligible`, `no_teams`, or a legal-hours"
            " reason (`outside_legal_hours`, `not_a_visiting_day`).",
        ),
    )


class InsertionRefused(Conflict):
    title = "The team cannot take this visit"
    slug = "insertion-refused"
    members = problem_members(
        team_id=(UUID, "The team."),
        refusal=(Refusal | None, "Why, as a code; null for a team that does not work for the branch that day."),
    )


@dataclass(frozen=True, slots=True)
class TeamOption:
    """Whether and how one team can take the urgent visit: its new arrival there and what it adds to the team's day,
    or why not in a code and in words."""

    team: Team
    sheet_id: UUID | None  # the team's current published sheet
    position: int | None  # on the team's new sheet
    arrives_at: datetime | None
    starts_at: datetime | None
    added_m: int
    added_s: int
    refusal: Refusal | None
    detail: str


@dataclass(frozen=True, slots=True)
class _Options:
    request: VisitRequest
    day: PlannedDay
    live: live.LiveDay
    found: dict[str, Insertion]


def team_options(
    session: Session, user: User, work_date: date, request_id: UUID, travel: Travel
) -> tuple[VisitRequest, list[TeamOption]]:
    """The teams that can take the request now, cheapest first, then those that cannot with the reason."""
    options = _options(session, user, work_date, request_id, travel)
    teams = options.day.teams
    shown = [option(options.day, options.live, teams[key], insertion) for key, insertion in options.found.items()]
    return options.request, shown


def insert(
    session: Session, user: User, work_date: date, request_id: UUID, team_id: UUID, travel: Travel
) -> tuple[PlanningRun, VisitSheet]:
    """Insert the request into the team's day where it adds least and publish that team's new version (an in-day run
    of one sheet, with its `sheet_changed` finding); the other teams' sheets stay as they are."""
    options = _options(session, user, work_date, request_id, travel)
    insertion = options.found.get(str(team_id))
    if insertion is None or insertion.route is None:
        team = options.day.teams.get(str(team_id))
        raise InsertionRefused(
            option(options.day, options.live, team, insertion).detail
            if team is not None and insertion is not None
            else f"Team {team_id} does not work for the branch on {work_date.isoformat()}.",
            team_id=team_id,
            refusal=insertion.refusal if insertion is not None else None,
        )
    team = options.day.teams[str(team_id)]
    figures = {
        "urgent_visit_request_id": str(request_id),
        "team_id": str(team_id),
        "added_m": insertion.added_m,
        "added_s": insertion.added_s,
    }
    branch = session.get_one(Branch, team.branch_id)
    run, [sheet] = direct.publish_routes(
        session, user, branch, work_date, options.day, {str(team_id): insertion.route}, figures
    )
    return run, sheet


@dataclass(frozen=True)
class NoWindow:
    """Why a request has no time on a date: not eligible, or the law closes its door (`reason` a left-out reason)."""

    reason: str
    detail: str


def windows_on(
    session: Session, branch: Branch, work_date: date, request: VisitRequest
) -> tuple[TimeWindow, ...] | NoWindow:
    """When a plannable request may be visited on the date (eligible, inside the legal hours at its address, out of
    the debtor's inconvenient times), or why it may not."""
    rules = branches_service.rules_of(branch)
    verdict = eligibility.verdicts(session, rules, work_date, [request])[request.id]
    if not verdict.eligible:
        return NoWindow("not_eligible", verdict.detail)
    windows = visit_windows(rules, work_date, request, verdict.avoid)
    if isinstance(windows, Closed):
        return NoWindow(reasons.CLOSED_REASONS[windows.door_rule].value, windows.detail)
    return windows


def _options(session: Session, user: User, work_date: date, request_id: UUID, travel: Travel) -> _Options:
    request = visit_requests_service.get_visit_request(session, user, request_id)
    branch = session.get_one(Branch, request.case.branch_id)
    problem = sheets_service.why_not_plannable(session, work_date, request)
    if problem:
        raise UrgentRequestNotPlannable(
            f"Request {request_id} {problem}.", visit_request_id=request_id, reason="not_plannable"
        )
    day_now = live.live_day(session, branch.id, work_date)
    holder = next(
        (team for team in day_now.teams.values() if any(s.visit_request_id == request_id for s in team.sheet.stops)),
        None,
    )
    if holder is not None:
        raise UrgentRequestNotPlannable(
            f"Request {request_id} is on {holder.sheet.team_name}'s sheet already: move it with an in-day re-plan.",
            visit_request_id=request_id,
            reason="already_on_a_sheet",
        )
    windows = windows_on(session, branch, work_date, request)
    if isinstance(windows, NoWindow):
        raise UrgentRequestNotPlannable(
            f"Request {request_id}: {windows.detail}.", visit_request_id=request_id, reason=windows.reason
        )
    rest = rest_of_day(session, branch, work_date, travel, {request: windows}, day_now)
    if rest is None:
        raise UrgentRequestNotPlannable(
            f"No team works for the branch on {work_date.isoformat()}.", visit_request_id=request_id, reason="no_teams"
        )
    found = {option.team: option for option in insertions(rest.day.instance, str(request.id), rest.routes)}
    return _Options(request, rest.day, rest.live, found)


def option(day: PlannedDay, day_now: live.LiveDay, team: Team, insertion: Insertion) -> TeamOption:
    """What taking the stop (`insertion`) means for the team: its place on the team's new sheet and its arrival,
    or why not in words."""
    kept = day_now.teams.get(team.id)
    head = len(kept.head) if kept is not None else 0
    sheet_id = kept.sheet.id if kept is not None else None
    if insertion.route is None or insertion.position is None:
        detail = refusal_words(team, insertion.refusal)
        return TeamOption(team, sheet_id, None, None, None, 0, 0, insertion.refusal, detail)
    visit = insertion.route.visits[insertion.position - 1]
    arrives, starts = day.moment(visit.arrival_s), day.moment(visit.start_s)
    detail = (
        f"{team.name} arrives at {starts.astimezone(day.midnight.tzinfo):%H:%M}, adding"
        f" {insertion.added_m / 1000:.1f} km and {round(insertion.added_s / 60)} min to its day"
    )
    return TeamOption(
        team, sheet_id, head + insertion.position, arrives, starts, insertion.added_m, insertion.added_s, None, detail
    )


def refusal_words(team: Team, refusal: Refusal | None) -> str:
    words = {
        Refusal.SKILL: f"{team.name} is not an experienced team, and the case has had complaints",
        Refusal.PINNED_ELSEWHERE: f"the request is pinned to another team than {team.name}",
        Refusal.VISIT_LIMIT: f"{team.name} has its {team.max_visits} visits already",
        Refusal.RUNNING_LATE: f"{team.name} runs late: its own stops no longer fit its shift",
        Refusal.NO_TIME: f"no place in {team.name}'s day keeps the legal hours, the visit's window and its other stops",
    }
    return words[refusal] if refusal is not None else ""
