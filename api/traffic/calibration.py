"""Calibrating a branch's traffic by the hour from what its teams really drove: every leg between two visits done
one after the other on a day, timed by the on-duty tracks (from the last fix at the first door to the first fix at
the next), against the road engine's seconds for the same two doors (`routing.calibration`)."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.geo import point_shape
from api.models.branches import Branch
from api.models.cases import Address
from api.models.teams import Team
from api.models.tracks import Track
from api.models.traffic import CalibrationSource, PricedLeg, TravelCalibration
from api.models.visits import Visit
from api.problems import ValidationFailed
from api.rules.tracking import Point, TimedFix, driven, server_time
from api.sheets.instance import hour_factors
from api.tracks.service import fixes_of
from api.visits.evidence_policy import arrivals
from routing.calibration import Leg, TooFewLegs, calibrate
from routing.matrix import MatrixProvider

LONGEST_SPAN_DAYS = 366


class NotEnoughLegs(ValidationFailed):
    title = "Not enough legs to calibrate from"
    slug = "not-enough-legs"


def calibrate_branch(
    session: Session,
    branch: Branch,
    since: date,
    until: date,
    travel: MatrixProvider,
    *,
    apply: bool,
    source: CalibrationSource = CalibrationSource.TRACKS,
    user_id: UUID | None = None,
) -> TravelCalibration:
    """Learn the branch's hour factors from the legs of `source` between `since` and `until` (work dates of the legs
    its teams drove; local dates AMap priced legs on), judged on held-out legs; with `apply`, put them in force where
    they do better there than those in force."""
    if since > until or (until - since).days >= LONGEST_SPAN_DAYS:
        raise ValidationFailed(
            f"since must be on or before until, at most {LONGEST_SPAN_DAYS} days apart",
            errors=[{"pointer": "#/since", "detail": "after until, or more than a year before it"}],
        )
    if source is CalibrationSource.TRACKS:
        legs, engine = track_legs(session, branch, since, until, travel)
        where = "The teams' tracks"
    else:
        legs, engine = amap_legs(session, branch, since, until)
        where = "AMap's priced legs (fieldvisit roads reprice)"
    try:
        learnt = calibrate(legs, hour_factors(branch))
    except TooFewLegs as error:
        raise NotEnoughLegs(
            f"{where} from {since} to {until} hold too few legs: {error}. Take a longer span.",
            errors=[{"pointer": "#/since", "detail": str(error)}],
        ) from error
    applied = apply and learnt.better
    if applied:
        branch.travel_hour_factors = list(learnt.factors.factors)
    calibration = TravelCalibration(
        branch_id=branch.id,
        source=source,
        since=since,
        until=until,
        engine=engine,
        factors=list(learnt.factors.factors),
        legs_per_hour=list(learnt.legs_per_hour),
        learnt_from=learnt.learnt_from,
        held_out=learnt.held_out,
        set_aside=learnt.set_aside,
        error_before=learnt.error_before,
        error_after=learnt.error_after,
        applied=applied,
        requested_by_id=user_id,
    )
    session.add(calibration)
    session.flush()
    return calibration


def track_legs(
    session: Session, branch: Branch, since: date, until: date, travel: MatrixProvider
) -> tuple[list[Leg], str]:
    """The legs the branch's teams drove between visits, in the order they were driven, and the engine that priced
    them."""
    rows = session.execute(
        select(Visit, Address.point)
        .join(Address, Address.id == Visit.address_id)
        .join(Team, Team.id == Visit.team_id)
        .where(
            Team.branch_id == branch.id,
            Team.work_date.between(since, until),
            Visit.completed_at.is_not(None),
        )
    ).all()
    days: dict[UUID, list[tuple[datetime, datetime, Point]]] = defaultdict(list)
    arrived_at = arrivals(session, [visit for visit, _ in rows])
    for visit, point in rows:
        arrived = arrived_at[visit.id]
        assert visit.completed_at is not None
        if arrived is not None:
            shape = point_shape(point)
            days[visit.team_id].append((arrived, visit.completed_at, Point(shape.y, shape.x)))
    trips: list[tuple[datetime, datetime, Point, Point]] = []
    for team_id, visits in days.items():
        visits.sort(key=lambda visit: visit[0])
        fixes = _team_fixes(session, team_id)
        for (_, left, start), (arrived, _, end) in pairwise(visits):
            if left < arrived:
                span = driven(fixes, left, arrived, start, end)
                trips.append((span.begins, span.ends, start, end))
    trips.sort(key=lambda trip: trip[0])
    doors = sorted({door for trip in trips for door in trip[2:]}, key=lambda door: (door.lat, door.lon))
    row = {door: index for index, door in enumerate(doors)}
    matrices = travel.matrices([(door.lat, door.lon) for door in doors])
    zone = ZoneInfo(branch.timezone)
    legs = [
        Leg(
            hour=begins.astimezone(zone).hour,
            engine_s=float(matrices.durations_s[row[start], row[end]]),
            taken_s=(ends - begins).total_seconds(),
        )
        for begins, ends, start, end in trips
        if row[start] not in matrices.unreachable and row[end] not in matrices.unreachable
    ]
    return legs, matrices.source


def amap_legs(session: Session, branch: Branch, since: date, until: date) -> tuple[list[Leg], str]:
    """The legs AMap priced for the branch on local dates `since` to `until`, in the order asked, and the road
    engines whose seconds they were priced beside."""
    zone = ZoneInfo(branch.timezone)
    begins = datetime.combine(since, time(0), tzinfo=zone)
    ends = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)
    rows = session.scalars(
        select(PricedLeg)
        .where(PricedLeg.branch_id == branch.id, PricedLeg.asked_at >= begins, PricedLeg.asked_at < ends)
        .order_by(PricedLeg.asked_at, PricedLeg.id)
    ).all()
    legs = [Leg(row.hour, float(row.engine_s), float(row.priced_s)) for row in rows]
    return legs, ", ".join(sorted({row.engine for row in rows})) or "none"


def _team_fixes(session: Session, team_id: UUID) -> list[TimedFix]:
    """Both agents' fixes of the team's day, by server time."""
    tracks = list(session.scalars(select(Track.id).where(Track.team_id == team_id)))
    fixes = [
        TimedFix(server_time(fix.at, fix.clock_skew_s), fix.lat, fix.lon, fix.accuracy_m)
        for own in fixes_of(session, tracks).values()
        for fix in own
    ]
    return sorted(fixes, key=lambda fix: fix.at)
