"""Re-planning a started day: the remaining stops re-ordered from where the team is now.

Stops the team has been at (checking in, under way, done or failed) keep their order at the head of the sheet;
cancelled stops stay on it, at the end, so the phones still show them. Only planned stops are solved again, for this
one team, leaving from its current position at the current time, through the same translation as planning, and
the solver starts from their order on the sheet (stopping once it has settled). A stop that no longer fits is taken
off the sheet, reported with its reason, and its request is open again for another day.
"""

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from api.audit.chain import update_where
from api.branches import service as branches_service
from api.db import utcnow
from api.geo import GeoPoint, point_shape
from api.models.branches import Branch
from api.models.sheets import StopState, UnplannedReason, VisitSheet
from api.models.teams import Team
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.problems import ValidationFailed
from api.roads.travel import Travel
from api.rules.hours import Closed
from api.sheets import eligibility, live, reasons
from api.sheets import service as sheets_service
from api.sheets.instance import (
    Resume,
    build_day,
    local_midnight,
    route_line,
    route_points,
    sheet_stops,
    team_point,
    visit_windows,
)
from api.sheets.reasons import LeftOut
from routing import solve

TIME_LIMIT = timedelta(seconds=2)  # one team's remaining dozen stops: OR-Tools settles well within this


class ReplanTimeInvalid(ValidationFailed):
    title = "The time is not on the sheet's work day"
    slug = "replan-time-invalid"


def replan_sheet(
    session: Session, sheet: VisitSheet, position: GeoPoint, now: datetime, travel: Travel
) -> list[LeftOut]:
    """Re-order the sheet's planned stops from `position` at `now`; returns the stops that no longer fit."""
    sheets_service.ensure_current(session, sheet)
    branch = session.get_one(Branch, sheet.branch_id)
    team = session.get_one(Team, sheet.team_id)
    midnight = local_midnight(branch, sheet.work_date)
    now_s = int((now - midnight).total_seconds())
    if not 0 <= now_s < 24 * 3600:
        raise ReplanTimeInvalid(
            f"{now.isoformat()} is not on {sheet.work_date.isoformat()} in the branch's time zone.",
            errors=[{"pointer": "#/time", "detail": "not on the sheet's work day"}],
        )
    team_day = live.team_day(sheet)
    planned = [stop for stop in sheet.stops if stop.state is StopState.PLANNED]
    requests = live.requests_by_id(session, [stop.visit_request_id for stop in sheet.stops])
    point, at_s, made = live.resume(session, team_day, requests, midnight, now, (position.lat, position.lon))
    rules = branches_service.rules_of(branch)
    gate = eligibility.verdicts(session, rules, sheet.work_date, [requests[stop.visit_request_id] for stop in planned])
    windows, closed = {}, []
    for stop in planned:
        verdict = gate[stop.visit_request_id]
        if not verdict.eligible:
            closed.append(LeftOut(stop.visit_request_id, UnplannedReason.NOT_ELIGIBLE, verdict.detail, ()))
            continue
        found = visit_windows(rules, sheet.work_date, requests[stop.visit_request_id], verdict.avoid)
        if isinstance(found, Closed):
            closed.append(LeftOut(stop.visit_request_id, reasons.CLOSED_REASONS[found.door_rule], found.detail, ()))
        else:
            windows[stop.visit_request_id] = found
    day, _ = build_day(
        branch,
        sheet.work_date,
        [team],
        [requests[key] for key in windows],
        windows,
        travel,
        resume={str(team.id): Resume(point, at_s, made)},
    )
    order = [key for stop in planned if (key := str(stop.visit_request_id)) in day.requests]
    plan = solve(day.instance, time_limit=TIME_LIMIT, workers=1, initial_routes={str(team.id): order})
    route = plan.routes[0]
    resumed = sheet_stops(day, route)
    stops = live.compose(team_day, resumed)
    # positions are the primary key: the old rows go before the renumbered ones come
    sheet.stops.clear()
    session.flush()
    sheet.stops.extend(stops)
    unfit = closed + reasons.left_out(day, plan)
    if unfit:
        update_where(
            session,
            VisitRequest,
            [
                VisitRequest.id.in_([row.visit_request_id for row in unfit]),
                VisitRequest.status == VisitRequestStatus.PLANNED,
            ],
            {"status": VisitRequestStatus.OPEN, "updated_at": utcnow()},
        )
    office_shape = point_shape(branch.office_point)
    start = team_point(team, "start", (office_shape.y, office_shape.x))
    path = live.visited_path(team_day, requests, start) or [start]
    sheet.route = route_line(day, route.team, [*path, *route_points(day, route)])
    sheet.distance_m = sum(stop.travel_m for stop in team_day.visited) + route.distance_m
    sheet.travel_s = route.travel_s
    sheet.returns_at = day.moment(route.end_s)
    session.flush()
    return unfit
