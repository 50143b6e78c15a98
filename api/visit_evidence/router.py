from collections.abc import Iterator
from typing import Annotated, Any
from uuid import UUID

import anyio.from_thread
from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.requests import ClientDisconnect

from api.audit.chain import record_read
from api.db import SessionDep
from api.deps import Agent, CurrentUser, FieldRulesDep
from api.models.visit_evidence import EvidenceStatus
from api.problems import Problem, RoleNotAllowed, ValidationFailed, problem_members, problem_response, problem_responses
from api.sheets.service import StopCancelled
from api.visit_evidence import service
from api.visit_evidence.ranges import RangeNotSatisfiable, byte_span
from api.visit_evidence.schemas import EvidenceDeclare, EvidenceRead, UploadState
from api.visits.service import VisitNotFound
from evidence.storage import Storage

router = APIRouter(tags=["evidence"])

BODY_CHUNK = 1 << 20

_COMPLETE_PROBLEMS = (
    RoleNotAllowed,
    service.EvidenceNotFound,
    service.EvidenceNotUploaded,
    service.EvidenceMismatch,
    service.EvidenceRejected,
)


class UploadInterrupted(Problem):
    status = 400
    title = "The upload was interrupted; resume it from `received`"
    slug = "upload-interrupted"
    members = problem_members(received=(int, "Bytes stored so far: resume with this Upload-Offset."))


def _store(request: Request) -> Storage:
    return request.app.state.evidence_store


def _body(request: Request) -> Iterator[bytes]:
    """The request body as it arrives, for a sync endpoint (run in a worker thread) to stream to the store: the
    server's small chunks gathered up to about 1 MiB per trip to the event loop, so the copy stays cheap."""
    stream = request.stream()

    async def gather() -> tuple[bytes, bool]:
        """Up to about 1 MiB, and whether the client went away (after what it sent)."""
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                if size >= BODY_CHUNK:
                    break
        except ClientDisconnect:
            return b"".join(chunks), True
        return b"".join(chunks), False

    while True:
        chunk, gone = anyio.from_thread.run(gather)
        if chunk:
            yield chunk
        if gone:
            raise ClientDisconnect()
        if not chunk:
            return


@router.post(
    "/visits/{visit_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed,
        VisitNotFound,
        service.EvidenceTooLarge,
        service.EvidenceTypeNotAccepted,
        service.EvidenceAlreadyDeclared,
        service.ClientIdReused,
        StopCancelled,
    ),
)
def declare_evidence(
    visit_id: UUID, body: EvidenceDeclare, request: Request, session: SessionDep, user: Agent
) -> EvidenceRead:
    """Declare a recording, photo or document before uploading it; the answer says where to send the bytes."""
    rules, store = request.app.state.settings.evidence, _store(request)
    item = service.declare(session, user, visit_id, body, store, rules)
    return EvidenceRead.from_row(item, service.instructions(item, store, rules))


@router.get("/visits/{visit_id}/evidence", responses=problem_responses(VisitNotFound))
def list_evidence(visit_id: UUID, session: SessionDep, user: CurrentUser) -> list[EvidenceRead]:
    """The visit's evidence, in the order it was declared."""
    items = service.items_of(session, user, visit_id)
    record_read(session, "evidence_item", *(item.id for item in items), what="list")
    return [EvidenceRead.from_row(item) for item in items]


@router.get("/evidence/{evidence_id}", responses=problem_responses(service.EvidenceNotFound))
def get_evidence(evidence_id: UUID, session: SessionDep, user: CurrentUser) -> EvidenceRead:
    """An item of evidence and what the server found in it."""
    item = service.get_item(session, user, evidence_id)
    record_read(session, "evidence_item", item.id, what="view")
    return EvidenceRead.from_row(item)


@router.get("/evidence/{evidence_id}/upload", responses=problem_responses(RoleNotAllowed, service.EvidenceNotFound))
def get_upload_state(evidence_id: UUID, request: Request, session: SessionDep, user: Agent) -> UploadState:
    """How many bytes (or parts) arrived, and fresh URLs for the rest: what an interrupted upload resumes from."""
    item = service.get_item(session, user, evidence_id)
    return service.upload_state(item, _store(request), request.app.state.settings.evidence)


@router.put(
    "/evidence/{evidence_id}/content",
    response_model=UploadState,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string"}}}}
    },
    responses=problem_responses(
        RoleNotAllowed,
        service.EvidenceNotFound,
        service.UploadNotResumable,
        service.UploadOffsetMismatch,
        service.EvidenceAlreadyComplete,
        service.EvidenceTooLarge,
        UploadInterrupted,
    ),
)
def upload_content(
    evidence_id: UUID,
    request: Request,
    session: SessionDep,
    user: Agent,
    upload_offset: Annotated[
        int, Header(ge=0, description="Where this body starts in the file: 0, or `received` to resume.")
    ] = 0,
) -> UploadState | JSONResponse:
    """Send the bytes of a declared item (local store), from `Upload-Offset` on; resumable after an interruption."""
    item = service.get_item(session, user, evidence_id)
    store, rules = _store(request), request.app.state.settings.evidence
    try:
        service.receive(item, upload_offset, _body(request), store)
    except ClientDisconnect:  # a phone losing its network: what arrived is kept, the app resumes from there
        received = service.upload_state(item, store, rules).received
        return problem_response(request, UploadInterrupted(received=received))
    return service.upload_state(item, store, rules)


@router.post(
    "/evidence/{evidence_id}/complete", response_model=EvidenceRead, responses=problem_responses(*_COMPLETE_PROBLEMS)
)
def complete_evidence(
    evidence_id: UUID, request: Request, session: SessionDep, user: Agent, rules: FieldRulesDep
) -> EvidenceRead | JSONResponse:
    """Check the uploaded bytes against the declaration and inspect them: accepted, or refused with the reason."""
    item = service.get_item(session, user, evidence_id, lock=True)
    item = service.complete(session, item, _store(request), request.app.state.settings.evidence, rules)
    if item.status is EvidenceStatus.REJECTED:  # recorded as rejected (committed), and answered as a problem
        problem = service.EvidenceRejected(item.rejected_detail, reason=item.rejected_reason, evidence_id=item.id)
        return problem_response(request, problem)
    return EvidenceRead.from_row(item)


class RangeOutsideObject(Problem):
    status = 416
    title = "The range asked for starts past the end"
    slug = "range-not-satisfiable"
    members = problem_members(size_bytes=(int, "The object's size."))


# typed here: a literal written inside `responses=` takes too narrow a type to join the problems' responses
_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The bytes (local store)."},
    206: {"content": {"application/octet-stream": {}}, "description": "The byte range asked for (local store)."},
    307: {"description": "A short-lived presigned URL to download from (S3 store; it takes Range too)."},
}


@router.get(
    "/evidence/{evidence_id}/content",
    response_class=StreamingResponse,
    response_model=None,
    responses=_CONTENT
    | problem_responses(service.EvidenceNotFound, service.EvidenceNotUploaded, RangeOutsideObject, ValidationFailed),
)
def download_evidence(
    evidence_id: UUID,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    thumbnail: Annotated[bool, Query(description="A photo's JPEG thumbnail instead of the original.")] = False,
    range_: Annotated[
        str | None, Header(alias="Range", description="One byte range, e.g. `bytes=1048576-` to seek.")
    ] = None,
    if_range: Annotated[str | None, Header(description="The ETag the range is for; another one: all bytes.")] = None,
) -> Response:
    """Download the original bytes (never re-encoded) or a photo's thumbnail, whole or one byte range (206, for
    seeking in a recording); every download is audited."""
    item = service.get_item(session, user, evidence_id)
    key = service.content(item, thumbnail)
    store, rules = _store(request), request.app.state.settings.evidence
    url = store.download_url(key, _filename(key), rules.url_ttl_s)
    if url is not None:
        record_read(session, "evidence_item", item.id, what="thumbnail" if thumbnail else "download")
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    size = store.size(key) or 0
    etag = f'"{_filename(key)}"'  # the key is content-addressed: its name is a strong validator
    try:
        span = byte_span(range_, size) if if_range in (None, etag) else None
    except RangeNotSatisfiable:
        answer = problem_response(request, RangeOutsideObject(f"The object has {size} bytes.", size_bytes=size))
        answer.headers["Content-Range"] = f"bytes */{size}"
        return answer
    what = ("thumbnail" if thumbnail else "download") + (f" bytes {span[0]}-{span[1]}" if span else "")
    record_read(session, "evidence_item", item.id, what=what)
    media_type = "image/jpeg" if thumbnail else item.detected_type or item.content_type
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Content-Length": str(size)}
    if span is None:
        return StreamingResponse(store.read(key), media_type=media_type, headers=headers)
    headers |= {"Content-Length": str(span[1] - span[0] + 1), "Content-Range": f"bytes {span[0]}-{span[1]}/{size}"}
    return StreamingResponse(
        store.read(key, span), status_code=status.HTTP_206_PARTIAL_CONTENT, media_type=media_type, headers=headers
    )


def _filename(key: str) -> str:
    return key.rsplit("/", 1)[-1]
