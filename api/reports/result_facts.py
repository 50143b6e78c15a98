"""What a results report counts, counted in SQL for a span of work dates: per day and unit (a team, a phone collector
or an overdue bucket), the visits done and what each figure counts of them, the stops of the latest published
sheets, the requests due and left out, the invalid addresses. Each visit done is one row of a derived table (its
outcome, stop, presence score, promise and the payments after it joined to it); a figure counted in visits is a
condition on that row (`visit_conditions`), summed for a report and filtered on for the visits behind a number, so
a number and its list agree. `api.reports.results` folds the units into periods and keys."""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    ColumnElement,
    Numeric,
    String,
    Subquery,
    case,
    cast,
    false,
    func,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import SQLCoreOperations

from api.db import likely, seconds_between
from api.models.address_reports import AddressReport, ReportStatus
from api.models.branches import Branch
from api.models.cases import DebtCase
from api.models.findings import Finding, FindingKind
from api.models.payments import Payment, Promise
from api.models.sheets import PlanningRun, SheetStatus, SheetStop, StopState, UnplannedRequest, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.users import User
from api.models.visit_requests import VisitRequest
from api.models.visits import ContactResult, Outcome, PresenceStage, Visit, VisitPresence, VisitStatus
from api.rules.promises import PromiseState

UNASSIGNED = "unassigned"
DONE = (VisitStatus.COMPLETED, VisitStatus.AMENDMENT_REPORTED)  # both agents confirmed the outcome
ON_TIME_S = (-15 * 60, 30 * 60)  # a visit started 15 minutes before to 30 minutes after its planned start is on time
MONEY = Numeric(16, 2)
TeamDay = tuple[date, str]  # a team: its work date and name
Unit = TeamDay | str | None  # what a thing is counted under before its keys; None: no team


class UnitKind(StrEnum):
    """What a report counts things under before folding them into its keys: teams (for teams, agents and the
    branch), phone collectors or overdue buckets."""

    TEAM = "team"
    COLLECTOR = "collector"
    BUCKET = "bucket"


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


@dataclass(slots=True)
class Tally:
    """What a day and unit (or a period and key) counts."""

    requests_due: int = 0
    planned: int = 0
    cancelled: int = 0
    left_out: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    counted: defaultdict[VisitFigure, int] = field(default_factory=lambda: defaultdict(int))
    promised: Decimal = Decimal("0.00")
    kept_amount: Decimal = Decimal("0.00")
    partly_kept_paid: Decimal = Decimal("0.00")
    broken_amount: Decimal = Decimal("0.00")
    paid_after: Decimal = Decimal("0.00")
    cash: Decimal = Decimal("0.00")
    on_site_s: int = 0
    timed: int = 0
    metres: int = 0
    assessed: int = 0
    invalid: int = 0

    def add(self, other: "Tally") -> None:
        """Count `other` in too."""
        self.requests_due += other.requests_due
        self.planned += other.planned
        self.cancelled += other.cancelled
        self.promised += other.promised
        self.kept_amount += other.kept_amount
        self.partly_kept_paid += other.partly_kept_paid
        self.broken_amount += other.broken_amount
        self.paid_after += other.paid_after
        self.cash += other.cash
        self.on_site_s += other.on_site_s
        self.timed += other.timed
        self.metres += other.metres
        self.assessed += other.assessed
        self.invalid += other.invalid
        for reason, left in other.left_out.items():
            self.left_out[reason] += left
        for figure, counted in other.counted.items():
            self.counted[figure] += counted


@dataclass
class ResultFacts:
    branch: Branch
    kind: UnitKind
    agents: dict[TeamDay, tuple[str, ...]]  # each team's agents' ids
    names: dict[str, str]  # agents' and collectors' names by id
    units: dict[tuple[date, Unit], Tally]


@dataclass(frozen=True, slots=True)
class CountedVisit:
    """A visit a figure counts, with what it counts for."""

    visit_id: UUID
    team: TeamDay
    collector: str
    bucket: str
    contact_result: str | None
    started_at: datetime | None
    completed_at: datetime

    def unit(self, kind: UnitKind) -> Unit:
        match kind:
            case UnitKind.TEAM:
                return self.team
            case UnitKind.COLLECTOR:
                return self.collector
            case _:
                return self.bucket


@dataclass(frozen=True, slots=True)
class _Span:
    """What a report reads (the branch's work dates since..until, of the cases `mine` selects) and where it counts
    it (per day and unit of `kind`)."""

    session: Session
    branch: Branch
    since: date
    until: date
    mine: ColumnElement[bool]
    kind: UnitKind
    units: dict[tuple[date, Unit], Tally]


def gather(
    session: Session,
    branch: Branch,
    since: date,
    until: date,
    mine: ColumnElement[bool],
    payment_days: int,
    kind: UnitKind,
) -> ResultFacts:
    """The branch's work dates `since`..`until` counted per day and unit, of the cases `mine` selects."""
    agents, names = team_agents(session, branch, since, until)
    units: dict[tuple[date, Unit], Tally] = defaultdict(Tally)
    span = _Span(session, branch, since, until, mine, kind, units)
    _count_visits(span, visit_rows(session, branch, since, until, mine))
    for paid in _paid_after(session, branch, since, until, mine, timedelta(days=payment_days)).values():
        one = units[(paid.team[0], _unit(kind, paid.team[0], paid.unit(kind)))]
        one.paid_after += paid.amount
        one.counted[VisitFigure.PAID_AFTER_VISITS] += 1
    for count in (_count_stops, _count_requests, _count_left_out, _count_invalid):
        count(span)
    collectors = [str(unit) for _, unit in units if kind is UnitKind.COLLECTOR]
    return ResultFacts(branch, kind, agents, names | _collector_names(session, collectors), dict(units))


def counted_visits(
    session: Session,
    branch: Branch,
    since: date,
    until: date,
    mine: ColumnElement[bool],
    payment_days: int,
    figure: VisitFigure,
) -> list[CountedVisit]:
    """The visits done on the span's work dates that `figure` counts, in the order they were done."""
    visits = visit_rows(session, branch, since, until, mine)
    paid = figure is VisitFigure.PAID_AFTER_VISITS
    paid_after = _paid_after(session, branch, since, until, mine, timedelta(days=payment_days)) if paid else {}
    rows = session.execute(
        select(
            visits.c.visit_id,
            visits.c.work_date,
            visits.c.team,
            visits.c.collector,
            visits.c.bucket,
            visits.c.contact_result,
            visits.c.started_at,
            visits.c.completed_at,
        )
        .where(true() if paid else visit_conditions(visits, branch)[figure])
        .order_by(visits.c.work_date, visits.c.completed_at)
    )
    return [
        CountedVisit(visit_id, (work_date, team), _collector(collector), _bucket(bucket), result, started, completed)
        for visit_id, work_date, team, collector, bucket, result, started, completed in rows
        if not paid or visit_id in paid_after
    ]


def visit_rows(
    session: Session,
    branch: Branch,
    since: date,
    until: date,
    mine: ColumnElement[bool],
) -> CTE:
    """One row per visit done on the span's work dates: its team and case's owner, its last confirmed outcome's
    contact result and cash, its stop on the team's latest published sheet, its presence score at completion, its
    promise, and whether a photo of it was flagged for review. (What the case paid after it is matched apart, from
    the paying cases' payments: `_paid_after`.)"""
    last_confirmed = (
        select(Outcome.details)
        .where(Outcome.visit_id == Visit.id, Outcome.confirmed_at.is_not(None))
        .order_by(Outcome.sequence.desc())
        .limit(1)
        .correlate(Visit)
    )
    flagged = _flagged(session, branch, since, until)
    newer = aliased(VisitSheet)
    latest_version = (
        select(func.max(newer.version))
        .where(newer.team_id == Visit.team_id, newer.status == SheetStatus.PUBLISHED)
        .correlate(Visit)
        .scalar_subquery()
    )
    return (
        select(
            Visit.id.label("visit_id"),
            Team.work_date.label("work_date"),
            Team.name.label("team"),
            cast(DebtCase.phone_collector_id, String).label("collector"),  # matched, never returned as a UUID
            DebtCase.overdue_bucket.label("bucket"),
            last_confirmed.with_only_columns(Outcome.details["contact_result"].as_string())
            .scalar_subquery()
            .label("contact_result"),
            cast(
                last_confirmed.with_only_columns(
                    Outcome.details[("cash_payment", "amount")].as_string()
                ).scalar_subquery(),
                MONEY,
            ).label("cash"),
            Visit.on_site_s.label("on_site_s"),
            Visit.started_at.label("started_at"),
            Visit.completed_at.label("completed_at"),
            SheetStop.starts_at.label("planned_start"),
            SheetStop.travel_m.label("travel_m"),
            VisitPresence.score.label("score"),
            Promise.amount.label("promise_amount"),
            Promise.paid.label("promise_paid"),
            Promise.state.label("promise_state"),
            (Visit.id.in_(flagged) if flagged else false()).label("flagged"),
        )
        .select_from(Team)
        .join(Visit, Visit.team_id == Team.id)
        .join(DebtCase, DebtCase.id == Visit.case_id)
        .outerjoin(  # the team's latest published sheet, found by the team's index (a year holds 18,000 sheets)
            VisitSheet,
            (VisitSheet.team_id == Visit.team_id)
            & (VisitSheet.status == SheetStatus.PUBLISHED)
            & (VisitSheet.version == latest_version),
        )
        .outerjoin(
            SheetStop, (SheetStop.sheet_id == VisitSheet.id) & (SheetStop.visit_request_id == Visit.visit_request_id)
        )
        .outerjoin(Promise, Promise.visit_id == Visit.id)
        .outerjoin(  # one assessment per visit and stage
            VisitPresence,
            (VisitPresence.visit_id == Visit.id) & (VisitPresence.stage == PresenceStage.COMPLETION),
        )
        .where(_team_days(branch, since, until), Visit.status.in_(DONE), Visit.completed_at.is_not(None), mine)
        .cte("visit_done")
        # computed once, then counted: inlined, each condition on a column would run its subquery again
        .prefix_with("MATERIALIZED")
    )


def visit_conditions(visits: CTE, branch: Branch) -> dict[VisitFigure, ColumnElement[bool]]:
    """Each figure counted in visits, as a condition on a row of `visit_rows` (but payments after visits)."""
    row = visits.c
    early, late = ON_TIME_S
    return {
        VisitFigure.VISITS_DONE: true(),
        VisitFigure.VISITS_FAILED: row.contact_result == ContactResult.NOBODY.value,
        VisitFigure.RIGHT_PARTY_CONTACTS: row.contact_result == ContactResult.MET_DEBTOR.value,
        VisitFigure.FAMILY_CONTACTS: row.contact_result == ContactResult.MET_FAMILY.value,
        VisitFigure.PROMISES_MADE: row.promise_amount.is_not(None),
        VisitFigure.PROMISES_KEPT: row.promise_state == PromiseState.KEPT,
        VisitFigure.PROMISES_PARTLY_KEPT: row.promise_state == PromiseState.PARTLY_KEPT,
        VisitFigure.PROMISES_BROKEN: row.promise_state == PromiseState.BROKEN,
        VisitFigure.CASH_COLLECTED: row.cash > 0,
        VisitFigure.ON_TIME: seconds_between(row.started_at, row.planned_start).between(early, late),
        VisitFigure.EVIDENCE_FLAGGED: row.flagged == true(),
        VisitFigure.DOUBTFUL_PRESENCE: row.score < branch.presence_threshold,
    }


def _money(amount: ColumnElement[Any]) -> ColumnElement[Decimal]:
    return type_coerce(func.coalesce(func.sum(amount), 0), MONEY)


def _if(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((condition, value), else_=None)


def _count_visits(span: _Span, visits: CTE) -> None:
    """The visits done per day and unit: each figure's count, the promises' amounts, the cash, the time on site,
    the metres driven and the presence scores."""
    row = visits.c
    unit = {UnitKind.TEAM: row.team, UnitKind.COLLECTOR: row.collector, UnitKind.BUCKET: row.bucket}[span.kind]
    figures = visit_conditions(visits, span.branch)
    results = span.session.execute(
        select(
            row.work_date,
            unit,
            *(func.count(_if(condition, literal(1))) for condition in figures.values()),
            _money(row.promise_amount),
            _money(_if(row.promise_state == PromiseState.KEPT, row.promise_amount)),
            _money(_if(row.promise_state == PromiseState.PARTLY_KEPT, row.promise_paid)),
            _money(_if(row.promise_state == PromiseState.BROKEN, row.promise_amount)),
            _money(row.cash),
            func.coalesce(func.sum(row.on_site_s), 0),
            func.count(row.on_site_s),
            func.coalesce(func.sum(row.travel_m), 0),
            func.count(row.score),
        ).group_by(row.work_date, unit)
    )
    for work_date, key, *values in results:
        one = span.units[(work_date, _unit(span.kind, work_date, key))]
        for figure, counted in zip(figures, values[: len(figures)], strict=True):
            one.counted[figure] += counted
        (
            one.promised,
            one.kept_amount,
            one.partly_kept_paid,
            one.broken_amount,
            one.cash,
            one.on_site_s,
            one.timed,
            one.metres,
            one.assessed,
        ) = values[len(figures) :]


def _unit(kind: UnitKind, work_date: date, key: Any) -> Unit:
    """The unit a row's key names: a team of the date (None: no team), a collector (`unassigned`: none), a bucket."""
    if kind is UnitKind.TEAM:
        return (work_date, key) if key is not None else None
    return _collector(key) if kind is UnitKind.COLLECTOR else _bucket(key)


@lru_cache(maxsize=4096)
def _collector(raw: str | None) -> str:
    return str(UUID(raw)) if raw else UNASSIGNED


def _bucket(bucket: Any) -> str:
    return str(getattr(bucket, "value", bucket))


def _owner_unit(kind: UnitKind, team: SQLCoreOperations[Any] | None) -> SQLCoreOperations[Any]:
    """The column a thing of a case is counted under: its team's name (or none), the case's collector or bucket."""
    if kind is UnitKind.TEAM:
        return team if team is not None else literal(None, String)
    return cast(DebtCase.phone_collector_id, String) if kind is UnitKind.COLLECTOR else DebtCase.overdue_bucket


def _team_days(branch: Branch, since: date, until: date) -> ColumnElement[bool]:
    """The branch's teams of the span: the condition every query starts from (the index on the team's branch and
    work date finds them; a visit or sheet is reached through its team)."""
    return (Team.branch_id == branch.id) & Team.work_date.between(since, until)


def _latest_sheets(branch: Branch, since: date, until: date) -> Subquery:
    """Each team's latest published sheet of the span: its id, team, work date and the team's name."""
    latest = (
        select(VisitSheet.team_id, func.max(VisitSheet.version).label("version"))
        .join(Team, Team.id == VisitSheet.team_id)
        .where(_team_days(branch, since, until), VisitSheet.status == SheetStatus.PUBLISHED)
        .group_by(VisitSheet.team_id)
        .subquery()
    )
    return (
        select(VisitSheet.id, VisitSheet.team_id, VisitSheet.work_date, Team.name.label("team_name"))
        .join(Team, Team.id == VisitSheet.team_id)
        .join(latest, (latest.c.team_id == VisitSheet.team_id) & (latest.c.version == VisitSheet.version))
        .subquery("latest_sheet")
    )


def _count_stops(span: _Span) -> None:
    """The stops of each team's latest published sheet of the span, and of them the cancelled."""
    sheet = _latest_sheets(span.branch, span.since, span.until)
    unit = _owner_unit(span.kind, sheet.c.team_name)
    rows = span.session.execute(
        select(
            sheet.c.work_date,
            unit,
            func.count(),
            func.count(_if(SheetStop.state == StopState.CANCELLED, literal(1))),
        )
        .select_from(sheet)
        .join(SheetStop, SheetStop.sheet_id == sheet.c.id)
        .join(VisitRequest, VisitRequest.id == SheetStop.visit_request_id)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(span.mine)
        .group_by(sheet.c.work_date, unit)
    )
    for day, key, planned, cancelled in rows:
        one = span.units[(day, _unit(span.kind, day, key))]
        one.planned += planned
        one.cancelled += cancelled


def _count_requests(span: _Span) -> None:
    """The visit requests whose first possible date is in the span."""
    unit = _owner_unit(span.kind, None)
    rows = span.session.execute(
        select(VisitRequest.earliest_date, unit, func.count())
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(
            likely(DebtCase.branch_id == span.branch.id),
            span.mine,
            VisitRequest.earliest_date.between(span.since, span.until),
        )
        .group_by(VisitRequest.earliest_date, unit)
    )
    for day, key, due in rows:
        span.units[(day, _unit(span.kind, day, key))].requests_due += due


def _count_left_out(span: _Span) -> None:
    """The requests the last published run of each work date left out, by reason."""
    later = aliased(PlanningRun)
    newest = (
        select(func.max(later.published_at))
        .where(later.branch_id == PlanningRun.branch_id, later.work_date == PlanningRun.work_date)
        .correlate(PlanningRun)
        .scalar_subquery()
    )
    unit = _owner_unit(span.kind, None)
    rows = span.session.execute(
        select(PlanningRun.work_date, unit, UnplannedRequest.reason, func.count())
        .join(UnplannedRequest, UnplannedRequest.run_id == PlanningRun.id)
        .join(VisitRequest, VisitRequest.id == UnplannedRequest.visit_request_id)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(
            PlanningRun.branch_id == span.branch.id,
            PlanningRun.work_date.between(span.since, span.until),
            PlanningRun.published_at.is_not(None),
            PlanningRun.published_at == newest,
            span.mine,
        )
        .group_by(PlanningRun.work_date, unit, UnplannedRequest.reason)
    )
    for day, key, reason, left in rows:
        span.units[(day, _unit(span.kind, day, key))].left_out[reason.value] += left


def _count_invalid(span: _Span) -> None:
    """The address reports the supervisor confirmed on the span's dates (local), under the team of the visit that
    made them, if any."""
    zone = ZoneInfo(span.branch.timezone)
    begins = datetime.combine(span.since, time(0), tzinfo=zone)
    ends = datetime.combine(span.until + timedelta(days=1), time(0), tzinfo=zone)
    rows = span.session.execute(
        select(AddressReport.decided_at, Team.work_date, _owner_unit(span.kind, Team.name))
        .join(DebtCase, DebtCase.id == AddressReport.case_id)
        .outerjoin(Visit, Visit.id == AddressReport.visit_id)
        .outerjoin(Team, Team.id == Visit.team_id)
        .where(
            AddressReport.branch_id == span.branch.id,
            AddressReport.status == ReportStatus.CONFIRMED,
            AddressReport.decided_at >= begins,
            AddressReport.decided_at < ends,
            span.mine,
        )
    )
    for decided_at, work_date, key in rows:
        assert decided_at is not None  # decided in the span
        span.units[(decided_at.astimezone(zone).date(), _unit(span.kind, work_date, key))].invalid += 1


def team_agents(
    session: Session, branch: Branch, since: date, until: date
) -> tuple[dict[TeamDay, tuple[str, ...]], dict[str, str]]:
    """Each team of the span's agents' ids; the agents' names."""
    rows = session.execute(
        select(Team.work_date, Team.name, TeamMember.agent_id, User.full_name)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(User, User.id == TeamMember.agent_id)
        .where(_team_days(branch, since, until))
        .order_by(Team.id, TeamMember.seat)
    )
    members: dict[TeamDay, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for work_date, team, agent_id, full_name in rows:
        members[(work_date, team)].append(str(agent_id))
        names[str(agent_id)] = full_name
    return {team: tuple(agents) for team, agents in members.items()}, names


def _collector_names(session: Session, ids: list[str]) -> dict[str, str]:
    known = [UUID(each) for each in ids if each != UNASSIGNED]
    if not known:
        return {}
    return {
        str(user_id): name
        for user_id, name in session.execute(select(User.id, User.full_name).where(User.id.in_(known)))
    }


def _flagged(session: Session, branch: Branch, since: date, until: date) -> list[UUID]:
    """The visits with a photo flagged for review (an `evidence_flagged` finding, raised during the visit or when
    its photo arrived, within a few days of the span)."""
    begins = datetime.combine(since - timedelta(days=1), time(0), tzinfo=UTC)
    ends = datetime.combine(until + timedelta(days=8), time(0), tzinfo=UTC)
    rows = session.scalars(
        select(Finding.payload).where(
            Finding.branch_id == branch.id,
            Finding.kind == FindingKind.EVIDENCE_FLAGGED,
            Finding.created_at.between(begins, ends),
        )
    )
    return sorted({UUID(payload["visit_id"]) for payload in rows if payload.get("visit_id")})


@dataclass(frozen=True, slots=True)
class PaidAfter:
    """What a visited case paid within the report's days after a visit done (each payment to the last visit done
    before it), and what the visit counts under."""

    team: TeamDay
    collector: str | None  # as text
    bucket: Any
    amount: Decimal

    def unit(self, kind: UnitKind) -> Any:
        match kind:
            case UnitKind.TEAM:
                return self.team[1]
            case UnitKind.COLLECTOR:
                return self.collector
            case _:
                return self.bucket


def _paid_after(
    session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool], window: timedelta
) -> dict[UUID, PaidAfter]:
    """The visits done on the span's work dates after which their case paid within `window`, and how much: each
    payment goes to the last visit done before it (a payment within the window of two visits, to the later)."""
    rows = session.execute(
        select(
            cast(Payment.id, String),
            Payment.amount,
            Visit.id,
            Visit.completed_at,
            Team.work_date,
            Team.name,
            cast(DebtCase.phone_collector_id, String),
            DebtCase.overdue_bucket,
        )
        .select_from(Team)
        .join(Visit, Visit.team_id == Team.id)
        .join(DebtCase, DebtCase.id == Visit.case_id)
        .join(
            Payment,
            (Payment.case_id == Visit.case_id)
            & (Payment.paid_at >= Visit.completed_at)
            & (seconds_between(Payment.paid_at, Visit.completed_at) <= window.total_seconds()),
        )
        .where(_team_days(branch, since, until), Visit.status.in_(DONE), Visit.completed_at.is_not(None), mine)
    )
    last_before: dict[str, tuple[datetime, UUID, PaidAfter]] = {}
    for payment_id, amount, visit_id, completed_at, work_date, team, collector, bucket in rows:
        assert completed_at is not None  # a visit done
        if payment_id not in last_before or completed_at > last_before[payment_id][0]:
            last_before[payment_id] = (completed_at, visit_id, PaidAfter((work_date, team), collector, bucket, amount))
    paid: dict[UUID, PaidAfter] = {}
    for _, visit_id, payment in last_before.values():
        earlier = paid.get(visit_id)
        paid[visit_id] = replace(payment, amount=payment.amount + earlier.amount) if earlier else payment
    return paid
