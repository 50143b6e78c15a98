"""Whether promises are kept, on hand-checked cases: which payments count towards a promise (after it was made, up to
the end of its date plus the grace days, in the branch's zone), each payment once, the earliest promise first."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from api.rules.promises import Paid, PromiseState, Standing, Terms, deadline, standings

SHANGHAI = "Asia/Shanghai"
MADE = datetime(2026, 12, 1, 10, tzinfo=ZoneInfo(SHANGHAI))  # promised at the door: 2,000 by the 10th
PROMISE = Terms("p", MADE, date(2026, 12, 10), Decimal("2000.00"))
AFTER_GRACE = datetime(2026, 12, 14, tzinfo=ZoneInfo(SHANGHAI))  # the 10th + 3 grace days is over


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=ZoneInfo(SHANGHAI))


def _one(payments: list[Paid], now: datetime, terms: Terms = PROMISE) -> Standing:
    return standings([terms], payments, 3, SHANGHAI, now)[terms.key]


def test_the_deadline_is_the_end_of_the_last_grace_day_in_the_branchs_zone() -> None:
    assert deadline(date(2026, 12, 10), 3, SHANGHAI) == datetime(2026, 12, 14, tzinfo=ZoneInfo(SHANGHAI))
    assert deadline(date(2026, 12, 10), 0, SHANGHAI).astimezone(UTC) == datetime(2026, 12, 10, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("paid", "now", "expected"),
    [
        ([], _at(5), Standing(PromiseState.PENDING, Decimal("0.00"))),
        ([Paid(_at(10, 23), Decimal("2000.00"))], _at(11), Standing(PromiseState.KEPT, Decimal("2000.00"))),
        ([Paid(_at(13, 23), Decimal("2000.00"))], AFTER_GRACE, Standing(PromiseState.KEPT, Decimal("2000.00"))),
        ([Paid(_at(14, 0), Decimal("2000.00"))], AFTER_GRACE, Standing(PromiseState.BROKEN, Decimal("0.00"))),
        ([Paid(_at(1, 9), Decimal("2000.00"))], AFTER_GRACE, Standing(PromiseState.BROKEN, Decimal("0.00"))),
        ([Paid(_at(3), Decimal("500.00"))], _at(5), Standing(PromiseState.PENDING, Decimal("500.00"))),
        ([Paid(_at(3), Decimal("500.00"))], AFTER_GRACE, Standing(PromiseState.PARTLY_KEPT, Decimal("500.00"))),
        (
            [Paid(_at(3), Decimal("1500.00")), Paid(_at(9), Decimal("1500.00"))],
            _at(9, 13),
            Standing(PromiseState.KEPT, Decimal("2000.00")),
        ),
    ],
    ids=[
        "nothing yet",
        "paid on the date",
        "paid on the last grace day",
        "paid after the grace days",
        "paid before the promise",
        "part paid, not yet due",
        "part paid, past due",
        "more than promised, in two payments",
    ],
)
def test_a_promise_is_kept_by_what_is_paid_between_it_and_its_deadline(
    paid: list[Paid], now: datetime, expected: Standing
) -> None:
    assert _one(paid, now) == expected


def test_each_payment_counts_once_the_earliest_promise_first() -> None:
    later = Terms("q", _at(5), date(2026, 12, 20), Decimal("1000.00"))
    payments = [Paid(_at(6), Decimal("2500.00")), Paid(_at(18), Decimal("300.00"))]

    found = standings([later, PROMISE], payments, 3, SHANGHAI, datetime(2026, 12, 30, tzinfo=UTC))

    assert found["p"] == Standing(PromiseState.KEPT, Decimal("2000.00"))
    # what is left of the first payment (500) and the second (300): part of the 1,000
    assert found["q"] == Standing(PromiseState.PARTLY_KEPT, Decimal("800.00"))
