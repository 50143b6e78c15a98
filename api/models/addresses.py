from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow


class GeocodeAnswer(Base):
    """A geocoder's answer to one normalised text (with its city hint), kept so that the same text is asked once:
    an empty `candidates` is an answer too (the provider found nothing)."""

    __tablename__ = "geocode_answer"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    query_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the normalised text and city
    query: Mapped[str] = mapped_column(Text())
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON(), default=list)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class GeocoderPace(Base):
    """When a geocoder may next be asked, shared by every process of every machine that uses its key (a provider
    counts its queries a second per key, not per process)."""

    __tablename__ = "geocoder_pace"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime())


class GeocodingDue(Base):
    """A geocoding pass asked for a branch (an import left addresses without a point), until a pass that began after
    the last ask ends. The process running it (`worker`, "host:pid") keeps `lease_until` moving while it works; a
    pass whose lease lapsed, or whose process on this host is gone, is taken over by the next process that looks."""

    __tablename__ = "geocoding_due"

    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    asks: Mapped[int] = mapped_column(Integer(), default=1)  # counts the asks: a pass ends only the asks it saw
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    worker: Mapped[str] = mapped_column(String(300), default="", server_default="")
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
