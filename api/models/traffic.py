"""What the branch learnt about its traffic: its planned legs priced again by AMap in the traffic of the moment, and
each calibration of its hour factors (`routing.calibration`), from the legs its teams drove or those AMap priced,
kept with its error on held-out legs whether applied or not."""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import JSON, Boolean, Date, Double, ForeignKey, Integer, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type


class CalibrationSource(StrEnum):
    """Where the legs came from: the teams' on-duty tracks, or AMap's driving distance (`PricedLeg`)."""

    TRACKS = "tracks"
    AMAP = "amap"


class PricedLeg(Base):
    """A leg of a published sheet as AMap's driving distance priced it at `asked_at`, in that moment's traffic, beside
    the road engine's seconds for it (without the hour factors)."""

    __tablename__ = "priced_leg"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    sheet_id: Mapped[UUID] = mapped_column(ForeignKey("visit_sheet.id"))
    position: Mapped[int] = mapped_column(SmallInteger())  # of the stop it leads to; one past the last: home
    engine: Mapped[str] = mapped_column(Text())  # the road engine that priced engine_s (`Matrices.source`)
    engine_s: Mapped[int] = mapped_column(Integer())
    priced_s: Mapped[int] = mapped_column(Integer())
    priced_m: Mapped[int] = mapped_column(Integer())
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    hour: Mapped[int] = mapped_column(SmallInteger())  # the branch's local hour when asked


class TravelCalibration(Base):
    __tablename__ = "travel_calibration"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    source: Mapped[CalibrationSource] = mapped_column(enum_column_type(CalibrationSource, "calibration_source"))
    since: Mapped[date] = mapped_column(Date())  # the work dates whose legs it learnt from
    until: Mapped[date] = mapped_column(Date())
    engine: Mapped[str] = mapped_column(Text())  # the road engine the legs were priced on (`Matrices.source`)
    factors: Mapped[list[float]] = mapped_column(JSON())  # 24, one per local hour
    legs_per_hour: Mapped[list[int]] = mapped_column(JSON())
    learnt_from: Mapped[int] = mapped_column(Integer())
    held_out: Mapped[int] = mapped_column(Integer())
    set_aside: Mapped[int] = mapped_column(Integer())  # legs that were no drive (a lunch, a detour)
    error_before: Mapped[float] = mapped_column(Double())  # on the held-out legs, with the factors in force
    error_after: Mapped[float] = mapped_column(Double())
    applied: Mapped[bool] = mapped_column(Boolean())
    requested_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))  # None: from the command line
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
