"""A team running late: from where it is now and its planned stops, the stops it can no longer reach inside their
windows, the legal hours and its shift; a proposed fix (each such stop to the team where it adds least, or left for
another day); the finding that tells the supervisor; and the fix applied in one action.
"""

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.findings import service as findings_service
from api.models.branches import Branch
from api.models.findings import Finding, FindingKind
from api.models.sheets import PlanningRun, VisitSheet
from api.models.teams import Team
from api.models.users import User
from api.problems import Conflict, problem_members
from api.roads.travel import Travel
from api.sheets import direct, live
from api.sheets.instance import PlannedDay
from api.sheets.rest import rest_of_day
from api.teams import service as teams_service
from routing.breaks import fits, timed_route, trim
from routing.insertion import insertions
from routing.plan import Route


@dataclass(frozen=True, slots=True)
class Move:
    """A stop the late team will miss, and the team proposed to take it (None: none can; it waits for another day)."""

    visit_request_id: UUID
    to_team: Team | None


@dataclass(frozen=True, slots=True)
class LateTeam:
    team: Team
    sheet: VisitSheet  # its current published sheet
    after: datetime  # when it is through the stops it can still make: the others it will miss
    moves: tuple[Move, ...]
    routes: dict[str, Route]  # the new routes of the teams the fix changes, by team key
    day: PlannedDay

    def summary(self) -> str:
        """ "Team 3 will miss 2 stops after 17:40: 1 to Team 5, 1 that no team can take today"."""
        taken: dict[str, int] = {}
        for move in self.moves:
            name = move.to_team.name if move.to_team is not None else ""
            taken[name] = taken.get(name, 0) + 1
        parts = [f"{count} to {name}" for name, count in sorted(taken.items()) if name]
        if "" in taken:
            parts.append(f"{taken['']} that no team can take today")
        count = len(self.moves)
        clock = self.after.astimezone(self.day.midnight.tzinfo)  # the branch's clock
        return f"{self.team.name} will miss {count} stop{'s' if count != 1 else ''} after {clock:%H:%M}: " + ", ".join(
            parts
        )


class TeamNotLate(Conflict):
    title = "The team's day still fits"
    slug = "team-not-late"
    members = problem_members(team_id=(UUID, "The team."))


def late_teams(session: Session, branch: Branch, work_date: date, travel: Travel) -> list[LateTeam]:
    """The branch's teams at work that can no longer reach all their planned stops from where they are now, each
    with the proposed fix."""
    rest = rest_of_day(session, branch, work_date, travel)
    if rest is None:
        return []
    found = (_late(rest.day, rest.live, key, rest.routes) for key in rest.routes)
    return [late for late in found if late is not None]


def _late(day: PlannedDay, day_now: live.LiveDay, key: str, routes: dict[str, list[str]]) -> LateTeam | None:
    """The team's lateness and its fix, if it can no longer reach its stops: it keeps the most it can (the fewest
    and least valuable dropped, `routing.breaks.trim`), each of the others goes where it adds least."""
    instance = day.instance
    team = instance.team(key)
    by_key = {stop.key: stop for stop in instance.stops}
    stops = [by_key[stop] for stop in routes[key]]
    team_day = day_now.teams.get(day.teams[key].id)
    if team_day is None or fits(instance, team, stops):
        return None
    kept = trim(instance, team, stops)
    own = timed_route(instance, team, kept)
    if own is None:
        return None
    changed = {other: list(order) for other, order in routes.items() if other != key} | {key: []}
    moves, new_routes = [], {key: own}
    for stop in (stop for stop in stops if stop not in kept):
        options = [
            option
            for option in insertions(instance, stop.key, changed)
            if option.refusal is None and option.team != key and option.route is not None
        ]
        taker = options[0] if options else None
        if taker is not None and taker.route is not None:
            changed[taker.team] = [visit.stop for visit in taker.route.visits]
            new_routes[taker.team] = taker.route
        moves.append(Move(UUID(stop.key), day.teams[taker.team] if taker is not None else None))
    done_s = own.visits[-1].departure_s if own.visits else own.start_s  # when it is through what it can still do
    return LateTeam(day.teams[key], team_day.sheet, day.moment(done_s), tuple(moves), new_routes, day)


def watch(session: Session, branch: Branch, work_date: date, travel: Travel) -> list[Finding]:
    """A `team_running_late` finding for each late team, once per version of its sheet."""
    found = []
    for late in late_teams(session, branch, work_date, travel):
        told = session.scalar(
            select(Finding.id).where(
                Finding.kind == FindingKind.TEAM_RUNNING_LATE,
                Finding.team_id == late.team.id,
                Finding.payload["sheet_id"].as_string() == str(late.sheet.id),
            )
        )
        if told is not None:
            continue
        found.append(
            findings_service.publish_for_team(
                session,
                late.team,
                FindingKind.TEAM_RUNNING_LATE,
                sheet_id=late.sheet.id,
                version=late.sheet.version,
                after=late.after,
                missed=len(late.moves),
                proposal=[
                    {
                        "visit_request_id": move.visit_request_id,
                        "to_team_id": move.to_team.id if move.to_team else None,
                        "to_team_name": move.to_team.name if move.to_team else None,
                    }
                    for move in late.moves
                ],
                summary=late.summary(),
            )
        )
    return found


def apply_fix(
    session: Session, user: User, work_date: date, team_id: UUID, travel: Travel
) -> tuple[PlanningRun, LateTeam]:
    """Apply the proposed fix for the team in one action: a new version of its sheet without the stops it will miss
    and of each team that takes one, published at once; a stop no team can take goes back to its request's queue."""
    team = teams_service.get_team(session, user, team_id)
    branch = session.get_one(Branch, team.branch_id)
    late = next((each for each in late_teams(session, branch, work_date, travel) if each.team.id == team_id), None)
    if late is None:
        raise TeamNotLate(f"{team.name}'s day still fits: there is nothing to fix.", team_id=team_id)
    figures = {"late_team_id": str(team_id), "moves": len(late.moves)}
    run, _ = direct.publish_routes(session, user, branch, work_date, late.day, late.routes, figures)
    return run, late


def watch_all(session: Session, travel: Travel) -> list[Finding]:
    """`watch` over every branch's day under way (today in the branch's time zone, with published sheets)."""
    found = []
    for branch in session.scalars(select(Branch)):
        today = branches_service.local_today(branch)
        if session.scalar(
            select(VisitSheet.id).where(VisitSheet.branch_id == branch.id, VisitSheet.work_date == today).limit(1)
        ):
            found += watch(session, branch, today, travel)
    return found
