from datetime import date, datetime, time
from uuid import UUID, uuid4

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type
from api.models.users import Role
from routing.matrix import TravelMode


class Team(Base):
    """A two-person crew for one work date, with what planning needs: the shift (branch-local times), an optional
    break that lies within [break_from, break_until], a visit limit, whether it may take complaint cases
    (`experienced`), how it travels and where it starts and ends (the branch office when not given)."""

    __tablename__ = "team"
    __table_args__ = (
        UniqueConstraint("branch_id", "work_date", "name"),
        UniqueConstraint("id", "branch_id", "work_date"),
        CheckConstraint("shift_start < shift_end", name="shift_order"),
        CheckConstraint(
            "break_minutes = 0 OR (break_from IS NOT NULL AND break_until IS NOT NULL AND break_from < break_until)",
            name="break_window",
        ),
        CheckConstraint("break_minutes BETWEEN 0 AND 240", name="break_length"),
        CheckConstraint("max_visits BETWEEN 1 AND 60", name="max_visits_range"),
        CheckConstraint("(start_lat IS NULL) = (start_lon IS NULL)", name="start_point_whole"),
        CheckConstraint("(end_lat IS NULL) = (end_lon IS NULL)", name="end_point_whole"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    work_date: Mapped[date] = mapped_column(Date())
    name: Mapped[str] = mapped_column(String(60))
    shift_start: Mapped[time] = mapped_column(Time(), default=time(9, 0))
    shift_end: Mapped[time] = mapped_column(Time(), default=time(18, 0))
    break_from: Mapped[time | None] = mapped_column(Time())
    break_until: Mapped[time | None] = mapped_column(Time())
    break_minutes: Mapped[int] = mapped_column(SmallInteger(), default=0)
    max_visits: Mapped[int] = mapped_column(SmallInteger(), default=16)
    experienced: Mapped[bool] = mapped_column(Boolean(), default=False)
    # how it travels: driving, cycling (e-bikes), walking, transit; None: as the server's planning settings say
    travel_mode: Mapped[TravelMode | None] = mapped_column(enum_column_type(TravelMode, "travel_mode"))
    # plain coordinates: these points are only read back, never searched
    start_lat: Mapped[float | None] = mapped_column(Double())
    start_lon: Mapped[float | None] = mapped_column(Double())
    end_lat: Mapped[float | None] = mapped_column(Double())
    end_lon: Mapped[float | None] = mapped_column(Double())
    # stood down for the rest of its day (an agent did not turn up): plans give its not-started stops to others
    stood_down_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stood_down_reason: Mapped[str] = mapped_column(Text(), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="TeamMember.seat", lazy="selectin"
    )


class TeamMember(Base):
    """One of the two seats of a team. The keys make the database refuse a third seat, the same agent twice, an
    agent in two teams on one date, an agent of another branch and a user who is not an agent."""

    __tablename__ = "team_member"
    __table_args__ = (
        CheckConstraint("seat IN (1, 2)", name="two_seats"),
        CheckConstraint("agent_role = 'agent'", name="member_is_agent"),
        UniqueConstraint("team_id", "agent_id"),
        UniqueConstraint("agent_id", "work_date"),
        ForeignKeyConstraint(
            ["team_id", "branch_id", "work_date"], ["team.id", "team.branch_id", "team.work_date"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["agent_id", "branch_id", "agent_role"], ["app_user.id", "app_user.branch_id", "app_user.role"]
        ),
    )

    team_id: Mapped[UUID] = mapped_column(primary_key=True)
    seat: Mapped[int] = mapped_column(SmallInteger(), primary_key=True)
    agent_id: Mapped[UUID] = mapped_column(index=True)
    branch_id: Mapped[UUID] = mapped_column()
    work_date: Mapped[date] = mapped_column(Date())
    agent_role: Mapped[Role] = mapped_column(enum_column_type(Role, "agent_role"), default=Role.AGENT)

    team: Mapped[Team] = relationship(back_populates="members")
