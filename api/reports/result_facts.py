"""What a results report counts, read from the database once for a span of work dates: each visit done with its
outcome, stop, presence score and promise joined in SQL, the stops of the latest published sheets, the requests due
and left out, the invalid addresses, the payments after the visits. `api.reports.results` counts these by period and
key; the drill-down lists the visits behind a number from the same facts, so a number and its list agree."""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, Subquery, cast, func, select
from sqlalchemy.orm import Session, aliased

from api.db import likely
from api.models.address_reports import AddressReport, ReportStatus
from api.models.branches import Branch
from api.models.cases import DebtCase
from api.models.findings import Finding, FindingKind
from api.models.payments import Payment, Promise
from api.models.sheets import PlanningRun, SheetStatus, SheetStop, StopState, UnplannedRequest, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.users import User
from api.models.visit_requests import VisitRequest
from api.models.visits import Outcome, PresenceStage, Visit, VisitPresence, VisitStatus
from api.rules.promises import PromiseState

UNASSIGNED = "unassigned"
# the columns an `Owner` is read from; ids are read as text where they are only matched, not returned (a UUID made
# of each of a month's rows costs more than the query)
OWNER = (cast(DebtCase.phone_collector_id, String), DebtCase.overdue_bucket)
TeamDay = tuple[date, str]  # a team: its work date and name


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose a thing is, besides its team: the case's phone collector (or `unassigned`) and overdue bucket."""

    collector: str
    bucket: str


@dataclass(frozen=True, slots=True)
class PromiseMade:
    amount: Decimal
    paid: Decimal
    state: PromiseState


@dataclass(frozen=True, slots=True)
class VisitDone:
    """A visit done (both agents confirmed the outcome) with what it counts for."""

    visit_id: UUID
    team: TeamDay
    case_id: str  # as text
    owner: Owner
    contact_result: str | None  # as last confirmed (an amendment over the original)
    cash: Decimal
    on_site_s: int | None
    started_at: datetime | None
    completed_at: datetime
    planned_start: datetime | None  # its stop on the team's latest published sheet, if it has one
    travel_m: int | None
    presence_score: int | None  # at completion
    promise: PromiseMade | None


@dataclass(frozen=True, slots=True)
class StopPlanned:
    team: TeamDay
    owner: Owner
    cancelled: bool


@dataclass(frozen=True, slots=True)
class Unteamed:
    """A thing without a team: a request due, a request left out (with why), an address confirmed invalid (with the
    visit that found it, if any)."""

    day: date
    owner: Owner
    reason: str = ""
    visit_id: UUID | None = None


@dataclass
class ResultFacts:
    branch: Branch
    agents: dict[TeamDay, tuple[str, ...]]  # each team's agents' ids
    names: dict[str, str]  # agents' and collectors' names by id
    visits: list[VisitDone]
    flagged: set[UUID]  # visits done with a photo flagged for review
    paid_after: dict[UUID, Decimal]  # payments within the days after each visit
    stops: list[StopPlanned]
    requests_due: list[Unteamed]
    left_out: list[Unteamed]
    invalid: list[Unteamed]


def gather(
    session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool], payment_days: int
) -> ResultFacts:
    """The facts of the branch's work dates `since`..`until`, of the cases `mine` selects."""
    agents, names = _agents(session, branch, since, until)
    visits = _visits(session, branch, since, until, mine)
    facts = ResultFacts(
        branch=branch,
        agents=agents,
        names=names,
        visits=visits,
        flagged=_flagged(session, branch, since, until, {visit.visit_id for visit in visits}),
        paid_after=_paid_after(session, branch, since, until, visits, timedelta(days=payment_days)),
        stops=_stops(session, branch, since, until, mine),
        requests_due=[
            Unteamed(day, _owner(collector, bucket))
            for day, collector, bucket in session.execute(
                select(VisitRequest.earliest_date, *OWNER)
                .join(DebtCase, DebtCase.id == VisitRequest.case_id)
                .where(likely(DebtCase.branch_id == branch.id), mine, VisitRequest.earliest_date.between(since, until))
            )
        ],
        left_out=_left_out(session, branch, since, until, mine),
        invalid=_invalid(session, branch, since, until, mine),
    )
    collectors = {
        thing.owner.collector
        for things in (facts.visits, facts.stops, facts.requests_due, facts.left_out, facts.invalid)
        for thing in things
    }
    facts.names |= _collector_names(session, collectors)
    return facts


def _team_days(branch: Branch, since: date, until: date) -> ColumnElement[bool]:
    """The branch's teams of the span: the condition every query starts from (the index on the team's branch and
    work date finds them; a visit or sheet is reached through its team)."""
    return (Team.branch_id == branch.id) & Team.work_date.between(since, until)


@lru_cache(maxsize=4096)
def _owner(collector: str | None, bucket: object) -> Owner:
    return Owner(str(UUID(collector)) if collector else UNASSIGNED, getattr(bucket, "value", str(bucket)))


def _agents(
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


def _collector_names(session: Session, ids: set[str]) -> dict[str, str]:
    known = [UUID(each) for each in ids if each != UNASSIGNED]
    if not known:
        return {}
    return {
        str(user_id): name
        for user_id, name in session.execute(select(User.id, User.full_name).where(User.id.in_(known)))
    }


def _latest_sheets(branch: Branch, since: date, until: date) -> Subquery:
    """Each team's latest published sheet of the span: its id, team and work date."""
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


def _visits(session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]) -> list[VisitDone]:
    """The visits done on the span's work dates, each joined in SQL to its last confirmed outcome, its presence
    score at completion, its promise and its stop on the team's latest published sheet."""
    last_confirmed = (
        select(Outcome.details)
        .where(Outcome.visit_id == Visit.id, Outcome.confirmed_at.is_not(None))
        .order_by(Outcome.sequence.desc())
        .limit(1)
        .correlate(Visit)
    )
    score = (
        select(VisitPresence.score)
        .where(VisitPresence.visit_id == Visit.id, VisitPresence.stage == PresenceStage.COMPLETION)
        .order_by(VisitPresence.computed_at.desc())
        .limit(1)
        .correlate(Visit)
        .scalar_subquery()
    )
    sheet = _latest_sheets(branch, since, until)
    rows = session.execute(
        select(
            Visit.id,
            Team.work_date,
            Team.name,
            cast(Visit.case_id, String),
            *OWNER,
            last_confirmed.with_only_columns(Outcome.details["contact_result"].as_string()).scalar_subquery(),
            last_confirmed.with_only_columns(Outcome.details[("cash_payment", "amount")].as_string()).scalar_subquery(),
            Visit.on_site_s,
            Visit.started_at,
            Visit.completed_at,
            SheetStop.starts_at,
            SheetStop.travel_m,
            score,
            Promise.amount,
            Promise.paid,
            Promise.state,
        )
        .select_from(Team)
        .join(Visit, Visit.team_id == Team.id)
        .join(DebtCase, DebtCase.id == Visit.case_id)
        .outerjoin(sheet, sheet.c.team_id == Visit.team_id)
        .outerjoin(
            SheetStop, (SheetStop.sheet_id == sheet.c.id) & (SheetStop.visit_request_id == Visit.visit_request_id)
        )
        .outerjoin(Promise, Promise.visit_id == Visit.id)
        .where(
            _team_days(branch, since, until),
            Visit.status.in_([VisitStatus.COMPLETED, VisitStatus.AMENDMENT_REPORTED]),
            Visit.completed_at.is_not(None),
            mine,
        )
    )
    return [
        VisitDone(
            visit_id=visit_id,
            team=(work_date, team),
            case_id=case_id,
            owner=_owner(collector, bucket),
            contact_result=result,
            cash=Decimal(cash) if cash else Decimal("0.00"),
            on_site_s=on_site_s,
            started_at=started_at,
            completed_at=completed_at,
            planned_start=planned_start,
            travel_m=travel_m,
            presence_score=presence,
            promise=PromiseMade(amount, paid, state) if amount is not None else None,
        )
        for (
            visit_id,
            work_date,
            team,
            case_id,
            collector,
            bucket,
            result,
            cash,
            on_site_s,
            started_at,
            completed_at,
            planned_start,
            travel_m,
            presence,
            amount,
            paid,
            state,
        ) in rows
    ]


def _stops(session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]) -> list[StopPlanned]:
    """The stops of each team's latest published sheet of the span."""
    sheet = _latest_sheets(branch, since, until)
    rows = session.execute(
        select(sheet.c.work_date, sheet.c.team_name, SheetStop.state, *OWNER)
        .select_from(sheet)
        .join(SheetStop, SheetStop.sheet_id == sheet.c.id)
        .join(VisitRequest, VisitRequest.id == SheetStop.visit_request_id)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(mine)
    )
    return [
        StopPlanned((day, team), _owner(collector, bucket), state is StopState.CANCELLED)
        for day, team, state, collector, bucket in rows
    ]


def _left_out(session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]) -> list[Unteamed]:
    """The requests the last published run of each work date left out, with why."""
    later = aliased(PlanningRun)
    newest = (
        select(func.max(later.published_at))
        .where(later.branch_id == PlanningRun.branch_id, later.work_date == PlanningRun.work_date)
        .correlate(PlanningRun)
        .scalar_subquery()
    )
    rows = session.execute(
        select(PlanningRun.work_date, UnplannedRequest.reason, *OWNER)
        .join(UnplannedRequest, UnplannedRequest.run_id == PlanningRun.id)
        .join(VisitRequest, VisitRequest.id == UnplannedRequest.visit_request_id)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(
            PlanningRun.branch_id == branch.id,
            PlanningRun.work_date.between(since, until),
            PlanningRun.published_at.is_not(None),
            PlanningRun.published_at == newest,
            mine,
        )
    )
    return [Unteamed(day, _owner(collector, bucket), reason.value) for day, reason, collector, bucket in rows]


def _invalid(session: Session, branch: Branch, since: date, until: date, mine: ColumnElement[bool]) -> list[Unteamed]:
    """The address reports the supervisor confirmed on the span's dates (local), with the visit that made them."""
    zone = ZoneInfo(branch.timezone)
    begins = datetime.combine(since, time(0), tzinfo=zone)
    ends = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)
    rows = session.execute(
        select(AddressReport.decided_at, AddressReport.visit_id, *OWNER)
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
        Unteamed(decided_at.astimezone(zone).date(), _owner(collector, bucket), visit_id=visit_id)
        for decided_at, visit_id, collector, bucket in rows
        if decided_at
    ]


def _flagged(session: Session, branch: Branch, since: date, until: date, visit_ids: set[UUID]) -> set[UUID]:
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
    wanted = {str(each) for each in visit_ids}
    return {UUID(payload["visit_id"]) for payload in rows if payload.get("visit_id") in wanted}


def _paid_after(
    session: Session, branch: Branch, since: date, until: date, visits: Iterable[VisitDone], window: timedelta
) -> dict[UUID, Decimal]:
    """What the visited cases paid within `window` after a visit done, each payment to the last visit before it."""
    by_case: dict[str, list[tuple[datetime, UUID]]] = defaultdict(list)
    for visit in visits:
        by_case[visit.case_id].append((visit.completed_at, visit.visit_id))
    if not by_case:
        return {}
    for done in by_case.values():
        done.sort()
    first = min(done[0][0] for done in by_case.values())
    last = max(done[-1][0] for done in by_case.values())
    visited = select(Visit.case_id).join(Team, Team.id == Visit.team_id).where(_team_days(branch, since, until))
    rows = session.execute(
        select(cast(Payment.case_id, String), Payment.paid_at, Payment.amount).where(
            Payment.branch_id == branch.id,
            Payment.paid_at.between(first, last + window),
            Payment.case_id.in_(visited),
        )
    )
    paid: dict[UUID, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for case_id, paid_at, amount in rows:
        visited_on = by_case.get(case_id, [])
        before = bisect_right(visited_on, paid_at, key=lambda pair: pair[0]) - 1
        if before >= 0 and paid_at <= visited_on[before][0] + window:
            paid[visited_on[before][1]] += amount
    return paid
