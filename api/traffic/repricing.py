"""Re-pricing a day's planned legs with AMap's driving distance: each leg of the branch's current published sheets
(the team's start to its first stop, stop to stop, the last stop home), in the traffic of the moment, beside the road
engine's seconds. Run during the day (every hour, say), the legs it prices teach the hours' traffic
(`api.traffic.calibration`, source `amap`); the summary says how far the plan's travel is from AMap's now."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from itertools import batched
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.addresses.geocoders import GeocoderError
from api.db import utcnow
from api.geo import point_shape
from api.models.branches import Branch
from api.models.sheets import StopState
from api.models.teams import Team
from api.models.traffic import PricedLeg
from api.sheets.instance import address_point, team_point
from api.sheets.live import live_day, requests_by_id
from api.traffic.amap import MAX_ORIGINS, AMapDriving
from routing.matrix import MatrixProvider, Point


@dataclass(frozen=True, slots=True)
class PlannedLeg:
    """A leg of a sheet: to the stop at `position` (one past the last: home)."""

    sheet_id: UUID
    position: int
    start: Point
    end: Point


@dataclass(frozen=True, slots=True)
class Repricing:
    """What a re-pricing did: legs of the day, those priced, those AMap finds no road for, the requests it made,
    and why it stopped early (empty: it did not), with the engine's and AMap's seconds over the priced legs."""

    legs: int
    priced: int
    no_road: int
    requests: int
    stopped: str
    engine_s: int
    priced_s: int


def reprice_day(
    session: Session,
    branch: Branch,
    work_date: date,
    driving: AMapDriving,
    travel: MatrixProvider,
    *,
    budget: int,
    now: datetime | None = None,
) -> Repricing:
    """Price the legs of the branch's current published sheets of `work_date` with AMap, at most `budget` requests
    (legs to one place share a request), and keep each priced leg. A quota spent, a key refused or AMap down stops
    it, saying so; what was priced is kept."""
    if budget < 1:
        raise ValueError(f"the budget must be at least one request, not {budget}")
    legs = planned_legs(session, branch, work_date)
    points = sorted({point for leg in legs for point in (leg.start, leg.end)})
    row = {point: index for index, point in enumerate(points)}
    matrices = travel.matrices(points) if points else None
    by_end: dict[Point, list[PlannedLeg]] = defaultdict(list)
    for leg in legs:
        by_end[leg.end].append(leg)
    requests = priced = no_road = engine_s = priced_s = 0
    stopped = ""
    for end, arriving in by_end.items():
        for group in batched(arriving, MAX_ORIGINS):
            if requests == budget:
                stopped = f"the budget of {budget} requests is spent"
                break
            try:
                answers = driving.driving([leg.start for leg in group], end)
            except GeocoderError as error:
                stopped = f"AMap did not answer: {error.detail}"
                break
            requests += 1
            asked = now or utcnow()
            hour = asked.astimezone(ZoneInfo(branch.timezone)).hour
            for leg, answer in zip(group, answers, strict=True):
                if answer is None:
                    no_road += 1
                    continue
                assert matrices is not None
                seconds = int(matrices.durations_s[row[leg.start], row[leg.end]])
                session.add(
                    PricedLeg(
                        branch_id=branch.id,
                        sheet_id=leg.sheet_id,
                        position=leg.position,
                        engine=matrices.source,
                        engine_s=seconds,
                        priced_s=answer.seconds,
                        priced_m=answer.metres,
                        asked_at=asked,
                        hour=hour,
                    )
                )
                priced, engine_s, priced_s = priced + 1, engine_s + seconds, priced_s + answer.seconds
        if stopped:
            break
    session.flush()
    return Repricing(len(legs), priced, no_road, requests, stopped, engine_s, priced_s)


def planned_legs(session: Session, branch: Branch, work_date: date) -> list[PlannedLeg]:
    """The legs of the branch's current published sheets of the date, cancelled stops left out, each team's in
    order: from its start to each stop, and home."""
    office_shape = point_shape(branch.office_point)
    office = (office_shape.y, office_shape.x)
    day = live_day(session, branch.id, work_date)
    requests = requests_by_id(
        session, [stop.visit_request_id for team in day.teams.values() for stop in team.sheet.stops]
    )
    legs = []
    for team_id, team_day in day.teams.items():
        team = session.get_one(Team, team_id)
        here = team_point(team, "start", office)
        stops = [stop for stop in team_day.sheet.stops if stop.state is not StopState.CANCELLED]
        for stop in stops:
            there = address_point(requests[stop.visit_request_id])
            legs.append(PlannedLeg(team_day.sheet.id, stop.position, here, there))
            here = there
        if stops:
            legs.append(
                PlannedLeg(team_day.sheet.id, len(team_day.sheet.stops) + 1, here, team_point(team, "end", office))
            )
    return [leg for leg in legs if leg.start != leg.end]
