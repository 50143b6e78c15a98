from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type


class Role(StrEnum):
    """What a user does: `agent` visits doors, `supervisor` plans and reviews a branch, `phone_collector` works
    cases by phone and requests visits, `admin` manages branches and users of the whole agency."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    PHONE_COLLECTOR = "phone_collector"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role = 'admin' OR branch_id IS NOT NULL", name="branch_unless_admin"),
        # targets of composite foreign keys that pin a reference to a user of the same branch (and role)
        UniqueConstraint("id", "branch_id"),
        UniqueConstraint("id", "branch_id", "role"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    branch_id: Mapped[UUID | None] = mapped_column(ForeignKey("branch.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean(), default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
