from datetime import date
from typing import Any

from api.rules.grades import AddressGrade, AddressValidity, PointSource, Precision
from api.rules.plannability import Plannability, Unplannable, plannable


def verdict_for(**changes: object) -> Plannability:
    """The verdict on a door-level address the geocoder placed at its building, with `changes`."""
    facts: dict[str, Any] = {
        "validity": AddressValidity.UNVERIFIED,
        "located": True,
        "point_source": PointSource.GEOCODER,
        "grade": AddressGrade.COMPLETE,
        "precision": Precision.BUILDING,
    }
    return plannable(**facts | changes)


def test_a_located_address_with_a_trusted_point_is_plannable() -> None:
    verdict = verdict_for()

    assert verdict.plannable
    assert verdict.reason is None


def test_a_road_match_for_a_door_address_is_untrusted() -> None:
    verdict = verdict_for(precision=Precision.ROAD)

    assert verdict.reasons == (Unplannable.ADDRESS_POINT_UNTRUSTED,)


def test_a_person_set_point_is_trusted_whatever_the_text() -> None:
    verdict = verdict_for(point_source=PointSource.SUPERVISOR, grade=AddressGrade.VAGUE)

    assert verdict.plannable


def test_the_request_s_own_reasons_come_before_its_address_s() -> None:
    verdict = verdict_for(
        validity=AddressValidity.REPORTED_INVALID,
        located=False,
        pending=False,
        due=(date(2026, 3, 2), date(2026, 3, 4)),
        work_date=date(2026, 3, 5),
    )

    assert verdict.reasons == (
        Unplannable.NOT_PENDING,
        Unplannable.NOT_DUE,
        Unplannable.ADDRESS_REPORTED,
        Unplannable.ADDRESS_NOT_LOCATED,
    )
    assert verdict.reason is Unplannable.NOT_PENDING


def test_a_confirmed_invalid_address_is_never_plannable() -> None:
    verdict = verdict_for(validity=AddressValidity.CONFIRMED_INVALID)

    assert verdict.reason is Unplannable.ADDRESS_INVALID
