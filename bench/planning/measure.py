"""One measured planning run: a fresh database, a generated day, `start_run` and a timed `execute_run`."""

import math
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from uuid import UUID

from alembic.config import Config
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from alembic import command
from api.config import PlanningSettings
from api.db import make_engine
from api.demo import BRANCH_NAME, seed_demo
from api.models.branches import Branch
from api.models.sheets import EditAction, PlanningRun, RunStatus, VisitSheet
from api.models.users import Role, User
from api.rules import zones
from api.sessions import sessions_of
from api.sheets import service
from api.sheets.planner import SessionFactory, execute_run
from api.sheets.schemas import PlanEditPut, PlanningRunCreate, PlanningRunResolve
from bench.planning.day import seed_day

REPO_ROOT = Path(__file__).resolve().parents[2]


class DatabaseNotEmpty(RuntimeError):
    """The database given for the run has a schema already: the generated day would clash with what it holds."""


class PlanningFailed(RuntimeError):
    """The planning run ended other than succeeded."""


@dataclass(frozen=True, slots=True)
class PlanningRow:
    """One planning run of a generated day (or the median of several), as printed and written to the CSV."""

    run: str
    requests: int
    teams: int
    planned: int
    unplanned: int
    distance_km: float
    load_s: float
    rules_s: float  # the field rules: the branch's pack, each request's legal hours, time zone and eligibility
    matrix_s: float
    solve_s: float
    store_s: float
    other_s: float  # total_s - solve_s
    other_pct: float  # other_s as a percentage of solve_s
    rules_pct: float  # rules_s as a percentage of the rest of the time outside the solve (other_s - rules_s)
    total_s: float
    engine: str
    peak_mib: float
    time_limit_s: int = 0  # the solver's limit, as the run was given it
    solver_wall_s: float = 0.0  # the solver's own wall time (solve_s is the phase around it)

    @property
    def phases_s(self) -> float:
        """The timed phases around the solve: load, rules, matrix and store."""
        return self.load_s + self.rules_s + self.matrix_s + self.store_s


@dataclass(frozen=True, slots=True)
class Day:
    """What to plan: a generated day of `requests` and `teams` (drawn with `seed`), or the demo branch's day."""

    requests: int
    teams: int
    seed: int
    demo: bool = False


def _alembic(database_url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    return config


@contextmanager
def fresh_database(database_url: str | None) -> Iterator[str]:
    """A database migrated to head: a new SQLite file in a temporary directory (removed afterwards), or the given
    empty database, which keeps the day and its plan for inspection."""
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix="bench-planning-") as folder:
            url = f"sqlite:///{folder}/planning.db"
            command.upgrade(_alembic(url), "head")
            yield url
        return
    engine = make_engine(database_url)
    try:
        if inspect(engine).has_table("branch"):
            raise DatabaseNotEmpty(f"{engine.url!r} holds fieldvisit's tables already; give an empty database")
    finally:
        engine.dispose()
    command.upgrade(_alembic(database_url), "head")
    yield database_url


def _queue_run(sessions: SessionFactory, day: Day, settings: PlanningSettings) -> UUID:
    with sessions() as session:
        supervisor = session.get_one(User, _seed(session, day))
        run = service.start_run(session, supervisor, PlanningRunCreate(), settings)
        session.commit()
        return run.id


def _seed(session: Session, day: Day) -> UUID:
    """The day's supervisor, after seeding it: the generated day, or the demo branch (`fieldvisit demo seed`)."""
    if not day.demo:
        return seed_day(session, day.requests, day.teams, day.seed)
    seed_demo(session)
    session.flush()
    branch = session.scalars(select(Branch).where(Branch.name == BRANCH_NAME)).one()
    query = select(User.id).where(User.branch_id == branch.id, User.role == Role.SUPERVISOR).order_by(User.username)
    return session.scalars(query.limit(1)).one()


def _pin(sessions: SessionFactory, run_id: UUID) -> str:
    """Pin one request of the run to another team (the first stop of the first team's sheet, to the next team with
    a sheet); returns what was pinned."""
    with sessions() as session:
        supervisor = session.get_one(User, session.get_one(PlanningRun, run_id).requested_by_id)
        sheets = session.scalars(
            select(VisitSheet).where(VisitSheet.run_id == run_id).order_by(VisitSheet.team_name)
        ).all()
        loaded = [sheet for sheet in sheets if sheet.stops]
        first, other = loaded[0], loaded[1]
        stop = min(first.stops, key=lambda row: row.position)
        edit = PlanEditPut(action=EditAction.PIN, team_id=other.team_id)
        service.put_edit(session, supervisor, run_id, stop.visit_request_id, edit)
        session.commit()
        return f"request {stop.visit_request_id} from {first.team_name} to {other.team_name}"


def _queue_resolve(
    sessions: SessionFactory, run_id: UUID, settings: PlanningSettings, asked: PlanningRunResolve
) -> UUID:
    """Queue a re-solve of the run around its edits, as its supervisor."""
    with sessions() as session:
        supervisor = session.get_one(User, session.get_one(PlanningRun, run_id).requested_by_id)
        again = service.resolve_run(session, supervisor, run_id, asked, settings)
        session.commit()
        return again.id


def _figures(sessions: SessionFactory, run_id: UUID) -> dict[str, Any]:
    with sessions() as session:
        run = session.get_one(PlanningRun, run_id)
        if run.status is not RunStatus.SUCCEEDED:
            raise PlanningFailed(f"run {run_id} {run.status.value}: {run.error}")
        return run.figures


def _peak_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB); the solver's worker processes are not in it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _row(run: str, figures: dict[str, Any], total_s: float) -> PlanningRow:
    timings = figures["timings"]
    solve_s = timings.get("solve_s", 0.0)
    other_s = total_s - solve_s
    rules_s = timings.get("rules_s", 0.0)
    return PlanningRow(
        run=run,
        requests=figures["requests"],
        teams=figures["teams"],
        planned=figures["planned"],
        unplanned=figures["unplanned"],
        distance_km=round(figures["distance_m"] / 1000, 3),
        load_s=timings["load_s"],
        rules_s=rules_s,
        matrix_s=timings.get("matrix_s", 0.0),
        solve_s=solve_s,
        store_s=timings["store_s"],
        other_s=round(other_s, 3),
        other_pct=round(100 * other_s / solve_s, 1) if solve_s else math.nan,
        rules_pct=round(100 * rules_s / (other_s - rules_s), 2) if other_s > rules_s else math.nan,
        total_s=round(total_s, 3),
        engine=figures.get("engine", ""),
        peak_mib=round(_peak_mib(), 1),
        time_limit_s=figures["time_limit_s"],
        solver_wall_s=figures.get("solver_wall_s", 0.0),
    )


def _timed_run(sessions: SessionFactory, settings: PlanningSettings, run_id: UUID, run: str) -> PlanningRow:
    began = time.perf_counter()
    execute_run(sessions, settings, run_id)
    total_s = time.perf_counter() - began
    return _row(run, _figures(sessions, run_id), total_s)


def measure(
    day: Day,
    time_limit_s: int,
    *,
    database_url: str | None = None,
    solver_workers: int = 2,
    run: str = "1",
    resolve: bool = False,
) -> list[PlanningRow]:
    """Plan the day on a fresh database and time it; with `resolve`, then pin one request to another team and
    time the re-solve, which starts from the plan (a row whose run is suffixed "r"), and the same re-solve from
    scratch for the whole time limit, the cold solve it is measured against ("c")."""
    settings = PlanningSettings(time_limit_s=time_limit_s, solver_workers=solver_workers, seed=day.seed)
    zones.load()  # as a planning worker does when it starts
    with fresh_database(database_url) as url:
        engine = make_engine(url)
        try:
            sessions = sessions_of(engine)
            planned = _queue_run(sessions, day, settings)
            rows = [_timed_run(sessions, settings, planned, run)]
            if resolve:
                print(f"pinned {_pin(sessions, planned)}", flush=True)
                warm = _queue_resolve(sessions, planned, settings, PlanningRunResolve())
                rows.append(_timed_run(sessions, settings, warm, f"{run}r"))
                from_scratch = settings.model_copy(update={"warm_resolve": False})
                asked = PlanningRunResolve(time_limit_s=time_limit_s)
                scratch = _queue_resolve(sessions, planned, from_scratch, asked)
                rows.append(_timed_run(sessions, from_scratch, scratch, f"{run}c"))
        finally:
            engine.dispose()
    return rows


def median_row(rows: Sequence[PlanningRow]) -> PlanningRow:
    """Each column's median over the runs (of counts the lower median; engines: every one that won, joined)."""
    medians: dict[str, Any] = {"run": "median", "engine": "/".join(sorted({row.engine for row in rows}))}
    for field in fields(PlanningRow):
        if field.name not in medians:
            values = [getattr(row, field.name) for row in rows]
            medians[field.name] = (
                statistics.median_low(values) if field.type is int else round(statistics.median(values), 3)
            )
    return PlanningRow(**medians)
