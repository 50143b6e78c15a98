"""The console in Chromium on a 60-team, 1,000-stop day: how long its screens take to show, and in how many calls.

    python -m bench.console [--requests 1000] [--teams 60] [--repeats 5] [--time-limit 10]
                            [--database-url postgresql+psycopg://…]

The day is bench/planning's generated Shanghai branch, planned (10 s) by the real planner and published; every stop
gets a completed visit with two check-ins, and every address a pending report, so that visit review and the address
queue have 1,000 rows each. The server runs in its own process; each screen is opened by a fresh navigation (logged
in already, as after a reload) and timed from the navigation's start to the console's performance mark:
`fv:routes-drawn` (the day map's last route), `fv:visits-first` and `fv:reports-first` (the first rows of visit
review and the address queue). The peer, in the same page and run: the day's sheets fetched one call per team
(`GET /visit-sheets` then `GET /visit-sheets/{id}` for each) against the one call of `GET /visit-sheets/days/{date}`.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx2
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import PlanningSettings
from api.db import make_engine, utcnow
from api.models.address_reports import AddressProblem, AddressReport, ReportOrigin, ReportStatus
from api.models.cases import AddressValidity, InvalidReason
from api.models.sheets import PlanningRun, StopState, VisitSheet
from api.models.users import User
from api.models.visits import CheckIn, Visit, VisitStatus
from api.sessions import sessions_of
from api.sheets import service
from api.sheets.planner import execute_run
from api.sheets.schemas import PlanningRunCreate
from bench.load.server import SERVE, served, server_env
from bench.planning.day import seed_day
from bench.planning.measure import fresh_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SCREENS = {"day map": ("day", "fv:routes-drawn"), "visit review": ("visits", "fv:visits-first")}


def _planned_day(url: str, requests: int, teams: int, time_limit_s: int) -> str:
    """Seed, plan and publish the day; give every stop a completed visit and every address a pending report."""
    engine = make_engine(url)
    sessions = sessions_of(engine)
    settings = PlanningSettings(time_limit_s=time_limit_s, solver_workers=2)
    with sessions() as session:
        supervisor = session.get_one(User, seed_day(session, requests, teams, seed=1))
        run = service.start_run(session, supervisor, PlanningRunCreate(), settings)
        session.commit()
        run_id, supervisor_id = run.id, supervisor.id
    execute_run(sessions, settings, run_id)
    with sessions() as session:
        supervisor = session.get_one(User, supervisor_id)
        service.publish_run(session, supervisor, run_id)
        session.commit()
        _visits_and_reports(session, session.get_one(PlanningRun, run_id))
        session.commit()
        work_date = session.get_one(PlanningRun, run_id).work_date.isoformat()
    engine.dispose()
    return work_date


def _visits_and_reports(session: Session, run: PlanningRun) -> None:
    now = utcnow()
    sheets = list(session.scalars(select(VisitSheet).where(VisitSheet.run_id == run.id)))
    teams, _, requests, _, _ = service.sheets_context(session, sheets)
    for sheet in sheets:
        members = [member.agent_id for member in teams[sheet.team_id].members]
        for stop in sheet.stops:
            request = requests[stop.visit_request_id]
            visit = Visit(
                sheet_id=sheet.id,
                visit_request_id=request.id,
                team_id=sheet.team_id,
                branch_id=sheet.branch_id,
                case_id=request.case_id,
                address_id=request.address_id,
                status=VisitStatus.COMPLETED,
                started_at=now - timedelta(minutes=30),
                completed_at=now,
            )
            session.add(visit)
            session.flush()
            for agent_id in members:
                session.add(
                    CheckIn(
                        visit_id=visit.id,
                        agent_id=agent_id,
                        lat=31.23,
                        lon=121.47,
                        accuracy_m=10,
                        distance_m=12,
                        device_time=now,
                        received_at=now,
                        client_id=uuid4(),
                    )
                )
            session.add(
                AddressReport(
                    address_id=request.address_id,
                    case_id=request.case_id,
                    branch_id=sheet.branch_id,
                    reason=InvalidReason.VAGUE,
                    note="预检：地址模糊",
                    previous_validity=AddressValidity.UNVERIFIED,
                    status=ReportStatus.PENDING,
                    raised_by=ReportOrigin.PRECHECK,
                    problem=AddressProblem.VAGUE_TEXT,
                    client_id=uuid4(),
                )
            )
            stop.state, stop.visit_id = StopState.DONE, visit.id
    session.flush()


def _mark_ms(page: Page, mark: str, timeout_s: float = 30) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = page.evaluate("name => performance.getEntriesByName(name).map(entry => entry.startTime)", mark)
        if found:
            return float(found[0])
        time.sleep(0.02)
    raise SystemExit(f"the console never reached {mark}")


def _open(page: Page, base: str, screen: str, work_date: str, mark: str) -> tuple[float, int]:
    """Navigate afresh to the screen on the day: milliseconds to its mark, and the API calls it made."""
    calls: list[str] = []

    def note(request: Any) -> None:
        path = request.url.removeprefix(base)
        if not path.startswith("/console/"):
            calls.append(path)

    page.goto("about:blank")
    page.on("request", note)
    page.goto(f"{base}/console/#/{screen}/{work_date}")
    elapsed = _mark_ms(page, mark)
    page.wait_for_load_state("networkidle")
    page.remove_listener("request", note)
    return elapsed, len(calls)


PEER = """async ([date, token]) => {
  const headers = { Authorization: `Bearer ${token}` };
  const get = async (path) => (await fetch(path, { headers })).json();
  let began = performance.now();
  const day = await get(`/visit-sheets/days/${date}`);
  const one = performance.now() - began;
  began = performance.now();
  const list = await get(`/visit-sheets?work_date=${date}&status=published&limit=200`);
  const sheets = await Promise.all(list.items.map((sheet) => get(`/visit-sheets/${sheet.id}`)));
  const each = performance.now() - began;
  return [one, each, day.sheets.length, sheets.length];
}"""


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--time-limit", type=int, default=10, help="Seconds the planner takes over the day.")
    parser.add_argument("--database-url", help="An empty PostGIS database; default: a new SQLite file.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    with fresh_database(args.database_url) as url, tempfile.TemporaryDirectory(prefix="bench-console-") as var:
        work_date = _planned_day(url, args.requests, args.teams, args.time_limit)
        env = server_env(url, Path(var))
        with served(SERVE, ROOT, env, "/health") as (base, _), sync_playwright() as driver:
            token = httpx2.post(f"{base}/auth/login", json={"username": "supervisor", "password": "bench"}).json()
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/console/")
            page.fill("input[name=username]", "supervisor")
            page.fill("input[name=password]", "bench")
            page.click("form#login button[type=submit]")
            page.wait_for_selector("#nav a")
            backend = "postgis" if url.startswith("postgresql") else "spatialite"
            print(f"console on {backend}: {args.teams} teams, {args.requests} requests, {work_date}")
            screens = {**SCREENS, "address queue": ("addresses", "fv:reports-first")}
            for name, (screen, mark) in screens.items():
                runs = [_open(page, base, screen, work_date, mark) for _ in range(args.repeats)]
                times = [elapsed for elapsed, _ in runs]
                spread = f"min {min(times):.0f}, max {max(times):.0f}, {args.repeats} runs"
                print(f"{name:14} median {statistics.median(times):7.0f} ms ({spread}), API calls {runs[-1][1]}")
            page.goto(f"{base}/console/#/day/{work_date}")
            _mark_ms(page, "fv:routes-drawn")
            drawn = page.locator("path.fv-route").count()
            stops = page.locator(".fv-stop").count()
            print(f"day map drew {drawn} routes and {stops} stops")
            peers = [page.evaluate(PEER, [work_date, token["access_token"]]) for _ in range(args.repeats)]
            one = statistics.median(peer[0] for peer in peers)
            each = statistics.median(peer[1] for peer in peers)
            print(
                f"the day's sheets: 1 call {one:.0f} ms; one per team ({peers[0][3] + 1} calls) {each:.0f} ms;"
                f" ratio {each / one:.2f}"
            )
            browser.close()


if __name__ == "__main__":
    main()
