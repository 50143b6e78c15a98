"""Whether repayment promises are kept: a case's payments between a promise and its date (plus the branch's grace
days, to the end of that local day) count towards it, each payment once, the earliest promise first."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo


class PromiseState(StrEnum):
    """`pending`: its date (and the branch's grace days) not yet past and not paid in full; `kept`: paid in full in
    time; `partly_kept`: part paid in time; `broken`: nothing paid in time."""

    PENDING = "pending"
    KEPT = "kept"
    PARTLY_KEPT = "partly_kept"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class Terms:
    key: object
    made_at: datetime
    due_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Paid:
    paid_at: datetime
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Standing:
    state: PromiseState
    paid: Decimal  # counted towards it, at most its amount


def deadline(due_on: date, grace_days: int, timezone: str) -> datetime:
    """The end of the last local day a payment keeps the promise: its date plus the grace days."""
    return datetime.combine(due_on + timedelta(days=grace_days + 1), time(0), tzinfo=ZoneInfo(timezone))


def standings(
    promises: Sequence[Terms], payments: Sequence[Paid], grace_days: int, timezone: str, now: datetime
) -> dict[object, Standing]:
    """Each promise's state and what counts towards it. Promises take payments in the order they were made; a
    payment goes to the earliest promise it can still serve, and what is left of it to the next."""
    times = sorted(range(len(payments)), key=lambda index: payments[index].paid_at)
    left = {index: payments[index].amount for index in times}  # what is left of each payment
    found: dict[object, Standing] = {}
    for promise in sorted(promises, key=lambda each: each.made_at):
        ends = deadline(promise.due_on, grace_days, timezone)
        paid = Decimal("0.00")
        for index in times:
            if paid >= promise.amount:
                break
            if promise.made_at <= payments[index].paid_at < ends and left[index] > 0:
                taken = min(left[index], promise.amount - paid)
                paid, left[index] = paid + taken, left[index] - taken
        if paid >= promise.amount:
            state = PromiseState.KEPT
        elif now >= ends:
            state = PromiseState.PARTLY_KEPT if paid > 0 else PromiseState.BROKEN
        else:
            state = PromiseState.PENDING
        found[promise.key] = Standing(state, paid)
    return found
