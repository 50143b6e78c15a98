"""The one translation between rows and `routing`: from a branch's teams and visit requests for a date to a
`routing.Instance`, and from a solved route back to sheet stops. Planning, re-solving and re-planning during the day
all go through it.

Times inside the instance are seconds after the branch's local midnight of the work date. A visit starts within
the legal hours at its address, in the address's own time zone (and ends by their close), and within the request's
preferred window if it has one;
it takes a time that depends on its purpose. Dropping a request costs more the higher its priority and the longer
the case is overdue; complaint cases need an experienced team. A team re-planned during the day (`Resume`) leaves
from where it is, at that time, with what is left of its visit limit and the breaks it can still take.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import shapely
from geoalchemy2 import WKBElement, WKTElement

from api.geo import point_shape
from api.models.branches import Branch
from api.models.cases import OverdueBucket
from api.models.sheets import SheetStop
from api.models.teams import Team
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.roads.travel import Travel
from api.rules.branch import BranchRules
from api.rules.hours import Closed, seconds_of, visit_starts
from api.rules.skills import required_skills, team_skills
from api.rules.subdivisions import address_subdivision
from api.rules.zones import zone_at
from routing.matrix import UNREACHABLE_S, Matrices, MatrixProvider, Point, TravelMode
from routing.model import Break, Instance, Stop, TimeWindow
from routing.model import Team as RoutingTeam
from routing.plan import Route
from routing.traffic import HOUR_S, HourFactors, by_arrival, working_hours

SERVICE_MINUTES = {
    VisitPurpose.FIND_NEW_INFORMATION: 30,
    VisitPurpose.CONFIRM_ADDRESS: 20,
    VisitPurpose.NEGOTIATE: 40,
    VisitPurpose.DELIVER_LETTER: 15,
}
DROP_COST_PER_PRIORITY_M = 20_000  # a priority-5 request is worth a 100 km detour
DROP_COST_PER_OVERDUE_MONTH_M = 4_000
# a road line keeps no detail finer than this (about 2 m): a city leg's few hundred points become a few dozen
LINE_DETAIL_DEG = 2e-5
PINNED_DROP_COST_M = 1_000_000  # a supervisor's pin outweighs any detour; dropped only when it cannot be kept


@dataclass(frozen=True, slots=True)
class Pin:
    """A supervisor's pin of a request: to a team, and optionally a position on its route or a start time."""

    team_key: str
    position: int | None = None
    start_s: int | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a team's day goes on when it is re-planned under way: from `point` (None: its start point) at `at_s`
    (seconds after midnight), after `visits_made` stops that count against its visit limit."""

    point: Point | None
    at_s: int
    visits_made: int


@dataclass(frozen=True, slots=True)
class PlannedDay:
    """A routing instance for one branch and date, and what its indices stand for."""

    instance: Instance
    points: tuple[Point, ...]  # (lat, lon) of each location row of the matrices
    teams: dict[str, Team]  # routing team key -> team
    requests: dict[str, VisitRequest]  # routing stop key -> visit request
    midnight: datetime  # the branch's local midnight of the work date
    pins: Mapping[str, Pin]  # routing stop key -> the supervisor's pin
    unreachable: Mapping[str, str]  # routing stop key -> why the road engine cannot reach its address
    travels: Mapping[str, MatrixProvider]  # routing team key -> what priced its travel: it draws its routes too

    def moment(self, seconds: int) -> datetime:
        """The UTC instant of the local wall-clock time `seconds` after midnight (how shifts and windows count)."""
        return (self.midnight + timedelta(seconds=seconds)).astimezone(UTC)


def local_midnight(branch: Branch, work_date: date) -> datetime:
    return _midnight(branch.timezone, work_date)


def _midnight(timezone: str, work_date: date) -> datetime:
    return datetime.combine(work_date, time(0), tzinfo=ZoneInfo(timezone))


def visit_windows(
    rules: BranchRules,
    work_date: date,
    request: VisitRequest,
    avoid: Sequence[tuple[time, time]] = (),
    point: Point | None = None,
) -> tuple[TimeWindow, ...] | Closed:
    """When the visit may start, in seconds after the branch's midnight: inside the legal hours at the address, in
    its own time zone (ending by their close), on a day it visits (the holidays of the address's own nation or
    state), its preferred window and out of the debtor's inconvenient times (`avoid`); or the rule that leaves no
    time on that date. `point`: the address's, when already read."""
    lat, lon = point or address_point(request)
    preferred = (request.window_start, request.window_end) if request.window_start and request.window_end else None
    service_s = SERVICE_MINUTES[request.purpose] * 60
    zone, subdivision = zone_at(lat, lon, rules.timezone), address_subdivision(rules.pack, request.address.raw_text)
    spans = visit_starts(rules, work_date, zone, service_s, preferred, avoid, subdivision=subdivision)
    if isinstance(spans, Closed):
        return spans
    midnight = _midnight(rules.timezone, work_date)
    return tuple(
        TimeWindow(int((span.start - midnight).total_seconds()), int((span.end - midnight).total_seconds()))
        for span in spans
    )


def drop_cost(request: VisitRequest) -> int:
    months = list(OverdueBucket).index(request.case.overdue_bucket) + 1
    return request.priority * DROP_COST_PER_PRIORITY_M + months * DROP_COST_PER_OVERDUE_MONTH_M


def team_point(team: Team, side: str, office: Point) -> Point:
    lat, lon = getattr(team, f"{side}_lat"), getattr(team, f"{side}_lon")
    return office if lat is None or lon is None else (lat, lon)


def address_point(request: VisitRequest) -> Point:
    shape = point_shape(request.address.point)
    return (shape.y, shape.x)


def address_points(requests: Sequence[VisitRequest]) -> list[Point]:
    """(lat, lon) of each request's located address, read in one call (a day's thousand points in a millisecond)."""
    elements = [point for request in requests if isinstance(point := request.address.point, WKBElement)]
    if len(elements) < len(requests):
        return [address_point(request) for request in requests]  # points just set from text, not yet loaded
    blobs = [bytes.fromhex(data) if isinstance(data := element.data, str) else bytes(data) for element in elements]
    coordinates = shapely.get_coordinates(shapely.from_wkb(blobs))
    return [(float(lat), float(lon)) for lon, lat in coordinates]


def build_day(
    branch: Branch,
    work_date: date,
    teams: Sequence[Team],
    requests: Sequence[VisitRequest],
    windows: Mapping[UUID, tuple[TimeWindow, ...]],
    travel: Travel,
    pins: Mapping[str, Pin] | None = None,
    resume: Mapping[str, Resume] | None = None,
    homes: Mapping[str, str] | None = None,
    move_cost_m: int = 0,
) -> tuple[PlannedDay, Matrices]:
    """The routing instance of the day: `requests` must have a located address, and `windows` (by request id) the
    times each may start in (see `visit_windows`).
    `pins` (by request id) keep requests on a team, at a position or a start time; pins to teams not working that
    day are ignored. `resume` (by team id) continues teams' days already under way. `homes` (request id -> team id):
    the team whose published sheet has the request now; another team visiting it costs `move_cost_m`."""
    pins = {key: pin for key, pin in (pins or {}).items() if pin.team_key in {str(team.id) for team in teams}}
    resume = resume or {}
    office_shape = point_shape(branch.office_point)
    office = (office_shape.y, office_shape.x)
    starts = {team.id: _start_point(team, office, resume.get(str(team.id))) for team in teams}
    depots = sorted({*starts.values(), *(team_point(team, "end", office) for team in teams)})
    depot_row = {point: row for row, point in enumerate(depots)}
    points = (*depots, *(address_point(request) for request in requests))
    # each way the teams travel (a car, an e-bike, on foot) is a profile with its own matrices, the first team's first
    modes = list(dict.fromkeys(_mode(team) for team in teams)) or [None]
    providers = [travel.of(branch.id, mode) for mode in modes]
    priced = [provider.matrices(points) for provider in providers]
    # nobody is sent to an address the roads do not reach; a team that is off the road (in a compound, at a visit)
    # walks out to it, along the fallback's straight line. An address one way of travelling does not reach is
    # barred to its teams; one that none reaches is left out.
    barred = [{row: why for row, why in each.unreachable.items() if row >= len(depots)} for each in priced]
    off_road = {row: why for row, why in barred[0].items() if all(row in other for other in barred[1:])}
    routing_teams = [
        replace(
            _routing_team(team, depot_row[starts[team.id]], depot_row[team_point(team, "end", office)], resume),
            profile=modes.index(_mode(team)),
        )
        for team in teams
    ]
    working = {str(team.id) for team in teams}
    homes = {key: team for key, team in (homes or {}).items() if team in working}
    stops = [
        request_stop(windows[request.id], request, row, pins.get(str(request.id)), homes.get(str(request.id)))
        for row, request in enumerate(requests, start=len(depots))
    ]
    if move_cost_m:
        stops = [replace(stop, move_cost=move_cost_m) if stop.home_team else stop for stop in stops]
    profiles = [
        (by_traffic(branch, kept.durations_s, routing_teams, stops, len(points)), kept.distances_m)
        for kept in (each.barring(rows) for each, rows in zip(priced, barred, strict=True))
    ]
    instance = Instance(routing_teams, stops, *profiles[0], profiles=profiles[1:])
    day = PlannedDay(
        instance=instance,
        points=points,
        teams={str(team.id): team for team in teams},
        requests={str(request.id): request for request in requests},
        midnight=local_midnight(branch, work_date),
        pins=pins,
        unreachable={
            str(request.id): off_road[row] for row, request in enumerate(requests, start=len(depots)) if row in off_road
        },
        travels={str(team.id): providers[modes.index(_mode(team))] for team in teams},
    )
    sources = [
        each.source if len(priced) == 1 else f"{mode or 'default'}: {each.source}"
        for mode, each in zip(modes, priced, strict=True)
    ]
    return day, replace(priced[0], source="; ".join(sources), reused_pairs=sum(each.reused_pairs for each in priced))


def by_traffic(
    branch: Branch,
    durations_s: npt.NDArray[np.int64],
    teams: Sequence[RoutingTeam],
    stops: Sequence[Stop],
    size: int,
) -> npt.NDArray[np.int64]:
    """The day's travel seconds at the branch's traffic by the hour (`routing.traffic`): a leg into a stop at the
    hours it may be visited, a leg home in the last hour of the shifts that end there."""
    factors = hour_factors(branch)
    working = working_hours([team.shift for team in teams])
    arrivals: list[list[TimeWindow]] = [[working] for _ in range(size)]
    for stop in stops:
        arrivals[stop.location] = list(stop.windows) or [working]
    homes: dict[int, list[TimeWindow]] = {}
    for team in teams:
        end = team.shift.end_s
        homes.setdefault(team.end_location, []).append(TimeWindow(max(team.shift.start_s, end - HOUR_S), end))
    for row, spans in homes.items():
        arrivals[row] = spans
    return by_arrival(durations_s, arrivals, factors, barred=UNREACHABLE_S)


def hour_factors(branch: Branch) -> HourFactors:
    """The branch's traffic by the hour; none set: the engine's times all day."""
    return HourFactors(tuple(branch.travel_hour_factors)) if branch.travel_hour_factors else HourFactors.flat()


def _mode(team: Team) -> TravelMode | None:
    """How the team travels; None: as the settings say."""
    return TravelMode(team.travel_mode) if team.travel_mode else None


def _start_point(team: Team, office: Point, resumed: Resume | None) -> Point:
    return resumed.point if resumed is not None and resumed.point else team_point(team, "start", office)


def _routing_team(team: Team, start: int, end: int, resume: Mapping[str, Resume]) -> RoutingTeam:
    shift = TimeWindow(seconds_of(team.shift_start), seconds_of(team.shift_end))
    breaks, max_visits = team_breaks(team), team.max_visits
    resumed = resume.get(str(team.id))
    if resumed is not None:
        shift = TimeWindow(min(max(resumed.at_s, shift.start_s), shift.end_s), shift.end_s)
        # a break it can still start, from now on
        breaks = tuple(
            Break(max(rest.earliest_start_s, shift.start_s), rest.latest_start_s, rest.duration_s)
            for rest in breaks
            if shift.start_s <= rest.latest_start_s
        )
        max_visits = max(0, max_visits - resumed.visits_made)
    return RoutingTeam(
        key=str(team.id),
        name=team.name,
        start_location=start,
        end_location=end,
        shift=shift,
        max_visits=max_visits,
        skills=team_skills(team.experienced),
        breaks=breaks,
    )


def request_stop(
    windows: tuple[TimeWindow, ...],
    request: VisitRequest,
    location: int,
    pin: Pin | None = None,
    home: str | None = None,
) -> Stop:
    """The routing stop of a request that has `windows` to start in (see `visit_windows`); `home`: the team whose
    sheet has it now (a pin overrides it)."""
    if pin is not None and pin.start_s is not None:
        windows = (TimeWindow(pin.start_s, pin.start_s),)
    return Stop(
        key=str(request.id),
        location=location,
        service_s=SERVICE_MINUTES[request.purpose] * 60,
        windows=windows,
        drop_cost=PINNED_DROP_COST_M if pin else drop_cost(request),
        required_skills=required_skills(request.case.complaint_history),
        pin_team=pin.team_key if pin else None,
        pin_position=pin.position if pin else None,
        home_team=home if pin is None else None,
    )


def team_breaks(team: Team) -> tuple[Break, ...]:
    if team.break_minutes == 0 or team.break_from is None or team.break_until is None:
        return ()
    duration_s = team.break_minutes * 60
    earliest = seconds_of(team.break_from)
    return (Break(earliest, seconds_of(team.break_until) - duration_s, duration_s),)


def sheet_stops(day: PlannedDay, route: Route, first_position: int = 1) -> list[SheetStop]:
    """The route's visits as sheet stops, numbered from `first_position`, with UTC times and the metres from the
    stop before (the first: from the team's start)."""
    instance = day.instance
    team = instance.team(route.team)
    stops, here, distances = [], team.start_location, instance.distances_of(team)
    for position, visit in enumerate(route.visits, start=first_position):
        stop = instance.stop(visit.stop)
        stops.append(
            SheetStop(
                position=position,
                visit_request_id=day.requests[visit.stop].id,
                arrives_at=day.moment(visit.arrival_s),
                starts_at=day.moment(visit.start_s),
                departs_at=day.moment(visit.departure_s),
                travel_m=int(distances[here, stop.location]),
                pinned=visit.stop in day.pins,
            )
        )
        here = stop.location
    return stops


def route_points(day: PlannedDay, route: Route) -> list[Point]:
    """(lat, lon) of the route: the team's start, each visit in order, its end."""
    instance = day.instance
    team = instance.team(route.team)
    visits = [day.points[instance.stop(visit.stop).location] for visit in route.visits]
    return [day.points[team.start_location], *visits, day.points[team.end_location]]


def route_line(day: PlannedDay, team_key: str, path: Sequence[Point]) -> WKTElement:
    """The line a team travels through the (lat, lon) points of its day, along the roads where its travel was priced
    on them (`MatrixProvider.path`), as a WGS84 LineString without the detail under `LINE_DETAIL_DEG`."""
    drawn = day.travels[team_key].path(path)
    if len(drawn) > len(path):  # along roads: straight lines between the points have no detail to lose
        drawn = simplified_line(drawn, path)
    return WKTElement("LINESTRING(" + ", ".join(f"{lon!r} {lat!r}" for lat, lon in drawn) + ")", srid=4326)


def simplified_line(drawn: Sequence[Point], path: Sequence[Point]) -> list[Point]:
    """The drawn line without its finest detail, leg by leg, so that every point of `path` (a door) stays on it."""
    line, leg, doors = [drawn[0]], [drawn[0]], iter(path[1:])
    door = next(doors, None)
    for point in drawn[1:]:
        leg.append(point)
        if point == door:
            simple = shapely.LineString([(lon, lat) for lat, lon in leg]).simplify(LINE_DETAIL_DEG)
            line.extend((lat, lon) for lon, lat in simple.coords[1:])
            leg, door = [point], next(doors, None)
    return line
