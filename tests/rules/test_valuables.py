"""Does each receipt at the door have its supervisor's approval: cash up to the largest cash approval, each item its
own approval naming it."""

from decimal import Decimal
from uuid import uuid4

from api.rules.valuables import (
    Approval,
    ApprovalKind,
    ItemReceived,
    ItemRefusal,
    cash_allowed,
    cash_approved,
    item_refusals,
)

CASH_300 = Approval(uuid4(), ApprovalKind.CASH, Decimal("300.00"), "")
CASH_500 = Approval(uuid4(), ApprovalKind.CASH, Decimal("500.00"), "")
CHEQUE = Approval(uuid4(), ApprovalKind.ITEM, None, "Cheque no. 004512, ICBC")
CARD = Approval(uuid4(), ApprovalKind.ITEM, None, "bank card")


def test_cash_needs_a_cash_approval_covering_the_amount() -> None:
    assert cash_allowed([CASH_300, CHEQUE, CASH_500]) == Decimal("500.00")
    assert cash_approved(Decimal("500.00"), [CASH_300, CASH_500])
    assert not cash_approved(Decimal("500.01"), [CASH_300, CASH_500])
    assert not cash_approved(Decimal("1.00"), [CHEQUE])
    assert cash_allowed([CHEQUE]) is None


def test_an_item_needs_its_own_approval_of_the_visit_naming_it() -> None:
    items = [
        ItemReceived("icbc cheque no 004512", CHEQUE.id),  # the same words, another order
        ItemReceived("mobile phone", uuid4()),  # no such approval of the visit
        ItemReceived("cash", CASH_300.id),
        ItemReceived("passport", CARD.id),
        ItemReceived("Cheque no. 004512, ICBC", CHEQUE.id),  # the cheque approval again
    ]

    assert item_refusals(items, [CASH_300, CHEQUE, CARD]) == [
        (1, ItemRefusal.NOT_APPROVED),
        (2, ItemRefusal.CASH_APPROVAL),
        (3, ItemRefusal.OTHER_ITEM),
        (4, ItemRefusal.APPROVAL_USED),
    ]
    assert item_refusals([ItemReceived("Bank Card", CARD.id)], [CARD]) == []
