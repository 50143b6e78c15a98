from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from geoalchemy2.shape import to_shape
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from shapely.geometry import mapping

from api.cases.schemas import AddressParts, mask_id_number
from api.findings.schemas import LateMove
from api.geo import GeoPoint
from api.models.cases import OverdueBucket
from api.models.sheets import (
    EditAction,
    PlanningRun,
    RunFailure,
    RunKind,
    RunStatus,
    SheetStatus,
    SheetStop,
    StopState,
    UnplannedReason,
    VisitSheet,
)
from api.models.teams import Team
from api.models.third_parties import ThirdPartyInquiry
from api.models.users import User
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.rules.eligibility import Block, EligibilityFlag
from api.rules.grades import AddressGrade
from api.schemas import Body, FromJson, Instant, LocalTime
from api.sheets.changes import ChangeKind, StopChange
from api.third_parties.schemas import ThirdPartyAsked
from routing.insertion import Refusal

TimeLimit = Annotated[
    int,
    Field(
        ge=1,
        le=3600,
        description="Seconds the solver may take, at most the server's planning time limit (the setting"
        " FIELDVISIT_PLANNING__TIME_LIMIT_S, 60 s unless configured), which is also the default.",
    ),
]


class PlanningRunCreate(Body):
    """Plan a branch's work date. Supervisors plan their own branch; an admin names it."""

    branch_id: FromJson[UUID] | None = Field(default=None, description="Branch to plan (required for admins).")
    work_date: FromJson[date] | None = Field(
        default=None, description="Local date to plan; default: tomorrow in the branch's time zone."
    )
    time_limit_s: TimeLimit | None = None
    move_cost_m: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="An in-day re-plan moves a not-started stop to another team only when that saves more than this"
        " many metres of driving (0: reassign freely; 1,000,000: never); default: the server's setting (3,000 m).",
    )


class PlanningRunResolve(Body):
    """Re-solve a run around its edits. The re-solve starts from the run's plan and stops once the search has settled;
    by default it gets at most the re-solve time limit of the settings (8 s unless configured)."""

    time_limit_s: TimeLimit | None = None


class PlanEditPut(Body):
    """A change to a run's draft plan, applied when the run is re-solved. `pin` keeps the request on `team_id`
    (adding it if it was left out; moving it if another team had it), optionally at `position` on the route or
    starting at `start_time`; `remove` takes the request off the plan."""

    action: FromJson[EditAction]
    team_id: FromJson[UUID] | None = Field(default=None, description="The team to keep it on (pin only).")
    position: int | None = Field(default=None, ge=1, le=60, description="1 = the team's first visit (pin only).")
    start_time: LocalTime | None = Field(default=None, description="When the visit starts, local time (pin only).")

    @model_validator(mode="after")
    def _fits_the_action(self) -> "PlanEditPut":
        if self.action is EditAction.PIN and self.team_id is None:
            raise ValueError("a pin needs team_id")
        if self.action is EditAction.REMOVE and (self.team_id or self.position or self.start_time):
            raise ValueError("a removal takes no team_id, position or start_time")
        return self


class PlanEditRead(BaseModel):
    """A supervisor's change to the plan; `pending` while the run's sheets do not show it (re-solve to apply)."""

    visit_request_id: UUID
    action: EditAction
    team_id: UUID | None
    position: int | None
    start_time: LocalTime | None
    edited_by_id: UUID
    created_at: Instant
    pending: bool


class StopChangeRead(BaseModel):
    """How one stop of a team's day changes: `kind` to switch on, the times and the other team beside it."""

    visit_request_id: UUID
    kind: ChangeKind
    position: int | None = Field(description="Its place on the new version; null when it left the team's day.")
    starts_at: Instant | None = Field(description="Its planned start on the new version.")
    was_starts_at: Instant | None = Field(description="Its planned start before.")
    other_team_id: UUID | None = Field(description="Where a moved stop came from (`moved_in`) or went (`moved_out`).")
    other_team_name: str | None

    @classmethod
    def from_change(cls, change: StopChange) -> "StopChangeRead":
        return cls(
            visit_request_id=change.visit_request_id,
            kind=change.kind,
            position=change.position,
            starts_at=change.starts_at,
            was_starts_at=change.was_starts_at,
            other_team_id=change.other_team.team_id if change.other_team else None,
            other_team_name=change.other_team.team_name if change.other_team else None,
        )


def change_reads(found: list[StopChange] | None) -> list[StopChangeRead] | None:
    return [StopChangeRead.from_change(change) for change in found] if found is not None else None


class SheetSummary(BaseModel):
    """One team's sheet of a run, in brief."""

    id: UUID
    run_id: UUID
    team_id: UUID
    team_name: str
    work_date: date
    status: SheetStatus
    version: int | None = Field(description="Set when published: 1, 2, ... per team and date.")
    published_at: Instant | None
    stops: int
    distance_m: int
    travel_s: int
    changes: list[StopChangeRead] | None = Field(
        default=None,
        description="On a draft of a date already published (one run read alone): how it changes the team's"
        " published day; empty when it changes nothing (publishing then makes no new version for the team).",
    )

    @classmethod
    def from_row(cls, sheet: VisitSheet, found: list[StopChange] | None = None) -> "SheetSummary":
        return cls(
            id=sheet.id,
            run_id=sheet.run_id,
            team_id=sheet.team_id,
            team_name=sheet.team_name,
            work_date=sheet.work_date,
            status=sheet.status,
            version=sheet.version,
            published_at=sheet.published_at,
            stops=len(sheet.stops),
            distance_m=sheet.distance_m,
            travel_s=sheet.travel_s,
            changes=change_reads(found),
        )


class UnplannedRead(BaseModel):
    """A visit request the run left out, and why: `reason` to switch on, `detail` in words, `team_ids` the teams
    the reason is about (those that could have served it, or the team it is pinned to)."""

    visit_request_id: UUID
    reason: UnplannedReason
    detail: str
    team_ids: list[UUID]


class PlanningRunRead(BaseModel):
    """A planning run: where it is, what the solver did, and (once it succeeded) its sheets and what it left out."""

    id: UUID
    branch_id: UUID
    work_date: date
    kind: RunKind = Field(
        description="`evening`: a date not yet begun; `in_day`: the rest of a date under way, planned from now,"
        " keeping every stop that has a visit or is cancelled."
    )
    status: RunStatus
    stage: str = Field(description="queued, loading, matrix, solving, storing or done.")
    progress: int = Field(description="Percent done, 0 to 100.")
    cancel_requested: bool
    time_limit_s: int
    figures: dict[str, Any] = Field(
        description="Counts, distance, solver engine and status, and the seconds spent loading, building the"
        " matrix, solving and storing."
    )
    error: str = Field(description="Why the run failed, in words.")
    failure: RunFailure | None = Field(description="Why the run failed, as a code; null unless it failed.")
    move_cost_m: int = Field(description="What moving a not-started stop to another team costs, in metres.")
    requested_by_id: UUID
    based_on_id: UUID | None = Field(description="The run whose edits this one re-solved.")
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    published_at: Instant | None
    sheets: list[SheetSummary]
    unplanned: list[UnplannedRead]
    edits: list[PlanEditRead]

    @classmethod
    def from_row(
        cls, run: PlanningRun, changes: Mapping[UUID, list[StopChange] | None] | None = None
    ) -> "PlanningRunRead":
        """The run; `changes`: how each of its sheets changes its team's published day, by sheet id."""
        return cls(
            id=run.id,
            branch_id=run.branch_id,
            work_date=run.work_date,
            kind=run.kind,
            status=run.status,
            stage=run.stage,
            progress=run.progress,
            cancel_requested=run.cancel_requested,
            time_limit_s=run.time_limit_s,
            figures=run.figures,
            error=run.error,
            failure=run.failure,
            move_cost_m=run.move_cost_m,
            requested_by_id=run.requested_by_id,
            based_on_id=run.based_on_id,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            published_at=run.published_at,
            sheets=[SheetSummary.from_row(sheet, (changes or {}).get(sheet.id)) for sheet in run.sheets],
            unplanned=[
                UnplannedRead(
                    visit_request_id=row.visit_request_id,
                    reason=row.reason,
                    detail=row.detail,
                    team_ids=[UUID(team_id) for team_id in row.team_ids],
                )
                for row in sorted(run.unplanned, key=lambda row: (row.reason, str(row.visit_request_id)))
            ],
            edits=[
                PlanEditRead(
                    visit_request_id=edit.visit_request_id,
                    action=edit.action,
                    team_id=edit.team_id,
                    position=edit.position,
                    start_time=edit.start_time,
                    edited_by_id=edit.edited_by_id,
                    created_at=edit.created_at,
                    pending=run.is_pending(edit),
                )
                for edit in run.edits
            ],
        )


class CareFlag(StrEnum):
    """Why a visit needs extra care: the case has a complaint history, or elderly people live at the address."""

    COMPLAINT_HISTORY = "complaint_history"
    ELDERLY_RESIDENT = "elderly_resident"


def care_flags(complaint_history: bool, elderly_resident: bool) -> list[CareFlag]:
    """The care flags of a visit to a case at an address."""
    return [CareFlag.COMPLAINT_HISTORY] * complaint_history + [CareFlag.ELDERLY_RESIDENT] * elderly_resident


class SheetCase(BaseModel):
    """What the team needs to know of the case at the door; the ID number only masked."""

    id: UUID
    reference: str
    debtor_name: str
    debtor_id_number_masked: str
    amount_owed: Decimal
    currency: str
    overdue_bucket: OverdueBucket


class SheetAddress(BaseModel):
    """The address to visit, as written, graded and on the map."""

    id: UUID
    raw_text: str
    grade: AddressGrade = Field(description="How far down the text reaches: complete (a door) … vague.")
    parts: AddressParts
    point: GeoPoint | None


class StopBlock(BaseModel):
    """What keeps a stop from its door as the case stands now (a restriction or the visit cap set after the sheet
    was published, or a time the debtor said is inconvenient, at the planned start): the door refuses the visit
    until it no longer holds or a supervisor releases the request from it."""

    flag: EligibilityFlag = Field(description="A case flag in force (e.g. `attorney`) or `visit_cap`.")
    rule_label: str = Field(description="The rule as its jurisdiction's pack names it, e.g. `CN: represented`.")
    rule_source: str = Field(description="Where the rule comes from.")
    detail: str = Field(description="Why, in words that name the rule.")
    release_allowed: bool = Field(description="Whether a supervisor may release the request from it, with a reason.")

    @classmethod
    def of(cls, block: Block) -> "StopBlock":
        return cls(
            flag=block.flag,
            rule_label=block.rule.label,
            rule_source=block.rule.source,
            detail=block.detail,
            release_allowed=block.release,
        )


class SheetStopRead(BaseModel):
    """A visit of the sheet, in order, with its planned times (UTC) and where it stands: enough for the app to
    rebuild its day from this sheet alone."""

    position: int
    visit_request_id: UUID
    state: StopState
    cancel_reason: str | None = Field(description="Why the stop was cancelled, in words for the agents; null if not.")
    cancelled_at: Instant | None
    visit_id: UUID | None = Field(description="The stop's visit, once an agent checked in (or a supervisor acted).")
    awaiting_confirmation: bool = Field(
        description="An outcome (or its amendment) waits for the partner's confirmation."
    )
    purpose: VisitPurpose
    priority: int
    arrives_at: Instant
    starts_at: Instant
    departs_at: Instant
    travel_m: int = Field(description="Metres from the previous stop (or the start point).")
    pinned: bool
    address: SheetAddress
    case: SheetCase
    care_flags: list[CareFlag]
    collector_notes: str = Field(description="The phone collector's notes on the request.")
    third_parties_asked: list[ThirdPartyAsked] = Field(
        description="Neighbours and property managements asked about the case at its earlier visits, oldest first:"
        " ask them again only with a reason."
    )
    blocked: StopBlock | None = Field(
        description="What keeps the stop from its door now, if anything (only stops where nothing has started)."
    )


class SheetMember(BaseModel):
    """One of the team's two agents."""

    seat: int
    agent_id: UUID
    full_name: str


class VisitSheetRead(BaseModel):
    """A team's visit sheet for one day: stops in order, the route through them (GeoJSON), and the team."""

    id: UUID
    run_id: UUID
    branch_id: UUID
    team_id: UUID
    team_name: str
    members: list[SheetMember]
    work_date: date
    status: SheetStatus
    version: int | None
    published_at: Instant | None
    leaves_at: Instant
    returns_at: Instant
    distance_m: int
    travel_s: int
    route: dict[str, Any] | None = Field(description="GeoJSON LineString from the start point through every stop.")
    stops: list[SheetStopRead]
    changes: list[StopChangeRead] | None = Field(
        default=None,
        description="With `?since_version=` on /me/sheet: what changed since that version, to tell the agents;"
        " otherwise null.",
    )


def sheet_read(
    sheet: VisitSheet,
    team: Team,
    agents: Mapping[UUID, User],
    requests: Mapping[UUID, VisitRequest],
    asked: Mapping[UUID, list[ThirdPartyInquiry]],
    blocked: Mapping[tuple[UUID, UUID], Block],
) -> VisitSheetRead:
    """The sheet as shown; `asked`: the third parties asked about each case of its stops; `blocked`: what keeps a
    stop from its door, by (sheet id, request id)."""
    return VisitSheetRead(
        id=sheet.id,
        run_id=sheet.run_id,
        branch_id=sheet.branch_id,
        team_id=sheet.team_id,
        team_name=sheet.team_name,
        members=[
            SheetMember(seat=member.seat, agent_id=member.agent_id, full_name=agents[member.agent_id].full_name)
            for member in team.members
        ],
        work_date=sheet.work_date,
        status=sheet.status,
        version=sheet.version,
        published_at=sheet.published_at,
        leaves_at=sheet.leaves_at,
        returns_at=sheet.returns_at,
        distance_m=sheet.distance_m,
        travel_s=sheet.travel_s,
        route=mapping(to_shape(sheet.route)) if sheet.route is not None else None,
        stops=[
            _stop_read(stop, requests[stop.visit_request_id], asked, blocked.get((sheet.id, stop.visit_request_id)))
            for stop in sheet.stops
        ],
    )


def _stop_read(
    stop: SheetStop, request: VisitRequest, asked: Mapping[UUID, list[ThirdPartyInquiry]], blocked: Block | None
) -> SheetStopRead:
    case, address = request.case, request.address
    return SheetStopRead(
        position=stop.position,
        visit_request_id=request.id,
        state=stop.state,
        cancel_reason=stop.cancel_reason if stop.state is StopState.CANCELLED else None,
        cancelled_at=stop.cancelled_at,
        visit_id=stop.visit_id,
        awaiting_confirmation=stop.awaiting_confirmation,
        purpose=request.purpose,
        priority=request.priority,
        arrives_at=stop.arrives_at,
        starts_at=stop.starts_at,
        departs_at=stop.departs_at,
        travel_m=stop.travel_m,
        pinned=stop.pinned,
        address=SheetAddress(
            id=address.id,
            raw_text=address.raw_text,
            grade=address.grade,
            parts=AddressParts.model_validate(address.parts),
            point=GeoPoint.from_wkb(address.point),
        ),
        case=SheetCase(
            id=case.id,
            reference=case.reference,
            debtor_name=case.debtor_name,
            debtor_id_number_masked=mask_id_number(case.debtor_id_number),
            amount_owed=case.amount_owed,
            currency=case.currency,
            overdue_bucket=case.overdue_bucket,
        ),
        care_flags=care_flags(case.complaint_history, address.elderly_resident),
        collector_notes=request.notes,
        third_parties_asked=[ThirdPartyAsked.from_row(row) for row in asked[case.id] if row.visit_id != stop.visit_id],
        blocked=StopBlock.of(blocked) if blocked is not None else None,
    )


class SheetDayRead(BaseModel):
    """A branch's visit sheets of one day, whole, for the map of the day in one call instead of one per team."""

    work_date: date
    branch_id: UUID
    branch_name: str
    timezone: str = Field(description="The branch's IANA time zone, in which dates and wall-clock times are read.")
    office: GeoPoint | None = Field(description="Where the teams leave from and return to.")
    run_id: UUID | None = Field(description="The run whose draft sheets these are; null for the published sheets.")
    sheets: list[VisitSheetRead]


class ReplanRequest(Body):
    """Where the team is and what time it is: the remaining stops are re-ordered from there."""

    position: GeoPoint
    time: FromJson[AwareDatetime] = Field(description="Now, with its UTC offset.")


class UnfitStop(BaseModel):
    """A stop taken off the sheet by re-planning, because it no longer fits the day; its request is open again."""

    visit_request_id: UUID
    reason: UnplannedReason
    detail: str
    team_ids: list[UUID]


class ReplanRead(BaseModel):
    """The re-planned sheet and the stops that no longer fit."""

    sheet: VisitSheetRead
    unfit: list[UnfitStop]


class TeamOptionRead(BaseModel):
    """One team for an urgent visit: `possible`, then its new arrival and what the visit adds to its day; or why not
    (`refusal` to switch on, `detail` in words)."""

    team_id: UUID
    team_name: str
    sheet_id: UUID | None = Field(description="The team's current published sheet; null if it has none yet.")
    possible: bool
    position: int | None = Field(description="Where the visit would go on the team's new sheet.")
    arrives_at: Instant | None
    starts_at: Instant | None
    added_m: int = Field(description="Distance the visit adds to the team's day.")
    added_s: int = Field(description="How much later the team gets back.")
    refusal: Refusal | None
    detail: str


class UrgentOptionsRead(BaseModel):
    """The teams that can take an urgent visit now, cheapest first, then those that cannot and why."""

    visit_request_id: UUID
    work_date: date
    options: list[TeamOptionRead]


class UrgentInsertionCreate(Body):
    """Insert an urgent visit into the chosen team's day: a new version of that team's sheet only."""

    visit_request_id: FromJson[UUID]
    team_id: FromJson[UUID]


class LeftOutOptionsRead(BaseModel):
    """Who could take a request the run left out: each team where it would add least to the team's draft day,
    cheapest first; then the teams that cannot, and why. Pin it to one that can and re-solve."""

    run_id: UUID
    visit_request_id: UUID
    options: list[TeamOptionRead]


class StopMoveOptionsRead(BaseModel):
    """Where a not-started stop of a day under way could go: each team at work (its own team too) from where it is
    now, cheapest first, then those that cannot take it and why."""

    visit_request_id: UUID
    work_date: date
    from_team_id: UUID = Field(description="The team whose sheet holds the stop now.")
    options: list[TeamOptionRead]


class StopMoveCreate(Body):
    """Move a not-started stop to a team (its own, to re-order it), at a place of the team's new sheet or where it
    adds least: new versions of the teams it changes, published at once."""

    visit_request_id: FromJson[UUID]
    team_id: FromJson[UUID]
    position: int | None = Field(
        default=None,
        ge=1,
        description="1-based place on the team's new sheet, after the stops the team has been at; null: where the stop"
        " adds least.",
    )


class LateTeamRead(BaseModel):
    """A team that can no longer reach all its planned stops from where it is now, and the proposed fix."""

    team_id: UUID
    team_name: str
    sheet_id: UUID
    version: int | None
    after: Instant = Field(description="When it is through the stops it can still make: it misses the others.")
    missed: int
    proposal: list[LateMove]
    summary: str


class LateFixCreate(Body):
    """Apply the proposed fix of a late team: its missed stops to the teams proposed, each a new version."""

    team_id: FromJson[UUID]
