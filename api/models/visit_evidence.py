from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import JSON, BigInteger, CheckConstraint, Double, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.rules.evidence import EvidencePurpose


class EvidenceKind(StrEnum):
    """`recording`: audio of the visit; `photo`: a picture (door, mailbox, building…); `document`: a scan or photo
    of a signed paper."""

    RECORDING = "recording"
    PHOTO = "photo"
    DOCUMENT = "document"


class EvidenceStatus(StrEnum):
    """`declared`: waiting for its bytes; `accepted`: stored, hash and size checked, content inspected;
    `rejected`: the stored bytes are not acceptable evidence (see `rejected_reason`)."""

    DECLARED = "declared"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class EvidenceFlag(StrEnum):
    """Things about an accepted photo the supervisor should look at: `far_from_address` (its GPS is beyond the
    allowed distance), `outside_visit_time` (taken before the first check-in or after the visit), `not_on_work_date`
    (taken on another day than the sheet's, in the branch's time zone), `no_capture_time`, `no_position` (the photo
    carries no EXIF time or GPS)."""

    FAR_FROM_ADDRESS = "far_from_address"
    OUTSIDE_VISIT_TIME = "outside_visit_time"
    NOT_ON_WORK_DATE = "not_on_work_date"
    NO_CAPTURE_TIME = "no_capture_time"
    NO_POSITION = "no_position"


class EvidenceItem(Base):
    """One recording, photo or document of a visit: declared by the phone, uploaded, then checked by the server.
    The bytes live in the evidence store under `storage_key`, which is derived from the visit and the SHA-256."""

    __tablename__ = "evidence_item"
    __table_args__ = (
        UniqueConstraint("visit_id", "sha256"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("status <> 'rejected' OR rejected_reason <> ''", name="rejected_has_reason"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    visit_id: Mapped[UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    team_id: Mapped[UUID] = mapped_column(ForeignKey("team.id"), index=True)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_column_type(EvidenceKind, "evidence_kind"))
    purpose: Mapped[EvidencePurpose] = mapped_column(enum_column_type(EvidencePurpose, "evidence_purpose"))
    content_type: Mapped[str] = mapped_column(String(100))  # as declared
    size: Mapped[int] = mapped_column(BigInteger())
    sha256: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime())  # device time: recording start, photo taken
    client_id: Mapped[UUID] = mapped_column(unique=True)
    declared_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    storage_backend: Mapped[str] = mapped_column(String(10))
    storage_key: Mapped[str] = mapped_column(String(300))
    multipart_upload_id: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[EvidenceStatus] = mapped_column(
        enum_column_type(EvidenceStatus, "evidence_status"), default=EvidenceStatus.DECLARED
    )
    rejected_reason: Mapped[str] = mapped_column(String(40), default="")
    rejected_detail: Mapped[str] = mapped_column(Text(), default="")
    # what the server found in the bytes
    detected_type: Mapped[str] = mapped_column(String(100), default="")
    duration_s: Mapped[float | None] = mapped_column(Double())
    codec: Mapped[str] = mapped_column(String(40), default="")
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # EXIF
    lat: Mapped[float | None] = mapped_column(Double())  # EXIF GPS
    lon: Mapped[float | None] = mapped_column(Double())
    distance_m: Mapped[float | None] = mapped_column(Double())  # of the EXIF position from the address
    flags: Mapped[list[str]] = mapped_column(JSON(), default=list)
    thumbnail_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
