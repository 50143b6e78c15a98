"""`python -m bench.tracks`: a day of on-duty tracks sent through the API as phones send them, then the presence
reads of 1,000 visits from what was stored.

A Shanghai branch with 60 teams of two agents (yesterday, so that every fix is in the past), each with a published
sheet and both departure checks. Each agent's phone takes a fix every 15 s for 9 hours (20 minutes at a door, 10
minutes' drive, with city GPS noise) and sends what it buffered every 2 minutes: `POST /me/positions` through the app
in-process, batches in the order their phones would send them. Printed: fixes per second, batch latency p50/p99
(against a `GET /me` on the same app, the least an authenticated request costs), the database's growth (file, or
PostgreSQL's relations) and what a year of it costs with and without the retention; then for 1,000 visit windows
(45 min before the arrival to 10 min after a 20 min visit, both agents' tracks): the median time to read them from
the database and score them with `api.rules.presence.assess`.
"""

import argparse
import math
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from geoalchemy2 import WKTElement
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.auth.security import issue_access_token
from api.config import AuthSettings, Settings
from api.db import utcnow
from api.main import create_app
from api.models.branches import Branch
from api.models.sheets import PlanningRun, RunStatus, SheetStatus, VisitSheet
from api.models.teams import Team, TeamMember
from api.models.users import Role, User
from api.rules.presence import CheckInFix, Door, VisitScene, assess
from api.tracks import service as tracks_service
from api.visits.presence import track_fix
from bench.planning.day import PASSWORD_HASH
from bench.planning.measure import fresh_database

CENTRE = (31.2304, 121.4737)
METRE_LAT = 1 / 111_195
SECRET = "bench-tracks-secret-of-32-bytes!!"
ZONE = ZoneInfo("Asia/Shanghai")


def _seed(session: Session, teams: int, work_date: date) -> list[tuple[UUID, UUID]]:
    """The branch, its teams with published sheets from 08:30 to 18:30 and both agents' tracks opened at 08:45;
    each agent's (id, track id)."""
    office = WKTElement(f"POINT({CENTRE[1]} {CENTRE[0]})", srid=4326)
    branch = Branch(
        name="Bench branch", timezone=ZONE.key, office_address="上海市黄浦区人民大道200号", office_point=office
    )
    session.add(branch)
    session.flush()
    supervisor = User(
        branch_id=branch.id,
        username="supervisor",
        full_name="Supervisor",
        role=Role.SUPERVISOR,
        password_hash=PASSWORD_HASH,
    )
    session.add(supervisor)
    session.flush()
    run = PlanningRun(
        branch_id=branch.id,
        work_date=work_date,
        status=RunStatus.SUCCEEDED,
        stage="done",
        progress=100,
        time_limit_s=1,
        requested_by_id=supervisor.id,
        started_at=utcnow(),
    )
    session.add(run)
    session.flush()
    local = lambda hour, minute=0: datetime(work_date.year, work_date.month, work_date.day, hour, minute, tzinfo=ZONE)  # noqa: E731
    agents: list[tuple[UUID, UUID]] = []
    for number in range(teams):
        pair = [
            User(
                branch_id=branch.id,
                username=f"agent{number}-{seat}",
                full_name=f"Agent {number}-{seat}",
                role=Role.AGENT,
                password_hash=PASSWORD_HASH,
            )
            for seat in (1, 2)
        ]
        session.add_all(pair)
        session.flush()
        team = Team(branch_id=branch.id, work_date=work_date, name=f"Team {number:02d}")
        team.members = [
            TeamMember(seat=seat, agent_id=agent.id, branch_id=branch.id, work_date=work_date)
            for seat, agent in enumerate(pair, start=1)
        ]
        session.add(team)
        session.flush()
        route = WKTElement(f"LINESTRING({CENTRE[1]} {CENTRE[0]}, {CENTRE[1] + 0.05} {CENTRE[0] + 0.05})", srid=4326)
        session.add(
            VisitSheet(
                run_id=run.id,
                branch_id=branch.id,
                team_id=team.id,
                team_name=team.name,
                work_date=work_date,
                status=SheetStatus.PUBLISHED,
                version=1,
                distance_m=10_000,
                travel_s=3_600,
                leaves_at=local(8, 30),
                returns_at=local(18, 30),
                route=route,
                published_at=utcnow(),
            )
        )
        for agent in pair:
            track = tracks_service.open_track(session, team, agent.id, local(8, 45))
            agents.append((agent.id, track.id))
    session.commit()
    return agents


STAND_MIN, DRIVE_MIN = 20, 10  # a team's day: 20 minutes at a door, 10 minutes' drive to the next, and so on


def _team_day(
    rng: random.Random, start: datetime, hours: float, interval_s: int
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Both phones of a team for the day: at a door for `STAND_MIN`, then a drive of `DRIVE_MIN` at 8 m/s, the
    second agent 3 m beside the first but for three minutes at each door at the mailbox or a neighbour's, 30 m off;
    city GPS noise shared by both phones (an error wandering over 5-15 m) plus each phone's own (about 3 m)."""
    north, east = rng.uniform(-5000, 5000), rng.uniform(-5000, 5000)
    heading = rng.uniform(0, 2 * math.pi)
    shared = [0.0, 0.0]
    own = [[0.0, 0.0], [0.0, 0.0]]
    days: tuple[list[dict[str, object]], list[dict[str, object]]] = ([], [])
    cycle_s = (STAND_MIN + DRIVE_MIN) * 60
    for step in range(int(hours * 3600 / interval_s)):
        t = step * interval_s
        driving = t % cycle_s >= STAND_MIN * 60
        if driving:
            if t % cycle_s == STAND_MIN * 60:
                heading = rng.uniform(0, 2 * math.pi)
            north += 8 * interval_s * math.cos(heading)
            east += 8 * interval_s * math.sin(heading)
        shared = [0.9 * value + rng.gauss(0, 3) for value in shared]
        errand = 6 * 60 <= t % cycle_s < 9 * 60
        for agent, fixes in enumerate(days):
            own[agent] = [0.8 * value + rng.gauss(0, 1.5) for value in own[agent]]
            n = north + shared[0] + own[agent][0] + (30 if agent and errand else 0)
            e = east + 3 * agent + shared[1] + own[agent][1]
            fixes.append(
                {
                    "client_id": str(uuid4()),
                    "at": (start + timedelta(seconds=t + agent * 2)).isoformat(),
                    "lat": round(CENTRE[0] + n * METRE_LAT, 7),
                    "lon": round(CENTRE[1] + e * METRE_LAT / 0.855, 7),
                    "accuracy_m": round(rng.uniform(5, 30), 1),
                    "speed_mps": 8.0 if driving else round(abs(rng.gauss(0, 0.3)), 1),
                    "battery_pct": max(5, 100 - step // 40),
                }
            )
    return days


def _size_mib(session: Session, url: str) -> float:
    if url.startswith("sqlite"):
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    return session.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=60)
    parser.add_argument("--hours", type=float, default=9)
    parser.add_argument("--interval-s", type=int, default=15, help="Seconds between a phone's fixes.")
    parser.add_argument("--send-every-min", type=float, default=2, help="Minutes between a phone's batches.")
    parser.add_argument("--visits", type=int, default=1000, help="Visit windows whose presence is read and scored.")
    parser.add_argument("--repeat", type=int, default=3, help="Repeats of the presence reads (the median is given).")
    parser.add_argument("--database-url", help="An empty database (default: a new SQLite file).")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    work_date = datetime.now(ZONE).date() - timedelta(days=1)
    start = datetime(work_date.year, work_date.month, work_date.day, 9, 0, tzinfo=ZONE)
    with fresh_database(args.database_url) as url:
        settings = Settings(database_url=url, auth=AuthSettings(jwt_secret=SecretStr(SECRET)), webhook_interval_s=None)
        settings.tracking.watch_interval_s = None
        settings.tracking.purge_interval_s = None
        app = create_app(settings)
        with app.state.sessionmaker() as session:
            agents = _seed(session, args.teams, work_date)
            before_mib = _size_mib(session, url)
        headers = {
            agent: {"Authorization": "Bearer " + issue_access_token(SECRET, settings, agent, uuid4(), utcnow())[0]}
            for agent, _ in agents
        }
        per_batch = round(args.send_every_min * 60 / args.interval_s)
        batches = []  # (when the phone sends it, agent, fixes)
        for (first_agent, _), (second_agent, _) in zip(agents[::2], agents[1::2], strict=True):
            phones = _team_day(rng, start, args.hours, args.interval_s)
            for agent, fixes in zip((first_agent, second_agent), phones, strict=True):
                for first in range(0, len(fixes), per_batch):
                    chunk = fixes[first : first + per_batch]
                    batches.append((str(chunk[-1]["at"]), rng.random(), agent, chunk))
        batches.sort()
        latencies, refused = [], 0
        with TestClient(app) as client:
            began = time.perf_counter()
            for _, _, agent, chunk in batches:
                sent = time.perf_counter()
                answer = client.post(
                    "/me/positions",
                    json={"sent_at": datetime.now(UTC).isoformat(), "fixes": chunk},
                    headers=headers[agent],
                )
                latencies.append(time.perf_counter() - sent)
                if answer.status_code != 200:
                    raise SystemExit(f"batch refused: {answer.status_code} {answer.text[:300]}")
                refused += answer.json()["refused"]
            wall = time.perf_counter() - began
            peer = []  # the least an authenticated request costs on the same app: `GET /me`
            for agent, _ in agents * 4:
                sent = time.perf_counter()
                client.get("/me", headers=headers[agent])
                peer.append(time.perf_counter() - sent)
        fixes_sent = sum(len(chunk) for *_, chunk in batches)
        with app.state.sessionmaker() as session:
            after_mib = _size_mib(session, url)
            growth = after_mib - before_mib
            print(
                f"backend: {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'} · {args.teams} teams x 2 agents"
                f" · a fix every {args.interval_s} s for {args.hours:g} h · a batch every {args.send_every_min:g} min"
            )
            print(
                f"ingest: {fixes_sent} fixes in {len(batches)} batches, {refused} refused, {wall:.1f} s:"
                f" {fixes_sent / wall:,.0f} fixes/s, {len(batches) / wall:,.0f} batches/s"
            )
            print(
                f"batch latency: p50 {statistics.median(latencies) * 1000:.1f} ms,"
                f" p99 {_percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms;"
                f" GET /me p50 {statistics.median(peer) * 1000:.1f} ms"
                f" (a batch x{statistics.median(latencies) / statistics.median(peer):.1f})"
            )
            print(
                f"database growth: {growth:.1f} MiB for the day ({growth * 2**20 / fixes_sent:.0f} bytes a fix, audit"
                f" rows included); a year: {growth * 365 / 1024:.1f} GiB kept whole,"
                f" {growth * 30 / 1024:.2f} GiB held at the default 30-day retention"
            )
            if not url.startswith("sqlite"):
                sizes = session.execute(
                    text(
                        "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN"
                        " ('position_fix', 'audit_event', 'track') ORDER BY relname"
                    )
                ).all()
                print("relations: " + ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in sizes))
            _presence(session, agents, start, args)


def _presence(session: Session, agents: list[tuple[UUID, UUID]], start: datetime, args: argparse.Namespace) -> None:
    """Read and score `args.visits` visit windows of both agents of a team, as a visit's completion does."""
    rng = random.Random(args.seed)
    pairs = [(agents[i], agents[i + 1]) for i in range(0, len(agents), 2)]
    windows = []
    for _ in range(args.visits):
        pair = rng.choice(pairs)
        # a visit at one of the day's doors, from its first minute to its last
        arrived = start + timedelta(minutes=rng.randrange(1, int(args.hours * 60 / 30) - 1) * (STAND_MIN + DRIVE_MIN))
        windows.append((pair, arrived))
    timings = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        scores = []
        for ((a, track_a), (b, track_b)), arrived in windows:
            until = arrived + timedelta(minutes=20)
            fixes = tracks_service.fixes_of(
                session, [track_a, track_b], arrived - timedelta(minutes=45), until + timedelta(minutes=10)
            )
            door_fix = next((fix for fix in fixes[track_a] if fix.at >= arrived), fixes[track_a][-1])
            check_ins = tuple(
                CheckInFix(str(agent), door_fix.lat, door_fix.lon, 10.0, arrived, arrived) for agent in (a, b)
            )
            scene = VisitScene(
                door=Door(door_fix.lat, door_fix.lon, 200),
                agents=(str(a), str(b)),
                arrived_at=arrived,
                until=until,
                check_ins=check_ins,
                tracks={str(a): tuple(map(track_fix, fixes[track_a])), str(b): tuple(map(track_fix, fixes[track_b]))},
                claimed_on_site_s=1200,
            )
            scores.append(assess(scene).score)
        timings.append(time.perf_counter() - began)
    median = statistics.median(timings)
    print(
        f"presence of {args.visits} visits (read both tracks' windows from the database, then score): median of"
        f" {args.repeat} {median:.2f} s, {median / args.visits * 1000:.2f} ms a visit"
        f" (runs: {', '.join(f'{t:.2f}' for t in timings)}); scores {min(scores)}-{max(scores)}"
    )


if __name__ == "__main__":
    main()
