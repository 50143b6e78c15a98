"""What the branch learnt about its traffic: each calibration of its hour factors, from the legs its teams really
drove (`routing.calibration`), kept with its error on held-out legs whether applied or not."""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import JSON, Boolean, Date, Double, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type


class CalibrationSource(StrEnum):
    """Where the legs came from: the teams' on-duty tracks."""

    TRACKS = "tracks"


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
