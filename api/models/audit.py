from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime


class AuditEvent(Base):
    """One state change or one read of a debtor's data, chained: `hash` covers the row and the previous row's hash,
    so that changing, removing or inserting a row breaks every hash after it."""

    __tablename__ = "audit_event"
    # a record's rows, as a case's dossier cites them
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor_id: Mapped[UUID | None] = mapped_column()  # None: the system (a planning worker, a command)
    action: Mapped[str] = mapped_column(String(10))  # insert, update, delete, read
    entity: Mapped[str] = mapped_column(String(60))  # the table
    entity_id: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence number and hash, one row; updating it first serialises the writers of the chain."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer(), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
