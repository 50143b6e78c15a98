"""The door checks on plain values: the departure checklist, the pair at the door together, the care note."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from api.rules.door import (
    CheckedInApart,
    ChecklistGap,
    NotCheckedIn,
    care_note_missing,
    checklist_gap,
    departure_unchecked,
    pair_at_the_door,
)

CHECKLIST = ["recorder", "camera", "letters"]
A, B = uuid4(), uuid4()
AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_a_departure_check_counts_only_when_it_confirms_exactly_the_checklist() -> None:
    assert checklist_gap(CHECKLIST, ["letters", "camera", "recorder"]) is None
    assert checklist_gap(CHECKLIST, ["recorder", "camera"]) == ChecklistGap(missing=["letters"], unknown=[])
    assert checklist_gap(CHECKLIST, [*CHECKLIST, "umbrella"]) == ChecklistGap(missing=[], unknown=["umbrella"])
    assert checklist_gap([], []) is None


def test_the_agents_without_a_departure_check_are_named_in_the_team_order() -> None:
    assert departure_unchecked([A, B], {A, B}) == []
    assert departure_unchecked([A, B], {B}) == [A]
    assert departure_unchecked([A, B], set()) == [A, B]


def test_the_pair_starts_only_when_both_checked_in_within_the_gap() -> None:
    assert pair_at_the_door([A, B], {A: AT, B: AT + timedelta(minutes=10)}, 600) is None
    assert pair_at_the_door([A, B], {A: AT + timedelta(minutes=10), B: AT}, 600) is None
    assert pair_at_the_door([A, B], {A: AT, B: AT + timedelta(seconds=601)}, 600) == CheckedInApart(
        timedelta(seconds=601)
    )


def test_an_agent_not_checked_in_is_named_before_any_gap_is_measured() -> None:
    assert pair_at_the_door([A, B], {B: AT}, 600) == NotCheckedIn([A])
    assert pair_at_the_door([A, B], {}, 600) == NotCheckedIn([A, B])


def test_a_visit_flagged_for_care_needs_a_note_with_words_in_it() -> None:
    assert care_note_missing(complaint_history=True, elderly_resident=False, notes="")
    assert care_note_missing(complaint_history=False, elderly_resident=True, notes="  \n")
    assert not care_note_missing(complaint_history=True, elderly_resident=True, notes="calm, left the letter")
    assert not care_note_missing(complaint_history=False, elderly_resident=False, notes="")
