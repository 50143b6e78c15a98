from datetime import UTC, datetime, timedelta

from api.rules.evidence import PHOTO_FAR_M, photo_agreement

ARRIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENDED = ARRIVED + timedelta(minutes=20)


def test_a_photo_at_the_door_during_the_visit_agrees() -> None:
    agreement = photo_agreement(40.0, ARRIVED + timedelta(minutes=5), ARRIVED, ENDED)

    assert agreement.agrees


def test_one_distance_decides_a_far_photo() -> None:
    assert not photo_agreement(PHOTO_FAR_M, None, ARRIVED, ENDED).far
    assert photo_agreement(PHOTO_FAR_M + 1, None, ARRIVED, ENDED).far


def test_fifteen_minutes_either_side_of_the_visit_still_agree() -> None:
    assert not photo_agreement(None, ARRIVED - timedelta(minutes=15), ARRIVED, ENDED).outside_visit
    assert not photo_agreement(None, ENDED + timedelta(minutes=15), ARRIVED, ENDED).outside_visit
    assert photo_agreement(None, ARRIVED - timedelta(minutes=16), ARRIVED, ENDED).outside_visit


def test_a_timed_photo_before_any_arrival_is_outside_the_visit() -> None:
    assert photo_agreement(None, ARRIVED, None, ENDED).outside_visit


def test_a_photo_without_position_or_time_does_not_disagree() -> None:
    assert photo_agreement(None, None, None, ENDED).agrees
