"""The evening pre-check of a branch day: `check_day` over the addresses of N visit requests due tomorrow.

What it measures: the wall time of `check_day` and its commit (the whole of `fieldvisit addresses precheck` but the
session's first connection), the median of 3 runs each on a fresh copy of the seeded database (a file copy on
SpatiaLite, `CREATE DATABASE … TEMPLATE` on PostGIS), against the target of 5 s for 1,000 requests; the addresses
checked, the reports raised by problem and the SQL statements the run sent.

The day: each request has its own case, debtor and address, whose text comes from the generator (all grades).
About 85 % of the addresses have an imported point near the centre of the district their text names; among the
complete and building ones, a few carry a geocoder's road-level point (with its answer in the cache), a few an
imported point in Beijing, and a few pairs of different debtors share one point; the rest have no point.
"""

import random
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.addresses.districts import district_centre
from api.addresses.precheck import PrecheckSummary, building_key, check_day
from api.addresses.service import query_key
from api.branches.service import local_today
from api.db import make_engine
from api.models.addresses import GeocodeAnswer
from api.models.branches import Branch
from api.models.cases import Address
from api.models.users import Role
from api.rules.grades import AddressGrade, PointSource, Precision
from api.sessions import sessions_of
from bench.addresses.generate import generate
from bench.addresses.geocode import add_in_bulk, backend, bench_database, new_branch, new_case
from bench.planning.day import _point, _request, _user
from bench.routing.branch_day import CENTRE
from routing.matrix import GreatCircle

RUNS = 3
TARGET_S = 5.0
NEAR_SHARE = 0.85  # an imported point near the district's centre
ROAD_MATCH_SHARE = 0.02  # a complete text with a geocoder's road-level point
FAR_SHARE = 0.01  # an imported point in another city
SHARED_SHARE = 0.01  # addresses in pairs of different debtors with one point
JITTER_DEG = 0.008  # under 1.2 km: inside the district, or within its outline's margin (虹口's seat is on its edge)
BEIJING = (39.9042, 116.4074)
CLEAN = (AddressGrade.COMPLETE, AddressGrade.BUILDING)  # no text problem: a point problem is the one reported


def _near(rng: random.Random, centre: tuple[float, float]) -> tuple[float, float]:
    return centre[0] + rng.uniform(-JITTER_DEG, JITTER_DEG), centre[1] + rng.uniform(-JITTER_DEG, JITTER_DEG)


def _place(address: Address, lat: float, lon: float, source: PointSource, precision: Precision | None = None) -> None:
    address.place(_point(lat, lon), source, precision=precision, provider="amap" if precision else "")


def _road_answer(address: Address, lat: float, lon: float) -> GeocodeAnswer:
    """AMap's cached road-level answer for the address: the candidate the pre-check shows the supervisor."""
    candidate = {
        "lat": lat,
        "lon": lon,
        "precision": Precision.ROAD.value,
        "provider": "amap",
        "level": "道路",
        "formatted": address.raw_text,
    }
    key = query_key(address.raw_text, address.parts.get("city"))
    return GeocodeAnswer(provider="amap", query_key=key, query=address.raw_text, candidates=[candidate])


def _pairs(addresses: Sequence[Address], wanted: int) -> list[tuple[Address, Address]]:
    """Pairs of addresses in one district in different buildings (a point near one is near the other's centre)."""
    pairs: list[tuple[Address, Address]] = []
    waiting: dict[str, Address] = {}
    for address in addresses:
        if len(pairs) == wanted:
            break
        first = waiting.pop(address.parts["district"], None)
        if first is not None and building_key(first) != building_key(address):
            pairs.append((first, address))
        else:
            waiting[address.parts["district"]] = address
    return pairs


def _plant_points(rng: random.Random, addresses: Sequence[Address]) -> tuple[Counter[str], list[GeocodeAnswer]]:
    """Give the addresses their points as the module's docstring says; what was planted, and the cache rows."""
    count = len(addresses)
    clean = [a for a in addresses if a.grade in CLEAN and district_centre(a.parts) is not None]
    rng.shuffle(clean)
    complete = [a for a in clean if a.grade is AddressGrade.COMPLETE]
    road = complete[: max(1, round(ROAD_MATCH_SHARE * count))]
    rest = [a for a in clean if a not in road]
    far = rest[: max(1, round(FAR_SHARE * count))]
    rest = rest[len(far) :]
    pairs = _pairs(rest[1:], max(1, round(SHARED_SHARE * count / 2)))
    no_point_clean = rest[:1]  # one at least, so that no_point is reported whatever the size
    special = {id(a) for a in (*road, *far, *no_point_clean, *(a for pair in pairs for a in pair))}
    others = [a for a in addresses if id(a) not in special]
    rng.shuffle(others)
    near = others[: round(NEAR_SHARE * count)]
    answers: dict[str, GeocodeAnswer] = {}
    for address in near:
        _place(address, *_near(rng, district_centre(address.parts) or CENTRE), PointSource.IMPORT)
    for address in road:
        lat, lon = _near(rng, district_centre(address.parts) or CENTRE)
        _place(address, lat, lon, PointSource.GEOCODER, Precision.ROAD)
        answer = _road_answer(address, lat, lon)
        answers[answer.query_key] = answer
    for address in far:
        _place(address, *_near(rng, BEIJING), PointSource.IMPORT)
    for first, second in pairs:
        lat, lon = _near(rng, district_centre(first.parts) or CENTRE)
        for address in (first, second):
            _place(address, lat, lon, PointSource.IMPORT)
    planted = Counter(
        {
            "imported near the district": len(near),
            "geocoded at road level (complete text)": len(road),
            "imported in Beijing": len(far),
            "sharing a point (pairs x 2)": 2 * len(pairs),
            "no point": count - len(near) - len(road) - len(far) - 2 * len(pairs),
        }
    )
    return planted, list(answers.values())


@dataclass(frozen=True, slots=True)
class SeededDay:
    branch_id: UUID
    work_date: date
    planted: Counter[str]
    grades: Counter[str]


def seed_precheck_day(session: Session, requests: int, seed: int) -> SeededDay:
    """Add a branch, its phone collector, `requests` cases with one address each and one open visit request due
    tomorrow per address; the same (requests, seed), the same day. Flushes; the caller commits."""
    branch = new_branch("Bench precheck")
    collector = _user(branch, Role.PHONE_COLLECTOR, "collector")
    work_date = local_today(branch) + timedelta(days=1)
    cases = [new_case(branch, number, sample.text) for number, sample in enumerate(generate(requests, seed), start=1)]
    addresses = [address for _, address in cases]
    planted, answers = _plant_points(random.Random(seed), addresses)
    windows = np.random.default_rng(seed)
    visits = [_request(windows, address, collector, work_date) for address in addresses]
    add_in_bulk(session, [branch], [collector], [case for case, _ in cases], addresses, visits, answers)
    grades = Counter(address.grade.value for address in addresses)
    return SeededDay(branch.id, work_date, planted, grades)


# ---------------------------------------------------------------------------------------------- copies and runs


@contextmanager
def database_copy(url: str, number: int) -> Iterator[str]:
    """A copy of the database, removed afterwards: its file on SQLite, a database made from it as a template on
    PostgreSQL. No engine may be connected to `url` meanwhile."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-precheck-run-") as folder:
            target = Path(folder) / f"run{number}.db"
            shutil.copyfile(parsed.database or "", target)
            yield parsed.set(database=str(target)).render_as_string(hide_password=False)
        return
    name = f"{parsed.database}_run{number}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))
        try:
            yield parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _statements(engine: Engine) -> Callable[[], int]:
    """A counter of the SQL statements sent on the engine from now."""
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    return lambda: sent[0]


@dataclass(frozen=True, slots=True)
class PrecheckRun:
    wall_s: float
    statements: int
    summary: PrecheckSummary


def _run(url: str, day: SeededDay) -> PrecheckRun:
    engine = make_engine(url)
    try:
        sessions: sessionmaker[Session] = sessions_of(engine)
        with engine.connect():  # the pool's first connection (SpatiaLite loads on it): not the pre-check's time
            pass
        with sessions() as session:
            branch = session.get_one(Branch, day.branch_id)
            sent = _statements(engine)
            began = time.perf_counter()
            summary = check_day(session, branch, day.work_date, GreatCircle("driving"))  # no road data: as by default
            session.commit()
            wall_s = time.perf_counter() - began
            return PrecheckRun(wall_s, sent(), summary)
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class PrecheckBench:
    """The seeded day and its timed pre-checks."""

    backend: str
    requests: int
    setup_s: float
    day: SeededDay
    runs: list[PrecheckRun] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(run.wall_s for run in self.runs)

    @property
    def reported(self) -> Counter[str]:
        """The reports of the first run by problem (every run checks the same copy: they raise the same)."""
        return self.runs[0].summary.reported


def bench_precheck(
    requests: int = 1000,
    seed: int = 1,
    *,
    database_url: str | None = None,
    runs: int = RUNS,
    report: Callable[[str], None] = print,
) -> PrecheckBench:
    """Seed a day of `requests` visit requests, pre-check it `runs` times on fresh copies, print and return it."""
    with bench_database(database_url, "precheck") as url:
        engine = make_engine(url)
        try:
            began = time.perf_counter()
            with sessions_of(engine).begin() as session:
                day = seed_precheck_day(session, requests, seed)
            result = PrecheckBench(backend(engine), requests, time.perf_counter() - began, day)
        finally:
            engine.dispose()
        report(_heading(result, seed))
        for number in range(1, runs + 1):
            with database_copy(url, number) as copy:
                result.runs.append(_run(copy, day))
            run = result.runs[-1]
            report(f"  run {number}: {run.wall_s:.3f} s, {run.statements} SQL statements")
    report(format_result(result))
    return result


def _heading(result: PrecheckBench, seed: int) -> str:
    day = result.day
    return "\n".join(
        (
            f"precheck: {result.requests} visit requests due {day.work_date}, seed {seed}, on {result.backend}",
            "grades: " + ", ".join(f"{grade} {n}" for grade, n in day.grades.most_common()),
            "points: " + ", ".join(f"{kind} {n}" for kind, n in day.planted.items()),
            f"setup (seeded in one transaction, one flush per table): {result.setup_s:.2f} s",
        )
    )


def format_result(result: PrecheckBench) -> str:
    summary = result.runs[0].summary
    verdict = "PASS" if result.median_s < TARGET_S else "FAIL"
    lines = [
        f"check_day + commit: median {result.median_s:.3f} s of {len(result.runs)} runs (target < {TARGET_S:g} s: "
        f"{verdict}), {result.median_s / max(1, summary.addresses) * 1000:.2f} ms an address",
        f"addresses checked {summary.addresses}, already waiting {summary.waiting}, "
        f"reports raised {sum(summary.reported.values())}",
        *(f"  {problem:<20} {n:>5}" for problem, n in summary.reported.most_common()),
    ]
    return "\n".join(lines)
