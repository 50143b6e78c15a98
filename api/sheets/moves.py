"""A not-started stop of a day under way moved by the supervisor to another team, or to another place in its own
team's day: which teams could take it from where each is now and why not (`move_options`), and the move itself at a
chosen place or where it adds least (`move`), checked at once against the stop's window, the legal hours at its
address and the team's skills, shift, breaks and visit limit; refused in a code and words, never bent to fit. The
teams it changes get new versions of their sheets, published at once.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.orm import Session

from api.models.branches import Branch
from api.models.sheets import PlanningRun, StopState, VisitSheet
from api.models.teams import Team
from api.models.users import User
from api.problems import Conflict, problem_members
from api.roads.travel import Travel
from api.sheets import direct, live, urgent
from api.sheets.rest import RestOfDay, rest_of_day
from api.visit_requests import service as visit_requests_service
from routing.breaks import late_route, timed_route
from routing.insertion import Insertion, Refusal, insertion_at, insertions
from routing.plan import Route


class StopNotMovable(Conflict):
    title = "This stop cannot be moved"
    slug = "stop-not-movable"
    members = problem_members(
        visit_request_id=(UUID, "The request of the stop."),
        reason=(
            str,
            "Why, as a code: `not_on_a_sheet` (no team's current sheet of the date holds it), `visited` (its visit"
            " has begun or ended), `cancelled`, `closed_now` (the legal hours or the eligibility gate close it for"
            " the rest of the day: the door would refuse it anywhere), `from_team_stood_down` (the in-day re-plan"
            " gives a stood-down team's stops to the teams at work), `from_team_running_late` (its team runs so"
            " late that its breaks no longer fit: apply the late team's fix first).",
        ),
    )


class StopMoveRefused(Conflict):
    title = "The team cannot take this stop there"
    slug = "stop-move-refused"
    members = problem_members(
        visit_request_id=(UUID, "The request of the stop."),
        team_id=(UUID, "The team asked to take it."),
        refusal=(
            str,
            "Why, as a code: a team's refusal (`skill`, `pinned_elsewhere`, `visit_limit`, `running_late`, `no_time`),"
            " `position` (before the stops the team has been at, or past its last planned stop) or `team_not_working`.",
        ),
        misses=(
            UUID | None,
            "For `no_time` at a chosen place: the request of the first stop the team could then not keep in its"
            " window, the legal hours and its shift (the moved stop itself or one after it).",
        ),
    )


@dataclass(frozen=True, slots=True)
class _Move:
    """The stop's request, the team that holds it, and the rest of the day without it on any route."""

    key: str
    holder: Team
    rest: RestOfDay
    routes: dict[str, list[str]]  # every working team's planned stops, without the moved one
    left: Route  # the holder's route without it


def move_options(
    session: Session, user: User, work_date: date, request_id: UUID, travel: Travel
) -> tuple[Team, list[urgent.TeamOption]]:
    """The team holding the stop, and each team at work (that one too) where the stop would add least from where
    the team is now, cheapest first; then those that cannot take it, and why."""
    found = _move(session, user, work_date, request_id, travel)
    day = found.rest.day
    shown = [
        urgent.option(day, found.rest.live, day.teams[option.team], option)
        for option in insertions(day.instance, found.key, found.routes)
    ]
    return found.holder, shown


def move(
    session: Session,
    user: User,
    work_date: date,
    request_id: UUID,
    team_id: UUID,
    position: int | None,
    travel: Travel,
) -> tuple[PlanningRun, list[VisitSheet]]:
    """Move the stop to the team, at `position` of its new sheet (1-based, after the stops it has been at) or, with
    none, where it adds least; publish the new versions of the teams it changes (an in-day run of their sheets)."""
    found = _move(session, user, work_date, request_id, travel)
    day = found.rest.day
    key = str(team_id)
    team = day.teams.get(key)
    if team is None:
        raise StopMoveRefused(
            f"Team {team_id} does not work for the branch on {work_date.isoformat()}.",
            visit_request_id=request_id,
            team_id=team_id,
            refusal="team_not_working",
        )
    if position is None:
        taken = next(option for option in insertions(day.instance, found.key, found.routes) if option.team == key)
    else:
        taken = _at(found, team, request_id, position)
    if taken.route is None:
        raise StopMoveRefused(
            _refused_words(found, team, taken),
            visit_request_id=request_id,
            team_id=team_id,
            refusal=taken.refusal or Refusal.NO_TIME,
            misses=UUID(taken.misses) if taken.misses else None,
        )
    routes = {key: taken.route}
    holder = str(found.holder.id)
    if holder != key:
        routes[holder] = found.left
    figures = {
        "moved_visit_request_id": str(request_id),
        "from_team_id": holder,
        "team_id": key,
        "added_m": taken.added_m,
        "added_s": taken.added_s,
    }
    branch = session.get_one(Branch, team.branch_id)
    return direct.publish_routes(session, user, branch, work_date, day, routes, figures)


def _move(session: Session, user: User, work_date: date, request_id: UUID, travel: Travel) -> _Move:
    request = visit_requests_service.get_visit_request(session, user, request_id)
    branch = session.get_one(Branch, request.case.branch_id)
    day_now = live.live_day(session, branch.id, work_date)
    held = next(
        (
            (team_day, stop)
            for team_day in day_now.teams.values()
            for stop in team_day.sheet.stops
            if stop.visit_request_id == request_id
        ),
        None,
    )
    if held is None:
        raise StopNotMovable(
            f"No team's sheet of {work_date.isoformat()} holds request {request_id}: plan it as an urgent visit.",
            visit_request_id=request_id,
            reason="not_on_a_sheet",
        )
    team_day, stop = held
    if stop.state is not StopState.PLANNED:
        reason = "cancelled" if stop.state is StopState.CANCELLED else "visited"
        raise StopNotMovable(
            f"Stop {stop.position} of {team_day.sheet.team_name}'s sheet is {stop.state.value}: only a stop not yet"
            " visited can move.",
            visit_request_id=request_id,
            reason=reason,
        )
    rest = rest_of_day(session, branch, work_date, travel, day_now=day_now)
    key = str(request_id)
    holder = rest.day.teams.get(str(team_day.sheet.team_id)) if rest is not None else None
    if rest is None or holder is None:
        raise StopNotMovable(
            f"{team_day.sheet.team_name} is stood down: the in-day re-plan gives its stops to the teams at work.",
            visit_request_id=request_id,
            reason="from_team_stood_down",
        )
    if key not in rest.day.requests:
        raise StopNotMovable(
            f"Request {request_id} can no longer be visited today: the legal hours or the eligibility gate close it,"
            " and the door would refuse it anywhere.",
            visit_request_id=request_id,
            reason="closed_now",
        )
    instance = rest.day.instance
    routes = {team: [each for each in order if each != key] for team, order in rest.routes.items()}
    holder_team, its_others = instance.team(str(holder.id)), [instance.stop(each) for each in routes[str(holder.id)]]
    # a team running late keeps its other stops in their order, at the times it will really reach them
    left = timed_route(instance, holder_team, its_others) or late_route(instance, holder_team, its_others)
    if left is None:
        raise StopNotMovable(
            f"{holder.name} runs late and its breaks no longer fit its day: apply its late fix first.",
            visit_request_id=request_id,
            reason="from_team_running_late",
        )
    return _Move(key, holder, rest, routes, left)


def _at(found: _Move, team: Team, request_id: UUID, position: int) -> Insertion:
    """The stop at `position` of the team's new sheet, or the refusal."""
    kept = found.rest.live.teams.get(team.id)
    head = len(kept.head) if kept is not None else 0
    place = position - head - 1
    if not 0 <= place <= len(found.routes.get(str(team.id), ())):
        raise StopMoveRefused(
            f"Position {position} is not free on {team.name}'s sheet: a stop goes after the {head} it has been at"
            f" and at most right after its last planned stop.",
            visit_request_id=request_id,
            team_id=team.id,
            refusal="position",
        )
    return insertion_at(found.rest.day.instance, found.key, found.routes, str(team.id), place)


def _refused_words(found: _Move, team: Team, taken: Insertion) -> str:
    if taken.misses is None:
        return urgent.refusal_words(team, taken.refusal)
    request = found.rest.day.requests[taken.misses]
    which = "the stop" if taken.misses == found.key else f"{request.case.debtor_name}'s later stop"
    return (
        f"There {team.name} could no longer visit {which} at {request.address.raw_text}"
        " inside its window and the legal hours, and be back by the end of its shift."
    )
