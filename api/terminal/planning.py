"""`fieldvisit plan`: plan (and publish) a branch's date from a terminal, with a progress bar and a summary."""

import threading
from collections import Counter
from contextlib import suppress
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.models.branches import Branch
from api.models.sheets import PlanningRun, RunStatus
from api.models.teams import Team
from api.models.users import Role, User
from api.sheets import service
from api.sheets.planner import execute_run
from api.sheets.schemas import PlanningRunCreate
from api.teams.service import agents_by_id


class PlanFailed(Exception):
    pass


def find_branch(session: Session, name_or_id: str | None) -> Branch:
    """The branch named (or with that id); without a name, the only branch there is."""
    if name_or_id is None:
        branches = session.scalars(select(Branch).limit(2)).all()
        if len(branches) != 1:
            raise PlanFailed("Name the branch with --branch (there is not exactly one).")
        return branches[0]
    condition = Branch.name == name_or_id
    with suppress(ValueError):
        condition = or_(condition, Branch.id == UUID(name_or_id))
    branch = session.scalar(select(Branch).where(condition))
    if branch is None:
        raise PlanFailed(f"No branch {name_or_id!r}.")
    return branch


def find_planner(session: Session, branch: Branch, username: str | None) -> User:
    """The supervisor (or admin) the run is recorded for: the one named, or the branch's first active supervisor."""
    query = select(User).where(User.active.is_(True), User.role.in_((Role.SUPERVISOR, Role.ADMIN)))
    if username is not None:
        user = session.scalar(query.where(User.username == username))
    else:
        user = session.scalar(
            query.where(User.branch_id == branch.id, User.role == Role.SUPERVISOR).order_by(User.username)
        )
    if user is None or (user.role is Role.SUPERVISOR and user.branch_id != branch.id):
        raise PlanFailed(
            f"No active supervisor of {branch.name} or admin" + (f" named {username!r}." if username else ".")
        )
    return user


def plan_in_terminal(
    settings: Settings,
    sessions: sessionmaker[Session],
    branch_name: str | None,
    work_date: date | None,
    username: str | None,
    publish: bool,
    console: Console,
) -> PlanningRun:
    """Queue a run, plan it in this process while a progress bar follows it, print the sheets, and publish them."""
    with sessions() as session:
        branch = find_branch(session, branch_name)
        user = find_planner(session, branch, username)
        run = service.start_run(
            session, user, PlanningRunCreate(branch_id=branch.id, work_date=work_date), settings.planning
        )
        session.commit()
        run_id, user_id = run.id, user.id
    planning = threading.Thread(target=execute_run, args=(sessions, settings.planning, run_id), daemon=True)
    columns = (TextColumn("{task.description:<8}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("queued", total=100)
        planning.start()
        while planning.is_alive():
            planning.join(timeout=0.5)
            with sessions() as session:
                current = session.get_one(PlanningRun, run_id)
                progress.update(task, completed=current.progress, description=current.stage)
    with sessions() as session:
        run = session.get_one(PlanningRun, run_id)
        if run.status is not RunStatus.SUCCEEDED:
            raise PlanFailed(f"The run {run.status.value}: {run.error or 'no reason given'}")
        if publish:
            run = service.publish_run(session, session.get_one(User, user_id), run_id)
            session.commit()
        _summary(session, run, console)
        return run


def _summary(session: Session, run: PlanningRun, console: Console) -> None:
    branch = session.get_one(Branch, run.branch_id)
    zone = ZoneInfo(branch.timezone)
    teams = {
        team.id: team for team in session.scalars(select(Team).where(Team.id.in_([s.team_id for s in run.sheets])))
    }
    agents = agents_by_id(session, list(teams.values()))
    state = f"published, version {run.sheets[0].version}" if run.published_at and run.sheets else "draft"
    table = Table(title=f"{branch.name} · {run.work_date.isoformat()} · {state}")
    for column in ("team", "agents", "stops", "leaves", "returns", "km", "driving"):
        table.add_column(column, justify="right" if column in ("stops", "km", "driving") else "left")
    for sheet in run.sheets:
        names = ", ".join(agents[member.agent_id].full_name for member in teams[sheet.team_id].members)
        table.add_row(
            sheet.team_name,
            names,
            str(len(sheet.stops)),
            sheet.leaves_at.astimezone(zone).strftime("%H:%M"),
            sheet.returns_at.astimezone(zone).strftime("%H:%M"),
            f"{sheet.distance_m / 1000:.1f}",
            f"{sheet.travel_s // 60} min",
        )
    console.print(table)
    reasons = Counter(row.reason.value for row in run.unplanned)
    left = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items())) or "none"
    timings = run.figures.get("timings", {})
    console.print(f"planned {run.figures.get('planned', 0)}, left out: {left}")
    console.print(
        f"engine {run.figures.get('engine', '-')}; seconds: " + ", ".join(f"{k} {v}" for k, v in timings.items())
    )
