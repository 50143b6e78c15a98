"""Geocoding a branch's text-only addresses through `geocode_unplaced`, against an AMap double on loopback.

What it measures: the wall time and addresses per second of a pass with the cache cold (every distinct text asked
once) and of a second pass with the cache warm (the points cleared, the answers kept), the provider requests each
pass made, and whether the rate limiter held: the requests over the pass's wall time and the most requests seen in
any 1-second window, against `per_second` (plus the bucket's burst). A last cold pass over the first few addresses
at AMap's personal QPS shows the limiter bounding the rate when the provider is faster than it allows.

The double answers each text in AMap's JSON (`/v3/geocode/geo`) at a level drawn from the generator's true grade,
after a small delay as a real network adds; a few texts get no result, a few a 503 once (then an answer, which the
geocoder's retry fetches after its backoff), and an empty text AMap's INVALID_PARAMS.
"""

import json
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

from alembic.config import Config
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from api.addresses.districts import district_centre
from api.addresses.geocoders import AMapGeocoder, RateLimiter
from api.addresses.service import GeocodeSummary, geocode_unplaced
from api.db import make_engine
from api.models.addresses import GeocodeAnswer
from api.models.branches import Branch
from api.models.cases import Address, AddressKind, ContactSource, DebtCase, OverdueBucket
from api.rules.grades import AddressGrade
from api.rules.grading import describe
from api.sessions import sessions_of
from bench.addresses.generate import Sample, generate
from bench.planning.day import _point
from bench.planning.measure import REPO_ROOT, DatabaseNotEmpty
from bench.routing.branch_day import CENTRE

DELAY_S = 0.005  # what a real network adds to each request
BURST = 1  # the limiter's bucket, as `configured_geocoders` builds it
RETRIES = 3  # GeocodingSettings.retries' default
NO_RESULT_SHARE = 0.03  # of the texts AMap would place: it finds nothing
SERVER_ERROR_SHARE = 0.005  # of the distinct texts: a 503 once, then the answer
JITTER_DEG = 0.03  # about 3 km around the district's centre
# AMap's level for an address of each true grade; a complete address is matched at its door mostly
LEVELS: dict[AddressGrade, tuple[tuple[str, ...], tuple[float, ...]]] = {
    AddressGrade.COMPLETE: (("门牌号", "兴趣点", "道路"), (0.75, 0.15, 0.10)),
    AddressGrade.BUILDING: (("兴趣点",), (1.0,)),
    AddressGrade.ROAD: (("道路",), (1.0,)),
    AddressGrade.DISTRICT: (("区县",), (1.0,)),
    AddressGrade.VAGUE: (("兴趣点",), (1.0,)),
}


# ---------------------------------------------------------------------------------------------- the bench database


@contextmanager
def bench_database(database_url: str | None, prefix: str) -> Iterator[str]:
    """A database migrated to head for a bench: a new SQLite file in a temporary folder (removed afterwards), or the
    given database, empty or migrated already but holding no branch, which keeps the bench's rows afterwards."""
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as folder:
            url = f"sqlite:///{folder}/{prefix}.db"
            command.upgrade(alembic_config(url), "head")
            yield url
        return
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            branches = connection.scalar(select(func.count()).select_from(Branch))
    finally:
        engine.dispose()
    if branches:
        raise DatabaseNotEmpty(f"{engine.url!r} holds {branches} branches already; give an empty database")
    yield database_url


def alembic_config(database_url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    return config


def backend(engine: Engine) -> str:
    return "PostGIS" if engine.dialect.name == "postgresql" else "SpatiaLite"


def new_branch(name: str) -> Branch:
    return Branch(
        id=uuid4(),
        name=name,
        timezone="Asia/Shanghai",
        office_address="上海市黄浦区人民大道200号",
        office_point=_point(*CENTRE),
    )


def new_case(branch: Branch, number: int, text: str) -> tuple[DebtCase, Address]:
    """A case of its own debtor with one home address of this text and no point (graded as it is set)."""
    case = DebtCase(
        id=uuid4(),
        branch_id=branch.id,
        reference=f"A{number:06d}",
        debtor_name=f"Debtor {number}",
        debtor_id_number=f"3101011980{number:07d}X",
        amount_owed=Decimal(1_000 + number % 97 * 1_000),
        overdue_bucket=list(OverdueBucket)[number % len(OverdueBucket)],
    )
    address = Address(id=uuid4(), case_id=case.id, kind=AddressKind.HOME, raw_text=text, source=ContactSource.CASE_FILE)
    return case, address


def add_in_bulk(session: Session, *tables: Sequence[Any]) -> None:
    # plain foreign keys link these tables, and the unit of work orders only relationships: one flush per table
    for rows in tables:
        session.add_all(rows)
        session.flush()


# ----------------------------------------------------------------------------------------------- the AMap double


@dataclass(frozen=True, slots=True)
class Answer:
    """What the double answers for one text: AMap's level and a GCJ-02-like point, or nothing (level None)."""

    level: str | None
    lat: float
    lon: float
    server_error_once: bool = False


def plan_answers(samples: Sequence[Sample], seed: int) -> dict[str, Answer]:
    """Each distinct text's answer, drawn from its true grade; the same for the same samples and seed."""
    rng = random.Random(seed)
    truths = {sample.text: sample.grade for sample in samples}  # a repeated text has one grade: its shape's
    answers: dict[str, Answer] = {}
    for text, grade in truths.items():
        level = None
        if grade in LEVELS and rng.random() >= NO_RESULT_SHARE:
            levels, weights = LEVELS[grade]
            level = rng.choices(levels, weights)[0]
        lat, lon = district_centre(describe(text)[1].as_dict()) or CENTRE
        lat, lon = lat + rng.uniform(-JITTER_DEG, JITTER_DEG), lon + rng.uniform(-JITTER_DEG, JITTER_DEG)
        answers[text] = Answer(level, round(lat, 6), round(lon, 6))
    placed = [text for text, answer in answers.items() if answer.level is not None]
    failing = rng.sample(placed, min(len(placed), max(1, round(SERVER_ERROR_SHARE * len(answers)))))
    for text in failing:
        answers[text] = Answer(answers[text].level, answers[text].lat, answers[text].lon, server_error_once=True)
    return answers


def amap_body(text: str, answer: Answer | None) -> dict[str, Any]:
    """AMap's JSON for a text: INVALID_PARAMS for an empty one, else its geocodes (none when nothing is found)."""
    if not text.strip():
        return {"status": "0", "info": "INVALID_PARAMS", "infocode": "20000"}
    geocodes = []
    if answer is not None and answer.level is not None:
        geocodes.append(
            {
                "formatted_address": text,
                "country": "中国",
                "province": "上海市",
                "citycode": "021",
                "city": "上海市",
                "district": [],
                "township": [],
                "neighborhood": {"name": [], "type": []},
                "building": {"name": [], "type": []},
                "adcode": "310000",
                "street": [],
                "number": [],
                "location": f"{answer.lon:.6f},{answer.lat:.6f}",
                "level": answer.level,
            }
        )
    return {"status": "1", "info": "OK", "infocode": "10000", "count": str(len(geocodes)), "geocodes": geocodes}


class AMapDouble:
    """`/v3/geocode/geo` on 127.0.0.1 in a thread, answering from `answers` after `delay_s`; it notes when each
    request arrived and how many 503s it sent."""

    def __init__(self, answers: dict[str, Answer], delay_s: float = DELAY_S) -> None:
        self.answers, self.delay_s = answers, delay_s
        self.arrivals: list[float] = []  # time.monotonic() of each request
        self.server_errors = 0
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as AMap's servers
            # headers and body go in two writes: with Nagle's algorithm the body waits for a delayed ACK (40 ms)
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                arrived = time.monotonic()
                text = parse_qs(urlsplit(self.path).query, keep_blank_values=True).get("address", [""])[0]
                time.sleep(double.delay_s)
                status, body = double.answer(arrived, text)
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="amap-double", daemon=True)

    def answer(self, arrived: float, text: str) -> tuple[int, dict[str, Any]]:
        answer = self.answers.get(text)
        with self._lock:
            self.arrivals.append(arrived)
            if answer is not None and answer.server_error_once and text not in self._failed:
                self._failed.add(text)
                self.server_errors += 1
                return 503, {"status": "0", "info": "SERVICE_UNAVAILABLE"}
        return 200, amap_body(text, answer)

    def reset(self) -> None:
        """Forget the requests seen (the texts that failed once stay failed once)."""
        with self._lock:
            self.arrivals.clear()
            self.server_errors = 0

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def busiest_second(arrivals: Sequence[float]) -> int:
    """The most requests that arrived within any 1-second span (both ends counted)."""
    times = sorted(arrivals)
    most, first = 0, 0
    for last, arrived in enumerate(times):
        while arrived - times[first] > 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


# ---------------------------------------------------------------------------------------------------- the passes


class TimedSleep:
    """The geocoder's sleep between retries, timed: the backoff's share of a pass."""

    def __init__(self) -> None:
        self.slept_s, self.sleeps = 0.0, 0

    def __call__(self, seconds: float) -> None:
        self.sleeps += 1
        self.slept_s += seconds
        time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class GeocodePass:
    """One `geocode_unplaced` pass over the branch and what the provider saw of it."""

    label: str
    per_second: float
    addresses: int
    wall_s: float
    requests: int  # that reached the provider, the 503s and errors included
    server_errors: int
    backoff_s: float  # slept between retries
    busiest_second: int
    summary: GeocodeSummary

    @property
    def addresses_per_s(self) -> float:
        return self.addresses / self.wall_s if self.wall_s else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0

    @property
    def rate_held(self) -> bool:
        """The bucket allows `per_second` a second plus its burst: over the whole pass and in any 1-second span."""
        return self.requests <= self.per_second * self.wall_s + BURST and self.busiest_second <= self.per_second + BURST


@dataclass(frozen=True, slots=True)
class GeocodeBench:
    """The branch geocoded, and its passes in order: cold, warm, then the slow cold one."""

    backend: str
    addresses: int
    distinct_texts: int
    setup_s: float
    passes: list[GeocodePass] = field(default_factory=list)


def _seed(sessions: sessionmaker[Session], samples: Sequence[Sample]) -> UUID:
    with sessions.begin() as session:
        branch = new_branch("Bench geocode")
        cases = [new_case(branch, number, sample.text) for number, sample in enumerate(samples, start=1)]
        add_in_bulk(session, [branch], [case for case, _ in cases], [address for _, address in cases])
        return branch.id


def _clear_points(sessions: sessionmaker[Session], branch_id: UUID, *, forget_answers: bool = False) -> None:
    """Take the branch's addresses back to text only (and empty the cache): one UPDATE, outside the audit trail, as
    the bench's own setup."""
    with sessions.begin() as session:
        cases = select(DebtCase.id).where(DebtCase.branch_id == branch_id)
        session.execute(
            update(Address)
            .where(Address.case_id.in_(cases))
            .values(
                point=None,
                point_source=None,
                point_precision=None,
                point_provider="",
                point_set_at=None,
                point_set_by_id=None,
            )
        )
        if forget_answers:
            session.execute(delete(GeocodeAnswer))


def _pass(
    label: str,
    sessions: sessionmaker[Session],
    double: AMapDouble,
    branch_id: UUID,
    per_second: float,
    limit: int | None = None,
) -> GeocodePass:
    double.reset()
    backoff = TimedSleep()
    limiter = RateLimiter(per_second, BURST)
    with AMapGeocoder("bench-key", base_url=double.url, limiter=limiter, retries=RETRIES, sleep=backoff) as amap:
        began = time.perf_counter()
        summary = geocode_unplaced(sessions, [amap], branch_id=branch_id, limit=limit)
        wall_s = time.perf_counter() - began
    return GeocodePass(
        label=label,
        per_second=per_second,
        addresses=summary.addresses,
        wall_s=wall_s,
        requests=len(double.arrivals),
        server_errors=double.server_errors,
        backoff_s=backoff.slept_s,
        busiest_second=busiest_second(double.arrivals),
        summary=summary,
    )


def bench_geocode(
    count: int = 2000,
    seed: int = 1,
    per_second: float = 200,
    *,
    database_url: str | None = None,
    slow_count: int = 30,
    slow_per_second: float = 3,
    delay_s: float = DELAY_S,
    report: Callable[[str], None] = print,
) -> GeocodeBench:
    """Seed a branch of `count` generated text-only addresses, geocode it cold then warm at `per_second`, then the
    first `slow_count` addresses cold at `slow_per_second`; print each pass as it ends and return them."""
    samples = generate(count, seed)
    answers = plan_answers(samples, seed)
    with bench_database(database_url, "geocode") as url:
        engine = make_engine(url)
        try:
            sessions = sessions_of(engine)
            began = time.perf_counter()
            branch_id = _seed(sessions, samples)
            result = GeocodeBench(backend(engine), count, len(answers), time.perf_counter() - began)
            report(_heading(result, seed, per_second, delay_s, answers))
            with AMapDouble(answers, delay_s) as double:
                runs = (
                    ("cold", per_second, None, False),
                    ("warm", per_second, None, False),
                    (f"cold, first {slow_count}", slow_per_second, slow_count, True),
                )
                for label, rate, limit, forget in runs:
                    if result.passes:
                        _clear_points(sessions, branch_id, forget_answers=forget)
                    result.passes.append(_pass(label, sessions, double, branch_id, rate, limit))
                    report(format_pass(result.passes[-1]))
        finally:
            engine.dispose()
    return result


# ---------------------------------------------------------------------------------------------------- the output


def _heading(result: GeocodeBench, seed: int, per_second: float, delay_s: float, answers: dict[str, Answer]) -> str:
    levels = Counter(answer.level or "no result" for answer in answers.values())
    failing = sum(answer.server_error_once for answer in answers.values())
    return "\n".join(
        (
            f"geocode: {result.addresses} generated addresses ({result.distinct_texts} distinct texts), seed {seed}, "
            f"{per_second:g} requests/s (burst {BURST}), retries {RETRIES}, on {result.backend}",
            f"AMap double on 127.0.0.1: {delay_s * 1000:g} ms a request; answers by level: "
            + ", ".join(f"{level} {n}" for level, n in levels.most_common())
            + f"; {failing} texts answer 503 once; empty texts get INVALID_PARAMS",
            f"setup (branch, cases and addresses, graded, one flush per table): {result.setup_s:.2f} s",
        )
    )


def format_pass(run: GeocodePass) -> str:
    summary = run.summary
    lines = [
        f"\npass {run.label} ({run.per_second:g}/s): {run.addresses} addresses in {run.wall_s:.2f} s = "
        f"{run.addresses_per_s:,.0f} addresses/s",
        f"  provider requests {run.requests} ({summary.asked} answers asked and cached, {run.server_errors} 503s "
        f"retried after {run.backoff_s:.2f} s of backoff)",
        f"  rate: {run.requests_per_s:.1f} requests/s over the pass (allowed {run.per_second:g} + {BURST} burst "
        f"over {run.wall_s:.2f} s), at most {run.busiest_second} in any 1 s (allowed "
        f"{run.per_second + BURST:g}): {'HELD' if run.rate_held else 'EXCEEDED'}",
        f"  outcome: trusted {summary.trusted}, untrusted {summary.untrusted}, not found {summary.not_found}, "
        f"failed {summary.failed}",
        "  by grade: " + ", ".join(f"{grade} {n}" for grade, n in sorted(summary.by_grade.items())),
        "  by precision: " + (", ".join(f"{p} {n}" for p, n in sorted(summary.by_precision.items())) or "-"),
    ]
    return "\n".join(lines)
