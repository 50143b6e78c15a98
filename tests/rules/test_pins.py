from datetime import time

from api.rules.hours import Closed, DoorRule
from api.rules.packs import Rule
from api.rules.pins import pin_start_allowed
from routing.model import TimeWindow

NINE_TO_NOON = (TimeWindow(9 * 3600, 12 * 3600),)


def test_a_pin_inside_the_window_and_the_shift_is_allowed() -> None:
    assert pin_start_allowed(time(10), NINE_TO_NOON, time(8), time(17))


def test_a_pin_at_the_end_of_the_shift_is_outside_it() -> None:
    assert not pin_start_allowed(time(11), NINE_TO_NOON, time(8), time(11))


def test_a_pin_outside_the_visit_s_times_is_refused_whatever_the_shift() -> None:
    assert not pin_start_allowed(time(13), NINE_TO_NOON, time(8), time(17))
    assert not pin_start_allowed(time(10), (), time(8), time(17))


def test_no_pin_on_a_day_the_address_is_closed() -> None:
    closed = Closed(DoorRule.VISITING_HOURS, Rule("hours", "test"), "closed", False, False)

    assert not pin_start_allowed(time(10), closed, time(8), time(17))
