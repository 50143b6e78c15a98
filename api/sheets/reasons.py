"""Why the solver left a request out, in words a supervisor reads: teams by their names and times on the branch's
clock, with the machine fields (the reason and the teams' ids) beside the words."""

from dataclasses import dataclass
from uuid import UUID

from api.models.sheets import UnplannedReason
from api.rules.hours import DoorRule
from api.sheets.instance import PlannedDay
from routing.plan import Dropped, DropReason, Plan

UNPLANNED_REASON = {
    DropReason.OUTSIDE_EVERY_SHIFT: UnplannedReason.OUTSIDE_EVERY_SHIFT,
    DropReason.NO_TEAM_WITH_SKILL: UnplannedReason.NO_TEAM_WITH_SKILL,
    DropReason.PIN_IMPOSSIBLE: UnplannedReason.PIN_IMPOSSIBLE,
    DropReason.LOWER_PRIORITY: UnplannedReason.LOWER_PRIORITY,
}
# the legal-hours rules that leave a request out, as reasons
CLOSED_REASONS = {
    DoorRule.VISITING_DAY: UnplannedReason.NOT_A_VISITING_DAY,
    DoorRule.VISITING_HOURS: UnplannedReason.OUTSIDE_LEGAL_HOURS,
}


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A request the solver did not plan, and why."""

    visit_request_id: UUID
    reason: UnplannedReason
    detail: str
    team_ids: tuple[UUID, ...]  # the teams the reason is about


def left_out(day: PlannedDay, plan: Plan) -> list[LeftOut]:
    """The plan's dropped requests, each with its reason in words."""
    return [_left_out(day, plan, dropped) for dropped in plan.dropped]


def _left_out(day: PlannedDay, plan: Plan, dropped: Dropped) -> LeftOut:
    """A request the road engine cannot reach is left out for that (its travel is longer than any day, so no team
    can take it), not for the teams' shifts."""
    request_id = day.requests[dropped.stop].id
    unreachable = day.unreachable.get(dropped.stop)
    if unreachable is not None:
        return LeftOut(
            request_id, UnplannedReason.NO_ROAD, f"The road engine cannot reach the address: {unreachable}", ()
        )
    teams = tuple(UUID(key) for key in dropped.teams)
    return LeftOut(request_id, UNPLANNED_REASON[dropped.reason], _words(day, plan, dropped), teams)


def _words(day: PlannedDay, plan: Plan, dropped: Dropped) -> str:
    if dropped.reason is not DropReason.LOWER_PRIORITY or not dropped.teams:
        return dropped.detail  # routing words these with the teams' names
    ends = {route.team: route.end_s for route in plan.routes if route.visits}
    full = [f"{day.teams[key].name}'s day is full by {_clock(ends[key])}" for key in dropped.teams if key in ends]
    idle = [day.teams[key].name for key in dropped.teams if key not in ends]
    parts = full + ([f"{', '.join(idle)} would have to go out of the way for it alone"] if idle else [])
    detour_km = day.instance.stop(dropped.stop).drop_cost / 1000
    return (
        "; ".join(parts) + f": fitting it in would mean leaving out visits that matter more, or driving over "
        f"{detour_km:.0f} km more than its priority is worth"
    )


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
