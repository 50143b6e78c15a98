from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow


class RefreshToken(Base):
    """A refresh token, kept only as its SHA-256; rotated on every use (a retry within the grace window gets the same
    successor), and one used again after that revokes its family, the login."""

    __tablename__ = "refresh_token"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[UUID] = mapped_column(index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # its login was ended
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # traded for its successor
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LoginAttempt(Base):
    """One try of a username's password from a client address: what login throttling counts."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"))

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    username: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean())
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
