"""Re-planning a started day: the remaining stops re-ordered from where the team is now.

Stops done or under way keep their place at the head of the sheet. The others are solved again for this one team,
leaving from its current position at the current time (its break only if it can still start), within its shift
and what is left of its visit limit. A stop that no longer fits is taken off the sheet, reported with its reason,
and its request is open again for another day.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.audit.chain import update_where
from api.branches.models import Branch
from api.db import utcnow
from api.geo import GeoPoint
from api.problems import ValidationFailed
from api.sheets import service as sheets_service
from api.sheets.instance import (
    EXPERIENCED,
    UNPLANNED_REASON,
    address_point,
    local_midnight,
    request_stop,
    route_line,
    seconds_of,
    team_breaks,
    team_point,
)
from api.sheets.models import SheetStop, StopState, UnplannedReason, VisitSheet
from api.teams.models import Team
from api.visit_requests.models import VisitRequest, VisitRequestStatus
from routing import solve
from routing.matrix import GreatCircle
from routing.model import Instance, TimeWindow
from routing.model import Team as RoutingTeam

TIME_LIMIT = timedelta(seconds=2)  # one team's remaining dozen stops: OR-Tools settles well within this


class ReplanTimeInvalid(ValidationFailed):
    title = "The time is not on the sheet's work day"
    slug = "replan-time-invalid"


@dataclass(frozen=True, slots=True)
class Unfit:
    visit_request_id: UUID
    reason: UnplannedReason
    detail: str


def replan_sheet(
    session: Session, sheet: VisitSheet, position: GeoPoint, now: datetime, travel_mode: str
) -> list[Unfit]:
    """Re-order the sheet's remaining stops from `position` at `now`; returns the stops that no longer fit."""
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
    fixed = [stop for stop in sheet.stops if stop.state is not StopState.PLANNED]
    remaining = [stop for stop in sheet.stops if stop.state is StopState.PLANNED]
    requests = {
        request.id: request
        for request in session.scalars(
            select(VisitRequest)
            .where(VisitRequest.id.in_([stop.visit_request_id for stop in remaining]))
            .options(selectinload(VisitRequest.case), selectinload(VisitRequest.address))
        )
    }
    office_shape = to_shape(branch.office_point)
    office = (office_shape.y, office_shape.x)
    end = team_point(team, "end", office)
    points = [(position.lat, position.lon), end, *(address_point(requests[s.visit_request_id]) for s in remaining)]
    matrices = GreatCircle(travel_mode).matrices(points)
    shift_end = seconds_of(team.shift_end)
    routing_team = RoutingTeam(
        key="team",
        start_location=0,
        end_location=1,
        shift=TimeWindow(min(now_s, shift_end), shift_end),
        max_visits=max(0, team.max_visits - len(fixed)),
        skills=frozenset({EXPERIENCED}) if team.experienced else frozenset(),
        breaks=tuple(rest for rest in team_breaks(team) if now_s <= rest.latest_start_s),
    )
    stops = [request_stop(branch, requests[stop.visit_request_id], row) for row, stop in enumerate(remaining, start=2)]
    plan = solve(
        Instance([routing_team], stops, matrices.durations_s, matrices.distances_m), time_limit=TIME_LIMIT, workers=1
    )
    route = plan.routes[0]
    for stop in remaining:
        session.delete(stop)
    session.flush()
    location_of = {stop.key: stop.location for stop in stops}
    here, new_stops = 0, []
    for number, visit in enumerate(route.visits, start=len(fixed) + 1):
        location = location_of[visit.stop]
        new_stops.append(
            SheetStop(
                sheet_id=sheet.id,
                position=number,
                visit_request_id=UUID(visit.stop),
                arrives_at=midnight + timedelta(seconds=visit.arrival_s),
                starts_at=midnight + timedelta(seconds=visit.start_s),
                departs_at=midnight + timedelta(seconds=visit.departure_s),
                travel_m=int(matrices.distances_m[here, location]),
            )
        )
        here = location
    session.add_all(new_stops)
    unfit = [Unfit(UUID(drop.stop), UNPLANNED_REASON[drop.reason], drop.detail) for drop in plan.dropped]
    if unfit:
        update_where(
            session,
            VisitRequest,
            [VisitRequest.id.in_([row.visit_request_id for row in unfit])],
            {"status": VisitRequestStatus.OPEN, "updated_at": utcnow()},
        )
    start = team_point(team, "start", office)
    path = [start, *(address_point(request) for request in _fixed_requests(session, fixed)), points[0]]
    path += [*(points[location_of[visit.stop]] for visit in route.visits), end]
    sheet.route = route_line(path)
    sheet.distance_m = sum(stop.travel_m for stop in fixed) + route.distance_m
    sheet.travel_s = route.travel_s
    sheet.returns_at = midnight + timedelta(seconds=route.end_s)
    session.flush()
    session.expire(sheet, ["stops"])
    return unfit


def _fixed_requests(session: Session, fixed: list[SheetStop]) -> list[VisitRequest]:
    if not fixed:
        return []
    rows = {
        request.id: request
        for request in session.scalars(
            select(VisitRequest)
            .where(VisitRequest.id.in_([stop.visit_request_id for stop in fixed]))
            .options(selectinload(VisitRequest.address))
        )
    }
    return [rows[stop.visit_request_id] for stop in fixed]
