"""The results a branch is run by: for a span of work dates, grouped by day, week or month and by team, agent, phone
collector, overdue bucket or the whole branch, what was asked, planned and done at the doors, whom the teams met, what
was promised and paid, and how well the work was done. Every figure is defined in `api.reports.schemas.ResultFigures`.

A visit counts in the period of its work date, for its team (by name: a team is made for each date), for each of its
two agents, for its case's collector and bucket. What has no team (requests, left-out requests, invalid addresses
without a visit) counts for the key `unassigned` when grouped by team or agent. The facts are read once
(`api.reports.result_facts`) and counted here; the visits behind a number are the visits counted for it."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.models.branches import Branch
from api.models.cases import Address, DebtCase
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visits import ContactResult, Visit
from api.problems import ValidationFailed
from api.reports.result_facts import UNASSIGNED, Owner, ResultFacts, TeamDay, VisitDone, gather
from api.reports.schemas import ResultFigures, ResultRow, ResultsOverview, ResultVisit
from api.rules.promises import PromiseState

ON_TIME_EARLY = timedelta(minutes=15)  # a visit started this much before its planned start is on time…
ON_TIME_LATE = timedelta(minutes=30)  # …and this much after it
LONGEST_SPAN_DAYS = 366
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


class VisitFigure(StrEnum):
    """A figure counted in visits done, whose visits a reader may list: visits done, failed (nobody met), that met
    the debtor, that met family; that made a promise, whose promise was kept, partly kept, broken; followed by a
    payment within the report's days, with cash collected, started on time, with a photo flagged for review, with a
    doubtful presence score."""

    VISITS_DONE = "visits_done"
    VISITS_FAILED = "visits_failed"
    RIGHT_PARTY_CONTACTS = "right_party_contacts"
    FAMILY_CONTACTS = "family_contacts"
    PROMISES_MADE = "promises_made"
    PROMISES_KEPT = "promises_kept"
    PROMISES_PARTLY_KEPT = "promises_partly_kept"
    PROMISES_BROKEN = "promises_broken"
    PAID_AFTER_VISITS = "paid_after_visits"
    CASH_COLLECTED = "cash_collected"
    ON_TIME = "on_time"
    EVIDENCE_FLAGGED = "evidence_flagged"
    DOUBTFUL_PRESENCE = "doubtful_presence"


_BY_STATE = {
    PromiseState.KEPT: VisitFigure.PROMISES_KEPT,
    PromiseState.PARTLY_KEPT: VisitFigure.PROMISES_PARTLY_KEPT,
    PromiseState.BROKEN: VisitFigure.PROMISES_BROKEN,
}


def period_of(day: date, period: Period) -> date:
    """The first day of the period `day` is in."""
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def marks(visit: VisitDone, facts: ResultFacts) -> set[VisitFigure]:
    """The figures a visit done counts in."""
    found = {VisitFigure.VISITS_DONE}
    match visit.contact_result:
        case ContactResult.NOBODY.value:
            found.add(VisitFigure.VISITS_FAILED)
        case ContactResult.MET_DEBTOR.value:
            found.add(VisitFigure.RIGHT_PARTY_CONTACTS)
        case ContactResult.MET_FAMILY.value:
            found.add(VisitFigure.FAMILY_CONTACTS)
    if visit.promise is not None:
        found.add(VisitFigure.PROMISES_MADE)
        if visit.promise.state in _BY_STATE:
            found.add(_BY_STATE[visit.promise.state])
    if facts.paid_after.get(visit.visit_id):
        found.add(VisitFigure.PAID_AFTER_VISITS)
    if visit.cash > 0:
        found.add(VisitFigure.CASH_COLLECTED)
    if (
        visit.started_at is not None
        and visit.planned_start is not None
        and visit.planned_start - ON_TIME_EARLY <= visit.started_at <= visit.planned_start + ON_TIME_LATE
    ):
        found.add(VisitFigure.ON_TIME)
    if visit.visit_id in facts.flagged:
        found.add(VisitFigure.EVIDENCE_FLAGGED)
    if visit.presence_score is not None and visit.presence_score < facts.branch.presence_threshold:
        found.add(VisitFigure.DOUBTFUL_PRESENCE)
    return found


Unit = TeamDay | str | None  # what a thing is counted under before its keys: a team, a collector, a bucket


def _unit(by: GroupBy, team: TeamDay | None, owner: Owner) -> Unit:
    """What a thing is counted under for a grouping: its team for a team, its agents or the branch; else its
    collector or bucket."""
    match by:
        case GroupBy.COLLECTOR:
            return owner.collector
        case GroupBy.BUCKET:
            return owner.bucket
        case _:
            return team


def _unit_keys(facts: ResultFacts, by: GroupBy, unit: Unit) -> tuple[str, ...]:
    """The keys a unit counts for."""
    match by:
        case GroupBy.TEAM:
            return (unit[1] if isinstance(unit, tuple) else UNASSIGNED,)
        case GroupBy.AGENT:
            return facts.agents.get(unit, (UNASSIGNED,)) if isinstance(unit, tuple) else (UNASSIGNED,)
        case GroupBy.BRANCH:
            return (str(facts.branch.id),)
        case _:
            return (str(unit),)


def _keys(facts: ResultFacts, by: GroupBy, team: TeamDay | None, owner: Owner) -> tuple[str, ...]:
    """The keys a thing counts for, by grouping."""
    return _unit_keys(facts, by, _unit(by, team, owner))


@dataclass
class _Tally:
    requests_due: int = 0
    planned: int = 0
    cancelled: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    counted: Counter[VisitFigure] = field(default_factory=Counter)
    promised: Decimal = Decimal("0.00")
    amount_by_state: dict[PromiseState, Decimal] = field(default_factory=lambda: defaultdict(lambda: Decimal("0.00")))
    paid_after: Decimal = Decimal("0.00")
    cash: Decimal = Decimal("0.00")
    on_site_s: int = 0
    timed: int = 0
    metres: int = 0
    assessed: int = 0
    invalid: int = 0

    def add_visit(self, visit: VisitDone, figures: set[VisitFigure], paid_after: Decimal) -> None:
        self.counted.update(figures)
        self.cash += visit.cash
        self.paid_after += paid_after
        self.metres += visit.travel_m or 0
        self.assessed += visit.presence_score is not None
        if visit.on_site_s is not None:
            self.on_site_s, self.timed = self.on_site_s + visit.on_site_s, self.timed + 1
        if visit.promise is not None:
            self.promised += visit.promise.amount
            state = visit.promise.state
            if state is not PromiseState.PENDING:
                self.amount_by_state[state] += (
                    visit.promise.paid if state is PromiseState.PARTLY_KEPT else visit.promise.amount
                )

    def add(self, other: "_Tally") -> None:
        """Count `other` in too."""
        for name in ("requests_due", "planned", "cancelled", "on_site_s", "timed", "metres", "assessed", "invalid"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.promised, self.paid_after, self.cash = (
            self.promised + other.promised,
            self.paid_after + other.paid_after,
            self.cash + other.cash,
        )
        self.left_out.update(other.left_out)
        self.counted.update(other.counted)
        for state, amount in other.amount_by_state.items():
            self.amount_by_state[state] += amount


Units = dict[tuple[date, Unit], _Tally]


def _by_unit(facts: ResultFacts, by: GroupBy) -> Units:
    """The facts counted per day and unit: one pass over them, whatever the period and however many keys a unit
    counts for."""
    units: Units = defaultdict(_Tally)
    zero = Decimal("0.00")
    for visit in facts.visits:
        one = units[(visit.team[0], _unit(by, visit.team, visit.owner))]
        one.add_visit(visit, marks(visit, facts), facts.paid_after.get(visit.visit_id, zero))
    for stop in facts.stops:
        one = units[(stop.team[0], _unit(by, stop.team, stop.owner))]
        one.planned += 1
        one.cancelled += stop.cancelled
    for request in facts.requests_due:
        units[(request.day, _unit(by, None, request.owner))].requests_due += 1
    for left in facts.left_out:
        units[(left.day, _unit(by, None, left.owner))].left_out[left.reason] += 1
    team_of = {visit.visit_id: visit.team for visit in facts.visits}
    for report in facts.invalid:
        team = team_of.get(report.visit_id) if report.visit_id else None
        units[(report.day, _unit(by, team, report.owner))].invalid += 1
    return units


def count(facts: ResultFacts, period: Period, by: GroupBy, units: Units | None = None) -> list[ResultRow]:
    """One row per period and key, in order (from `units`, when counted for a grouping of the same unit)."""
    tallies: dict[tuple[date, str], _Tally] = defaultdict(_Tally)
    for (day, unit), one in (units if units is not None else _by_unit(facts, by)).items():
        start = period_of(day, period)
        for key in _unit_keys(facts, by, unit):
            tallies[(start, key)].add(one)
    names = facts.names | {str(facts.branch.id): facts.branch.name}
    return [
        ResultRow(period_start=start, key=key, label=names.get(key, key), figures=_figures(one))
        for (start, key), one in sorted(tallies.items())
    ]


def _figures(one: _Tally) -> ResultFigures:
    done, counted, amounts = one.counted[VisitFigure.VISITS_DONE], one.counted, one.amount_by_state
    settled = sum(counted[figure] for figure in _BY_STATE.values())
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
        kept_amount=amounts[PromiseState.KEPT],
        promises_partly_kept=counted[VisitFigure.PROMISES_PARTLY_KEPT],
        partly_kept_paid=amounts[PromiseState.PARTLY_KEPT],
        promises_broken=counted[VisitFigure.PROMISES_BROKEN],
        broken_amount=amounts[PromiseState.BROKEN],
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
    return count(gather(session, branch, since, until, mine, payment_days), period, by)


def overview(
    session: Session, user: User, *, branch_id: UUID | None, day: date | None, payment_days: int
) -> ResultsOverview:
    """The results screen's first view: the day and the month to it for the branch, the month's days, and the
    month by team and by agent with their days; the facts are read once."""
    branch, mine = _scope(session, user, branch_id)
    day = day or branches_service.local_today(branch)
    month_start = period_of(day, Period.MONTH)
    facts = gather(session, branch, month_start, day, mine, payment_days)
    teams = _by_unit(facts, GroupBy.TEAM)  # the branch, the teams and the agents all count teams
    trend = count(facts, Period.DAY, GroupBy.BRANCH, teams)
    month = count(facts, Period.MONTH, GroupBy.BRANCH, teams)
    empty = _figures(_Tally())
    return ResultsOverview(
        day=day,
        month_start=month_start,
        payment_days=payment_days,
        day_figures=next((row.figures for row in trend if row.period_start == day), empty),
        month_figures=month[0].figures if month else empty,
        trend=trend,
        teams=count(facts, Period.MONTH, GroupBy.TEAM, teams),
        team_trend=count(facts, Period.DAY, GroupBy.TEAM, teams),
        agents=count(facts, Period.MONTH, GroupBy.AGENT, teams),
        agent_trend=count(facts, Period.DAY, GroupBy.AGENT, teams),
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
    facts = gather(session, branch, since, until, mine, payment_days)
    chosen = [
        visit
        for visit in facts.visits
        if key in _keys(facts, by, visit.team, visit.owner) and figure in marks(visit, facts)
    ]
    return _listed(session, sorted(chosen, key=lambda visit: (visit.team[0], visit.completed_at)))


def _listed(session: Session, visits: Sequence[VisitDone]) -> list[ResultVisit]:
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
