"""`GET /cases/{case_id}/dossier` and its printable document; `GET /reports/results` and its CSV and XLSX exports."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.cases import service
from api.db import SessionDep
from api.deps import CaseWorker, Manager
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses
from api.reports import dossier, exports, results
from api.reports.schemas import DossierRead, ResultRow, ResultsOverview, ResultVisit
from api.schemas import Day
from api.sheets.printing import SheetFontMissing
from api.sheets.router import PrintingUnavailable

router = APIRouter(tags=["cases"])


@router.get("/cases/{case_id}/dossier", responses=problem_responses(RoleNotAllowed, service.CaseNotFound))
def get_case_dossier(case_id: UUID, session: SessionDep, user: Manager) -> DossierRead:
    """The whole record of the case's field collection in time order, each record citing its audit-chain rows,
    and the chain verified (the read itself is audited)."""
    return dossier.case_dossier(session, user, case_id)


# typed here: a literal written inside `responses=` takes too narrow a type to join the problems' responses
_DOSSIER_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The printable dossier, A4."}
}


@router.get(
    "/cases/{case_id}/dossier.pdf",
    response_class=Response,
    responses=_DOSSIER_PDF | problem_responses(RoleNotAllowed, service.CaseNotFound, PrintingUnavailable),
)
def get_case_dossier_pdf(case_id: UUID, session: SessionDep, user: Manager) -> Response:
    """The case's dossier as a printable document, times in the branch's time zone."""
    try:
        pdf = dossier.render_pdf(dossier.case_dossier(session, user, case_id))
    except SheetFontMissing as error:
        raise PrintingUnavailable(str(error)) from error
    disposition = f'inline; filename="case-dossier-{case_id}.pdf"'
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


_EXPORTS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {exports.CSV: {}, exports.XLSX: {}},
        "description": "The report as a table: one line per period and key, a column per figure.",
    }
}


@router.get("/reports/results", tags=["reports"], responses=problem_responses(RoleNotAllowed, ValidationFailed))
def get_results(
    session: SessionDep,
    user: CaseWorker,
    since: Annotated[Day, Query(description="The first work date.")],
    until: Annotated[Day, Query(description="The last work date (at most a year after since).")],
    period: Annotated[results.Period, Query(description="One row per day, week (from Monday) or month.")] = (
        results.Period.DAY
    ),
    by: Annotated[results.GroupBy, Query(description="One row per team, agent, phone collector or bucket.")] = (
        results.GroupBy.TEAM
    ),
    payment_days: Annotated[int, Query(ge=0, le=90, description="Payments this many days after a visit count.")] = 7,
    branch_id: Annotated[UUID | None, Query(description="The branch (admins).")] = None,
) -> list[ResultRow]:
    """The branch's results (supervisors: their branch; phone collectors: their own cases; admins: the branch they
    name): each figure for each period and key; `ResultFigures` defines them."""
    return results.field_results(
        session, user, branch_id=branch_id, since=since, until=until, period=period, by=by, payment_days=payment_days
    )


@router.get("/reports/overview", tags=["reports"], responses=problem_responses(RoleNotAllowed, ValidationFailed))
def get_results_overview(
    session: SessionDep,
    user: CaseWorker,
    day: Annotated[Day | None, Query(description="The day (default: today in the branch's time zone).")] = None,
    payment_days: Annotated[int, Query(ge=0, le=90, description="Payments this many days after a visit count.")] = 7,
    branch_id: Annotated[UUID | None, Query(description="The branch (admins).")] = None,
) -> ResultsOverview:
    """The results screen's first view in one answer: the branch on the day and over its month, the month's days,
    and the month per team and per agent with their days; scoped like `GET /reports/results`."""
    return results.overview(session, user, branch_id=branch_id, day=day, payment_days=payment_days)


@router.get("/reports/results/visits", tags=["reports"], responses=problem_responses(RoleNotAllowed, ValidationFailed))
def get_visits_behind_results(
    session: SessionDep,
    user: CaseWorker,
    since: Annotated[Day, Query(description="The first work date.")],
    until: Annotated[Day, Query(description="The last work date (at most a year after since).")],
    key: Annotated[str, Query(max_length=100, description="The row's key, as the report gives it.")],
    figure: Annotated[results.VisitFigure, Query(description="The figure whose visits to list.")],
    by: Annotated[results.GroupBy, Query(description="What the key is: a team, agent, collector, bucket, branch.")] = (
        results.GroupBy.TEAM
    ),
    payment_days: Annotated[int, Query(ge=0, le=90, description="Payments this many days after a visit count.")] = 7,
    branch_id: Annotated[UUID | None, Query(description="The branch (admins).")] = None,
) -> list[ResultVisit]:
    """The visits a figure of `GET /reports/results` counts for one key over the span: as many as the figure says,
    in the order they were done."""
    return results.visits_behind(
        session,
        user,
        branch_id=branch_id,
        since=since,
        until=until,
        by=by,
        key=key,
        figure=figure,
        payment_days=payment_days,
    )


@router.get(
    "/reports/results.{suffix}",
    tags=["reports"],
    response_class=Response,
    responses=_EXPORTS | problem_responses(RoleNotAllowed, ValidationFailed),
)
def export_results(
    suffix: exports.Suffix,
    session: SessionDep,
    user: CaseWorker,
    since: Annotated[Day, Query(description="The first work date.")],
    until: Annotated[Day, Query(description="The last work date (at most a year after since).")],
    period: Annotated[results.Period, Query(description="One row per day, week (from Monday) or month.")] = (
        results.Period.DAY
    ),
    by: Annotated[results.GroupBy, Query(description="One row per team, agent, phone collector or bucket.")] = (
        results.GroupBy.TEAM
    ),
    payment_days: Annotated[int, Query(ge=0, le=90, description="Payments this many days after a visit count.")] = 7,
    branch_id: Annotated[UUID | None, Query(description="The branch (admins).")] = None,
) -> Response:
    """The results report as a CSV file (UTF-8) or an Excel workbook, for a spreadsheet."""
    rows = results.field_results(
        session, user, branch_id=branch_id, since=since, until=until, period=period, by=by, payment_days=payment_days
    )
    body, media_type = exports.table(rows, suffix)
    name = f"results-{by.value}-{since}-{until}.{suffix.value}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})
