from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from geoalchemy2 import Geometry, WKBElement, WKTElement
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UtcDateTime, utcnow
from api.enums import enum_column_type


class RunStatus(StrEnum):
    """Where a planning run is: waiting for a worker, solving, done with sheets, failed, or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunKind(StrEnum):
    """`evening`: plans a date that has not begun in the branch; `in_day`: plans the rest of a date under way, from
    now, keeping every stop that has a visit or is cancelled."""

    EVENING = "evening"
    IN_DAY = "in_day"


class RunFailure(StrEnum):
    """Why a run failed, beside its words in `error`: no team works on the date, no request can be planned, the
    engines planned none within the limit, no worker finished it, or an error."""

    NO_TEAMS = "no_teams"
    NOTHING_TO_PLAN = "nothing_to_plan"
    NO_PLAN = "no_plan"
    ABANDONED = "abandoned"
    ERROR = "error"


class SheetStatus(StrEnum):
    """`draft`: planned, under the supervisor's review; `published`: on the agents' phones (the highest version
    of a team's day is the current one)."""

    DRAFT = "draft"
    PUBLISHED = "published"


class StopState(StrEnum):
    """Where a stop stands: `planned` (nobody there yet), `checking_in` (an agent checked in), `in_progress` (the visit
    started; its outcome may wait for the partner's confirmation), `done` (visit completed), `failed` (visit completed,
    nobody was met), `cancelled` (its request was cancelled before the visit started: nothing more is done there).
    Re-planning during the day only moves `planned` stops."""

    PLANNED = "planned"
    CHECKING_IN = "checking_in"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STOP_STATES = (StopState.PLANNED, StopState.CHECKING_IN)  # nothing has started there: it may still be cancelled


class EditAction(StrEnum):
    """A supervisor's change to a draft plan, applied when the run is re-solved: `pin` keeps the request on a team
    (at a position or start time, if given), and adds it if it was left out; `remove` takes it off the plan."""

    PIN = "pin"
    REMOVE = "remove"


class UnplannedReason(StrEnum):
    """Why a visit request is on no sheet of a run, in words a supervisor understands."""

    ADDRESS_INVALID = "address_invalid"  # the address was confirmed invalid
    ADDRESS_REPORTED = "address_reported"  # the address was reported invalid and awaits the supervisor
    ADDRESS_NOT_LOCATED = "address_not_located"  # the address has no map point
    ADDRESS_POINT_UNTRUSTED = "address_point_untrusted"  # the geocoder's point is coarser than the address's text
    NO_TEAMS = "no_teams"  # the branch has no team on that date
    OUTSIDE_EVERY_SHIFT = "outside_every_shift"  # no team can reach it within its window and their shifts
    NO_TEAM_WITH_SKILL = "no_team_with_skill"  # a complaint case and no experienced team
    PIN_IMPOSSIBLE = "pin_impossible"  # the supervisor's pin cannot be honoured
    LOWER_PRIORITY = "lower_priority"  # the day is full of visits that matter more
    REMOVED = "removed"  # the supervisor took it off the plan
    OUTSIDE_LEGAL_HOURS = "outside_legal_hours"  # no start inside the legal hours at the address and its window
    NOT_A_VISITING_DAY = "not_a_visiting_day"  # a public holiday at the address, or a weekday its law excludes
    NOT_ELIGIBLE = "not_eligible"  # the case may not be visited now (a complaint, a lawyer, a quiet period…)
    NO_ROAD = "no_road"  # the road engine cannot reach the address (no road near it, or cut off from the others)


class PlanningRun(Base):
    """One attempt to plan a branch's work date. The partial unique index keeps two active runs of a branch and
    date from existing at once, whatever the number of API servers."""

    __tablename__ = "planning_run"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        Index(
            "uq_planning_run_active",
            "branch_id",
            "work_date",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    work_date: Mapped[date] = mapped_column(Date())
    kind: Mapped[RunKind] = mapped_column(
        enum_column_type(RunKind, "run_kind"), default=RunKind.EVENING, server_default=RunKind.EVENING.value
    )
    status: Mapped[RunStatus] = mapped_column(enum_column_type(RunStatus, "run_status"), default=RunStatus.QUEUED)
    stage: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(SmallInteger(), default=0)
    time_limit_s: Mapped[int] = mapped_column(Integer())
    cancel_requested: Mapped[bool] = mapped_column(Boolean(), default=False)
    worker: Mapped[str] = mapped_column(String(300), default="", server_default="")  # its process, "host:pid"
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())  # kept moving while the worker plans
    figures: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    error: Mapped[str] = mapped_column(Text(), default="")
    failure: Mapped[RunFailure | None] = mapped_column(enum_column_type(RunFailure, "run_failure"))
    # an in-day run: the cost of moving a not-started stop to another team (see routing.model.Stop.move_cost)
    move_cost_m: Mapped[int] = mapped_column(Integer(), default=3_000, server_default="3000")
    requested_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    based_on_id: Mapped[UUID | None] = mapped_column(ForeignKey("planning_run.id"))  # the run it re-solves
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    sheets: Mapped[list["VisitSheet"]] = relationship(order_by="VisitSheet.team_name", viewonly=True)
    unplanned: Mapped[list["UnplannedRequest"]] = relationship(viewonly=True)
    edits: Mapped[list["PlanEdit"]] = relationship(viewonly=True, order_by="PlanEdit.created_at")

    def is_pending(self, edit: "PlanEdit") -> bool:
        """Whether the edit came after the run finished, so that its sheets do not show it yet."""
        return self.finished_at is None or edit.created_at > self.finished_at


class VisitSheet(Base):
    """One team's planned day (外访总表 row group): the stops in order and the route through them."""

    __tablename__ = "visit_sheet"
    __table_args__ = (UniqueConstraint("team_id", "version"), UniqueConstraint("run_id", "team_id"))

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    run_id: Mapped[UUID] = mapped_column(ForeignKey("planning_run.id"), index=True)
    branch_id: Mapped[UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    team_id: Mapped[UUID] = mapped_column(ForeignKey("team.id"), index=True)
    team_name: Mapped[str] = mapped_column(String(60))
    work_date: Mapped[date] = mapped_column(Date())
    status: Mapped[SheetStatus] = mapped_column(
        enum_column_type(SheetStatus, "sheet_status"), default=SheetStatus.DRAFT
    )
    version: Mapped[int | None] = mapped_column(Integer())  # set when published: 1, 2, ... per team
    distance_m: Mapped[int] = mapped_column(Integer())
    travel_s: Mapped[int] = mapped_column(Integer())
    leaves_at: Mapped[datetime] = mapped_column(UtcDateTime())
    returns_at: Mapped[datetime] = mapped_column(UtcDateTime())
    route: Mapped[WKBElement | WKTElement | None] = mapped_column(
        Geometry("LINESTRING", srid=4326, spatial_index=False)
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    stops: Mapped[list["SheetStop"]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="SheetStop.position", lazy="selectin"
    )


class SheetStop(Base):
    """A visit on a sheet, in order, with its planned times. `pinned` keeps it on its team and at its position
    when the supervisor re-solves."""

    __tablename__ = "sheet_stop"
    __table_args__ = (
        CheckConstraint("position >= 1", name="position_from_one"),
        UniqueConstraint("sheet_id", "visit_request_id"),
    )

    sheet_id: Mapped[UUID] = mapped_column(ForeignKey("visit_sheet.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger(), primary_key=True)
    visit_request_id: Mapped[UUID] = mapped_column(ForeignKey("visit_request.id"), index=True)
    arrives_at: Mapped[datetime] = mapped_column(UtcDateTime())
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    departs_at: Mapped[datetime] = mapped_column(UtcDateTime())
    travel_m: Mapped[int] = mapped_column(Integer())  # from the previous stop (or the start point)
    pinned: Mapped[bool] = mapped_column(Boolean(), default=False)  # placed by a supervisor's pin
    state: Mapped[StopState] = mapped_column(enum_column_type(StopState, "stop_state"), default=StopState.PLANNED)
    cancel_reason: Mapped[str] = mapped_column(Text(), default="")  # why, in words the agents read
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # kept in step with the stop's visit by the visits service
    visit_id: Mapped[UUID | None] = mapped_column(ForeignKey("visit.id"))
    awaiting_confirmation: Mapped[bool] = mapped_column(Boolean(), default=False)  # an outcome waits for the partner

    sheet: Mapped[VisitSheet] = relationship(back_populates="stops")


class UnplannedRequest(Base):
    """A visit request a run could not or did not plan, with the reason."""

    __tablename__ = "unplanned_request"

    run_id: Mapped[UUID] = mapped_column(ForeignKey("planning_run.id", ondelete="CASCADE"), primary_key=True)
    visit_request_id: Mapped[UUID] = mapped_column(ForeignKey("visit_request.id"), primary_key=True)
    reason: Mapped[UnplannedReason] = mapped_column(enum_column_type(UnplannedReason, "unplanned_reason"))
    detail: Mapped[str] = mapped_column(Text(), default="")  # in words, teams by name
    team_ids: Mapped[list[str]] = mapped_column(JSON(), default=list)  # the teams the reason is about


class PlanEdit(Base):
    """A supervisor's pending change to a run's draft plan, one per request; a re-solve applies them all."""

    __tablename__ = "plan_edit"
    __table_args__ = (
        CheckConstraint(
            "action = 'pin' OR (team_id IS NULL AND position IS NULL AND start_time IS NULL)", name="remove_bare"
        ),
        CheckConstraint("action = 'remove' OR team_id IS NOT NULL", name="pin_has_team"),
        CheckConstraint("position IS NULL OR position >= 1", name="position_from_one"),
        UniqueConstraint("run_id", "team_id", "position"),
    )

    run_id: Mapped[UUID] = mapped_column(ForeignKey("planning_run.id", ondelete="CASCADE"), primary_key=True)
    visit_request_id: Mapped[UUID] = mapped_column(ForeignKey("visit_request.id"), primary_key=True)
    action: Mapped[EditAction] = mapped_column(enum_column_type(EditAction, "edit_action"))
    team_id: Mapped[UUID | None] = mapped_column(ForeignKey("team.id"))
    position: Mapped[int | None] = mapped_column(SmallInteger())
    start_time: Mapped[time | None] = mapped_column(Time())  # branch-local start of the visit
    edited_by_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
