"""The planning job: claim a queued run, load the day, solve it and store one draft sheet per team, all or nothing.

A run goes queued -> running -> succeeded | failed | cancelled. Claiming is a conditional UPDATE, so of several
workers handed the same run exactly one plans it. The sheets, their stops and the unplanned requests are written in
one transaction together with the run's success; a crash before that leaves the run failed and no sheet behind.
A cancellation asked for while the solver works is honoured when it returns: nothing is stored.
"""

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from api.addresses import precheck
from api.audit.chain import update_where
from api.branches import service as branches_service
from api.config import PlanningSettings
from api.db import utcnow, writing
from api.geo import point_shape
from api.models.branches import Branch
from api.models.cases import Address, DebtCase
from api.models.sheets import (
    EditAction,
    PlanEdit,
    PlanningRun,
    RunFailure,
    RunKind,
    RunStatus,
    SheetStop,
    UnplannedReason,
    UnplannedRequest,
    VisitSheet,
)
from api.models.teams import Team
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.processes import owner, renewing
from api.roads.travel import travel_provider
from api.rules.branch import BranchRules
from api.rules.eligibility import ELIGIBLE, Verdict
from api.rules.hours import Closed
from api.rules.plannability import Unplannable
from api.sheets import eligibility, leases, reasons
from api.sheets.instance import (
    Pin,
    PlannedDay,
    Resume,
    address_points,
    build_day,
    local_midnight,
    route_line,
    route_points,
    seconds_of,
    sheet_stops,
    team_point,
    visit_windows,
)
from api.sheets.live import LiveDay, TeamDay, compose, live_day, visited_path
from api.sheets.live import resumes as live_resumes
from api.sheets.warm import previous_routes
from routing import solve
from routing.matrix import Point
from routing.model import TimeWindow
from routing.plan import Plan, Route

log = logging.getLogger(__name__)


SessionFactory = Callable[[], Session]


class RunCancelled(Exception):
    pass


class RunLost(Exception):
    """The run was given up on (its lease lapsed) while this process planned it: another may plan the date now."""


def execute_run(sessions: SessionFactory, settings: PlanningSettings, run_id: UUID) -> RunStatus | None:
    """Plan the run if it is still queued, under a lease this process keeps (`api.sheets.leases`); returns its final
    status, or None when another worker had it or it was given up on meanwhile."""
    worker = owner()
    with sessions() as session:
        claimed = update_where(
            session,
            PlanningRun,
            [PlanningRun.id == run_id, PlanningRun.status == RunStatus.QUEUED],
            {
                "status": RunStatus.RUNNING,
                "stage": "loading",
                "progress": 5,
                "started_at": utcnow(),
                "worker": worker,
                "lease_until": leases.lease(),
            },
        )
        session.commit()
        if claimed != 1:
            return None
    try:
        with leases.kept(sessions, run_id, worker) as cancelled:
            status = _plan(sessions, settings, run_id, worker, cancelled)
    except RunCancelled:
        status = RunStatus.CANCELLED
        _finish(sessions, run_id, worker, status, "", None)
    except RunLost:
        log.warning("planning run %s was given up on while this process planned it: nothing stored", run_id)
        return None
    except Exception as error:
        log.exception("planning run %s failed", run_id)
        status = RunStatus.FAILED
        detail = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"
        _finish(sessions, run_id, worker, status, detail, RunFailure.ERROR)
    return status


def _plan(
    sessions: SessionFactory, settings: PlanningSettings, run_id: UUID, worker: str, cancelled: threading.Event
) -> RunStatus:
    timings: dict[str, float] = {}
    with sessions() as session, _timed(timings, "precheck_s"):  # what the pre-check reports waits for the supervisor
        run = session.get_one(PlanningRun, run_id)
        branch = session.get_one(Branch, run.branch_id)
        precheck.check_day(session, branch, run.work_date, None)  # its roads: below, once it has priced the day
        session.commit()
    with sessions() as session:
        run = session.get_one(PlanningRun, run_id)
        with _timed(timings, "load_s"):
            branch = session.get_one(Branch, run.branch_id)
            teams = _teams(session, run)
            working = [team for team in teams if team.stood_down_at is None]
            edits = {
                edit.visit_request_id: edit
                for edit in session.scalars(select(PlanEdit).where(PlanEdit.run_id == run.id))
            }
            live = live_day(session, run.branch_id, run.work_date)
            held = live.kept_requests()  # stops with a visit or cancelled stay as they are
            pinned = [key for key, edit in edits.items() if edit.action is EditAction.PIN]
            requests = [request for request in _requests(session, run, pinned) if request.id not in held]
        removed = [request for request in requests if _action(edits, request) is EditAction.REMOVE]
        with _timed(timings, "rules_s"):
            rules = branches_service.rules_of(branch)
            kept = [request for request in requests if request not in removed]
            gate = eligibility.verdicts(session, rules, run.work_date, kept)
            windows, left_out = _sort_out(rules, run.work_date, working, kept, gate)
        plannable = [request for request in requests if request.id in windows]
        left_out += [(request, UnplannedReason.REMOVED, "taken off the plan by a supervisor") for request in removed]
        day = plan = start = None
        if plannable and working:
            _stage(session, run, "matrix", 10)
            with _timed(timings, "matrix_s"):
                travel = travel_provider(settings)
                pins = {key: pin for key, pin in _pins(edits).items() if UUID(key) not in held}
                resume = _resumes(session, branch, run.work_date, working, live)
                homes = live.homes() if resume is not None else {}  # an in-day run moves stops at a cost
                day, matrices = build_day(
                    branch, run.work_date, working, plannable, windows, travel, pins, resume, homes, run.move_cost_m
                )
            if run.based_on_id is not None and settings.warm_resolve:
                start = previous_routes(session, run.based_on_id, day, pins, {str(key) for key in edits})
            elif homes and settings.warm_resolve:
                start = live.planned_routes(day.teams, day.requests)  # the day as published, to repair and improve
            _stage(session, run, "solving", 15)
            with _timed(timings, "solve_s"), _progress_ticker(sessions, run_id, run.time_limit_s):
                plan = solve(
                    day.instance,
                    time_limit=timedelta(seconds=run.time_limit_s),
                    seed=settings.seed,
                    workers=settings.solver_workers,
                    initial_routes=start,
                    stop=cancelled.is_set,
                )
            figures_source = {
                "matrix": matrices.source,
                "matrix_pairs": len(matrices.durations_s) ** 2 * day.instance.profile_count,  # each way teams travel
                "matrix_reused_pairs": matrices.reused_pairs,
                "engine": plan.stats.engine,
                "status": plan.stats.status,
            }
        else:
            figures_source = {}
        failure = _failure(run, working, requests, plannable, plan)
        session.commit()
        # the lock makes a cancellation either come before the storing (and win) or after it (and be refused)
        writing(session)
        run = session.get_one(PlanningRun, run_id, with_for_update=True, populate_existing=True)
        if run.status is not RunStatus.RUNNING or run.worker != worker:
            raise RunLost
        if run.cancel_requested:
            raise RunCancelled
        _stage(session, run, "storing", 95)
        with _timed(timings, "store_s"):
            if failure is None:
                _store(session, run, branch, teams, day, plan, live)
            _store_left_out(session, run, day, plan, left_out)
            if day is not None and day.unreachable:  # in the supervisor's queue, with the run's results or not at all
                precheck.report_unreachable(
                    session, [(day.requests[key].address, why) for key, why in day.unreachable.items()]
                )
            session.flush()  # the inserts (and their audit rows) count as storing; the commit below is one row
        status = RunStatus.SUCCEEDED if failure is None else RunStatus.FAILED
        run.status, run.stage, run.progress, run.finished_at = status, "done", 100, utcnow()
        if failure is not None:
            run.failure, run.error = failure
        about = {"warm_start": start is not None, "timings": timings, "worker": worker, "kept": len(held)}
        run.figures = _figures(run, day, plan, left_out) | figures_source | about
        session.commit()
    return status


def _resumes(
    session: Session, branch: Branch, work_date: date, teams: list[Team], live: LiveDay
) -> dict[str, Resume] | None:
    """Once the date has begun, each team's day goes on from now (after the visit under way), where it is."""
    midnight, now = local_midnight(branch, work_date), utcnow()
    return live_resumes(session, live, teams, midnight, now) if now >= midnight else None


def _failure(
    run: PlanningRun,
    teams: list[Team],
    requests: list[VisitRequest],
    plannable: list[VisitRequest],
    plan: Plan | None,
) -> tuple[RunFailure, str] | None:
    """Why the run has no sheets to publish, in a code and words; None when it has."""
    day = run.work_date.isoformat()
    if not teams:
        return (
            RunFailure.NO_TEAMS,
            f"No team works for the branch on {day} (none, or all stood down): make the day's teams, then plan again.",
        )
    if not requests:
        still = " still to visit" if run.kind is RunKind.IN_DAY else ""
        return RunFailure.NOTHING_TO_PLAN, f"No visit request is due on {day}{still}: there is nothing to plan."
    if not plannable:
        return (
            RunFailure.NOTHING_TO_PLAN,
            f"None of the {len(requests)} visit requests due on {day} can be planned: each is listed with the reason.",
        )
    if plan is None or plan.stats.timed_out:
        return (
            RunFailure.NO_PLAN,
            f"No engine returned a plan within {run.time_limit_s} s (the machine may be busy): plan again, with a"
            " longer time limit if it happens again.",
        )
    if not plan.planned:
        return (
            RunFailure.NO_PLAN,
            f"None of the {len(plannable)} visit requests fits any team's day: each is listed with the reason.",
        )
    return None


def _teams(session: Session, run: PlanningRun) -> list[Team]:
    """The date's teams, stood-down ones included: they get a sheet of the stops they keep."""
    query = select(Team).where(Team.branch_id == run.branch_id, Team.work_date == run.work_date).order_by(Team.name)
    return list(session.scalars(query))


def _action(edits: dict[UUID, PlanEdit], request: VisitRequest) -> EditAction | None:
    edit = edits.get(request.id)
    return edit.action if edit is not None else None


def _pins(edits: dict[UUID, PlanEdit]) -> dict[str, Pin]:
    return {
        str(key): Pin(str(edit.team_id), edit.position, seconds_of(edit.start_time) if edit.start_time else None)
        for key, edit in edits.items()
        if edit.action is EditAction.PIN
    }


def _requests(session: Session, run: PlanningRun, pinned: list[UUID]) -> list[VisitRequest]:
    """Open requests of the branch's cases due on the work date, those a published sheet of that date holds, and
    those a supervisor pinned (still open or planned)."""
    published = (
        select(SheetStop.visit_request_id)
        .join(VisitSheet, VisitSheet.id == SheetStop.sheet_id)
        .where(VisitSheet.branch_id == run.branch_id, VisitSheet.work_date == run.work_date)
        .where(VisitSheet.version.is_not(None))
    )
    query = (
        select(VisitRequest)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(DebtCase.branch_id == run.branch_id)
        .where(
            (
                (VisitRequest.earliest_date <= run.work_date)
                & (VisitRequest.latest_date >= run.work_date)
                & (
                    (VisitRequest.status == VisitRequestStatus.OPEN)
                    | ((VisitRequest.status == VisitRequestStatus.PLANNED) & VisitRequest.id.in_(published))
                )
            )
            | (
                VisitRequest.id.in_(pinned)
                & VisitRequest.status.in_((VisitRequestStatus.OPEN, VisitRequestStatus.PLANNED))
            )
        )
        .options(selectinload(VisitRequest.address), selectinload(VisitRequest.case))
        .order_by(VisitRequest.created_at, VisitRequest.id)
    )
    return list(session.scalars(query))


def _sort_out(
    rules: BranchRules,
    work_date: date,
    teams: list[Team],
    requests: list[VisitRequest],
    gate: Mapping[UUID, Verdict] | None = None,
) -> tuple[dict[UUID, tuple[TimeWindow, ...]], list[tuple[VisitRequest, UnplannedReason, str]]]:
    """The times each request the solver gets may start in, and the others with the reason they are left out;
    `gate` holds the eligibility verdicts by request id (missing: eligible)."""
    plannable: dict[UUID, tuple[TimeWindow, ...]] = {}
    left_out = []
    located = [request for request in requests if request.address.point is not None]
    points = dict(zip((request.id for request in located), address_points(located), strict=True))
    for request in requests:
        address = request.address
        verdict = gate.get(request.id, ELIGIBLE) if gate else ELIGIBLE
        if not verdict.eligible:
            left_out.append((request, UnplannedReason.NOT_ELIGIBLE, verdict.detail))
        elif (unplannable := _unplannable(address)) is not None:
            left_out.append((request, *unplannable))
        elif isinstance(windows := visit_windows(rules, work_date, request, verdict.avoid, points[request.id]), Closed):
            left_out.append((request, reasons.CLOSED_REASONS[windows.door_rule], windows.detail))
        elif not teams:
            left_out.append((request, UnplannedReason.NO_TEAMS, "no team works on that date"))
        else:
            plannable[request.id] = windows
    return plannable, left_out


def _unplannable(address: Address) -> tuple[UnplannedReason, str] | None:
    """Why the address leaves its request off the plan, in a code and words; None when it may be planned (the
    query already keeps only pending requests due that day)."""
    reason = address.plannability().reason
    if reason is None:
        return None
    return {
        Unplannable.ADDRESS_INVALID: (UnplannedReason.ADDRESS_INVALID, f"confirmed invalid: {address.invalid_reason}"),
        Unplannable.ADDRESS_REPORTED: (
            UnplannedReason.ADDRESS_REPORTED,
            f"reported {address.invalid_reason}, awaiting the supervisor",
        ),
        Unplannable.ADDRESS_NOT_LOCATED: (UnplannedReason.ADDRESS_NOT_LOCATED, "the address has no map point yet"),
        Unplannable.ADDRESS_POINT_UNTRUSTED: (
            UnplannedReason.ADDRESS_POINT_UNTRUSTED,
            f"the geocoder matched a {address.point_precision} for a {address.grade} address: set its point",
        ),
    }[reason]


def _store(
    session: Session,
    run: PlanningRun,
    branch: Branch,
    teams: list[Team],
    day: PlannedDay | None,
    plan: Plan | None,
    live: LiveDay,
) -> None:
    """One draft sheet per team: the stops it keeps from its published sheet and its planned route."""
    routes = {route.team: route for route in plan.routes} if plan is not None else {}
    office_shape = point_shape(branch.office_point)
    office = (office_shape.y, office_shape.x)
    for team in teams:
        route, kept = routes.get(str(team.id)), live.teams.get(team.id)
        if day is not None and route is not None:
            head = visited_path(kept, live.requests, team_point(team, "start", office))
            session.add(planned_sheet(run, team, day, route, kept, head))
        else:
            session.add(_empty_sheet(run, branch, team, kept))


def _store_left_out(
    session: Session,
    run: PlanningRun,
    day: PlannedDay | None,
    plan: Plan | None,
    left_out: list[tuple[VisitRequest, UnplannedReason, str]],
) -> None:
    for request, reason, detail in left_out:
        session.add(UnplannedRequest(run_id=run.id, visit_request_id=request.id, reason=reason, detail=detail))
    if day is not None and plan is not None and not plan.stats.timed_out:  # out of time, its reasons are not why
        for row in reasons.left_out(day, plan):
            session.add(
                UnplannedRequest(
                    run_id=run.id,
                    visit_request_id=row.visit_request_id,
                    reason=row.reason,
                    detail=row.detail,
                    team_ids=[str(team_id) for team_id in row.team_ids],
                )
            )


def planned_sheet(
    run: PlanningRun,
    team: Team,
    day: PlannedDay,
    route: Route,
    kept: TeamDay | None = None,
    head: Sequence[Point] = (),
) -> VisitSheet:
    """The draft sheet a run stores for a team's route, after the stops it keeps from its published sheet (`kept`,
    whose visited part `head` draws: see `live.visited_path`)."""
    visited = kept.visited if kept is not None else ()
    path = [*head, *route_points(day, route)] if route.visits or head else []
    return VisitSheet(
        run_id=run.id,
        branch_id=run.branch_id,
        team_id=team.id,
        team_name=team.name,
        work_date=run.work_date,
        distance_m=sum(stop.travel_m for stop in visited) + route.distance_m,
        travel_s=route.travel_s,
        leaves_at=kept.sheet.leaves_at if kept is not None and visited else day.moment(route.start_s),
        returns_at=day.moment(route.end_s),
        route=route_line(day, route.team, path) if path else None,
        stops=compose(kept, sheet_stops(day, route)),
    )


def _empty_sheet(run: PlanningRun, branch: Branch, team: Team, kept: TeamDay | None) -> VisitSheet:
    """The sheet of a team with nothing (more) to visit: it is told so, beside the stops it keeps."""
    leaves = (local_midnight(branch, run.work_date) + timedelta(seconds=seconds_of(team.shift_start))).astimezone(UTC)
    return VisitSheet(
        run_id=run.id,
        branch_id=run.branch_id,
        team_id=team.id,
        team_name=team.name,
        work_date=run.work_date,
        distance_m=sum(stop.travel_m for stop in kept.visited) if kept is not None else 0,
        travel_s=0,
        leaves_at=kept.sheet.leaves_at if kept is not None else leaves,
        returns_at=kept.sheet.returns_at if kept is not None else leaves,
        route=kept.sheet.route if kept is not None and kept.visited else None,
        stops=compose(kept, []),
    )


def _figures(
    run: PlanningRun,
    day: PlannedDay | None,
    plan: Plan | None,
    left_out: list[tuple[VisitRequest, UnplannedReason, str]],
) -> dict[str, Any]:
    planned = len(plan.planned) if plan is not None else 0
    return {
        "requests": planned + len(left_out) + (len(plan.dropped) if plan is not None else 0),
        "planned": planned,
        "unplanned": len(left_out) + (len(plan.dropped) if plan is not None else 0),
        "teams": len(day.instance.teams) if day is not None else 0,
        "distance_m": plan.distance_m if plan is not None else 0,
        "travel_s": plan.travel_s if plan is not None else 0,
        "objective": plan.stats.objective if plan is not None else 0,
        "solver_wall_s": round(plan.stats.wall_s, 3) if plan is not None else 0.0,
        "time_limit_s": run.time_limit_s,
    }


def _stage(session: Session, run: PlanningRun, stage: str, progress: int) -> None:
    run.stage, run.progress = stage, progress
    session.commit()


def _finish(
    sessions: SessionFactory, run_id: UUID, worker: str, status: RunStatus, error: str, failure: RunFailure | None
) -> None:
    with sessions() as session:
        update_where(
            session,
            PlanningRun,
            [PlanningRun.id == run_id, PlanningRun.status == RunStatus.RUNNING, PlanningRun.worker == worker],
            {"status": status, "stage": "done", "finished_at": utcnow(), "error": error, "failure": failure},
        )
        session.commit()


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - began, 3)


@contextmanager
def _progress_ticker(sessions: SessionFactory, run_id: UUID, time_limit_s: int) -> Iterator[None]:
    """While the solver works, move the run's progress from 15 towards 90 % with the time spent."""
    began = time.monotonic()

    def tick() -> None:
        share = min(1.0, (time.monotonic() - began) / time_limit_s)
        with sessions() as session:
            session.execute(
                update(PlanningRun)
                .where(PlanningRun.id == run_id, PlanningRun.status == RunStatus.RUNNING)
                .values(progress=15 + int(75 * share))
            )
            session.commit()

    with renewing(tick, min(2.0, max(0.2, time_limit_s / 20)), f"the progress of planning run {run_id}"):
        yield
