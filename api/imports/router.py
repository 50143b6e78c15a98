"""`POST /cases/import`: cases, contacts, addresses and visit requests from a CSV file or a workbook."""

from dataclasses import dataclass
from email.message import Message
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status

from api.addresses.jobs import ask_for_pass
from api.branches.service import BranchNotFound, BranchRequired
from api.db import SessionDep
from api.deps import Manager
from api.imports import case_file
from api.imports import cases as importer
from api.imports.schemas import ImportSummary
from api.limits import MAX_FILE_BYTES
from api.problems import PayloadTooLarge, RoleNotAllowed, UnsupportedMediaType, problem_responses

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
    limit = MAX_FILE_BYTES
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
    if request.app.state.settings.geocoding.on and summary.addresses_without_point:
        ask_for_pass(session, summary.branch_id)  # commits with the import
        background.add_task(request.app.state.jobs.nudge, "geocoding")  # after the answer, so after the commit
    return summary
