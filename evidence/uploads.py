"""The vocabulary of an upload from a phone, shared by every store: what was declared (`Upload`), what to tell the
phone (`Instructions`), how much arrived (`Progress`), and why the bytes cannot be checked yet (`NotUploaded`)."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Upload:
    """One item's upload as its declaration has it: `key` is where its checked bytes end up (content-addressed),
    `handle` the store's own name for the upload in progress (S3's multipart upload id), kept by the caller."""

    item_id: str
    key: str
    size: int
    sha256: str
    content_type: str
    handle: str | None = None


class Method(StrEnum):
    """`put`: the whole file to `url`; `multipart`: each part to its own URL; `resumable`: appends at an offset."""

    PUT = "put"
    MULTIPART = "multipart"
    RESUMABLE = "resumable"


@dataclass(frozen=True, slots=True)
class Instructions:
    """Where and how the phone sends the bytes; URLs signed for it expire at `expires_at`."""

    method: Method
    url: str | None
    headers: dict[str, str]
    part_size: int | None = None
    parts: list[tuple[int, str]] = field(default_factory=list)  # (part number, URL)
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How much of an upload the store holds; `handle` is the upload's handle from now on (a new one when the store
    had lost the upload and started it again)."""

    received: int
    parts: list[int]
    handle: str | None


class NotUploaded(Exception):
    """The bytes have not all arrived: `received` of them have."""

    def __init__(self, received: int) -> None:
        super().__init__(f"{received} bytes received")
        self.received = received


class NotResumable(Exception):
    """The store takes this upload around the API, from presigned URLs, not appended through it."""
