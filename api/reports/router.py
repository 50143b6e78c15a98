"""`GET /cases/{case_id}/dossier` and its printable document."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.cases import service
from api.db import SessionDep
from api.deps import Manager
from api.problems import RoleNotAllowed, problem_responses
from api.reports import dossier
from api.reports.schemas import DossierRead
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
