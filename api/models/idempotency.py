import re
from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow

MAX_KEY_LENGTH = 200
KEY_PATTERN = re.compile(r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")  # visible ASCII, spaces only inside
KEY_FORMAT = (
    f"1 to {MAX_KEY_LENGTH} visible ASCII characters (spaces inside allowed), new for each new request (a UUID is"
    " a good choice) and the same on each retry of it"
)


class IdempotencyRecord(Base):
    """A caller's POST with a given key: claimed while its first attempt runs (by `owner`, until `lease_until`,
    which the owner keeps moving on while it works), then the answer, kept to replay it to the retries."""

    __tablename__ = "idempotency_record"

    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer())  # None while the first attempt is being handled
    headers: Mapped[dict[str, str]] = mapped_column(JSON(), default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary(), default=b"")
    claim: Mapped[str] = mapped_column(String(32), default="")  # the attempt that holds the key
    owner: Mapped[str] = mapped_column(String(300), default="")  # its process, "host:pid"
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
