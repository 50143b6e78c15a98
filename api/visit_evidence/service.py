"""Evidence of a visit: declared by a phone, uploaded around the API (S3) or through it (local, resumable),
then checked by the server — size, SHA-256 and content — before it counts. Nothing is ever overwritten or deleted."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.config import EvidenceSettings
from api.db import utcnow
from api.findings import service as findings_service
from api.geo import distance_m, point_shape
from api.models.branches import Branch
from api.models.cases import Address, DebtCase
from api.models.findings import FindingKind
from api.models.sheets import VisitSheet
from api.models.users import User
from api.models.visit_evidence import EvidenceFlag, EvidenceItem, EvidenceKind, EvidenceStatus
from api.models.visits import Visit
from api.problems import (
    ClientIdReused,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    problem_members,
)
from api.rules.evidence import photo_agreement, photo_taken_at
from api.rules.field import FieldRules
from api.rules.zones import zone_at
from api.visit_evidence.schemas import EvidenceDeclare, UploadInstructions, UploadMethod, UploadPart, UploadState
from api.visit_evidence.store import CONTENT_TYPES
from api.visits import evidence_policy
from api.visits.service import ensure_stop_open, get_visit, visible_visits
from evidence import audio, photos
from evidence.digest import sha256_of
from evidence.inspection import Rejected
from evidence.storage import ObjectMissing, OffsetMismatch, Storage, TooLarge, evidence_key
from evidence.uploads import NotResumable, NotUploaded, Upload


class EvidenceNotFound(NotFound):
    title = "Evidence not found"
    slug = "evidence-not-found"
    members = problem_members(evidence_id=(UUID, "The item asked for."))


class EvidenceTooLarge(PayloadTooLarge):
    title = "The evidence is larger than allowed"
    slug = "evidence-too-large"
    members = problem_members(limit=(int, "The most bytes an item of this kind may have."))


class EvidenceTypeNotAccepted(UnsupportedMediaType):
    title = "This content type is not accepted for this kind of evidence"
    slug = "evidence-type-not-accepted"
    members = problem_members(accepted=(list[str], "The content types accepted for this kind."))


class EvidenceAlreadyDeclared(Conflict):
    title = "The same bytes were declared for this visit already"
    slug = "evidence-already-declared"
    members = problem_members(evidence_id=(UUID, "The item declared with these bytes."))


class UploadNotResumable(Conflict):
    title = "This item is uploaded straight to the store, not through the API"
    slug = "upload-not-resumable"
    members = problem_members(evidence_id=(UUID, "The item, uploaded with presigned URLs instead."))


class UploadOffsetMismatch(Conflict):
    title = "The upload does not continue where the stored bytes end"
    slug = "upload-offset-mismatch"
    members = problem_members(received=(int, "Bytes stored so far: send Upload-Offset with this."))


class EvidenceAlreadyComplete(Conflict):
    title = "The item is complete; its bytes cannot change"
    slug = "evidence-already-complete"
    members = problem_members(evidence_id=(UUID, "The item."))


class EvidenceNotUploaded(Conflict):
    title = "The bytes have not all arrived"
    slug = "evidence-not-uploaded"
    members = problem_members(
        evidence_id=(UUID, "The item."),
        received=(int, "Bytes stored so far."),
        size=(int, "Bytes declared."),
    )


class EvidenceMismatch(ValidationFailed):
    title = "The uploaded bytes are not the ones declared"
    slug = "evidence-mismatch"
    members = problem_members(
        declared_sha256=(str, "The SHA-256 declared."),
        stored_sha256=(str, "The SHA-256 of the bytes stored."),
        stored_size=(int, "The number of bytes stored."),
    )
    commits = True  # the item stays declared, ready for the upload again


class EvidenceRejected(ValidationFailed):
    title = "The uploaded file is not acceptable evidence"
    slug = "evidence-rejected"
    members = problem_members(
        evidence_id=(UUID, "The item, kept as rejected."),
        reason=(str, "Why, e.g. not-audio, truncated-image, image-too-large."),
    )


def visible_evidence(user: User) -> Select[EvidenceItem]:
    """Agents see their team's evidence, supervisors their branch's, phone collectors their cases'."""
    return select(EvidenceItem).where(EvidenceItem.visit_id.in_(visible_visits(user).with_only_columns(Visit.id)))


def get_item(session: Session, user: User, evidence_id: UUID, *, lock: bool = False) -> EvidenceItem:
    """The item, if the user may see it; `lock`: a concurrent request for it waits until this one commits."""
    query = visible_evidence(user).where(EvidenceItem.id == evidence_id)
    item = session.scalar(query.with_for_update(of=EvidenceItem) if lock else query)
    if item is None:
        raise EvidenceNotFound(f"No evidence {evidence_id}.", evidence_id=evidence_id)
    return item


def items_of(session: Session, user: User, visit_id: UUID) -> list[EvidenceItem]:
    visit = get_visit(session, user, visit_id)
    return list(
        session.scalars(select(EvidenceItem).where(EvidenceItem.visit_id == visit.id).order_by(EvidenceItem.created_at))
    )


def declare(
    session: Session, user: User, visit_id: UUID, data: EvidenceDeclare, store: Storage, rules: EvidenceSettings
) -> EvidenceItem:
    """Record what the phone is about to upload; a retry with the same client id returns the first declaration."""
    visit = get_visit(session, user, visit_id)
    earlier = session.scalar(select(EvidenceItem).where(EvidenceItem.client_id == data.client_id))
    if earlier is not None:
        if earlier.visit_id != visit.id or earlier.declared_by_id != user.id or earlier.sha256 != data.sha256:
            raise ClientIdReused("This client_id was used for another evidence item.", client_id=data.client_id)
        return earlier
    ensure_stop_open(session, visit)
    types = CONTENT_TYPES[data.kind]
    if data.content_type not in types:
        raise EvidenceTypeNotAccepted(
            f"A {data.kind.value} may be {', '.join(sorted(types))}; not {data.content_type}.",
            accepted=sorted(types),
        )
    limit = _limit(rules, data.kind)
    if data.size > limit:
        raise EvidenceTooLarge(f"A {data.kind.value} may have at most {limit} bytes.", limit=limit)
    same = session.scalar(
        select(EvidenceItem).where(EvidenceItem.visit_id == visit.id, EvidenceItem.sha256 == data.sha256)
    )
    if same is not None:
        raise EvidenceAlreadyDeclared(f"These bytes are evidence {same.id} of this visit.", evidence_id=same.id)
    extension = types[data.content_type][0]
    item = EvidenceItem(
        visit_id=visit.id,
        team_id=visit.team_id,
        branch_id=visit.branch_id,
        kind=data.kind,
        purpose=data.purpose,
        content_type=data.content_type,
        size=data.size,
        sha256=data.sha256,
        captured_at=data.captured_at,
        client_id=data.client_id,
        declared_by_id=user.id,
        storage_backend=store.name,
        storage_key=evidence_key(str(visit.id), data.sha256, extension),
    )
    session.add(item)
    session.flush()
    item.multipart_upload_id = store.begin(_upload(item))
    return item


def instructions(item: EvidenceItem, store: Storage, rules: EvidenceSettings) -> UploadInstructions | None:
    """Where the bytes of a declared item go (fresh presigned URLs each time); None once it is complete."""
    if item.status is not EvidenceStatus.DECLARED:
        return None
    given = store.instructions(_upload(item), f"/evidence/{item.id}/content", rules.url_ttl_s)
    return UploadInstructions(
        method=UploadMethod(given.method),
        url=given.url,
        headers=given.headers,
        part_size=given.part_size,
        parts=[UploadPart(part_number=number, url=url) for number, url in given.parts],
        expires_at=given.expires_at,
    )


def upload_state(item: EvidenceItem, store: Storage, rules: EvidenceSettings) -> UploadState:
    """How much of the item arrived, with fresh URLs for the rest (the store may have started the upload afresh)."""
    received, parts = item.size, []
    if item.status is EvidenceStatus.DECLARED:
        progress = store.progress(_upload(item))
        received, parts, item.multipart_upload_id = progress.received, progress.parts, progress.handle
    return UploadState(
        evidence_id=item.id,
        size=item.size,
        received=received,
        parts_received=parts,
        upload=instructions(item, store, rules),
    )


def receive(item: EvidenceItem, offset: int, chunks: Iterable[bytes], store: Storage) -> int:
    """Append a resumable upload's bytes at `offset`; the bytes staged so far."""
    if item.status is not EvidenceStatus.DECLARED:
        raise EvidenceAlreadyComplete(f"Evidence {item.id} is {item.status.value}.", evidence_id=item.id)
    try:
        return store.receive(_upload(item), offset, chunks)
    except NotResumable as error:
        raise UploadNotResumable(
            "Upload with the presigned URLs of GET /evidence/{id}/upload.", evidence_id=item.id
        ) from error
    except TooLarge as error:
        raise EvidenceTooLarge(f"The item was declared with {item.size} bytes.", limit=error.limit) from error
    except OffsetMismatch as error:
        raise UploadOffsetMismatch(
            f"Continue from byte {error.received} (Upload-Offset: {error.received}).", received=error.received
        ) from error


def complete(
    session: Session, item: EvidenceItem, store: Storage, rules: EvidenceSettings, field_rules: FieldRules
) -> EvidenceItem:
    """Of an item fetched with `lock` (a concurrent retry then finds it decided): read the uploaded bytes once,
    check size and SHA-256 against the declaration, inspect them and decide. A mismatch leaves the item declared
    (the app uploads again); unacceptable content rejects it for good."""
    if item.status is not EvidenceStatus.DECLARED:
        return item
    upload = _upload(item)
    try:
        with store.arrived(upload) as (file, digest, size):
            if (size, digest) != (item.size, item.sha256):
                item.multipart_upload_id = store.restart(upload)
                raise EvidenceMismatch(
                    f"Declared {item.size} bytes with SHA-256 {item.sha256}; the store holds {size} bytes with"
                    f" {digest}. Upload the file again.",
                    declared_sha256=item.sha256,
                    stored_sha256=digest,
                    stored_size=size,
                )
            try:
                _inspect(session, item, file, store, rules, field_rules)
                item.status = EvidenceStatus.ACCEPTED
                _report_flags(session, item)
            except Rejected as rejection:
                item.status, item.rejected_reason, item.rejected_detail = (
                    EvidenceStatus.REJECTED,
                    rejection.reason,
                    rejection.detail,
                )
    except NotUploaded as error:
        raise EvidenceNotUploaded(
            f"{error.received} of the {item.size} declared bytes are stored; finish the upload, then complete.",
            received=error.received,
            size=item.size,
        ) from error
    store.finish(upload)
    item.completed_at = utcnow()
    session.flush()
    return item


def content(item: EvidenceItem, thumbnail: bool) -> str:
    """The key of the bytes to download: the original, or a photo's thumbnail."""
    if item.status is EvidenceStatus.DECLARED:
        raise EvidenceNotUploaded(f"Evidence {item.id} is not complete yet.", evidence_id=item.id)
    if thumbnail:
        if item.thumbnail_key is None:
            raise EvidenceNotFound(f"Evidence {item.id} has no thumbnail.", evidence_id=item.id)
        return item.thumbnail_key
    return item.storage_key


@dataclass(frozen=True)
class StoreFault:
    item_id: UUID
    key: str
    problem: str


def verify_store(session: Session, store: Storage) -> Iterator[StoreFault | None]:
    """Re-hash every stored item's bytes, one at a time as a stream: None for each one intact, a fault for each one
    missing or changed."""
    completed = select(EvidenceItem).where(EvidenceItem.status != EvidenceStatus.DECLARED).order_by(EvidenceItem.id)
    for item in session.scalars(completed):
        try:
            digest, size = sha256_of(store.read(item.storage_key))
        except ObjectMissing:
            yield StoreFault(item.id, item.storage_key, "missing from the store")
            continue
        if (digest, size) != (item.sha256, item.size):
            yield StoreFault(
                item.id, item.storage_key, f"changed: {size} bytes with SHA-256 {digest}, recorded {item.size} bytes"
            )
        else:
            yield None


def _limit(rules: EvidenceSettings, kind: EvidenceKind) -> int:
    return {
        EvidenceKind.RECORDING: rules.max_recording_bytes,
        EvidenceKind.PHOTO: rules.max_photo_bytes,
        EvidenceKind.DOCUMENT: rules.max_document_bytes,
    }[kind]


def _upload(item: EvidenceItem) -> Upload:
    return Upload(
        item_id=str(item.id),
        key=item.storage_key,
        size=item.size,
        sha256=item.sha256,
        content_type=item.content_type,
        handle=item.multipart_upload_id,
    )


def _inspect(
    session: Session,
    item: EvidenceItem,
    file: BinaryIO,
    store: Storage,
    rules: EvidenceSettings,
    field_rules: FieldRules,
) -> None:
    expected, photo = CONTENT_TYPES[item.kind][item.content_type][1], None
    if item.kind is EvidenceKind.RECORDING:
        recording = audio.inspect_recording(file)
        item.detected_type, item.codec, item.duration_s = recording.mime_type, recording.codec, recording.duration_s
    elif item.content_type == "application/pdf":
        item.detected_type = _pdf_type(file)
    else:
        photo = photos.inspect_photo(file, max_pixels=rules.max_photo_pixels)
        item.detected_type = photo.mime_type
    if item.detected_type not in expected:
        raise Rejected(
            "content-type-mismatch", f"Declared {item.content_type}, but the bytes are {item.detected_type}."
        )
    if photo is not None:
        item.width, item.height = photo.width, photo.height
        if item.kind is EvidenceKind.PHOTO:  # a scanned letter needs no place or time
            _place_photo(session, item, photo, field_rules)
        thumbnail_key = f"{item.storage_key}.thumb.jpg"
        store.put(thumbnail_key, [photos.thumbnail(file)])
        item.thumbnail_key = thumbnail_key


def _report_flags(session: Session, item: EvidenceItem) -> None:
    """A photo the supervisor should look at reaches the findings feed (and its webhooks)."""
    if item.flags:
        case = session.get_one(DebtCase, session.get_one(Visit, item.visit_id).case_id)
        findings_service.publish(
            session,
            case,
            FindingKind.EVIDENCE_FLAGGED,
            visit_id=str(item.visit_id),
            evidence_id=str(item.id),
            purpose=item.purpose.value,
            flags=item.flags,
        )


def _pdf_type(file: BinaryIO) -> str:
    head, size = file.read(8), file.seek(0, 2)
    file.seek(max(0, size - 1024))
    if not head.startswith(b"%PDF-") or b"%%EOF" not in file.read():
        raise Rejected("not-a-pdf", "The bytes are not a complete PDF document.")
    return "application/pdf"


def _place_photo(session: Session, item: EvidenceItem, photo: photos.PhotoInfo, rules: FieldRules) -> None:
    """Where and when the photo says it was taken, and what the supervisor should look at."""
    visit = session.get_one(Visit, item.visit_id)
    point = point_shape(session.get_one(Address, visit.address_id).point)
    zone = zone_at(point.y, point.x, session.get_one(Branch, visit.branch_id).timezone)
    if photo.taken_at is not None:
        item.taken_at = photo_taken_at(photo.taken_at, zone)
    if photo.lat is not None and photo.lon is not None:
        item.lat, item.lon = photo.lat, photo.lon
        item.distance_m = distance_m(photo.lat, photo.lon, point.y, point.x)
    began = evidence_policy.arrival(session, visit) if item.taken_at is not None else None
    agreement = photo_agreement(
        item.distance_m,
        item.taken_at,
        began,
        visit.completed_at or utcnow(),
        far_m=rules.photo_far_m,
        slack=rules.photo_slack,
    )
    flags: list[EvidenceFlag] = []
    if item.taken_at is None:
        flags.append(EvidenceFlag.NO_CAPTURE_TIME)
    else:
        if agreement.outside_visit:
            flags.append(EvidenceFlag.OUTSIDE_VISIT_TIME)
        if item.taken_at.astimezone(zone).date() != session.get_one(VisitSheet, visit.sheet_id).work_date:
            flags.append(EvidenceFlag.NOT_ON_WORK_DATE)
    if item.distance_m is None:
        flags.append(EvidenceFlag.NO_POSITION)
    elif agreement.far:
        flags.append(EvidenceFlag.FAR_FROM_ADDRESS)
    item.flags = [flag.value for flag in flags]
