"""No cash and no other valuables without a supervisor's prior approval: a cash payment needs an approval of the
visit for at least its amount, each item received (a cheque, a bank card, a document of title…) its own approval
naming it."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from api.rules.wording import words_key


class ApprovalKind(StrEnum):
    """What a supervisor's approval of a visit allows: a cash payment up to an amount, or one named item."""

    CASH = "cash"
    ITEM = "item"


class ItemRefusal(StrEnum):
    """Why an item received is refused: no approval of the visit has its id; the approval is for cash, not an item;
    it names another item; or another item of the outcome already uses it."""

    NOT_APPROVED = "not_approved"
    CASH_APPROVAL = "cash_approval"
    OTHER_ITEM = "other_item"
    APPROVAL_USED = "approval_used"


@dataclass(frozen=True, slots=True)
class Approval:
    """A supervisor's approval given for the visit."""

    id: UUID
    kind: ApprovalKind
    max_amount: Decimal | None  # cash
    item_description: str  # item


@dataclass(frozen=True, slots=True)
class ItemReceived:
    description: str
    approval_id: UUID


def cash_allowed(approvals: Sequence[Approval]) -> Decimal | None:
    """The most cash the visit's approvals allow, or None without a cash approval."""
    return max((a.max_amount for a in approvals if a.kind is ApprovalKind.CASH and a.max_amount), default=None)


def cash_approved(amount: Decimal, approvals: Sequence[Approval]) -> bool:
    allowed = cash_allowed(approvals)
    return allowed is not None and amount <= allowed


def item_refusals(items: Sequence[ItemReceived], approvals: Sequence[Approval]) -> list[tuple[int, ItemRefusal]]:
    """The items (by index) without an approval of the visit naming them (the same words in any order or case),
    and why; one approval covers one item."""
    by_id = {approval.id: approval for approval in approvals}
    used: set[UUID] = set()
    refused: list[tuple[int, ItemRefusal]] = []
    for index, item in enumerate(items):
        approval = by_id.get(item.approval_id)
        if approval is None:
            refused.append((index, ItemRefusal.NOT_APPROVED))
        elif approval.kind is not ApprovalKind.ITEM:
            refused.append((index, ItemRefusal.CASH_APPROVAL))
        elif words_key(approval.item_description) != words_key(item.description):
            refused.append((index, ItemRefusal.OTHER_ITEM))
        elif approval.id in used:
            refused.append((index, ItemRefusal.APPROVAL_USED))
        used.add(item.approval_id)
    return refused
