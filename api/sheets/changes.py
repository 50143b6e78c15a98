"""What changes between two versions of a team's day: stops added, removed, moved from or to another team, cancelled,
and re-timed by more than `RETIMED_AFTER`. A supervisor reads it on a draft before publishing (against the team's
published sheet), a phone on `/me/sheet?since_version=` (against the version it holds)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from api.models.sheets import SheetStop, StopState

RETIMED_AFTER = timedelta(minutes=15)  # a stop whose start moves less than this is the same stop to the agents


class ChangeKind(StrEnum):
    """`added`: a new stop; `removed`: off the team's day, and no other team's; `moved_in` / `moved_out`: from or to
    another team; `cancelled`: still on the sheet, nothing more is done there; `retimed`: its start moved by more
    than 15 minutes."""

    ADDED = "added"
    REMOVED = "removed"
    MOVED_IN = "moved_in"
    MOVED_OUT = "moved_out"
    CANCELLED = "cancelled"
    RETIMED = "retimed"


@dataclass(frozen=True, slots=True)
class Holder:
    """The team whose sheet holds a stop elsewhere."""

    team_id: UUID
    team_name: str


@dataclass(frozen=True, slots=True)
class StopChange:
    visit_request_id: UUID
    kind: ChangeKind
    position: int | None  # on the new version; None when it left the team's day
    starts_at: datetime | None  # planned start on the new version
    was_starts_at: datetime | None  # on the old version
    other_team: Holder | None  # where a moved stop came from or went to


def changes(
    before: Sequence[SheetStop],
    after: Sequence[SheetStop],
    held_before: Mapping[UUID, Holder],
    held_after: Mapping[UUID, Holder],
) -> list[StopChange]:
    """How `after` differs from `before` (a team's stops); `held_before` / `held_after`: which other team held each
    request then and holds it now, to tell a move from an addition or a removal. In the new version's order, the
    stops that left the day after them."""
    old = {stop.visit_request_id: stop for stop in before}
    new = {stop.visit_request_id: stop for stop in after}
    found = []
    for stop in after:
        was = old.get(stop.visit_request_id)
        if was is None:
            holder = held_before.get(stop.visit_request_id)
            kind = ChangeKind.MOVED_IN if holder is not None else ChangeKind.ADDED
            found.append(StopChange(stop.visit_request_id, kind, stop.position, stop.starts_at, None, holder))
        elif stop.state is StopState.CANCELLED and was.state is not StopState.CANCELLED:
            found.append(_both(ChangeKind.CANCELLED, stop, was))
        elif stop.state is StopState.PLANNED and abs(stop.starts_at - was.starts_at) > RETIMED_AFTER:
            found.append(_both(ChangeKind.RETIMED, stop, was))
    for stop in before:
        if stop.visit_request_id not in new:
            holder = held_after.get(stop.visit_request_id)
            kind = ChangeKind.MOVED_OUT if holder is not None else ChangeKind.REMOVED
            found.append(StopChange(stop.visit_request_id, kind, None, None, stop.starts_at, holder))
    return found


def same_day(before: Sequence[SheetStop], after: Sequence[SheetStop], found: Sequence[StopChange]) -> bool:
    """Whether a new version would change nothing the agents act on: the same stops in the same order, and none of
    the `changes` between them (none cancelled anew or re-timed by more than `RETIMED_AFTER`)."""
    ordered = [stop.visit_request_id for stop in before] == [stop.visit_request_id for stop in after]
    return ordered and not found


def _both(kind: ChangeKind, stop: SheetStop, was: SheetStop) -> StopChange:
    return StopChange(stop.visit_request_id, kind, stop.position, stop.starts_at, was.starts_at, None)
