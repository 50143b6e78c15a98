"""Who counts as the same third party of a case, and which inquiries ask one again without saying why."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from api.rules.third_parties import Asked, Inquiry, ThirdParty, ThirdPartyKind, asked_again_without_reason

HOME, OFFICE = uuid4(), uuid4()
FIRST, SECOND = uuid4(), uuid4()
NEIGHBOUR, MANAGEMENT = ThirdPartyKind.NEIGHBOUR, ThirdPartyKind.PROPERTY_MANAGEMENT


def _asked(kind: ThirdPartyKind, who: str, day: int, visit_id: UUID = FIRST) -> Asked:
    return Asked(ThirdParty(kind, HOME, who), datetime(2026, 12, day, 10, tzinfo=UTC), visit_id)


def test_the_same_words_in_any_order_case_width_or_spacing_name_the_same_third_party() -> None:
    same = [
        ThirdParty(NEIGHBOUR, HOME, "Neighbour,  Flat 302"),
        ThirdParty(NEIGHBOUR, HOME, "flat 302 neighbour"),
        ThirdParty(NEIGHBOUR, HOME, "ＮＥＩＧＨＢＯＵＲ ｆｌａｔ ３０２"),
    ]
    others = [
        ThirdParty(NEIGHBOUR, HOME, "neighbour, flat 303"),
        ThirdParty(MANAGEMENT, HOME, "neighbour, flat 302"),
        ThirdParty(NEIGHBOUR, OFFICE, "neighbour, flat 302"),
    ]

    assert len({party.key for party in same}) == 1
    assert not {party.key for party in others} & {same[0].key}


def test_only_inquiries_repeating_an_earlier_visit_without_a_reason_are_returned_with_when_they_were_asked() -> None:
    earlier = [
        _asked(NEIGHBOUR, "302 室邻居", 3, SECOND),
        _asked(NEIGHBOUR, "302 室邻居", 1),
        _asked(MANAGEMENT, "物业管理处", 1),
    ]
    inquiries = [
        Inquiry("#/neighbours/0", ThirdParty(NEIGHBOUR, HOME, "302  室邻居")),
        Inquiry("#/neighbours/1", ThirdParty(NEIGHBOUR, HOME, "401 室邻居")),
        Inquiry("#/property_management", ThirdParty(MANAGEMENT, HOME, "物业管理处"), "the debtor said to ask them"),
    ]

    repeated = asked_again_without_reason(inquiries, earlier)

    assert [one.inquiry.where for one in repeated] == ["#/neighbours/0"]
    assert [(asked.asked_at.day, asked.visit_id) for asked in repeated[0].before] == [(1, FIRST), (3, SECOND)]


def test_a_blank_reason_is_no_reason_and_nobody_asked_before_is_never_a_repeat() -> None:
    party = ThirdParty(MANAGEMENT, HOME, "property management office")

    assert asked_again_without_reason(
        [Inquiry("#/property_management", party, "   ")], [_asked(MANAGEMENT, party.who, 1)]
    )
    assert asked_again_without_reason([Inquiry("#/property_management", party)], []) == []
