import hashlib
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Request, Response, status
from sqlalchemy.orm import Session

from api.audit.chain import record_read
from api.branches import service as branches_service
from api.branches.service import BranchNotFound, BranchRequired
from api.db import SessionDep
from api.deps import Agent, Manager, require_roles
from api.findings.schemas import LateMove
from api.geo import GeoPoint
from api.models.branches import Branch
from api.models.sheets import RunStatus, SheetStatus, VisitSheet
from api.models.users import Role, User
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import Problem, RoleNotAllowed, ValidationFailed, problem_responses
from api.roads.travel import travel_provider
from api.schemas import Day
from api.sheets import lateness, left_out, moves, replan, service, urgent
from api.sheets.exports import printed_sheet
from api.sheets.printing import PrintedSheet, SheetFontMissing, render_csv, render_pdf
from api.sheets.schemas import (
    LateFixCreate,
    LateTeamRead,
    LeftOutOptionsRead,
    PlanEditPut,
    PlanningRunCreate,
    PlanningRunRead,
    PlanningRunResolve,
    ReplanRead,
    ReplanRequest,
    SheetDayRead,
    SheetSummary,
    StopMoveCreate,
    StopMoveOptionsRead,
    TeamOptionRead,
    UnfitStop,
    UrgentInsertionCreate,
    UrgentOptionsRead,
    VisitSheetRead,
    change_reads,
    sheet_read,
)
from api.teams.service import TeamNotFound
from api.visit_requests.service import VisitRequestNotFound

runs_router = APIRouter(prefix="/planning-runs", tags=["planning"])
sheets_router = APIRouter(prefix="/visit-sheets", tags=["visit_sheets"])
me_router = APIRouter(prefix="/me", tags=["me"])

SheetViewer = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN, Role.AGENT))]


class PrintingUnavailable(Problem):
    status = 503
    title = "PDFs cannot be printed on this server"
    slug = "printing-unavailable"


def _submit_after_commit(request: Request, background: BackgroundTasks, run_id: UUID) -> None:
    # background tasks run after the response, so after the session dependency committed the run
    background.add_task(request.app.state.planning_queue.submit, run_id)


@runs_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(
        RoleNotAllowed,
        BranchRequired,
        BranchNotFound,
        service.WorkDateInPast,
        service.TimeLimitTooLong,
        service.PlanningRunActive,
    ),
)
def start_planning_run(
    body: PlanningRunCreate,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    user: Manager,
) -> PlanningRunRead:
    """Plan a branch's work date (default: tomorrow): answers at once; poll the run for its progress."""
    run = service.start_run(session, user, body, request.app.state.settings.planning)
    _submit_after_commit(request, background, run.id)
    response.headers["Location"] = f"/planning-runs/{run.id}"
    return PlanningRunRead.from_row(run)


@runs_router.get("", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def list_planning_runs(
    session: SessionDep,
    user: Manager,
    work_date: Annotated[Day | None, Query(description="Only runs planning this day.")] = None,
    status: Annotated[RunStatus | None, Query(description="Only runs in this state.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[PlanningRunRead]:
    """Planning runs of your branch (admins: every branch's), oldest first, each as `GET /planning-runs/{id}` shows
    it."""
    rows, next_cursor = service.list_runs(session, user, work_date=work_date, status=status, cursor=cursor, limit=limit)
    return Page[PlanningRunRead](items=[PlanningRunRead.from_row(run) for run in rows], next_cursor=next_cursor)


@runs_router.get("/{run_id}", responses=problem_responses(RoleNotAllowed, service.PlanningRunNotFound))
def get_planning_run(run_id: UUID, session: SessionDep, user: Manager) -> PlanningRunRead:
    """A planning run: status, progress, solver figures, errors, its sheets (on a draft: how each changes its team's
    published day) and what it left unplanned."""
    run = service.get_run(session, user, run_id)
    return PlanningRunRead.from_row(run, service.run_changes(session, run))


@runs_router.post(
    "/{run_id}/cancel",
    responses=problem_responses(RoleNotAllowed, service.PlanningRunNotFound, service.PlanningRunNotActive),
)
def cancel_planning_run(run_id: UUID, session: SessionDep, user: Manager) -> PlanningRunRead:
    """Cancel a queued or running run; a running one stops when its solver returns and stores nothing."""
    return PlanningRunRead.from_row(service.cancel_run(session, user, run_id))


@runs_router.post(
    "/{run_id}/publish",
    responses=problem_responses(
        RoleNotAllowed,
        service.PlanningRunNotFound,
        service.PlanningRunNotPublishable,
        service.PlanEditsPending,
        service.PlanOutdated,
    ),
)
def publish_planning_run(run_id: UUID, session: SessionDep, user: Manager) -> PlanningRunRead:
    """Publish every sheet of a succeeded run at once, each as the next version of its team's day; stops with a
    visit or cancelled keep their state and visit, and a plan that would drop one is refused."""
    return PlanningRunRead.from_row(service.publish_run(session, user, run_id))


def _read(session: Session, sheet: VisitSheet) -> VisitSheetRead:
    """The sheet as shown, its debtors' cases read (and so audited)."""
    shown = sheet_read(sheet, *service.sheet_context(session, sheet))
    record_read(session, "debt_case", *(stop.case.id for stop in shown.stops), what=f"visit sheet {sheet.id}")
    return shown


def _printed(session: Session, user: User, sheet_id: UUID) -> PrintedSheet:
    sheet = service.get_sheet(session, user, sheet_id)
    branch = session.get_one(Branch, sheet.branch_id)
    office = GeoPoint.from_wkb(branch.office_point)
    assert office is not None
    return printed_sheet(_read(session, sheet), branch, (office.lat, office.lon))


# typed here: a literal written inside `responses=` takes too narrow a type to join the problems' responses
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The printable sheet, A4."}
}
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The sheet's rows, UTF-8 with a BOM."}
}


# declared before /{sheet_id}, which would otherwise take "<id>.pdf" for an id
@sheets_router.get(
    "/{sheet_id}.pdf",
    response_class=Response,
    responses=_PDF | problem_responses(RoleNotAllowed, service.VisitSheetNotFound, PrintingUnavailable),
)
def get_visit_sheet_pdf(sheet_id: UUID, session: SessionDep, user: SheetViewer) -> Response:
    """The sheet as a printable page in the branch's language: order, times, addresses, purposes and what the
    collector asked for, flags, the route picture, signatures."""
    try:
        pdf = render_pdf(_printed(session, user, sheet_id))
    except SheetFontMissing as error:
        raise PrintingUnavailable(str(error)) from error
    disposition = f'inline; filename="visit-sheet-{sheet_id}.pdf"'
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


@sheets_router.get(
    "/{sheet_id}.csv",
    response_class=Response,
    responses=_CSV | problem_responses(RoleNotAllowed, service.VisitSheetNotFound),
)
def get_visit_sheet_csv(sheet_id: UUID, session: SessionDep, user: SheetViewer) -> Response:
    """The sheet's rows as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Chinese right)."""
    rows = render_csv(_printed(session, user, sheet_id)).encode("utf-8-sig")
    disposition = f'attachment; filename="visit-sheet-{sheet_id}.csv"'
    return Response(rows, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


@sheets_router.post(
    "/{sheet_id}/replan",
    responses=problem_responses(
        RoleNotAllowed, service.VisitSheetNotFound, service.SheetNotCurrent, replan.ReplanTimeInvalid
    ),
)
def replan_visit_sheet(
    sheet_id: UUID, body: ReplanRequest, request: Request, session: SessionDep, user: SheetViewer
) -> ReplanRead:
    """Re-order the remaining stops of a started sheet from the team's position and time; done and current stops
    stay; stops that no longer fit are listed and their requests opened again."""
    sheet = service.get_sheet(session, user, sheet_id)
    travel = travel_provider(request.app.state.settings.planning)
    unfit = replan.replan_sheet(session, sheet, body.position, body.time, travel)
    return ReplanRead(
        sheet=_read(session, sheet),
        unfit=[
            UnfitStop(
                visit_request_id=row.visit_request_id,
                reason=row.reason,
                detail=row.detail,
                team_ids=list(row.team_ids),
            )
            for row in unfit
        ],
    )


@sheets_router.get("", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def list_visit_sheets(
    session: SessionDep,
    user: SheetViewer,
    work_date: Annotated[Day | None, Query(description="Only sheets of this day.")] = None,
    team_id: Annotated[UUID | None, Query(description="Only this team's sheets.")] = None,
    status: Annotated[SheetStatus | None, Query(description="Only sheets in this state.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[SheetSummary]:
    """Visit sheets in brief, oldest first (managers: the branch's, drafts and replaced versions included; agents:
    the published sheets of their own teams)."""
    rows, next_cursor = service.list_sheets(
        session, user, work_date=work_date, team_id=team_id, status=status, cursor=cursor, limit=limit
    )
    return Page[SheetSummary](items=[SheetSummary.from_row(sheet) for sheet in rows], next_cursor=next_cursor)


@sheets_router.get(
    "/days/{work_date}/urgent-options",
    responses=problem_responses(
        RoleNotAllowed, VisitRequestNotFound, urgent.UrgentRequestNotPlannable, ValidationFailed
    ),
)
def get_urgent_options(
    work_date: Day,
    request: Request,
    session: SessionDep,
    user: Manager,
    visit_request_id: Annotated[UUID, Query(description="The urgent visit request.")],
) -> UrgentOptionsRead:
    """Which teams can take a visit request on a day under way, from where each is now: cheapest first, with the
    new arrival and what it adds; then the teams that cannot, and why."""
    travel = travel_provider(request.app.state.settings.planning)
    visit_request, options = urgent.team_options(session, user, work_date, visit_request_id, travel)
    return UrgentOptionsRead(
        visit_request_id=visit_request.id, work_date=work_date, options=[_option_read(each) for each in options]
    )


def _option_read(option: urgent.TeamOption) -> TeamOptionRead:
    return TeamOptionRead(
        team_id=option.team.id,
        team_name=option.team.name,
        sheet_id=option.sheet_id,
        possible=option.refusal is None,
        position=option.position,
        arrives_at=option.arrives_at,
        starts_at=option.starts_at,
        added_m=option.added_m,
        added_s=option.added_s,
        refusal=option.refusal,
        detail=option.detail,
    )


@runs_router.get(
    "/{run_id}/unplanned/{visit_request_id}/options",
    responses=problem_responses(
        RoleNotAllowed, service.PlanningRunNotFound, left_out.LeftOutRequestNotFound, left_out.LeftOutForNoTeam
    ),
)
def get_left_out_options(
    run_id: UUID, visit_request_id: UUID, request: Request, session: SessionDep, user: Manager
) -> LeftOutOptionsRead:
    """Who could take a request the run left out, and why not: each team where the request would add least to the
    team's draft day (from where it is now, on a day under way), cheapest first with its arrival and what it adds;
    then the teams that cannot, and why. A request left out for its address, the law or the eligibility gate
    concerns no team: 409 with that reason."""
    travel = travel_provider(request.app.state.settings.planning)
    options = left_out.team_options(session, user, run_id, visit_request_id, travel)
    return LeftOutOptionsRead(
        run_id=run_id, visit_request_id=visit_request_id, options=[_option_read(each) for each in options]
    )


@sheets_router.get(
    "/days/{work_date}/stop-moves",
    responses=problem_responses(RoleNotAllowed, VisitRequestNotFound, moves.StopNotMovable, ValidationFailed),
)
def get_stop_move_options(
    work_date: Day,
    request: Request,
    session: SessionDep,
    user: Manager,
    visit_request_id: Annotated[UUID, Query(description="The request of the stop to move.")],
) -> StopMoveOptionsRead:
    """Where a not-started stop of a day under way could go: each team at work, its own included, from where the team
    is now, cheapest first with its new arrival and what the stop adds; then the teams that cannot take it, and why."""
    travel = travel_provider(request.app.state.settings.planning)
    holder, options = moves.move_options(session, user, work_date, visit_request_id, travel)
    return StopMoveOptionsRead(
        visit_request_id=visit_request_id,
        work_date=work_date,
        from_team_id=holder.id,
        options=[_option_read(each) for each in options],
    )


@sheets_router.post(
    "/days/{work_date}/stop-moves",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed,
        VisitRequestNotFound,
        moves.StopNotMovable,
        moves.StopMoveRefused,
        service.PlanOutdated,
        ValidationFailed,
    ),
)
def move_stop(
    work_date: Day, body: StopMoveCreate, request: Request, session: SessionDep, user: Manager
) -> PlanningRunRead:
    """Move a not-started stop to a team, or to another place in its own team's day, checked at once against its
    window, the legal hours at its address and the team's skills, shift, breaks and visit limit (refused, never
    bent to fit): the teams it changes get new versions of their sheets, published at once with `sheet_changed`
    findings; the run that published them is returned."""
    travel = travel_provider(request.app.state.settings.planning)
    run, _ = moves.move(session, user, work_date, body.visit_request_id, body.team_id, body.position, travel)
    session.refresh(run)
    return PlanningRunRead.from_row(run)


@sheets_router.post(
    "/days/{work_date}/urgent-insertions",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed,
        VisitRequestNotFound,
        urgent.UrgentRequestNotPlannable,
        urgent.InsertionRefused,
        service.PlanOutdated,
        ValidationFailed,
    ),
)
def insert_urgent_visit(
    work_date: Day, body: UrgentInsertionCreate, request: Request, session: SessionDep, user: Manager
) -> VisitSheetRead:
    """Insert an urgent visit into the chosen team's day where it adds least: a new version of that team's sheet,
    published at once with a `sheet_changed` finding; no other team's sheet changes."""
    travel = travel_provider(request.app.state.settings.planning)
    _, sheet = urgent.insert(session, user, work_date, body.visit_request_id, body.team_id, travel)
    return _read(session, sheet)


@sheets_router.get(
    "/days/{work_date}/late-teams",
    responses=problem_responses(RoleNotAllowed, BranchRequired, BranchNotFound, ValidationFailed),
)
def list_late_teams(
    work_date: Day,
    request: Request,
    session: SessionDep,
    user: Manager,
    branch_id: Annotated[UUID | None, Query(description="The branch (required for admins).")] = None,
) -> list[LateTeamRead]:
    """The teams that can no longer reach all their planned stops from where they are now, each with the stops it
    will miss and the teams proposed to take them (the `team_running_late` finding says the same)."""
    branch = (
        branches_service.get_branch(session, user, branch_id)
        if branch_id is not None
        else branches_service.branch_for_new_row(session, user, None)
    )
    travel = travel_provider(request.app.state.settings.planning)
    return [
        LateTeamRead(
            team_id=late.team.id,
            team_name=late.team.name,
            sheet_id=late.sheet.id,
            version=late.sheet.version,
            after=late.after,
            missed=len(late.moves),
            proposal=[
                LateMove(
                    visit_request_id=move.visit_request_id,
                    to_team_id=move.to_team.id if move.to_team else None,
                    to_team_name=move.to_team.name if move.to_team else None,
                )
                for move in late.moves
            ],
            summary=late.summary(),
        )
        for late in lateness.late_teams(session, branch, work_date, travel)
    ]


@sheets_router.post(
    "/days/{work_date}/late-fixes",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed, TeamNotFound, lateness.TeamNotLate, service.PlanOutdated, ValidationFailed
    ),
)
def apply_late_fix(
    work_date: Day, body: LateFixCreate, request: Request, session: SessionDep, user: Manager
) -> PlanningRunRead:
    """Apply a late team's proposed fix in one action: its missed stops go to the teams proposed (those no team can
    take go back to their requests' queue), each changed team's sheet a new version, published at once."""
    travel = travel_provider(request.app.state.settings.planning)
    run, _ = lateness.apply_fix(session, user, work_date, body.team_id, travel)
    session.refresh(run)
    return PlanningRunRead.from_row(run)


@sheets_router.get(
    "/days/{work_date}",
    response_model=SheetDayRead,
    responses=problem_responses(
        RoleNotAllowed, BranchRequired, BranchNotFound, service.PlanningRunNotFound, ValidationFailed
    )
    | {304: {"description": "The day is unchanged since the ETag given in If-None-Match."}},
)
def get_sheet_day(
    work_date: Day,
    session: SessionDep,
    user: SheetViewer,
    run_id: Annotated[UUID | None, Query(description="A planning run of this day: its draft sheets.")] = None,
    branch_id: Annotated[UUID | None, Query(description="The branch (required for admins).")] = None,
    if_none_match: Annotated[str | None, Header(description="The ETag of the copy the console holds.")] = None,
) -> Response:
    """A day's sheets of the branch, whole, with routes and stops: each team's current published sheet, or a run's
    drafts (managers); agents get their own team's. With an ETag: a poll that changes nothing is a 304, and only
    a day sent is audited as a read of its cases."""
    branch, sheets = service.day_sheets(session, user, work_date, run_id=run_id, branch_id=branch_id)
    teams, agents, requests, asked, blocked = service.sheets_context(session, sheets)
    day = SheetDayRead(
        work_date=work_date,
        branch_id=branch.id,
        branch_name=branch.name,
        timezone=branch.timezone,
        office=GeoPoint.from_wkb(branch.office_point),
        run_id=run_id,
        sheets=[sheet_read(sheet, teams[sheet.team_id], agents, requests, asked, blocked) for sheet in sheets],
    )
    body = day.model_dump_json().encode()
    if not _matches(_etag(body), if_none_match):
        cases = [stop.case.id for sheet in day.sheets for stop in sheet.stops]
        record_read(session, "debt_case", *cases, what=f"visit sheets of {work_date.isoformat()}")
    return _etagged(body, if_none_match)


@sheets_router.get("/{sheet_id}", responses=problem_responses(RoleNotAllowed, service.VisitSheetNotFound))
def get_visit_sheet(sheet_id: UUID, session: SessionDep, user: SheetViewer) -> VisitSheetRead:
    """A visit sheet (agents: published sheets of their own team)."""
    return _read(session, service.get_sheet(session, user, sheet_id))


@me_router.get(
    "/sheet",
    response_model=VisitSheetRead,
    responses=problem_responses(RoleNotAllowed, service.VisitSheetNotFound, service.VersionNotFound)
    | {304: {"description": "The sheet is unchanged since the ETag given in If-None-Match."}},
)
def get_my_sheet(
    session: SessionDep,
    user: Agent,
    work_date: Annotated[Day, Query(description="The day of the sheet (the branch's local date).")],
    since_version: Annotated[
        int | None, Query(ge=1, description="The version the app holds: the answer says what changed since.")
    ] = None,
    if_none_match: Annotated[str | None, Header(description="The ETag of the copy the app holds.")] = None,
) -> Response:
    """Your team's latest published sheet for a day, whole, so that the app works offline; with an ETag, and what
    changed since the version the app holds."""
    row = service.my_sheet(session, user, work_date)
    sheet = _read(session, row)
    if since_version is not None:
        sheet.changes = change_reads(service.sheet_changes(session, row, since_version))
    return _etagged(sheet.model_dump_json().encode(), if_none_match)


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _matches(etag: str, if_none_match: str | None) -> bool:
    return if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(","))


def _etagged(body: bytes, if_none_match: str | None) -> Response:
    """The JSON body with its ETag, or 304 when the client holds it already."""
    etag = _etag(body)
    if _matches(etag, if_none_match):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    return Response(content=body, media_type="application/json", headers=headers)


_EDIT_PROBLEMS = (RoleNotAllowed, service.PlanningRunNotFound, service.PlanningRunNotEditable)


@runs_router.put(
    "/{run_id}/edits/{visit_request_id}",
    responses=problem_responses(
        *_EDIT_PROBLEMS,
        service.RequestNotPlannable,
        service.StopAlreadyVisited,
        service.TeamNotWorking,
        service.PinTimeOutsideHours,
        service.PinPositionTaken,
    ),
)
def put_plan_edit(
    run_id: UUID, visit_request_id: UUID, body: PlanEditPut, session: SessionDep, user: Manager
) -> PlanningRunRead:
    """Pin a request to a team (at a position or start time) or remove it from the draft; re-solve to apply."""
    service.put_edit(session, user, run_id, visit_request_id, body)
    return _run_read(session, user, run_id)


@runs_router.delete(
    "/{run_id}/edits/{visit_request_id}", responses=problem_responses(*_EDIT_PROBLEMS, service.PlanEditNotFound)
)
def delete_plan_edit(run_id: UUID, visit_request_id: UUID, session: SessionDep, user: Manager) -> PlanningRunRead:
    """Withdraw a pending edit of the draft plan."""
    service.delete_edit(session, user, run_id, visit_request_id)
    return _run_read(session, user, run_id)


@runs_router.post(
    "/{run_id}/resolve",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(*_EDIT_PROBLEMS, service.TimeLimitTooLong, service.PlanningRunActive),
)
def resolve_planning_run(
    run_id: UUID,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    user: Manager,
    body: PlanningRunResolve | None = None,
) -> PlanningRunRead:
    """Plan the date again around the run's pins and removals: a new run, answered at once."""
    settings = request.app.state.settings.planning
    run = service.resolve_run(session, user, run_id, body or PlanningRunResolve(), settings)
    _submit_after_commit(request, background, run.id)
    response.headers["Location"] = f"/planning-runs/{run.id}"
    return PlanningRunRead.from_row(run)


def _run_read(session: Session, user: User, run_id: UUID) -> PlanningRunRead:
    session.expire_all()
    return PlanningRunRead.from_row(service.get_run(session, user, run_id))
