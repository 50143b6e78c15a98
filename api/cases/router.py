from dataclasses import dataclass
from email.message import Message
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response, status

from api.addresses.jobs import ask_for_pass
from api.audit.chain import record_read
from api.branches.service import BranchNotFound, BranchRequired
from api.cases import case_file, dossier, importer, restrictions, service
from api.cases.schemas import (
    AddressCreate,
    AddressRead,
    AddressUpdate,
    CaseCreate,
    CaseRead,
    CaseUpdate,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    DossierRead,
    ImportSummary,
    RestrictionCreate,
    RestrictionLift,
    RestrictionRead,
)
from api.db import SessionDep
from api.deps import CaseWorker, Manager
from api.models.cases import AddressValidity, OverdueBucket
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import PayloadTooLarge, RoleNotAllowed, UnsupportedMediaType, ValidationFailed, problem_responses
from api.sheets.printing import SheetFontMissing
from api.sheets.router import PrintingUnavailable

router = APIRouter(tags=["cases"])


@dataclass(frozen=True, slots=True)
class _Upload:
    raw: bytes
    media_type: str
    charset: str | None


async def _case_file_upload(request: Request) -> _Upload:
    """The body of a CSV or .xlsx upload, read in chunks and refused once it passes the size limit (it is read as a
    file later, in the endpoint's thread: unpacking a workbook takes a while)."""
    content_type = Message()
    content_type["content-type"] = request.headers.get("content-type", "")
    media_type = content_type.get_content_type() if request.headers.get("content-type") else ""
    if media_type not in (case_file.CSV_MEDIA_TYPE, case_file.XLSX_MEDIA_TYPE):
        sent = media_type or "without a content type"
        raise UnsupportedMediaType(f"Send the file as text/csv or as {case_file.XLSX_MEDIA_TYPE}, not {sent}.")
    limit = case_file.MAX_FILE_BYTES
    too_large = PayloadTooLarge(f"The file is larger than {limit} bytes; split it.", max_bytes=limit)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return _Upload(bytes(body), media_type, content_type.get_content_charset())


CaseFileUpload = Annotated[_Upload, Depends(_case_file_upload)]
_CASE_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            case_file.CSV_MEDIA_TYPE: {
                "schema": {
                    "type": "string",
                    "description": "UTF-8 (with or without BOM) or GB18030 (GBK) text; a `charset` parameter (utf-8, "
                    "gb18030, gbk, gb2312) says which, else it is found.",
                }
            },
            case_file.XLSX_MEDIA_TYPE: {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "An Excel workbook: its first worksheet, with the CSV's columns.",
                }
            },
        },
    }
}


@router.post(
    "/cases",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed, BranchNotFound, BranchRequired, service.CaseReferenceTaken, service.PhoneCollectorNotEligible
    ),
)
def create_case(body: CaseCreate, session: SessionDep, user: Manager) -> CaseRead:
    """Open a debt case (supervisors: in their branch; admins: in the branch they name)."""
    return CaseRead.from_row(service.create_case(session, user, body))


@router.get("/cases", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def list_cases(
    session: SessionDep,
    user: CaseWorker,
    branch_id: Annotated[UUID | None, Query(description="Only this branch (admins).")] = None,
    overdue_bucket: Annotated[OverdueBucket | None, Query(description="Only cases this far overdue.")] = None,
    phone_collector_id: Annotated[UUID | None, Query(description="Only cases of this phone collector.")] = None,
    complaint_history: Annotated[
        bool | None, Query(description="Only cases with (true) or without (false) complaints.")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[CaseRead]:
    """Cases you may see: your branch's (admins: every branch; phone collectors: those assigned to you)."""
    rows, next_cursor = service.list_cases(
        session,
        user,
        branch_id=branch_id,
        overdue_bucket=overdue_bucket,
        phone_collector_id=phone_collector_id,
        complaint_history=complaint_history,
        cursor=cursor,
        limit=limit,
    )
    return Page[CaseRead](items=[CaseRead.from_row(c) for c in rows], next_cursor=next_cursor)


@router.post(
    "/cases/import",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_CASE_FILE_BODY,
    responses=problem_responses(
        RoleNotAllowed,
        BranchNotFound,
        BranchRequired,
        PayloadTooLarge,
        UnsupportedMediaType,
        case_file.CsvEncodingNotAccepted,
        case_file.XlsxNotReadable,
        case_file.CsvRejected,
    ),
)
def import_cases(
    user: Manager,
    upload: CaseFileUpload,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
    branch_id: Annotated[
        UUID | None, Query(description="Target branch (admins; others import into their own).")
    ] = None,
) -> ImportSummary:
    """Import cases, contacts, addresses and visit requests from a CSV file (UTF-8 or GB18030/GBK) or an .xlsx
    workbook (its first worksheet), at most 5 MiB: all rows or none. Addresses without a point are geocoded in the
    background once the import is saved (if a geocoder is set)."""
    file = case_file.read_case_file(upload.raw, upload.media_type, upload.charset)
    summary = importer.import_cases(session, user, branch_id, file)
    if request.app.state.geocoding is not None and summary.addresses_without_point:
        ask_for_pass(session, summary.branch_id)  # commits with the import
        background.add_task(request.app.state.geocoding.nudge)  # after the answer, so after the commit
    return summary


@router.get("/cases/{case_id}", responses=problem_responses(RoleNotAllowed, service.CaseNotFound))
def get_case(case_id: UUID, session: SessionDep, user: CaseWorker) -> CaseRead:
    """One case."""
    case = service.get_case(session, user, case_id)
    record_read(session, "debt_case", case.id)
    return CaseRead.from_row(case)


@router.patch(
    "/cases/{case_id}",
    responses=problem_responses(
        RoleNotAllowed, service.CaseNotFound, service.CaseReferenceTaken, service.PhoneCollectorNotEligible
    ),
)
def update_case(case_id: UUID, body: CaseUpdate, session: SessionDep, user: CaseWorker) -> CaseRead:
    """Change a case (managers), or the notes of one of your cases (phone collectors)."""
    return CaseRead.from_row(service.update_case(session, user, case_id, body))


@router.post(
    "/cases/{case_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, service.ContactPhoneTaken),
)
def create_contact(case_id: UUID, body: ContactCreate, session: SessionDep, user: CaseWorker) -> ContactRead:
    """Add a phone number to a case."""
    return ContactRead.model_validate(service.create_contact(session, user, case_id, body))


@router.get(
    "/cases/{case_id}/contacts", responses=problem_responses(RoleNotAllowed, service.CaseNotFound, ValidationFailed)
)
def list_contacts(
    case_id: UUID, session: SessionDep, user: CaseWorker, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[ContactRead]:
    """The phone numbers of a case."""
    rows, next_cursor = service.list_contacts(session, user, case_id, cursor, limit)
    return Page[ContactRead](items=[ContactRead.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/contacts/{contact_id}", responses=problem_responses(RoleNotAllowed, service.ContactNotFound))
def get_contact(contact_id: UUID, session: SessionDep, user: CaseWorker) -> ContactRead:
    """One phone number of a case."""
    return ContactRead.model_validate(service.get_contact(session, user, contact_id))


@router.patch(
    "/contacts/{contact_id}",
    responses=problem_responses(RoleNotAllowed, service.ContactNotFound, service.ContactPhoneTaken),
)
def update_contact(contact_id: UUID, body: ContactUpdate, session: SessionDep, user: CaseWorker) -> ContactRead:
    """Change a phone number or what is known about it."""
    return ContactRead.model_validate(service.update_contact(session, user, contact_id, body))


@router.post(
    "/cases/{case_id}/addresses",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, service.InvalidReasonMismatch),
)
def create_address(case_id: UUID, body: AddressCreate, session: SessionDep, user: CaseWorker) -> AddressRead:
    """Add an address to a case."""
    return AddressRead.from_row(service.create_address(session, user, case_id, body))


@router.get(
    "/cases/{case_id}/addresses", responses=problem_responses(RoleNotAllowed, service.CaseNotFound, ValidationFailed)
)
def list_addresses(
    case_id: UUID,
    session: SessionDep,
    user: CaseWorker,
    validity: Annotated[AddressValidity | None, Query(description="Only addresses with this validity.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[AddressRead]:
    """The addresses of a case."""
    rows, next_cursor = service.list_addresses(session, user, case_id, validity, cursor, limit)
    return Page[AddressRead](items=[AddressRead.from_row(a) for a in rows], next_cursor=next_cursor)


@router.get("/addresses/{address_id}", responses=problem_responses(RoleNotAllowed, service.AddressNotFound))
def get_address(address_id: UUID, session: SessionDep, user: CaseWorker) -> AddressRead:
    """One address of a case."""
    return AddressRead.from_row(service.get_address(session, user, address_id))


@router.patch(
    "/addresses/{address_id}",
    responses=problem_responses(RoleNotAllowed, service.AddressNotFound, service.InvalidReasonMismatch),
)
def update_address(address_id: UUID, body: AddressUpdate, session: SessionDep, user: CaseWorker) -> AddressRead:
    """Correct an address, place it on the map, or report it invalid (confirming or revoking invalidity: managers)."""
    return AddressRead.from_row(service.update_address(session, user, address_id, body))


@router.post(
    "/cases/{case_id}/restrictions",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, restrictions.RestrictionInvalid),
)
def set_restriction(case_id: UUID, body: RestrictionCreate, session: SessionDep, user: CaseWorker) -> RestrictionRead:
    """Restrict visits of a case: planning leaves its requests out where the branch's rule pack says so."""
    return RestrictionRead.model_validate(restrictions.set_restriction(session, user, case_id, body))


@router.get(
    "/cases/{case_id}/restrictions",
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, ValidationFailed),
)
def list_restrictions(
    case_id: UUID,
    session: SessionDep,
    user: CaseWorker,
    lifted: Annotated[bool | None, Query(description="Only lifted (true) or holding (false) ones.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[RestrictionRead]:
    """The restrictions of a case, lifted ones included, in the order they were set."""
    rows, next_cursor = restrictions.list_restrictions(session, user, case_id, lifted, cursor, limit)
    return Page[RestrictionRead](items=[RestrictionRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/cases/{case_id}/restrictions/{restriction_id}/lift",
    responses=problem_responses(
        RoleNotAllowed, service.CaseNotFound, restrictions.RestrictionNotFound, restrictions.RestrictionAlreadyLifted
    ),
)
def lift_restriction(
    case_id: UUID, restriction_id: UUID, body: RestrictionLift, session: SessionDep, user: Manager
) -> RestrictionRead:
    """Lift a restriction, saying why: the case's requests may be planned again."""
    return RestrictionRead.model_validate(restrictions.lift_restriction(session, user, case_id, restriction_id, body))


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
