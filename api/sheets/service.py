from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from api.audit.chain import update_where
from api.branches import service as branches_service
from api.config import PlanningSettings
from api.db import utcnow
from api.findings import service as findings_service
from api.models.branches import Branch
from api.models.cases import Address, DebtCase
from api.models.findings import FindingKind
from api.models.sheets import (
    ACTIVE_RUN_STATUSES,
    OPEN_STOP_STATES,
    EditAction,
    PlanEdit,
    PlanningRun,
    RunFailure,
    RunKind,
    RunStatus,
    SheetStatus,
    SheetStop,
    StopState,
    VisitSheet,
)
from api.models.teams import Team
from api.models.third_parties import ThirdPartyInquiry
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.models.visits import Visit
from api.pagination import filter_equal, paginate
from api.problems import Conflict, NotFound, RoleNotAllowed, ValidationFailed, problem_members
from api.rules.eligibility import Block
from api.rules.pins import pin_start_allowed
from api.rules.plannability import Unplannable
from api.scope import in_scope
from api.sheets import eligibility, leases, live
from api.sheets.changes import ChangeKind, Holder, StopChange, changes, same_day
from api.sheets.instance import visit_windows
from api.sheets.schemas import PlanEditPut, PlanningRunCreate, PlanningRunResolve
from api.teams import service as teams_service
from api.teams.service import teams_of
from api.third_parties import service as third_parties_service

# a run no worker has finished this long after its time limit is taken to be lost (its worker died)
ABANDONED_AFTER = timedelta(minutes=10)


class PlanningRunNotFound(NotFound):
    title = "Planning run not found"
    slug = "planning-run-not-found"
    members = problem_members(run_id=(UUID, "The run asked for."))


class PlanningRunActive(Conflict):
    title = "The branch's date is being planned already"
    slug = "planning-run-active"
    members = problem_members(run_id=(UUID, "The queued or running run of the branch and date."))


class PlanningRunNotActive(Conflict):
    title = "The planning run has ended"
    slug = "planning-run-not-active"
    members = problem_members(run_status=(RunStatus, "Where the run is."))


class PlanningRunNotPublishable(Conflict):
    title = "Only a succeeded, unpublished run can be published"
    slug = "planning-run-not-publishable"
    members = problem_members(run_status=(RunStatus, "Where the run is."))


class WorkDateInPast(ValidationFailed):
    title = "Work date is in the past"
    slug = "planning-date-in-past"
    members = problem_members(
        work_date=(date, "The date asked for."),
        today=(date, "Today in the branch's time zone."),
    )


class TimeLimitTooLong(ValidationFailed):
    title = "The time limit is longer than the server allows"
    slug = "time-limit-too-long"
    members = problem_members(max_time_limit_s=(int, "The longest solver time the server allows, in seconds."))


def _time_limit(asked: int | None, settings: PlanningSettings) -> int:
    if asked is None:
        return settings.time_limit_s
    if asked > settings.time_limit_s:
        raise TimeLimitTooLong(
            f"Give at most {settings.time_limit_s} s.",
            max_time_limit_s=settings.time_limit_s,
            errors=[{"pointer": "#/time_limit_s", "detail": f"at most {settings.time_limit_s}"}],
        )
    return asked


def visible_runs(user: User) -> Select[PlanningRun]:
    return select(PlanningRun).where(in_scope(user, PlanningRun.branch_id))


def get_run(session: Session, user: User, run_id: UUID) -> PlanningRun:
    run = _visible_run(session, user, run_id)
    give_up_lapsed(session, [run])
    return run


def _visible_run(session: Session, user: User, run_id: UUID) -> PlanningRun:
    run = session.scalar(visible_runs(user).where(PlanningRun.id == run_id))
    if run is None:
        raise PlanningRunNotFound(f"No planning run {run_id}.", run_id=run_id)
    return run


def give_up_lapsed(session: Session, runs: Iterable[PlanningRun]) -> None:
    """Fail each running run whose process stopped (`leases.lapsed`): whoever looks sees it ended, and its branch
    and date are free to plan again."""
    now = utcnow()
    for run in runs:
        if not leases.lapsed(run, now):
            continue
        update_where(
            session,
            PlanningRun,
            [PlanningRun.id == run.id, PlanningRun.status == RunStatus.RUNNING, PlanningRun.worker == run.worker],
            {
                "status": RunStatus.FAILED,
                "stage": "done",
                "finished_at": now,
                "failure": RunFailure.ABANDONED,
                "error": f"abandoned: the process planning it ({run.worker or 'unknown'}) stopped",
            },
        )
        session.refresh(run)


def list_runs(
    session: Session, user: User, *, work_date: date | None, status: RunStatus | None, cursor: str | None, limit: int
) -> tuple[list[PlanningRun], str | None]:
    query = filter_equal(visible_runs(user), (PlanningRun.work_date, work_date), (PlanningRun.status, status))
    loaded = query.options(
        selectinload(PlanningRun.sheets), selectinload(PlanningRun.unplanned), selectinload(PlanningRun.edits)
    )
    runs, after = paginate(session, loaded, PlanningRun, cursor, limit)
    give_up_lapsed(session, runs)
    return runs, after


def start_run(session: Session, user: User, data: PlanningRunCreate, settings: PlanningSettings) -> PlanningRun:
    """Queue a run for the branch and date; refused while another is queued or running for them. An in-day run
    starts from the published day and stops once settled, so unless a time limit is asked for it gets the shorter
    `resolve_time_limit_s`, as a re-solve does."""
    branch = branches_service.branch_for_new_row(session, user, data.branch_id)
    today = branches_service.local_today(branch)
    work_date = data.work_date or today + timedelta(days=1)
    if work_date < today:
        raise WorkDateInPast(
            f"{work_date.isoformat()} is before the branch's today, {today.isoformat()}.",
            work_date=work_date,
            today=today,
            errors=[{"pointer": "#/work_date", "detail": "today or later"}],
        )
    kind = run_kind(branch, work_date)
    asked = data.time_limit_s
    if asked is None and kind is RunKind.IN_DAY and settings.warm_resolve:
        asked = min(settings.resolve_time_limit_s, settings.time_limit_s)
    time_limit_s = _time_limit(asked, settings)
    _give_up_abandoned(session, branch.id, work_date)
    _ensure_no_active_run(session, branch.id, work_date)
    run = PlanningRun(
        branch_id=branch.id,
        work_date=work_date,
        kind=kind,
        time_limit_s=time_limit_s,
        move_cost_m=settings.move_cost_m if data.move_cost_m is None else data.move_cost_m,
        requested_by_id=user.id,
    )
    session.add(run)
    session.flush()  # the partial unique index refuses a concurrent twin (409)
    return run


def run_kind(branch: Branch, work_date: date) -> RunKind:
    """A run made once the date has begun in the branch plans the rest of it (`in_day`)."""
    return RunKind.IN_DAY if work_date <= branches_service.local_today(branch) else RunKind.EVENING


def _ensure_no_active_run(session: Session, branch_id: UUID, work_date: date) -> None:
    active = session.scalar(
        select(PlanningRun.id).where(
            PlanningRun.branch_id == branch_id,
            PlanningRun.work_date == work_date,
            PlanningRun.status.in_(ACTIVE_RUN_STATUSES),
        )
    )
    if active is not None:
        raise PlanningRunActive(
            f"Run {active} is planning {work_date.isoformat()} for this branch; wait for it or cancel it.",
            run_id=active,
        )


def cancel_run(session: Session, user: User, run_id: UUID) -> PlanningRun:
    """A queued run ends at once; a running one within a few seconds (its process stops the engines and stores
    nothing), or at once when its process is gone."""
    run = _visible_run(session, user, run_id)
    if leases.lapsed(run, utcnow()):  # nobody plans it any more: it ends now
        update_where(
            session,
            PlanningRun,
            [PlanningRun.id == run.id, PlanningRun.status == RunStatus.RUNNING, PlanningRun.worker == run.worker],
            {"status": RunStatus.CANCELLED, "stage": "done", "finished_at": utcnow(), "cancel_requested": True},
        )
        session.refresh(run)
        return run
    # conditional updates: a worker claiming or finishing the run at the same moment cannot be overwritten
    ended = update_where(
        session,
        PlanningRun,
        [PlanningRun.id == run.id, PlanningRun.status == RunStatus.QUEUED],
        {"status": RunStatus.CANCELLED, "stage": "done", "finished_at": utcnow(), "cancel_requested": True},
    )
    if ended != 1:
        flagged = update_where(
            session,
            PlanningRun,
            [PlanningRun.id == run.id, PlanningRun.status == RunStatus.RUNNING],
            {"cancel_requested": True},
        )
        if flagged != 1:
            session.refresh(run)
            raise PlanningRunNotActive(
                f"Run {run_id} has {run.status.value}; there is nothing to cancel.", run_status=run.status
            )
    session.refresh(run)
    return run


class PlanOutdated(Conflict):
    title = "The day has moved on since this plan was made"
    slug = "plan-outdated"
    members = problem_members(
        done=(int, "Stops of the day done or failed so far."),
        in_progress=(int, "Stops being visited now (checking in or under way)."),
        cancelled=(int, "Stops of the day cancelled."),
        in_day_replan=(dict[str, Any], "How to re-plan the rest of the day instead: `method`, `href` and `body`."),
    )


def publish_run(session: Session, user: User, run_id: UUID) -> PlanningRun:
    """Publish the run's sheets as the next version of each team's day whose sheet changes, in this one transaction.
    Every stop that has a visit or is cancelled keeps its state and visit in the new version (the visit follows its
    stop); a plan that would drop one, or that a later publication superseded, is refused. Requests on the sheets
    become planned; those only an earlier version held go back to open."""
    run = get_run(session, user, run_id)
    if pending_edits(run):
        raise PlanEditsPending(
            f"Run {run_id} has {len(pending_edits(run))} edits its sheets do not show yet: re-solve it and publish"
            " the new run.",
            pending=len(pending_edits(run)),
        )
    # the conditional update serialises two publishers of the same run: the second one finds it published
    claimed = update_where(
        session,
        PlanningRun,
        [PlanningRun.id == run.id, PlanningRun.status == RunStatus.SUCCEEDED, PlanningRun.published_at.is_(None)],
        {"published_at": utcnow()},
    )
    if claimed != 1:
        raise PlanningRunNotPublishable(
            f"Run {run_id} has {run.status.value}" + (" and is published" if run.published_at else "") + ".",
            run_status=run.status,
        )
    session.refresh(run)
    day = live.live_day(session, run.branch_id, run.work_date, lock=True)  # the door waits until this is done
    _ensure_up_to_date(run, day)
    earlier = day.requests_held()
    held = {team_id: team_day.sheet for team_id, team_day in day.teams.items()}  # each team's current sheet after
    found = run_changes(session, run, day)
    now = utcnow()
    for sheet in run.sheets:
        team_day = day.teams.get(sheet.team_id)
        if team_day is not None and same_day(team_day.sheet.stops, sheet.stops, found[sheet.id] or []):
            continue  # the team's day stays as its phones have it: no new version
        held[sheet.team_id] = sheet
        latest = session.scalar(select(func.max(VisitSheet.version)).where(VisitSheet.team_id == sheet.team_id))
        sheet_row = session.get_one(VisitSheet, sheet.id)
        if team_day is not None:
            _carry(session, team_day, sheet_row)
        sheet_row.version, sheet_row.status, sheet_row.published_at = (latest or 0) + 1, SheetStatus.PUBLISHED, now
        if team_day is not None:
            _tell_team(session, sheet_row, team_day.sheet, found[sheet.id] or [])
    session.flush()
    _mark_requests(session, earlier, {stop.visit_request_id for kept in held.values() for stop in kept.stops}, now)
    session.flush()
    session.refresh(run)
    return run


def run_changes(
    session: Session, run: PlanningRun, day: live.LiveDay | None = None
) -> dict[UUID, list[StopChange] | None]:
    """How each sheet of the run changes its team's published day (by sheet id); None for a sheet of a team with
    nothing published for the date, or one the run published itself."""
    day = day or live.live_day(session, run.branch_id, run.work_date)
    before = _holders(team_day.sheet for team_day in day.teams.values())
    after = _holders(run.sheets)
    found: dict[UUID, list[StopChange] | None] = {}
    for sheet in run.sheets:
        team_day = day.teams.get(sheet.team_id)
        if team_day is None or team_day.sheet.id == sheet.id or sheet.status is SheetStatus.PUBLISHED:
            found[sheet.id] = None
            continue
        others_before = {key: team for key, team in before.items() if team.team_id != sheet.team_id}
        others_after = {key: team for key, team in after.items() if team.team_id != sheet.team_id}
        found[sheet.id] = changes(team_day.sheet.stops, sheet.stops, others_before, others_after)
    return found


def sheet_changes(session: Session, sheet: VisitSheet, since_version: int) -> list[StopChange]:
    """How the team's published `sheet` differs from its version `since_version` of the same day (the one a phone
    holds); refused when the team has no such version."""
    earlier = session.scalar(
        select(VisitSheet).where(
            VisitSheet.team_id == sheet.team_id,
            VisitSheet.status == SheetStatus.PUBLISHED,
            VisitSheet.version == since_version,
        )
    )
    if earlier is None or sheet.version is None or since_version > sheet.version:
        raise VersionNotFound(
            f"Team {sheet.team_name} has no version {since_version} of its sheet of {sheet.work_date.isoformat()}"
            f" (the current one is {sheet.version}).",
            current_version=sheet.version,
            errors=[{"pointer": "#/since_version", "detail": f"1 to {sheet.version}"}],
        )
    published = select(VisitSheet).where(
        VisitSheet.branch_id == sheet.branch_id,
        VisitSheet.work_date == sheet.work_date,
        VisitSheet.status == SheetStatus.PUBLISHED,
        VisitSheet.team_id != sheet.team_id,
    )
    others = list(session.scalars(published))
    then = [other for other in others if _published_at(other) <= _published_at(earlier)]
    now = [other for other in others if _published_at(other) <= (sheet.published_at or utcnow())]
    return changes(earlier.stops, sheet.stops, _holders(_latest_of(then)), _holders(_latest_of(now)))


def _published_at(sheet: VisitSheet) -> datetime:
    assert sheet.published_at is not None  # set with the status PUBLISHED, and these sheets are published
    return sheet.published_at


class VersionNotFound(ValidationFailed):
    title = "The team has no such version of its sheet"
    slug = "sheet-version-not-found"
    members = problem_members(current_version=(int | None, "The team's current version."))


def _latest_of(sheets: Iterable[VisitSheet]) -> list[VisitSheet]:
    """Each team's highest version among `sheets`."""
    latest: dict[UUID, VisitSheet] = {}
    for sheet in sheets:
        if sheet.team_id not in latest or (sheet.version or 0) > (latest[sheet.team_id].version or 0):
            latest[sheet.team_id] = sheet
    return list(latest.values())


def _holders(sheets: Iterable[VisitSheet]) -> dict[UUID, Holder]:
    return {stop.visit_request_id: Holder(sheet.team_id, sheet.team_name) for sheet in sheets for stop in sheet.stops}


def _tell_team(session: Session, sheet: VisitSheet, previous: VisitSheet, found: list[StopChange]) -> None:
    """A `sheet_changed` finding for the team's phones and the supervisor."""
    count = Counter(change.kind for change in found)
    moved_in, moved_out = count[ChangeKind.MOVED_IN], count[ChangeKind.MOVED_OUT]
    added, removed = count[ChangeKind.ADDED] + moved_in, count[ChangeKind.REMOVED] + moved_out
    findings_service.publish_for_team(
        session,
        session.get_one(Team, sheet.team_id),
        FindingKind.SHEET_CHANGED,
        sheet_id=sheet.id,
        version=sheet.version,
        previous_version=previous.version,
        added=added,
        removed=removed,
        moved_in=moved_in,
        moved_out=moved_out,
        retimed=count[ChangeKind.RETIMED],
        summary=change_summary(found),
    )


def change_summary(found: Sequence[StopChange]) -> str:
    """What changed, in words: "2 stops added (1 from Team 3), 1 moved to Team 2, 3 re-timed"."""
    parts = []
    for kind, words in (
        (ChangeKind.ADDED, "added"),
        (ChangeKind.MOVED_IN, "moved in"),
        (ChangeKind.REMOVED, "removed"),
        (ChangeKind.MOVED_OUT, "moved out"),
        (ChangeKind.CANCELLED, "cancelled"),
        (ChangeKind.RETIMED, "re-timed by more than 15 minutes"),
    ):
        of_kind = [change for change in found if change.kind is kind]
        if of_kind:
            teams = sorted({change.other_team.team_name for change in of_kind if change.other_team is not None})
            where = f" ({'from' if kind is ChangeKind.MOVED_IN else 'to'} {', '.join(teams)})" if teams else ""
            parts.append(f"{len(of_kind)} stop{'s' if len(of_kind) != 1 else ''} {words}{where}")
    return "; ".join(parts) or "times adjusted"


def _ensure_up_to_date(run: PlanningRun, day: live.LiveDay) -> None:
    """Refuse a plan whose sheets would drop a stop that has a visit or is cancelled, or that a publication made
    after it superseded, saying in words what the day holds and offering the in-day re-plan."""
    drafts = {sheet.team_id: {stop.visit_request_id: stop for stop in sheet.stops} for sheet in run.sheets}
    dropped = [
        stop
        for team_id, team_day in day.teams.items()
        for stop in team_day.kept
        if team_id in drafts and stop.visit_request_id not in drafts[team_id]
    ]
    # an evening plan that shows as planned a stop visited since: it was made for a day that has not begun
    unaware = [
        stop
        for team_id, team_day in day.teams.items()
        for stop in team_day.visited
        if (copy := drafts.get(team_id, {}).get(stop.visit_request_id)) is not None and copy.state is StopState.PLANNED
    ]
    before = run.kind is RunKind.EVENING and bool(unaware)
    later = [_published_at(team.sheet) for team in day.teams.values() if _published_at(team.sheet) > run.created_at]
    if not dropped and not later and not before:
        return
    counts = day.counts()
    held = _in_words(counts)
    if later:
        why = f"Sheets of {run.work_date.isoformat()} were published after this plan was made ({max(later):%H:%M} UTC)"
    elif before:
        why = "This plan was made before the day got under way"
    else:
        why = f"This plan would drop {len(dropped)} stops that have a visit or are cancelled"
    raise PlanOutdated(
        f"{why}; the day has {held}. Re-plan the rest of the day instead (POST /planning-runs for the date: an"
        " in-day re-plan keeps every visit and cancelled stop), and publish that.",
        **counts,
        in_day_replan={
            "method": "POST",
            "href": "/planning-runs",
            "body": {"branch_id": str(run.branch_id), "work_date": run.work_date.isoformat()},
        },
    )


def _in_words(counts: dict[str, int]) -> str:
    done, under_way, cancelled = counts["done"], counts["in_progress"], counts["cancelled"]
    return (
        f"{done} visit{'s' if done != 1 else ''} done, {under_way} in progress and {cancelled} stop"
        f"{'s' if cancelled != 1 else ''} cancelled"
    )


def _carry(session: Session, team_day: live.TeamDay, sheet: VisitSheet) -> None:
    """The kept stops of the team's published sheet as they stand now, on its new version; their visits follow."""
    by_request = {stop.visit_request_id: stop for stop in sheet.stops}
    for kept in team_day.kept:
        stop = by_request[kept.visit_request_id]
        stop.state, stop.visit_id, stop.awaiting_confirmation = kept.state, kept.visit_id, kept.awaiting_confirmation
        stop.cancel_reason, stop.cancelled_at = kept.cancel_reason, kept.cancelled_at
    visits = [kept.visit_id for kept in team_day.kept if kept.visit_id is not None]
    if visits:
        update_where(session, Visit, [Visit.id.in_(visits)], {"sheet_id": sheet.id})


def _mark_requests(session: Session, earlier: set[UUID], held: set[UUID], now: datetime) -> None:
    """Requests the teams' current sheets hold become planned; those only the versions before held are open again."""
    if held:
        update_where(
            session,
            VisitRequest,
            [VisitRequest.id.in_(held), VisitRequest.status == VisitRequestStatus.OPEN],
            {"status": VisitRequestStatus.PLANNED, "updated_at": now},
        )
    if earlier - held:
        update_where(
            session,
            VisitRequest,
            [VisitRequest.id.in_(earlier - held), VisitRequest.status == VisitRequestStatus.PLANNED],
            {"status": VisitRequestStatus.OPEN, "updated_at": now},
        )


def _give_up_abandoned(session: Session, branch_id: UUID, work_date: date) -> None:
    """Fail the branch's active run for the date if its process stopped (`give_up_lapsed`), or if no worker took
    it from the queue long after its time limit."""
    active = list(
        session.scalars(
            select(PlanningRun).where(
                PlanningRun.branch_id == branch_id,
                PlanningRun.work_date == work_date,
                PlanningRun.status.in_(ACTIVE_RUN_STATUSES),
            )
        )
    )
    give_up_lapsed(session, active)
    for run in (run for run in active if run.status is RunStatus.QUEUED):
        since = run.created_at
        if utcnow() - since > timedelta(seconds=run.time_limit_s) + ABANDONED_AFTER:
            run.status, run.stage, run.finished_at = RunStatus.FAILED, "done", utcnow()
            run.error, run.failure = "abandoned: no worker finished the run", RunFailure.ABANDONED
    session.flush()


class VisitSheetNotFound(NotFound):
    title = "Visit sheet not found"
    slug = "visit-sheet-not-found"
    members = problem_members(
        sheet_id=(UUID, "The sheet asked for."),
        work_date=(date, "The day asked for (`GET /me/sheet`)."),
    )


def visible_sheets(user: User) -> Select[VisitSheet]:
    """Managers see every sheet of their branch; an agent only the published sheets of their own teams."""
    query = select(VisitSheet).where(in_scope(user, VisitSheet.branch_id))
    if user.role is Role.AGENT:
        mine = teams_of(user.id)
        query = query.where(VisitSheet.status == SheetStatus.PUBLISHED, VisitSheet.team_id.in_(mine))
    return query


def get_sheet(session: Session, user: User, sheet_id: UUID) -> VisitSheet:
    sheet = session.scalar(visible_sheets(user).where(VisitSheet.id == sheet_id))
    if sheet is None:
        raise VisitSheetNotFound(f"No visit sheet {sheet_id}.", sheet_id=sheet_id)
    return sheet


def list_sheets(
    session: Session,
    user: User,
    *,
    work_date: date | None,
    team_id: UUID | None,
    status: SheetStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[VisitSheet], str | None]:
    query = filter_equal(
        visible_sheets(user),
        (VisitSheet.work_date, work_date),
        (VisitSheet.team_id, team_id),
        (VisitSheet.status, status),
    )
    return paginate(session, query, VisitSheet, cursor, limit)


def my_sheet(session: Session, user: User, work_date: date) -> VisitSheet:
    """The latest published version of the sheet of the agent's team on `work_date`."""
    sheet = session.scalar(
        visible_sheets(user)
        .where(VisitSheet.work_date == work_date, VisitSheet.status == SheetStatus.PUBLISHED)
        .where(VisitSheet.team_id.in_(teams_of(user.id)))
        .order_by(VisitSheet.version.desc())
        .limit(1)
    )
    if sheet is None:
        raise VisitSheetNotFound(f"No published sheet of your team on {work_date.isoformat()}.", work_date=work_date)
    return sheet


AskedByCase = dict[UUID, list[ThirdPartyInquiry]]  # the third parties asked about each case
StopBlocks = dict[tuple[UUID, UUID], Block]  # what keeps a stop from its door, by (sheet id, request id)


def sheet_context(
    session: Session, sheet: VisitSheet
) -> tuple[Team, dict[UUID, User], dict[UUID, VisitRequest], AskedByCase, StopBlocks]:
    """The sheet's team, its agents, the visit requests of its stops (with case and address), the third parties
    asked about their cases and what keeps a stop from its door now, for showing it."""
    teams, agents, requests, asked, blocked = sheets_context(session, [sheet])
    return teams[sheet.team_id], agents, requests, asked, blocked


def sheets_context(
    session: Session, sheets: Collection[VisitSheet]
) -> tuple[dict[UUID, Team], dict[UUID, User], dict[UUID, VisitRequest], AskedByCase, StopBlocks]:
    """The teams, agents, visit requests, third parties asked and door blocks of several sheets, in a few queries
    whatever their number."""
    team_ids = {sheet.team_id for sheet in sheets}
    teams = {
        team.id: team
        for team in session.scalars(select(Team).where(Team.id.in_(team_ids)).options(selectinload(Team.members)))
    }
    agents = teams_service.agents_by_id(session, list(teams.values()))
    ids = [stop.visit_request_id for sheet in sheets for stop in sheet.stops]
    requests = session.scalars(
        select(VisitRequest)
        .where(VisitRequest.id.in_(ids))
        .options(selectinload(VisitRequest.case), selectinload(VisitRequest.address))
    )
    by_id = {request.id: request for request in requests}
    asked = third_parties_service.asked_by_case(session, {request.case_id for request in by_id.values()})
    return teams, agents, by_id, asked, eligibility.stop_blocks(session, list(sheets), by_id)


def day_sheets(
    session: Session, user: User, work_date: date, *, run_id: UUID | None, branch_id: UUID | None
) -> tuple[Branch, list[VisitSheet]]:
    """A branch's sheets of one day: the draft sheets of run `run_id` (managers), or else each team's current
    published sheet (agents: their own team's), in team order."""
    if run_id is not None:
        if user.role is Role.AGENT:
            raise RoleNotAllowed("Agents see published sheets only.", role=user.role)
        run = get_run(session, user, run_id)
        if run.work_date != work_date:
            raise PlanningRunNotFound(f"Run {run_id} plans {run.work_date.isoformat()}.", run_id=run_id)
        return session.get_one(Branch, run.branch_id), list(run.sheets)
    branch = (
        branches_service.get_branch(session, user, branch_id)
        if branch_id is not None
        else branches_service.branch_for_new_row(session, user, None)
    )
    newer = aliased(VisitSheet)
    later_version = (
        select(newer.id)
        .where(newer.team_id == VisitSheet.team_id, newer.status == SheetStatus.PUBLISHED)
        .where(newer.version > VisitSheet.version)
        .exists()
    )
    sheets = session.scalars(
        visible_sheets(user)
        .where(VisitSheet.branch_id == branch.id, VisitSheet.work_date == work_date)
        .where(VisitSheet.status == SheetStatus.PUBLISHED, ~later_version)
        .order_by(VisitSheet.team_name, VisitSheet.id)
    )
    return branch, list(sheets)


class PlanningRunNotEditable(Conflict):
    title = "Only the draft plan of a succeeded, unpublished run can be edited or re-solved"
    slug = "planning-run-not-editable"
    members = problem_members(run_status=(RunStatus, "Where the run is."))


class PlanEditsPending(Conflict):
    title = "The plan has edits that are not solved yet"
    slug = "plan-edits-pending"
    members = problem_members(pending=(int, "How many edits wait for a re-solve."))


class RequestNotPlannable(ValidationFailed):
    title = "This visit request cannot be planned on the run's date"
    slug = "request-not-plannable"
    members = problem_members(visit_request_id=(UUID, "The request."))


class TeamNotWorking(ValidationFailed):
    title = "The team does not work on the run's date"
    slug = "team-not-working"


class PinTimeOutsideHours(ValidationFailed):
    title = "A visit cannot start at that time"
    slug = "pin-time-outside-hours"


class PinPositionTaken(Conflict):
    title = "Another request is pinned to that position"
    slug = "pin-position-taken"
    members = problem_members(visit_request_id=(UUID, "The request pinned to that position already."))


class PlanEditNotFound(NotFound):
    title = "No edit of this request in the run"
    slug = "plan-edit-not-found"
    members = problem_members(visit_request_id=(UUID, "The request without a pending edit."))


def pending_edits(run: PlanningRun) -> list[PlanEdit]:
    return [edit for edit in run.edits if run.is_pending(edit)]


def put_edit(session: Session, user: User, run_id: UUID, request_id: UUID, data: PlanEditPut) -> PlanEdit:
    """Record a pin or a removal of a request for the next re-solve of the run (replacing its earlier edit)."""
    run = _editable_run(session, user, run_id)
    _ensure_not_kept(session, run, request_id)
    request = _plannable_request(session, run, request_id, adding=data.action is EditAction.PIN)
    if data.action is EditAction.PIN:
        _check_pin(session, run, request, data)
    existing = session.get(PlanEdit, (run.id, request.id))
    if existing is not None:
        session.delete(existing)
        session.flush()
    edit = PlanEdit(
        run_id=run.id,
        visit_request_id=request.id,
        action=data.action,
        team_id=data.team_id,
        position=data.position,
        start_time=data.start_time,
        edited_by_id=user.id,
    )
    session.add(edit)
    session.flush()
    return edit


def delete_edit(session: Session, user: User, run_id: UUID, request_id: UUID) -> None:
    run = _editable_run(session, user, run_id)
    edit = session.get(PlanEdit, (run.id, request_id))
    if edit is None or edit not in pending_edits(run):
        raise PlanEditNotFound(
            f"Run {run_id} has no pending edit of request {request_id}.", visit_request_id=request_id
        )
    session.delete(edit)
    session.flush()


def resolve_run(
    session: Session, user: User, run_id: UUID, data: PlanningRunResolve, settings: PlanningSettings
) -> PlanningRun:
    """A new run of the same branch and date that plans around the run's pins and removals (all its edits). It
    starts from the run's plan (`api.sheets.warm`), so unless a time limit is asked for it gets the shorter
    `resolve_time_limit_s`."""
    base = _editable_run(session, user, run_id)
    asked = data.time_limit_s
    if asked is None and settings.warm_resolve:
        asked = min(settings.resolve_time_limit_s, settings.time_limit_s)
    time_limit_s = _time_limit(asked, settings)
    _give_up_abandoned(session, base.branch_id, base.work_date)
    _ensure_no_active_run(session, base.branch_id, base.work_date)
    run = PlanningRun(
        branch_id=base.branch_id,
        work_date=base.work_date,
        kind=run_kind(session.get_one(Branch, base.branch_id), base.work_date),
        time_limit_s=time_limit_s,
        move_cost_m=base.move_cost_m,
        requested_by_id=user.id,
        based_on_id=base.id,
    )
    session.add(run)
    session.flush()
    for edit in base.edits:
        session.add(
            PlanEdit(
                run_id=run.id,
                visit_request_id=edit.visit_request_id,
                action=edit.action,
                team_id=edit.team_id,
                position=edit.position,
                start_time=edit.start_time,
                edited_by_id=edit.edited_by_id,
                created_at=edit.created_at,  # applied by this run: not pending on it
            )
        )
    session.flush()
    return run


def _editable_run(session: Session, user: User, run_id: UUID) -> PlanningRun:
    run = get_run(session, user, run_id)
    if run.status is not RunStatus.SUCCEEDED or run.published_at is not None:
        state = "published" if run.published_at is not None else run.status.value
        raise PlanningRunNotEditable(f"Run {run_id} is {state}; plan again to change the day.", run_status=run.status)
    return run


def _plannable_request(session: Session, run: PlanningRun, request_id: UUID, *, adding: bool) -> VisitRequest:
    request = session.scalar(
        select(VisitRequest)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(VisitRequest.id == request_id, DebtCase.branch_id == run.branch_id)
    )
    if request is None:
        raise RequestNotPlannable(f"No visit request {request_id} in the run's branch.", visit_request_id=request_id)
    if adding:
        problem = why_not_plannable(session, run.work_date, request)
        if problem:
            raise RequestNotPlannable(f"Request {request_id} {problem}.", visit_request_id=request_id)
    return request


def why_not_plannable(session: Session, work_date: date, request: VisitRequest) -> str | None:
    """Why the request cannot be planned on `work_date`, in words after "Request …"; None when it can."""
    address = session.get_one(Address, request.address_id)
    reason = address.plannability(
        pending=request.status in (VisitRequestStatus.OPEN, VisitRequestStatus.PLANNED),
        due=(request.earliest_date, request.latest_date),
        work_date=work_date,
    ).reason
    if reason is None:
        return None
    return {
        Unplannable.NOT_PENDING: f"is {request.status.value}",
        Unplannable.NOT_DUE: f"is due {request.earliest_date.isoformat()} to {request.latest_date.isoformat()}",
        Unplannable.ADDRESS_INVALID: f"has an address {address.validity.value.replace('_', ' ')}",
        Unplannable.ADDRESS_REPORTED: f"has an address {address.validity.value.replace('_', ' ')}",
        Unplannable.ADDRESS_NOT_LOCATED: "has an address without a map point",
        Unplannable.ADDRESS_POINT_UNTRUSTED: (
            f"has a geocoded point ({address.point_precision}) coarser than its {address.grade} address"
        ),
    }[reason]


class StopAlreadyVisited(Conflict):
    title = "The stop has a visit or is cancelled: no plan moves it"
    slug = "stop-already-visited"
    members = problem_members(
        visit_request_id=(UUID, "The request."),
        state=(StopState, "Where its stop stands on the team's current sheet."),
        team_name=(str, "The team whose sheet holds it."),
    )


def _ensure_not_kept(session: Session, run: PlanningRun, request_id: UUID) -> None:
    for team_day in live.live_day(session, run.branch_id, run.work_date).teams.values():
        for stop in team_day.kept:
            if stop.visit_request_id == request_id:
                raise StopAlreadyVisited(
                    f"This stop is {stop.state.value.replace('_', ' ')} on {team_day.sheet.team_name}'s sheet: it"
                    " stays where it is.",
                    visit_request_id=request_id,
                    state=stop.state,
                    team_name=team_day.sheet.team_name,
                )


def _check_pin(session: Session, run: PlanningRun, request: VisitRequest, data: PlanEditPut) -> None:
    team = session.scalar(
        select(Team).where(Team.id == data.team_id, Team.branch_id == run.branch_id, Team.work_date == run.work_date)
    )
    if team is None:
        raise TeamNotWorking(
            f"Team {data.team_id} does not work for this branch on {run.work_date.isoformat()}.",
            errors=[{"pointer": "#/team_id", "detail": "not a team of the run's date"}],
        )
    if data.start_time is not None:
        rules = branches_service.rules_of(session.get_one(Branch, run.branch_id))
        avoid = eligibility.verdicts(session, rules, run.work_date, [request])[request.id].avoid
        windows = visit_windows(rules, run.work_date, request, avoid) if request.address.point is not None else ()
        if not pin_start_allowed(data.start_time, windows, team.shift_start, team.shift_end):
            raise PinTimeOutsideHours(
                f"{data.start_time:%H:%M} is outside the request's window, the visiting hours or the team's shift.",
                errors=[{"pointer": "#/start_time", "detail": "outside the window, visiting hours or shift"}],
            )
    if data.position is not None:
        taken = session.scalar(
            select(PlanEdit.visit_request_id).where(
                PlanEdit.run_id == run.id,
                PlanEdit.team_id == team.id,
                PlanEdit.position == data.position,
                PlanEdit.visit_request_id != request.id,
            )
        )
        if taken is not None:
            raise PinPositionTaken(
                f"Request {taken} is pinned to position {data.position} of {team.name}.", visit_request_id=taken
            )


class SheetNotCurrent(Conflict):
    title = "Only the current published version of a sheet is worked on"
    slug = "sheet-not-current"
    members = problem_members(current_sheet_id=(UUID, "The team's current published sheet, to work on instead."))


def ensure_current(session: Session, sheet: VisitSheet) -> None:
    lock_sheet(session, sheet.id)
    latest = _latest_version(session, sheet.team_id)
    if sheet.status is not SheetStatus.PUBLISHED or latest is None or latest.id != sheet.id:
        raise SheetNotCurrent(
            f"Sheet {sheet.id} is not the team's current published sheet.",
            current_sheet_id=latest.id if latest is not None else None,
        )


class StopMoved(Conflict):
    title = "The stop is no longer on your team's current sheet"
    slug = "stop-moved"
    members = problem_members(
        visit_request_id=(UUID, "The stop's visit request."),
        current_sheet_id=(UUID, "The team's current published sheet, to work on instead."),
        team_name=(str | None, "The team whose current sheet holds the stop now; null when no team's does."),
    )


def door_sheet(session: Session, sheet: VisitSheet, request_id: UUID) -> VisitSheet:
    """The sheet the door works on for a stop of `sheet`: the team's current published version (a phone still
    showing an earlier one is followed to it while it holds the stop). Its row stays locked until the transaction
    ends, so a publication waits for the door or the door for it. Refused when the current version no longer holds
    the stop, naming the team that has it now."""
    lock_sheet(session, sheet.id)
    current = _latest_version(session, sheet.team_id)
    if current is None or sheet.status is not SheetStatus.PUBLISHED:
        raise SheetNotCurrent(f"Sheet {sheet.id} is not published.", current_sheet_id=None)
    if current.id == sheet.id:
        return sheet
    lock_sheet(session, current.id)
    session.refresh(current, ["stops"])
    if any(stop.visit_request_id == request_id for stop in current.stops):
        return current
    holder = session.scalar(
        select(VisitSheet)
        .join(SheetStop, SheetStop.sheet_id == VisitSheet.id)
        .where(SheetStop.visit_request_id == request_id, VisitSheet.id.in_(current_sheets()))
        .where(VisitSheet.status == SheetStatus.PUBLISHED, VisitSheet.work_date == sheet.work_date)
        .limit(1)
    )
    where = f"it is on {holder.team_name}'s sheet now" if holder is not None else "it was taken off the day"
    raise StopMoved(
        f"Version {current.version} of your team's sheet no longer has this stop: {where}. Open the current sheet.",
        visit_request_id=request_id,
        current_sheet_id=current.id,
        team_name=holder.team_name if holder is not None else None,
    )


def lock_sheet(session: Session, sheet_id: UUID) -> None:
    """Hold the sheet's row until the transaction ends (PostgreSQL; SQLite's writers take the whole database)."""
    session.execute(select(VisitSheet.id).where(VisitSheet.id == sheet_id).with_for_update())


def _latest_version(session: Session, team_id: UUID) -> VisitSheet | None:
    return session.scalar(
        select(VisitSheet)
        .where(VisitSheet.team_id == team_id, VisitSheet.status == SheetStatus.PUBLISHED)
        .order_by(VisitSheet.version.desc())
        .limit(1)
    )


class StopNotOnSheet(NotFound):
    title = "The request is not a stop of this sheet"
    slug = "stop-not-on-sheet"
    members = problem_members(visit_request_id=(UUID, "The request, which is not a stop of the sheet."))


class StopCancelled(Conflict):
    title = "The stop is cancelled: nothing more is done there"
    slug = "stop-cancelled"
    members = problem_members(
        visit_request_id=(UUID, "The stop's visit request."),
        cancel_reason=(str, "Why the stop was cancelled, in words for the agents."),
        cancelled_at=(datetime, "When."),
    )


def stop_of(session: Session, sheet_id: UUID, request_id: UUID) -> SheetStop:
    stop = session.scalar(
        select(SheetStop).where(SheetStop.sheet_id == sheet_id, SheetStop.visit_request_id == request_id)
    )
    if stop is None:
        raise StopNotOnSheet(f"Request {request_id} is not on sheet {sheet_id}.", visit_request_id=request_id)
    return stop


def ensure_not_cancelled(stop: SheetStop) -> None:
    if stop.state is StopState.CANCELLED:
        raise StopCancelled(
            f"This stop was cancelled: {stop.cancel_reason}",
            visit_request_id=stop.visit_request_id,
            cancel_reason=stop.cancel_reason,
            cancelled_at=stop.cancelled_at,
        )


def current_sheets() -> Select[UUID]:
    """Sheets the day may still change: drafts of runs and each team's latest published version."""
    newer = aliased(VisitSheet)
    latest = (
        select(func.max(newer.version)).where(newer.team_id == VisitSheet.team_id).correlate(VisitSheet)
    ).scalar_subquery()
    return select(VisitSheet.id).where(
        (VisitSheet.status == SheetStatus.DRAFT)
        | ((VisitSheet.status == SheetStatus.PUBLISHED) & (VisitSheet.version == latest))
    )


def cancel_stops(session: Session, request_ids: Collection[UUID], reason: str) -> None:
    """Take the requests' stops off every current sheet where nothing has started yet: they stay on it, cancelled
    with the reason, so that the phones can tell (the sheet's ETag changes)."""
    if request_ids:
        update_where(
            session,
            SheetStop,
            [
                SheetStop.visit_request_id.in_(list(request_ids)),
                SheetStop.state.in_(OPEN_STOP_STATES),
                SheetStop.sheet_id.in_(current_sheets()),
            ],
            {"state": StopState.CANCELLED, "cancel_reason": reason, "cancelled_at": utcnow()},
        )
        session.expire_all()
