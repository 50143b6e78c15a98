"""`python -m bench.reports`: a year of a 60-team branch (about 150,000 visits, 40,000 promises, 60,000 payments),
then the results reports a supervisor asks for and the import of a day's 60,000 payments.

Seeded with bulk inserts (rows as the app writes them: teams and their agents, published sheets and their stops,
cases, requests, visits with confirmed outcomes, presence scores, promises in every state, payments). Printed: the
seed's size and time, then the median of 5 of `GET /reports/results`'s work (in process: `field_results`) for a day by
team, a month by team, a month by agent, a year by month and team, and the results screen's first view
(`GET /reports/overview`'s work: the day, the month, each team and agent with their days); then `fieldvisit import
payments`'s work (`import_payments`) for a 60,000-row CSV file, once.
"""

import argparse
import csv
import io
import random
import statistics
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from geoalchemy2 import WKTElement
from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.db import make_engine
from api.imports.case_file import read_case_file
from api.imports.payments import import_payments
from api.models.branches import Branch
from api.models.cases import Address, AddressKind, ContactSource, DebtCase, OverdueBucket
from api.models.payments import Payment, PaymentChannel, Promise
from api.models.sheets import PlanningRun, RunStatus, SheetStatus, SheetStop, StopState, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.models.visits import Outcome, PresenceStage, Visit, VisitPresence, VisitStatus
from api.reports.results import GroupBy, Period, field_results, overview
from api.reports.schemas import ResultsOverview
from api.rules.grades import AddressGrade, PointSource
from api.rules.promises import PromiseState
from api.sessions import sessions_of
from bench.planning.day import PASSWORD_HASH
from bench.planning.measure import fresh_database

ZONE = ZoneInfo("Asia/Shanghai")
CHUNK = 5_000
RESULTS = ("met_debtor", "met_debtor", "met_family", "met_other", "nobody", "nobody")


def _chunks(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])


def _seed(session: Session, rng: random.Random, teams: int, days: int, per_day: int, cases: int) -> tuple[Branch, User]:
    office = WKTElement("POINT(121.4737 31.2304)", srid=4326)
    branch = Branch(
        name="Bench branch", timezone=ZONE.key, office_address="上海市黄浦区人民大道200号", office_point=office
    )
    session.add(branch)
    session.flush()
    supervisor = User(
        branch_id=branch.id,
        username="bench-supervisor",
        full_name="主管",
        role=Role.SUPERVISOR,
        password_hash=PASSWORD_HASH,
    )
    session.add(supervisor)
    session.flush()
    agents = [
        {
            "id": uuid4(),
            "branch_id": branch.id,
            "username": f"agent{k}",
            "full_name": f"外访员{k}",
            "role": Role.AGENT,
            "password_hash": PASSWORD_HASH,
        }
        for k in range(2 * teams)
    ]
    collectors = [
        {
            "id": uuid4(),
            "branch_id": branch.id,
            "username": f"collector{k}",
            "full_name": f"催收员{k}",
            "role": Role.PHONE_COLLECTOR,
            "password_hash": PASSWORD_HASH,
        }
        for k in range(20)
    ]
    _chunks(session, User, agents + collectors)
    buckets = list(OverdueBucket)
    case_rows = [
        {
            "id": uuid4(),
            "branch_id": branch.id,
            "reference": f"C{k:07d}",
            "debtor_name": "张伟",
            "debtor_id_number": "11010519491231002X",
            "amount_owed": Decimal("20000.00"),
            "overdue_bucket": rng.choice(buckets),
            "phone_collector_id": rng.choice(collectors)["id"],
        }
        for k in range(cases)
    ]
    _chunks(session, DebtCase, case_rows)
    address_rows = [
        {
            "id": uuid4(),
            "case_id": case["id"],
            "kind": AddressKind.HOME,
            "raw_text": "上海市黄浦区南京东路100号",
            "grade": AddressGrade.COMPLETE,
            "source": ContactSource.CASE_FILE,
            "point_source": PointSource.IMPORT,
            "point_set_at": datetime.now(UTC),
            "point": WKTElement(f"POINT({121.4 + rng.random() * 0.2} {31.15 + rng.random() * 0.15})", srid=4326),
        }
        for case in case_rows
    ]
    _chunks(session, Address, address_rows)
    first = datetime.now(ZONE).date() - timedelta(days=days)
    rows: dict[type, list[dict[str, Any]]] = {
        model: []
        for model in (
            Team,
            TeamMember,
            PlanningRun,
            VisitSheet,
            VisitRequest,
            SheetStop,
            Visit,
            Outcome,
            VisitPresence,
            Promise,
        )
    }
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() == 6:
            continue
        run = {
            "id": uuid4(),
            "branch_id": branch.id,
            "work_date": day,
            "time_limit_s": 10,
            "requested_by_id": supervisor.id,
            "status": RunStatus.SUCCEEDED,
            "published_at": datetime.combine(day, datetime.min.time(), ZONE) - timedelta(hours=4),
        }
        rows[PlanningRun].append(run)
        for number in range(teams):
            team = {"id": uuid4(), "branch_id": branch.id, "work_date": day, "name": f"外访{number + 1:02d}组"}
            rows[Team].append(team)
            pair = (agents[2 * number]["id"], agents[2 * number + 1]["id"])
            rows[TeamMember] += [
                {"team_id": team["id"], "seat": seat, "agent_id": agent, "branch_id": branch.id, "work_date": day}
                for seat, agent in enumerate(pair, start=1)
            ]
            nine = datetime.combine(day, datetime.min.time(), ZONE) + timedelta(hours=9)
            sheet = {
                "id": uuid4(),
                "run_id": run["id"],
                "branch_id": branch.id,
                "team_id": team["id"],
                "team_name": team["name"],
                "work_date": day,
                "distance_m": 30_000,
                "travel_s": 7_200,
                "leaves_at": nine,
                "returns_at": nine + timedelta(hours=9),
                "status": SheetStatus.PUBLISHED,
                "version": 1,
                "published_at": run["published_at"],
            }
            rows[VisitSheet].append(sheet)
            for position in range(1, per_day + 1):
                case = rng.choice(address_rows)
                request = {
                    "id": uuid4(),
                    "case_id": case["case_id"],
                    "address_id": case["id"],
                    "purpose": VisitPurpose.NEGOTIATE,
                    "requested_by_id": supervisor.id,
                    "earliest_date": day,
                    "latest_date": day,
                }
                rows[VisitRequest].append(request)
                starts = nine + timedelta(minutes=60 * position)
                rows[SheetStop].append(
                    {
                        "sheet_id": sheet["id"],
                        "position": position,
                        "visit_request_id": request["id"],
                        "arrives_at": starts,
                        "starts_at": starts,
                        "departs_at": starts + timedelta(minutes=30),
                        "travel_m": rng.randint(500, 6_000),
                        "state": StopState.DONE,
                    }
                )
                started = starts + timedelta(minutes=rng.randint(-10, 40))
                visit = {
                    "id": uuid4(),
                    "sheet_id": sheet["id"],
                    "visit_request_id": request["id"],
                    "team_id": team["id"],
                    "branch_id": branch.id,
                    "case_id": case["case_id"],
                    "address_id": case["id"],
                    "status": VisitStatus.COMPLETED,
                    "started_at": started,
                    "completed_at": started + timedelta(minutes=25),
                    "on_site_s": 1_500,
                }
                rows[Visit].append(visit)
                rows[Outcome].append(
                    {
                        "visit_id": visit["id"],
                        "submitted_by_id": pair[0],
                        "confirmed_by_id": pair[1],
                        "confirmed_at": visit["completed_at"],
                        "client_id": uuid4(),
                        "details": {"contact_result": rng.choice(RESULTS)},
                    }
                )
                rows[VisitPresence].append(
                    {
                        "visit_id": visit["id"],
                        "stage": PresenceStage.COMPLETION,
                        "score": rng.randint(30, 100),
                        "signals": [],
                    }
                )
                if rng.random() < 0.27:
                    rows[Promise].append(
                        {
                            "branch_id": branch.id,
                            "case_id": case["case_id"],
                            "visit_id": visit["id"],
                            "made_at": started,
                            "due_on": day + timedelta(days=7),
                            "amount": Decimal("1000.00"),
                            "currency": "CNY",
                            "state": rng.choice(list(PromiseState)),
                            "paid": Decimal("0.00"),
                        }
                    )
    for model, found in rows.items():
        _chunks(session, model, found)
    payments = [
        {
            "branch_id": branch.id,
            "case_id": rng.choice(case_rows)["id"],
            "amount": Decimal("500.00"),
            "currency": "CNY",
            "paid_at": datetime.now(UTC) - timedelta(days=rng.randint(1, days)),
            "channel": PaymentChannel.ALIPAY,
            "reference": f"Y{k:07d}",
            "recorded_by_id": supervisor.id,
        }
        for k in range(60_000)
    ]
    _chunks(session, Payment, payments)
    print(
        f"seeded {len(rows[Visit]):,} visits, {len(rows[Promise]):,} promises, {len(payments):,} payments,"
        f" {cases:,} cases, {len(rows[Team]):,} team days"
    )
    return branch, supervisor


def _median(call: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def _payments_csv(rng: random.Random, references: Iterable[str], count: int) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["case_reference", "amount", "currency", "paid_at", "channel", "reference"])
    chosen = list(references)
    for k in range(count):
        writer.writerow([rng.choice(chosen), "300.00", "CNY", "2026-12-07 10:30", "bank_transfer", f"IMP{k:07d}"])
    return text.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=60)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=8, help="Visits a team does in a day.")
    parser.add_argument("--cases", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", help="An empty database (default: a new SQLite file).")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with fresh_database(args.database_url) as url:
        engine = make_engine(url)
        sessions = sessions_of(engine)
        began = time.perf_counter()
        with sessions.begin() as session:
            branch, supervisor = _seed(session, rng, args.teams, args.days, args.per_day, args.cases)
            branch_id, supervisor_id = branch.id, supervisor.id
        print(f"seed: {time.perf_counter() - began:.0f} s ({engine.url.get_backend_name()})")
        yesterday = datetime.now(ZONE).date() - timedelta(days=1)
        month = yesterday - timedelta(days=29)
        year = yesterday - timedelta(days=args.days - 1)
        cases: list[tuple[str, date, date, Period, GroupBy]] = [
            ("a day by team", yesterday, yesterday, Period.DAY, GroupBy.TEAM),
            ("a month by team", month, yesterday, Period.MONTH, GroupBy.TEAM),
            ("a month by agent", month, yesterday, Period.MONTH, GroupBy.AGENT),
            ("a year by month and team", year, yesterday, Period.MONTH, GroupBy.TEAM),
        ]
        with sessions() as session:
            supervisor_row = session.get_one(User, supervisor_id)
            for name, since, until, period, by in cases:

                def report(
                    since: date = since, until: date = until, period: Period = period, by: GroupBy = by
                ) -> object:
                    return field_results(
                        session,
                        supervisor_row,
                        branch_id=None,
                        since=since,
                        until=until,
                        period=period,
                        by=by,
                        payment_days=7,
                    )

                seconds, rows = _median(report, args.repeats)
                print(f"{name}: {seconds:.3f} s (median of {args.repeats}), {len(rows):,} rows")  # type: ignore[arg-type]

            month_end = yesterday.replace(day=1) - timedelta(days=1)  # a whole month: the screen's heaviest view

            def first_view() -> ResultsOverview:
                return overview(session, supervisor_row, branch_id=None, day=month_end, payment_days=7)

            seconds, view = _median(first_view, args.repeats)
            assert isinstance(view, ResultsOverview)
            print(
                f"the results screen's first view on {month_end} (GET /reports/overview: the day, the month,"
                f" {len(view.teams)} teams and {len(view.agents)} agents with their days): {seconds:.3f} s"
                f" (median of {args.repeats})"
            )
            references = [
                reference
                for (reference,) in session.execute(
                    DebtCase.__table__.select()
                    .with_only_columns(DebtCase.reference)
                    .where(DebtCase.branch_id == branch_id)
                )
            ]
        raw = _payments_csv(rng, references, 60_000)
        with sessions() as session:
            actor = session.get_one(User, supervisor_id)
            began = time.perf_counter()
            summary = import_payments(session, actor, None, read_case_file(raw))
            session.commit()
            print(
                f"payments import: {summary.recorded:,} rows in {time.perf_counter() - began:.1f} s"
                f" ({summary.promises_changed:,} promises changed)"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
