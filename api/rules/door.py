"""The door checks on plain values: the departure checklist, both agents of the pair at the door together, and the
note a visit flagged for care needs. The services load the rows, ask here and raise the problem named."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ChecklistGap:
    """A departure check that is not exactly the branch's checklist."""

    missing: list[str]  # items of the checklist not confirmed
    unknown: list[str]  # items confirmed that are not on it


def checklist_gap(checklist: Sequence[str], confirmed: Collection[str]) -> ChecklistGap | None:
    """What keeps a departure check from counting; None when it confirms exactly the branch's checklist."""
    missing = [item for item in checklist if item not in confirmed]
    unknown = [item for item in confirmed if item not in checklist]
    return ChecklistGap(missing, unknown) if missing or unknown else None


def departure_unchecked(members: Sequence[UUID], checked: Collection[UUID]) -> list[UUID]:
    """The team's agents who have not confirmed the departure checklist yet (none: the team may start visits)."""
    return [agent for agent in members if agent not in checked]


@dataclass(frozen=True, slots=True)
class NotCheckedIn:
    """Agents of the pair who have not checked in at the address."""

    missing: list[UUID]


@dataclass(frozen=True, slots=True)
class CheckedInApart:
    """Both checked in, but farther apart in time than the two-person rule allows."""

    gap: timedelta


def check_ins_apart(first: datetime, second: datetime, max_gap_s: int) -> timedelta | None:
    """How far apart the two agents' check-ins are, when more than the two-person rule allows; else None."""
    gap = abs(first - second)
    return gap if gap > timedelta(seconds=max_gap_s) else None


def pair_at_the_door(
    members: Sequence[UUID], checked_in_at: Mapping[UUID, datetime], max_gap_s: int
) -> NotCheckedIn | CheckedInApart | None:
    """Why the pair may not start the visit on their own check-ins (`checked_in_at`: each agent's latest, made near
    the address); None when both checked in within `max_gap_s` of each other."""
    missing = [agent for agent in members if agent not in checked_in_at]
    if missing:
        return NotCheckedIn(missing)
    first, second = (checked_in_at[agent] for agent in members)
    gap = check_ins_apart(first, second, max_gap_s)
    return CheckedInApart(gap) if gap is not None else None


def care_note_missing(complaint_history: bool, elderly_resident: bool, notes: str) -> bool:
    """A visit flagged for care (the debtor complained before, or elderly people live there) is reported with a
    note on how it went."""
    return (complaint_history or elderly_resident) and not notes.strip()
