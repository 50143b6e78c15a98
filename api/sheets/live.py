"""A day under way: what each team's current published sheet holds now, and what no new plan may change.

A stop that has a visit (checking in, in progress, done, failed) or is cancelled is *kept*: planning, re-solving,
re-planning and publishing carry it into every later version of its team's sheet with its state and visit. Kept
stops the team has been at open the sheet in their order; cancelled ones close it, so the phones still show them.
A team's day goes on (`Resume`) from where it is once the visit under way there ends, never before now.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, aliased, selectinload

from api.db import utcnow
from api.models.sheets import SheetStatus, SheetStop, StopState, VisitSheet
from api.models.teams import Team
from api.models.tracks import FIX_COLUMNS, PositionFix, Track, epoch_ms, stored_fix
from api.models.visit_requests import VisitRequest
from api.models.visits import Visit
from api.rules.tracking import server_time
from api.sheets.instance import SERVICE_MINUTES, Resume, address_point
from routing.matrix import Point

FRESH_FIX = timedelta(minutes=20)  # a team's last fix older than this no longer says where it is
SKEW_MARGIN = timedelta(hours=1)
VISITED_STATES = (StopState.CHECKING_IN, StopState.IN_PROGRESS, StopState.DONE, StopState.FAILED)
UNDER_WAY_STATES = (StopState.CHECKING_IN, StopState.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class TeamDay:
    """A team's current published sheet and its kept stops: `visited` in sheet order, `cancelled` likewise."""

    sheet: VisitSheet
    visited: tuple[SheetStop, ...]
    cancelled: tuple[SheetStop, ...]

    @property
    def kept(self) -> tuple[SheetStop, ...]:
        return (*self.visited, *self.cancelled)

    @property
    def head(self) -> tuple[SheetStop, ...]:
        """The kept stops up to the last one the team has been at, in their order: they keep their places."""
        last = max((stop.position for stop in self.visited), default=0)
        return tuple(stop for stop in self.kept_in_order() if stop.position <= last)

    @property
    def tail(self) -> tuple[SheetStop, ...]:
        """The cancelled stops after the last one the team has been at: they close the sheet."""
        last = max((stop.position for stop in self.visited), default=0)
        return tuple(stop for stop in self.cancelled if stop.position > last)

    def kept_in_order(self) -> list[SheetStop]:
        return sorted(self.kept, key=lambda stop: stop.position)


@dataclass(frozen=True, slots=True)
class LiveDay:
    """Each team's day as published now, by team id (teams without a published sheet are absent), and the visit
    requests of the kept stops (with their cases and addresses)."""

    teams: dict[UUID, TeamDay] = field(default_factory=dict)
    requests: dict[UUID, VisitRequest] = field(default_factory=dict)

    def requests_held(self) -> set[UUID]:
        """The requests of every stop of the teams' current sheets."""
        return {stop.visit_request_id for team in self.teams.values() for stop in team.sheet.stops}

    def kept_requests(self) -> set[UUID]:
        return {stop.visit_request_id for team in self.teams.values() for stop in team.kept}

    def homes(self) -> dict[str, str]:
        """The team key of each request still planned on a team's published sheet, by request key."""
        return {
            str(stop.visit_request_id): str(team_id)
            for team_id, team in self.teams.items()
            for stop in team.sheet.stops
            if stop.state is StopState.PLANNED
        }

    def planned_routes(self, teams: Collection[str], requests: Collection[str]) -> dict[str, list[str]]:
        """Each team's planned stops in their published order, over the team and request keys of a routing day."""
        routes: dict[str, list[str]] = {key: [] for key in teams}
        for key, team in self.homes().items():
            if team in routes and key in requests:
                routes[team].append(key)
        return routes

    def counts(self) -> dict[str, int]:
        """How many stops are done (done or failed), in progress (checking in or under way) and cancelled."""
        states = [stop.state for team in self.teams.values() for stop in team.kept]
        return {
            "done": sum(state in (StopState.DONE, StopState.FAILED) for state in states),
            "in_progress": sum(state in UNDER_WAY_STATES for state in states),
            "cancelled": states.count(StopState.CANCELLED),
        }


def live_day(session: Session, branch_id: UUID, work_date: date, *, lock: bool = False) -> LiveDay:
    """The branch's current published sheets of the date with their kept stops. `lock`: hold the sheets' rows until
    the transaction ends, so that the door (which locks the sheet it works on) cannot change a stop meanwhile."""
    newer = aliased(VisitSheet)
    later = (
        select(func.max(newer.version)).where(newer.team_id == VisitSheet.team_id).correlate(VisitSheet)
    ).scalar_subquery()
    query = select(VisitSheet).where(
        VisitSheet.branch_id == branch_id,
        VisitSheet.work_date == work_date,
        VisitSheet.status == SheetStatus.PUBLISHED,
        VisitSheet.version == later,
    )
    if lock:
        query = query.with_for_update()
    # populate_existing reaches the stops loaded with the sheets too: their states as the database has them now
    loaded = query.options(selectinload(VisitSheet.stops)).execution_options(populate_existing=True)
    teams = {sheet.team_id: team_day(sheet) for sheet in session.scalars(loaded)}
    kept = [stop.visit_request_id for team in teams.values() for stop in team.kept]
    return LiveDay(teams, requests_by_id(session, kept))


def requests_by_id(session: Session, ids: Collection[UUID]) -> dict[UUID, VisitRequest]:
    """The visit requests, with their cases and addresses, in one query."""
    query = (
        select(VisitRequest)
        .where(VisitRequest.id.in_(list(ids)))
        .options(selectinload(VisitRequest.case), selectinload(VisitRequest.address))
    )
    return {request.id: request for request in session.scalars(query)} if ids else {}


def team_day(sheet: VisitSheet) -> TeamDay:
    return TeamDay(
        sheet=sheet,
        visited=tuple(stop for stop in sheet.stops if stop.state in VISITED_STATES),
        cancelled=tuple(stop for stop in sheet.stops if stop.state is StopState.CANCELLED),
    )


def resume(
    session: Session,
    team_day: TeamDay | None,
    requests: dict[UUID, VisitRequest],
    midnight: datetime,
    now: datetime,
    position: Point | None,
) -> tuple[Point | None, int, int]:
    """Where the team's day goes on from, when (seconds after `midnight`: now, or once the visit under way ends),
    and how many visits it has made. The place is `position` if given, else the address of the stop it went to
    last (None: it has not been anywhere, it leaves from its start). `requests`: those of the visited stops."""
    now_s = int((now - midnight).total_seconds())
    visited = team_day.visited if team_day is not None else ()
    visits = _visits(session, [stop.visit_id for stop in visited if stop.visit_id is not None])
    free_s = now_s
    for stop in visited:
        if stop.state in UNDER_WAY_STATES and not stop.awaiting_confirmation:
            visit = visits.get(stop.visit_id) if stop.visit_id else None
            began = visit.started_at if visit is not None and visit.started_at is not None else now
            ends = began + _service(requests[stop.visit_request_id])
            free_s = max(free_s, int((ends - midnight).total_seconds()))
    if position is None and visited:
        last = max(visited, key=lambda stop: _went_at(visits.get(stop.visit_id) if stop.visit_id else None))
        position = address_point(requests[last.visit_request_id])
    return position, free_s, len(visited)


def resumes(
    session: Session, live: LiveDay, teams: Sequence[Team], midnight: datetime, now: datetime
) -> dict[str, Resume]:
    """Each team's `Resume` at `now`, by team key: from its last on-duty fix of the past `FRESH_FIX` when it is not
    at a door, else from the stop it went to last, else from its start point."""
    fixes = last_fixes(session, [team.id for team in teams], now)
    found = {}
    for team in teams:
        team_day = live.teams.get(team.id)
        at_door = team_day is not None and any(stop.state in UNDER_WAY_STATES for stop in team_day.visited)
        position = None if at_door else fixes.get(team.id)
        point, at_s, made = resume(session, team_day, live.requests, midnight, now, position)
        found[str(team.id)] = Resume(point, at_s, made)
    return found


def last_fixes(session: Session, team_ids: Sequence[UUID], now: datetime) -> dict[UUID, Point]:
    """Each team's latest on-duty position (by the server's clock, mock fixes ignored) taken within `FRESH_FIX`
    before `now`; teams without one are absent."""
    since_ms = epoch_ms(now - FRESH_FIX - SKEW_MARGIN)  # the device's clock may be ahead or behind
    rows = session.execute(
        select(Track.team_id, *FIX_COLUMNS)
        .join(PositionFix, PositionFix.track_id == Track.id)
        .where(Track.team_id.in_(list(team_ids)), PositionFix.at_ms >= since_ms, PositionFix.mock.is_(False))
    )
    latest: dict[UUID, tuple[datetime, Point]] = {}
    for team_id, *columns in rows:
        fix = stored_fix(columns)
        at = server_time(fix.at, fix.clock_skew_s)
        if now - FRESH_FIX <= at <= now and (team_id not in latest or at > latest[team_id][0]):
            latest[team_id] = (at, (fix.lat, fix.lon))
    return {team_id: point for team_id, (_, point) in latest.items()}


def visited_path(team_day: TeamDay | None, requests: dict[UUID, VisitRequest], start: Point) -> list[Point]:
    """The team's start and the addresses of the stops it has been at, for the head of its route's line (empty
    when it has been nowhere)."""
    if team_day is None or not team_day.visited:
        return []
    return [start, *(address_point(requests[stop.visit_request_id]) for stop in team_day.visited)]


def compose(team_day: TeamDay | None, resumed: Sequence[SheetStop]) -> list[SheetStop]:
    """A sheet's stops, numbered from 1: copies of the team's kept stops up to the last it has been at, in their
    order (`TeamDay.head`), the newly planned ones after them, copies of the later cancelled ones at the end."""
    head, tail = (team_day.head, team_day.tail) if team_day is not None else ((), ())
    kept = [copy(stop, number) for number, stop in enumerate(head, start=1)]
    for number, stop in enumerate(resumed, start=len(kept) + 1):
        stop.position = number
    last = len(kept) + len(resumed)
    return [*kept, *resumed, *(copy(stop, number) for number, stop in enumerate(tail, start=last + 1))]


def copy(stop: SheetStop, position: int) -> SheetStop:
    """The stop as it stands, at another position (of another sheet, once added to one)."""
    columns = {attr.key: getattr(stop, attr.key) for attr in inspect(SheetStop).column_attrs}
    return SheetStop(**(columns | {"position": position, "sheet_id": None}))


def _visits(session: Session, ids: Sequence[UUID]) -> dict[UUID, Visit]:
    return {visit.id: visit for visit in session.scalars(select(Visit).where(Visit.id.in_(ids)))} if ids else {}


def _service(request: VisitRequest) -> timedelta:
    return timedelta(minutes=SERVICE_MINUTES[request.purpose])


def _went_at(visit: Visit | None) -> datetime:
    return visit.created_at if visit is not None else utcnow()
