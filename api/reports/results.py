"""The results a branch is run by: for a span of work dates, grouped by day, week or month and by team, agent, phone
collector, overdue bucket or the whole branch, what was asked, planned and done at the doors, whom the teams met, what
was promised and paid, and how well the work was done. Every figure is defined in `api.reports.schemas.ResultFigures`.

A visit counts in the period of its work date, for its team (by name: a team is made for each date), for each of its
two agents, for its case's collector and bucket. What has no team (requests, left-out requests, invalid addresses
without a visit) counts for the key `unassigned` when grouped by team or agent. The facts are counted in SQL per day
and unit (`api.reports.result_facts`) and folded here into periods and keys; the visits behind a number are the
visits counted for it."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.models.branches import Branch
from api.models.cases import Address, DebtCase
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visits import Visit
from api.problems import ValidationFailed
from api.reports.result_facts import (
    UNASSIGNED,
    CountedVisit,
    ResultFacts,
    Tally,
    TeamDay,
    Unit,
    UnitKind,
    VisitFigure,
    counted_visits,
    gather,
    team_agents,
)
from api.reports.schemas import ResultFigures, ResultRow, ResultsOverview, ResultVisit

LONGEST_SPAN_DAYS = 366
_SETTLED = (VisitFigure.PROMISES_KEPT, VisitFigure.PROMISES_PARTLY_KEPT, VisitFigure.PROMISES_BROKEN)
IN_CHUNK = 5_000  # ids a query names at once


class Period(StrEnum):
    """How long a row of a results report is: a day, a week (from Monday) or a month."""

    DAY = "day"
    WEEK = "week"  # from Monday
    MONTH = "month"


class GroupBy(StrEnum):
    """What a row of a results report is about: a team (by name), an agent, a phone collector, an overdue bucket,
    or the whole branch."""

    TEAM = "team"
    AGENT = "agent"
    COLLECTOR = "collector"
    BUCKET = "bucket"
    BRANCH = "branch"


def period_of(day: date, period: Period) -> date:
    """The first day of the period `day` is in."""
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def _kind(by: GroupBy) -> UnitKind:
    """What a grouping counts under before its keys: teams for a team, its agents or the branch."""
    match by:
        case GroupBy.COLLECTOR:
            return UnitKind.COLLECTOR
        case GroupBy.BUCKET:
            return UnitKind.BUCKET
        case _:
            return UnitKind.TEAM


def _keys(branch: Branch, agents: dict[TeamDay, tuple[str, ...]], by: GroupBy, unit: Unit) -> tuple[str, ...]:
    """The keys a unit counts for: its team's name, the team's agents, the branch; the collector or bucket."""
    match by:
        case GroupBy.TEAM:
            return (unit[1] if isinstance(unit, tuple) else UNASSIGNED,)
        case GroupBy.AGENT:
            return agents.get(unit, (UNASSIGNED,)) if isinstance(unit, tuple) else (UNASSIGNED,)
        case GroupBy.BRANCH:
            return (str(branch.id),)
        case _:
            return (str(unit),)


Made = dict[tuple[date, Unit], ResultFigures]  # the figures of a day and unit, made once for every fold of it


def count(facts: ResultFacts, period: Period, by: GroupBy, made: Made | None = None) -> list[ResultRow]:
    """One row per period and key, in order, folded from the facts' days and units; a row of one day and unit
    takes its figures from `made` (and adds them there)."""
    assert facts.kind is _kind(by), "the facts were counted under another unit"
    folded: dict[tuple[date, str], list[tuple[date, Unit]]] = defaultdict(list)
    for day, unit in facts.units:
        start = period_of(day, period)
        for key in _keys(facts.branch, facts.agents, by, unit):
            folded[(start, key)].append((day, unit))
    made = {} if made is None else made
    names = facts.names | {str(facts.branch.id): facts.branch.name}
    return [
        ResultRow(period_start=start, key=key, label=names.get(key, key), figures=_folded(facts, units, made))
        for (start, key), units in sorted(folded.items())
    ]


def _folded(facts: ResultFacts, units: list[tuple[date, Unit]], made: Made) -> ResultFigures:
    if len(units) == 1:
        if units[0] not in made:
            made[units[0]] = _figures(facts.units[units[0]])
        return made[units[0]]
    whole = Tally()
    for unit in units:
        whole.add(facts.units[unit])
    return _figures(whole)


def _figures(one: Tally) -> ResultFigures:
    done, counted = one.counted[VisitFigure.VISITS_DONE], one.counted
    settled = sum(counted[figure] for figure in _SETTLED)
    return ResultFigures(
        requests_due=one.requests_due,
        planned=one.planned,
        left_out=sum(one.left_out.values()),
        left_out_by_reason=dict(sorted(one.left_out.items())),
        visits_done=done,
        visits_failed=counted[VisitFigure.VISITS_FAILED],
        cancelled=one.cancelled,
        right_party_contact_rate=_share(counted[VisitFigure.RIGHT_PARTY_CONTACTS], done),
        family_contact_rate=_share(counted[VisitFigure.FAMILY_CONTACTS], done),
        promises_made=counted[VisitFigure.PROMISES_MADE],
        promised_amount=one.promised,
        promises_kept=counted[VisitFigure.PROMISES_KEPT],
        kept_amount=one.kept_amount,
        promises_partly_kept=counted[VisitFigure.PROMISES_PARTLY_KEPT],
        partly_kept_paid=one.partly_kept_paid,
        promises_broken=counted[VisitFigure.PROMISES_BROKEN],
        broken_amount=one.broken_amount,
        kept_rate=_share(counted[VisitFigure.PROMISES_KEPT], settled),
        paid_after_visits=one.paid_after,
        cash_collected=one.cash,
        average_on_site_min=round(one.on_site_s / one.timed / 60, 1) if one.timed else None,
        km_per_visit=round(one.metres / done / 1000, 2) if done else None,
        on_time_share=_share(counted[VisitFigure.ON_TIME], done),
        evidence_complete_share=_share(done - counted[VisitFigure.EVIDENCE_FLAGGED], done),
        doubtful_presence_share=_share(counted[VisitFigure.DOUBTFUL_PRESENCE], one.assessed),
        addresses_invalid=one.invalid,
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _scope(session: Session, user: User, branch_id: UUID | None) -> tuple[Branch, ColumnElement[bool]]:
    """The user's branch (an admin names it) and the cases they see (a phone collector: their own)."""
    branch = branches_service.branch_for_new_row(session, user, branch_id)
    return branch, DebtCase.phone_collector_id == user.id if user.role is Role.PHONE_COLLECTOR else true()


def _check_span(since: date, until: date) -> None:
    if since > until or (until - since).days >= LONGEST_SPAN_DAYS:
        raise ValidationFailed(
            "since must be on or before until, at most a year apart.",
            errors=[{"parameter": "since", "detail": "after until, or more than a year before it"}],
        )


def field_results(
    session: Session,
    user: User,
    *,
    branch_id: UUID | None,
    since: date,
    until: date,
    period: Period,
    by: GroupBy,
    payment_days: int,
) -> list[ResultRow]:
    """The results of the user's branch (an admin names it; a phone collector sees their own cases only), one row
    per period and key, in order."""
    _check_span(since, until)
    branch, mine = _scope(session, user, branch_id)
    return count(gather(session, branch, since, until, mine, payment_days, _kind(by)), period, by)


def overview(
    session: Session, user: User, *, branch_id: UUID | None, day: date | None, payment_days: int
) -> ResultsOverview:
    """The results screen's first view: the day and the month to it for the branch, the month's days, and the
    month by team and by agent with their days; the facts are read once."""
    branch, mine = _scope(session, user, branch_id)
    day = day or branches_service.local_today(branch)
    month_start = period_of(day, Period.MONTH)
    facts = gather(session, branch, month_start, day, mine, payment_days, UnitKind.TEAM)  # branch, teams, agents
    made: Made = {}
    trend = count(facts, Period.DAY, GroupBy.BRANCH, made)
    month = count(facts, Period.MONTH, GroupBy.BRANCH, made)
    empty = _figures(Tally())
    return ResultsOverview(
        day=day,
        month_start=month_start,
        payment_days=payment_days,
        day_figures=next((row.figures for row in trend if row.period_start == day), empty),
        month_figures=month[0].figures if month else empty,
        trend=trend,
        teams=count(facts, Period.MONTH, GroupBy.TEAM, made),
        team_trend=count(facts, Period.DAY, GroupBy.TEAM, made),
        agents=count(facts, Period.MONTH, GroupBy.AGENT, made),
        agent_trend=count(facts, Period.DAY, GroupBy.AGENT, made),
    )


def visits_behind(
    session: Session,
    user: User,
    *,
    branch_id: UUID | None,
    since: date,
    until: date,
    by: GroupBy,
    key: str,
    figure: VisitFigure,
    payment_days: int,
) -> list[ResultVisit]:
    """The visits a figure of the results counts for a key over the span, in the order they were done."""
    _check_span(since, until)
    branch, mine = _scope(session, user, branch_id)
    agents, _ = team_agents(session, branch, since, until) if by is GroupBy.AGENT else ({}, {})
    chosen = [
        visit
        for visit in counted_visits(session, branch, since, until, mine, payment_days, figure)
        if key in _keys(branch, agents, by, visit.unit(_kind(by)))
    ]
    return _listed(session, chosen)


def _listed(session: Session, visits: Sequence[CountedVisit]) -> list[ResultVisit]:
    """The visits as a person reads them: team, debtor, case, address."""
    subjects: dict[UUID, tuple[str, str, str, str]] = {}
    ids = [visit.visit_id for visit in visits]
    for start in range(0, len(ids), IN_CHUNK):
        rows = session.execute(
            select(Visit.id, Team.name, DebtCase.debtor_name, DebtCase.reference, Address.raw_text)
            .join(Team, Team.id == Visit.team_id)
            .join(DebtCase, DebtCase.id == Visit.case_id)
            .join(Address, Address.id == Visit.address_id)
            .where(Visit.id.in_(ids[start : start + IN_CHUNK]))
        )
        subjects |= {visit_id: (team, debtor, reference, text) for visit_id, team, debtor, reference, text in rows}
    return [
        ResultVisit(
            visit_id=visit.visit_id,
            work_date=visit.team[0],
            team_name=subjects[visit.visit_id][0],
            debtor_name=subjects[visit.visit_id][1],
            case_reference=subjects[visit.visit_id][2],
            address_text=subjects[visit.visit_id][3],
            contact_result=visit.contact_result,
            started_at=visit.started_at,
            completed_at=visit.completed_at,
        )
        for visit in visits
    ]
