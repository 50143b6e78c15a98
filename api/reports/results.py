"""The results a branch is run by: for a span of work dates, grouped by day, week or month and by team, agent, phone
collector or overdue bucket, what was asked, planned and done at the doors, whom the teams met, what was promised and
paid, and how well the work was done. Every figure is defined in `api.reports.schemas.ResultFigures`.

A visit counts in the period of its work date, for its team (by name: a team is made for each date), for each of its
two agents, for its case's collector and bucket. What has no team (requests, left-out requests, invalid addresses
without a visit) counts for the key `unassigned` when grouped by team or agent."""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session, aliased

from api.branches import service as branches_service
from api.models.address_reports import AddressReport, ReportStatus
from api.models.branches import Branch
from api.models.cases import DebtCase
from api.models.findings import Finding, FindingKind
from api.models.payments import Payment, Promise
from api.models.sheets import PlanningRun, SheetStatus, SheetStop, StopState, UnplannedRequest, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from api.models.visits import ContactResult, Outcome, PresenceStage, Visit, VisitPresence, VisitStatus
from api.problems import ValidationFailed
from api.reports.schemas import ResultFigures, ResultRow
from api.rules.promises import PromiseState

UNASSIGNED = "unassigned"
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
    """What a row of a results report is about: a team (by name), an agent, a phone collector or an overdue bucket."""

    TEAM = "team"
    AGENT = "agent"
    COLLECTOR = "collector"
    BUCKET = "bucket"


def period_of(day: date, period: Period) -> date:
    """The first day of the period `day` is in."""
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


@dataclass
class _Tally:
    requests_due: int = 0
    planned: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    met_debtor: int = 0
    met_family: int = 0
    promises: int = 0
    promised: Decimal = Decimal("0.00")
    by_state: Counter[PromiseState] = field(default_factory=Counter)
    amount_by_state: dict[PromiseState, Decimal] = field(default_factory=lambda: defaultdict(lambda: Decimal("0.00")))
    paid_after: Decimal = Decimal("0.00")
    cash: Decimal = Decimal("0.00")
    on_site_s: int = 0
    timed: int = 0
    metres: int = 0
    on_time: int = 0
    flagged: int = 0
    assessed: int = 0
    doubtful: int = 0
    invalid: int = 0


@dataclass(frozen=True, slots=True)
class _Who:
    """The keys a thing counts for, by grouping."""

    team: str
    agents: tuple[str, ...]
    collector: str
    bucket: str

    def keys(self, by: GroupBy) -> tuple[str, ...]:
        match by:
            case GroupBy.TEAM:
                return (self.team,)
            case GroupBy.AGENT:
                return self.agents
            case GroupBy.COLLECTOR:
                return (self.collector,)
            case _:
                return (self.bucket,)


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
    if since > until or (until - since).days >= LONGEST_SPAN_DAYS:
        raise ValidationFailed(
            "since must be on or before until, at most a year apart.",
            errors=[{"parameter": "since", "detail": "after until, or more than a year before it"}],
        )
    branch = branches_service.branch_for_new_row(session, user, branch_id)
    mine = DebtCase.phone_collector_id == user.id if user.role is Role.PHONE_COLLECTOR else true()
    tallies: dict[tuple[date, str], _Tally] = defaultdict(_Tally)
    names: dict[str, str] = {}

    def tally(day: date, who: _Who) -> Iterable[_Tally]:
        return [tallies[(period_of(day, period), key)] for key in who.keys(by)]

    teams, agents = _teams(session, branch, since, until)
    visits = _visits(session, branch, since, until, mine)
    stops = _stops(session, branch, since, until, mine)
    requests = session.execute(
        select(VisitRequest.case_id, VisitRequest.earliest_date)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(DebtCase.branch_id == branch.id, mine, VisitRequest.earliest_date.between(since, until))
    ).all()
    left_out = _left_out(session, branch, since, until, mine)
    invalid = _invalid(session, branch, since, until, mine)
    cases = _cases(
        session,
        {row.case_id for row in visits.values()}
        | {stop.case_id for stop in stops}
        | {case_id for case_id, _ in requests}
        | {case_id for _, case_id, _ in left_out}
        | {case_id for _, case_id, _ in invalid},
    )
    names |= {str(agent_id): name for agent_id, name in agents.items()}
    names |= _collector_names(session, {case.collector for case in cases.values()})

    def who(case_id: UUID, team_id: UUID | None) -> _Who:
        case = cases[case_id]
        team = teams.get(team_id) if team_id is not None else None
        return _Who(
            team=team[0] if team else UNASSIGNED,
            agents=team[1] if team else (UNASSIGNED,),
            collector=case.collector,
            bucket=case.bucket,
        )

    outcomes = _outcomes(session, list(visits))
    for visit_id, row in visits.items():
        report = outcomes.get(visit_id, {})
        result = report.get("contact_result")
        cash = Decimal(str((report.get("cash_payment") or {}).get("amount", "0")))
        for one in tally(row.work_date, who(row.case_id, row.team_id)):
            one.done += 1
            one.failed += result == ContactResult.NOBODY.value
            one.met_debtor += result == ContactResult.MET_DEBTOR.value
            one.met_family += result == ContactResult.MET_FAMILY.value
            one.cash += cash
            if row.on_site_s is not None:
                one.on_site_s, one.timed = one.on_site_s + row.on_site_s, one.timed + 1
    done_on = {(row.team_id, row.visit_request_id): row for row in visits.values()}
    for stop in stops:
        visit = done_on.get((stop.team_id, stop.visit_request_id))
        for one in tally(stop.work_date, who(stop.case_id, stop.team_id)):
            one.planned += 1
            one.cancelled += stop.state is StopState.CANCELLED
            if visit is not None:
                one.metres += stop.travel_m
                one.on_time += visit.started_at is not None and (
                    stop.starts_at - ON_TIME_EARLY <= visit.started_at <= stop.starts_at + ON_TIME_LATE
                )
    for visit_id, score in _presence(session, list(visits)).items():
        row = visits[visit_id]
        for one in tally(row.work_date, who(row.case_id, row.team_id)):
            one.assessed += 1
            one.doubtful += score < branch.presence_threshold
    for visit_id in _flagged(session, branch, since, until, visits):
        row = visits[visit_id]
        for one in tally(row.work_date, who(row.case_id, row.team_id)):
            one.flagged += 1
    for promise in _promises(session, list(visits)):
        row = visits[promise.visit_id]
        for one in tally(row.work_date, who(row.case_id, row.team_id)):
            one.promises += 1
            one.promised += promise.amount
            if promise.state is not PromiseState.PENDING:
                one.by_state[promise.state] += 1
                one.amount_by_state[promise.state] += (
                    promise.amount if promise.state is not PromiseState.PARTLY_KEPT else promise.paid
                )
    for visit_id, amount in _paid_after(session, branch, visits, payment_days).items():
        row = visits[visit_id]
        for one in tally(row.work_date, who(row.case_id, row.team_id)):
            one.paid_after += amount
    for case_id, earliest in requests:
        for one in tally(earliest, who(case_id, None)):
            one.requests_due += 1
    for day, left_case, reason in left_out:
        for one in tally(day, who(left_case, None)):
            one.left_out[reason] += 1
    for decided, reported_case, reported_visit in invalid:
        team_of = visits[reported_visit].team_id if reported_visit in visits else None
        for one in tally(decided, who(reported_case, team_of)):
            one.invalid += 1
    return [
        ResultRow(period_start=start, key=key, label=names.get(key, key), figures=_figures(one))
        for (start, key), one in sorted(tallies.items())
    ]


def _figures(one: _Tally) -> ResultFigures:
    settled = (
        one.by_state[PromiseState.KEPT] + one.by_state[PromiseState.PARTLY_KEPT] + one.by_state[PromiseState.BROKEN]
    )
    return ResultFigures(
        requests_due=one.requests_due,
        planned=one.planned,
        left_out=sum(one.left_out.values()),
        left_out_by_reason=dict(sorted(one.left_out.items())),
        visits_done=one.done,
        visits_failed=one.failed,
        cancelled=one.cancelled,
        right_party_contact_rate=_share(one.met_debtor, one.done),
        family_contact_rate=_share(one.met_family, one.done),
        promises_made=one.promises,
        promised_amount=one.promised,
        promises_kept=one.by_state[PromiseState.KEPT],
        kept_amount=one.amount_by_state[PromiseState.KEPT],
        promises_partly_kept=one.by_state[PromiseState.PARTLY_KEPT],
        partly_kept_paid=one.amount_by_state[PromiseState.PARTLY_KEPT],
        promises_broken=one.by_state[PromiseState.BROKEN],
        broken_amount=one.amount_by_state[PromiseState.BROKEN],
        kept_rate=_share(one.by_state[PromiseState.KEPT], settled),
        paid_after_visits=one.paid_after,
        cash_collected=one.cash,
        average_on_site_min=round(one.on_site_s / one.timed / 60, 1) if one.timed else None,
        km_per_visit=round(one.metres / one.done / 1000, 2) if one.done else None,
        on_time_share=_share(one.on_time, one.done),
        evidence_complete_share=_share(one.done - one.flagged, one.done),
        doubtful_presence_share=_share(one.doubtful, one.assessed),
        addresses_invalid=one.invalid,
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)
class _Case:
    collector: str
    bucket: str


def _cases(session: Session, ids: set[UUID]) -> dict[UUID, _Case]:
    """The collector and bucket of each case named."""
    found: dict[UUID, _Case] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), IN_CHUNK):
        rows = session.execute(
            select(DebtCase.id, DebtCase.phone_collector_id, DebtCase.overdue_bucket).where(
                DebtCase.id.in_(wanted[start : start + IN_CHUNK])
            )
        )
        for case_id, collector, bucket in rows:
            found[case_id] = _Case(str(collector) if collector else UNASSIGNED, bucket.value)
    return found


def _teams(
    session: Session, branch: Branch, since: date, until: date
) -> tuple[dict[UUID, tuple[str, tuple[str, ...]]], dict[UUID, str]]:
    """Each team of the span: its name and its agents' ids; the agents' names."""
    rows = session.execute(
        select(Team.id, Team.name, TeamMember.agent_id, User.full_name)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(User, User.id == TeamMember.agent_id)
        .where(Team.branch_id == branch.id, Team.work_date.between(since, until))
        .order_by(Team.id, TeamMember.seat)
    )
    members: dict[UUID, list[str]] = defaultdict(list)
    named: dict[UUID, str] = {}
    agents: dict[UUID, str] = {}
    for team_id, name, agent_id, full_name in rows:
        named[team_id] = name
        members[team_id].append(str(agent_id))
        agents[agent_id] = full_name
    return {team_id: (name, tuple(members[team_id])) for team_id, name in named.items()}, agents


def _collector_names(session: Session, ids: set[str]) -> dict[str, str]:
    known = [UUID(each) for each in ids if each != UNASSIGNED]
    if not known:
        return {}
    return {
        str(user_id): name
        for user_id, name in session.execute(select(User.id, User.full_name).where(User.id.in_(known)))
    }


@dataclass(frozen=True, slots=True)
class _Visit:
    team_id: UUID
    case_id: UUID
    work_date: date
    started_at: datetime | None
    completed_at: datetime | None
    on_site_s: int | None
    visit_request_id: UUID


def _visits(
    session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]
) -> dict[UUID, _Visit]:
    """The visits done (both agents confirmed the outcome) on the span's work dates."""
    rows = session.execute(
        select(
            Visit.id,
            Visit.team_id,
            Visit.case_id,
            Team.work_date,
            Visit.started_at,
            Visit.completed_at,
            Visit.on_site_s,
            Visit.visit_request_id,
        )
        .join(Team, Team.id == Visit.team_id)
        .join(DebtCase, DebtCase.id == Visit.case_id)
        .where(
            Visit.branch_id == branch.id,
            Team.work_date.between(since, until),
            Visit.status.in_([VisitStatus.COMPLETED, VisitStatus.AMENDMENT_REPORTED]),
            Visit.completed_at.is_not(None),
            mine,
        )
    )
    return {row[0]: _Visit(*row[1:]) for row in rows}


def _outcomes(session: Session, visit_ids: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    """Each visit's outcome as last confirmed (an amendment over the original)."""
    found: dict[UUID, tuple[int, dict[str, Any]]] = {}
    if not visit_ids:
        return {}
    for start in range(0, len(visit_ids), IN_CHUNK):
        rows = session.execute(
            select(Outcome.visit_id, Outcome.sequence, Outcome.details).where(
                Outcome.visit_id.in_(visit_ids[start : start + IN_CHUNK]), Outcome.confirmed_at.is_not(None)
            )
        )
        for visit_id, sequence, details in rows:
            if visit_id not in found or sequence > found[visit_id][0]:
                found[visit_id] = (sequence, details)
    return {visit_id: details for visit_id, (_, details) in found.items()}


@dataclass(frozen=True, slots=True)
class _Stop:
    team_id: UUID
    work_date: date
    visit_request_id: UUID
    case_id: UUID
    state: StopState
    starts_at: datetime
    travel_m: int


def _stops(session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]) -> list[_Stop]:
    """The stops of each team's latest published sheet of the span."""
    newer = aliased(VisitSheet)
    latest = (
        select(func.max(newer.version))
        .where(newer.team_id == VisitSheet.team_id)
        .correlate(VisitSheet)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            VisitSheet.team_id,
            VisitSheet.work_date,
            SheetStop.visit_request_id,
            VisitRequest.case_id,
            SheetStop.state,
            SheetStop.starts_at,
            SheetStop.travel_m,
        )
        .join(SheetStop, SheetStop.sheet_id == VisitSheet.id)
        .join(VisitRequest, VisitRequest.id == SheetStop.visit_request_id)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(
            VisitSheet.branch_id == branch.id,
            VisitSheet.work_date.between(since, until),
            VisitSheet.status == SheetStatus.PUBLISHED,
            VisitSheet.version == latest,
            mine,
        )
    )
    return [_Stop(*row) for row in rows]


def _invalid(
    session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]
) -> list[tuple[date, UUID, UUID | None]]:
    """The address reports the supervisor confirmed on the span's dates (local): (date, case, visit)."""
    zone = ZoneInfo(branch.timezone)
    begins = datetime.combine(since, time(0), tzinfo=zone)
    ends = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)
    rows = session.execute(
        select(AddressReport.decided_at, AddressReport.case_id, AddressReport.visit_id)
        .join(DebtCase, DebtCase.id == AddressReport.case_id)
        .where(
            AddressReport.branch_id == branch.id,
            AddressReport.status == ReportStatus.CONFIRMED,
            AddressReport.decided_at >= begins,
            AddressReport.decided_at < ends,
            mine,
        )
    )
    return [
        (decided_at.astimezone(zone).date(), case_id, visit_id) for decided_at, case_id, visit_id in rows if decided_at
    ]


def _flagged(session: Session, branch: Branch, since: date, until: date, visits: dict[UUID, _Visit]) -> set[UUID]:
    """The visits done with a photo flagged for review (an `evidence_flagged` finding, raised during the visit or
    when its photo arrived, within a few days of its work date)."""
    begins = datetime.combine(since - timedelta(days=1), time(0), tzinfo=UTC)
    ends = datetime.combine(until + timedelta(days=8), time(0), tzinfo=UTC)
    rows = session.scalars(
        select(Finding.payload).where(
            Finding.branch_id == branch.id,
            Finding.kind == FindingKind.EVIDENCE_FLAGGED,
            Finding.created_at.between(begins, ends),
        )
    )
    wanted = {str(each) for each in visits}
    return {UUID(payload["visit_id"]) for payload in rows if payload.get("visit_id") in wanted}


def _presence(session: Session, visit_ids: Sequence[UUID]) -> dict[UUID, int]:
    """Each visit's presence score at completion (its last assessment)."""
    found: dict[UUID, int] = {}
    for start in range(0, len(visit_ids), IN_CHUNK):
        rows = session.execute(
            select(VisitPresence.visit_id, VisitPresence.score)
            .where(
                VisitPresence.visit_id.in_(visit_ids[start : start + IN_CHUNK]),
                VisitPresence.stage == PresenceStage.COMPLETION,
            )
            .order_by(VisitPresence.computed_at)
        )
        found |= {visit_id: score for visit_id, score in rows}
    return found


@dataclass(frozen=True, slots=True)
class _Promised:
    visit_id: UUID
    amount: Decimal
    paid: Decimal
    state: PromiseState


def _promises(session: Session, visit_ids: Sequence[UUID]) -> list[_Promised]:
    found: list[_Promised] = []
    for start in range(0, len(visit_ids), IN_CHUNK):
        rows = session.execute(
            select(Promise.visit_id, Promise.amount, Promise.paid, Promise.state).where(
                Promise.visit_id.in_(visit_ids[start : start + IN_CHUNK])
            )
        )
        found += [_Promised(*row) for row in rows]
    return found


def _paid_after(session: Session, branch: Branch, visits: dict[UUID, _Visit], days: int) -> dict[UUID, Decimal]:
    """What the cases paid within `days` after a visit done, each payment to the last visit before it."""
    done = sorted((row.completed_at, visit_id, row.case_id) for visit_id, row in visits.items() if row.completed_at)
    if not done:
        return {}
    by_case: dict[UUID, list[tuple[datetime, UUID]]] = defaultdict(list)
    for completed_at, visit_id, case_id in done:
        by_case[case_id].append((completed_at, visit_id))
    window = timedelta(days=days)
    rows = session.execute(
        select(Payment.case_id, Payment.paid_at, Payment.amount).where(
            Payment.branch_id == branch.id, Payment.paid_at.between(done[0][0], done[-1][0] + window)
        )
    )
    paid: dict[UUID, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for case_id, paid_at, amount in rows:
        before = [(at, visit_id) for at, visit_id in by_case.get(case_id, ()) if at <= paid_at <= at + window]
        if before:
            paid[before[-1][1]] += amount
    return paid


def _left_out(
    session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]
) -> list[tuple[date, UUID, str]]:
    """The requests the last published run of each work date left out, with why."""
    later = aliased(PlanningRun)
    newest = (
        select(func.max(later.published_at))
        .where(later.branch_id == PlanningRun.branch_id, later.work_date == PlanningRun.work_date)
        .correlate(PlanningRun)
        .scalar_subquery()
    )
    rows = session.execute(
        select(PlanningRun.work_date, VisitRequest.case_id, UnplannedRequest.reason)
        .join(UnplannedRequest, UnplannedRequest.run_id == PlanningRun.id)
        .join(VisitRequest, VisitRequest.id == UnplannedRequest.visit_request_id)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(
            PlanningRun.branch_id == branch.id,
            PlanningRun.work_date.between(since, until),
            and_(PlanningRun.published_at.is_not(None), PlanningRun.published_at == newest),
            mine,
        )
    )
    return [(day, case_id, reason.value) for day, case_id, reason in rows]
