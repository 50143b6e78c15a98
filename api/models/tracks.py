"""On-duty tracks: one per agent and team day, opened by the agent's departure check, and their fixes, stored
compactly (integer coordinates and milliseconds) since a day of 60 teams is some 260,000 of them."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type

DEGREE_E7 = 10_000_000  # coordinates in units of 1e-7 degree: about a centimetre, the phones' own precision


class Track(Base):
    """An agent's track for a team's day: fixes are accepted from `duty_from` (the departure check) to the end of
    the team's current sheet, plus a margin, and kept until the branch's retention runs out."""

    __tablename__ = "track"
    __table_args__ = (UniqueConstraint("team_id", "agent_id"),)

    id: Mapped[int] = mapped_column(Integer(), primary_key=True)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    team_id: Mapped[UUID] = mapped_column(ForeignKey("team.id"))
    agent_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    work_date: Mapped[date] = mapped_column(Date(), index=True)
    duty_from: Mapped[datetime] = mapped_column(UtcDateTime())
    watched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the last watch over it


class PositionFix(Base):
    """One position the phone took on duty. `at_ms` is the device's clock; `clock_skew_s` how far that clock was
    ahead of the server's when the batch was sent. Never changed; deleted by the retention purge."""

    __tablename__ = "position_fix"
    __table_args__ = (Index("ix_position_fix_track_at", "track_id", "at_ms"),)

    client_id: Mapped[UUID] = mapped_column(primary_key=True)  # the phone's id of the fix: a resend is a duplicate
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    at_ms: Mapped[int] = mapped_column(BigInteger())  # Unix milliseconds, device clock
    lat_e7: Mapped[int] = mapped_column(Integer())
    lon_e7: Mapped[int] = mapped_column(Integer())
    accuracy_m: Mapped[float] = mapped_column(REAL())
    speed_mps: Mapped[float | None] = mapped_column(REAL())
    heading_deg: Mapped[int | None] = mapped_column(SmallInteger())
    battery_pct: Mapped[int | None] = mapped_column(SmallInteger())
    mock: Mapped[bool] = mapped_column(Boolean())  # the platform's mock-location flag
    clock_skew_s: Mapped[int] = mapped_column(Integer())
    steps: Mapped[int | None] = mapped_column(Integer())  # the phone's cumulative step counter, if it has one


class StoredFix(NamedTuple):
    """A stored fix as its readers use it: read as plain columns, not as ORM objects (a visit reads hundreds)."""

    track_id: int
    at: datetime  # the phone's clock
    lat: float
    lon: float
    accuracy_m: float
    speed_mps: float | None
    mock: bool
    clock_skew_s: int
    steps: int | None


FIX_COLUMNS = (
    PositionFix.track_id,
    PositionFix.at_ms,
    PositionFix.lat_e7,
    PositionFix.lon_e7,
    PositionFix.accuracy_m,
    PositionFix.speed_mps,
    PositionFix.mock,
    PositionFix.clock_skew_s,
    PositionFix.steps,
)


def stored_fix(row: Sequence[Any]) -> StoredFix:
    """A StoredFix from a row of FIX_COLUMNS."""
    track_id, at_ms, lat_e7, lon_e7, accuracy_m, speed_mps, mock, skew, steps = row
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    return StoredFix(track_id, at, lat_e7 / DEGREE_E7, lon_e7 / DEGREE_E7, accuracy_m, speed_mps, mock, skew, steps)


def epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


class AlertKind(StrEnum):
    OUT_OF_CONTACT = "out_of_contact"
    OFF_ROUTE = "off_route"


class TrackAlert(Base):
    """A gap or a time off route found in a track: its finding is published when it is first found; a later look
    that sees the same stretch (overlapping it) extends it instead of finding it again."""

    __tablename__ = "track_alert"
    __table_args__ = (UniqueConstraint("track_id", "kind", "began_at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"))
    kind: Mapped[AlertKind] = mapped_column(enum_column_type(AlertKind, "track_alert_kind"))
    began_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())  # as far as it was seen to last; a later look extends it
    finding_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("finding.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
