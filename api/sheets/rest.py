"""The rest of a day under way as a routing day: the teams at work, each from where it is now (`live.resumes`), with
its planned stops in their published order, for the changes made to it without a solver (an urgent visit, a late
team's fix). A planned stop the law or the eligibility gate closes now is left out: the door refuses it anyway."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.db import utcnow
from api.models.branches import Branch
from api.models.teams import Team
from api.models.visit_requests import VisitRequest
from api.roads.travel import Travel
from api.rules.hours import Closed
from api.sheets import eligibility, live
from api.sheets.instance import PlannedDay, build_day, local_midnight, visit_windows
from routing.model import TimeWindow


@dataclass(frozen=True, slots=True)
class RestOfDay:
    day: PlannedDay
    live: live.LiveDay
    routes: dict[str, list[str]]  # each team's planned stops in their published order, by team key


def working_teams(session: Session, branch: Branch, work_date: date) -> list[Team]:
    """The date's teams not stood down, in name order."""
    query = (
        select(Team)
        .where(Team.branch_id == branch.id, Team.work_date == work_date, Team.stood_down_at.is_(None))
        .order_by(Team.name)
    )
    return list(session.scalars(query))


def rest_of_day(
    session: Session,
    branch: Branch,
    work_date: date,
    travel: Travel,
    extra: Mapping[VisitRequest, tuple[TimeWindow, ...]] | None = None,
    day_now: live.LiveDay | None = None,
) -> RestOfDay | None:
    """The rest of the day, with the `extra` requests (and their windows) as stops on no route; None when no team
    works. `day_now`: the day as published, when the caller has read it already."""
    day_now = day_now or live.live_day(session, branch.id, work_date)
    day = day_from_now(session, branch, work_date, travel, {UUID(key) for key in day_now.homes()}, extra, day_now)
    if day is None:
        return None
    return RestOfDay(day, day_now, day_now.planned_routes(day.teams, day.requests))


def day_from_now(
    session: Session,
    branch: Branch,
    work_date: date,
    travel: Travel,
    planned: Collection[UUID],
    extra: Mapping[VisitRequest, tuple[TimeWindow, ...]] | None,
    day_now: live.LiveDay,
) -> PlannedDay | None:
    """The routing day of the teams at work, each from where it is now, over the `planned` requests the law and the
    eligibility gate still leave open and the `extra` ones; None when no team works."""
    teams = working_teams(session, branch, work_date)
    if not teams:
        return None
    requests_planned = live.requests_by_id(session, planned)
    rules = branches_service.rules_of(branch)
    gate = eligibility.verdicts(session, rules, work_date, list(requests_planned.values()))
    windows: dict[UUID, tuple[TimeWindow, ...]] = {}
    for request in requests_planned.values():
        found = visit_windows(rules, work_date, request, gate[request.id].avoid) if gate[request.id].eligible else None
        if found is not None and not isinstance(found, Closed):
            windows[request.id] = found
    for request, found in (extra or {}).items():
        windows[request.id] = found
    requests = [request for request in [*requests_planned.values(), *(extra or {})] if request.id in windows]
    midnight = local_midnight(branch, work_date)
    resume = live.resumes(session, day_now, teams, midnight, max(utcnow(), midnight))
    day, _ = build_day(branch, work_date, teams, requests, windows, travel, resume=resume)
    return day
