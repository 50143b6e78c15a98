"""When a visit may happen, on plain values: each pack's hours at their edges in the debtor's own time zone, its
days and public holidays (China's with the adjusted working days), the debtor's windows, and the door's work date."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from api.rules.hours import Closed, DoorRule, Span, closed_day, door_closed, visit_starts
from tests.rules.packs import rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORK_DATE = date(2026, 12, 2)  # a Wednesday, no holiday anywhere below


@pytest.mark.parametrize(
    ("code", "zone", "opens", "last_open", "closes"),
    [
        ("CN", "Asia/Shanghai", time(8, 0), time(20, 59), time(21, 0)),
        ("US", "America/Chicago", time(8, 0), time(20, 59), time(21, 0)),
        ("UK", "Europe/London", time(8, 0), time(20, 59), time(21, 0)),
        ("IN", "Asia/Kolkata", time(8, 0), time(18, 59), time(19, 0)),
        ("ID", "Asia/Jakarta", time(8, 0), time(19, 59), time(20, 0)),
        ("PH", "Asia/Manila", time(6, 0), time(21, 59), time(22, 0)),
    ],
)
def test_each_pack_opens_the_door_at_its_hours_and_not_a_minute_outside(
    code: str, zone: str, opens: time, last_open: time, closes: time
) -> None:
    here, branch = ZoneInfo(zone), rules(code, zone)
    before = time(opens.hour - 1, 59)

    def at(clock: time) -> Closed | None:
        return door_closed(branch, datetime.combine(WORK_DATE, clock, tzinfo=here), WORK_DATE, here)

    assert at(opens) is None and at(last_open) is None
    early, late = at(before), at(closes)
    assert early is not None and late is not None
    assert early.door_rule is late.door_rule is DoorRule.VISITING_HOURS
    assert f"only {opens:%H:%M}–{closes:%H:%M} at the debtor's location" in late.detail
    assert late.rule == branch.pack.hours.rule and late.override is branch.pack.hours.override


def test_the_hours_are_the_debtors_not_the_branchs() -> None:
    """A New York branch visiting a debtor in Los Angeles: 10:59 in New York is 07:59 at the door."""
    new_york, los_angeles = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
    branch = rules("US", "America/New_York")

    def at(clock: time) -> Closed | None:
        return door_closed(branch, datetime.combine(WORK_DATE, clock, tzinfo=new_york), WORK_DATE, los_angeles)

    early = at(time(10, 59))
    assert early is not None and early.detail.startswith("it is 07:59 at the address; US §1006.6(b)(1): only 08:00")
    assert at(time(11, 0)) is None
    assert at(time(23, 59)) is None  # 20:59 in Los Angeles
    assert at(time(8, 30)) is not None  # 05:30 there, though the branch is open


def test_the_door_is_for_the_sheets_work_date_on_the_branchs_clock() -> None:
    branch = rules()
    for day in (date(2026, 12, 1), date(2026, 12, 3)):
        closed = door_closed(branch, datetime.combine(day, time(10), tzinfo=SHANGHAI), WORK_DATE, SHANGHAI)
        assert closed is not None and closed.door_rule is DoorRule.WORK_DATE and closed.override


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 9, 30), None),
        (date(2026, 10, 1), "National Day"),
        (date(2026, 10, 7), "National Day"),
        (date(2026, 10, 8), None),
        (date(2026, 9, 20), None),  # a Sunday worked in exchange for the National Day week (调休)
        (date(2026, 10, 10), None),  # a Saturday worked in exchange
        (date(2026, 2, 17), "Spring Festival"),
        (date(2026, 2, 14), None),  # a Saturday worked in exchange for the Spring Festival
        (date(2026, 11, 28), None),  # an ordinary Saturday: a day off, but no holiday
        (date(2027, 1, 1), "New Year's Day"),  # a year chinese-calendar has no data for yet: the statutory days
    ],
)
def test_cn_visits_no_one_on_a_public_holiday_with_the_adjusted_working_days_right(
    day: date, holiday: str | None
) -> None:
    closed = closed_day(rules("CN"), day)

    if holiday is None:
        assert closed is None
    else:
        assert closed is not None and closed.door_rule is DoorRule.VISITING_DAY and not closed.override
        assert closed.detail == f"CN: public holiday {day.isoformat()} ({holiday})"


@pytest.mark.parametrize(
    ("code", "day", "closed_by"),
    [
        ("UK", date(2026, 12, 25), "UK: bank holiday 2026-12-25 (Christmas Day)"),
        ("UK", date(2026, 12, 24), None),
        ("IN", date(2026, 1, 26), "IN: gazetted holiday 2026-01-26 (Republic Day)"),
        ("ID", date(2026, 8, 17), "ID: national holiday 2026-08-17 (Independence Day)"),
        ("ID", date(2026, 12, 6), "ID POJK 22/2023: Monday–Saturday: no visits on a Sunday (2026-12-06)"),
        ("ID", date(2026, 12, 5), None),  # a Saturday
        ("US", date(2026, 12, 25), None),  # Regulation F names no holidays
        ("PH", date(2026, 12, 25), None),
    ],
)
def test_each_pack_keeps_its_own_days(code: str, day: date, closed_by: str | None) -> None:
    closed = closed_day(rules(code), day)

    assert (closed.detail if closed else None) == closed_by


@pytest.mark.parametrize(
    ("code", "subdivision", "day", "closed_by"),
    [
        ("UK", "SCT", date(2027, 1, 4), "UK: bank holiday in Scotland 2027-01-04 (New Year Holiday (observed))"),
        ("UK", "ENG", date(2027, 1, 4), None),  # 2 January is Scotland's alone
        ("UK", "NIR", date(2027, 3, 17), "UK: bank holiday in Northern Ireland 2027-03-17 (Saint Patrick's Day)"),
        ("UK", "ENG", date(2027, 3, 17), None),
        ("UK", "ENG", date(2026, 12, 25), "UK: bank holiday in England 2026-12-25 (Christmas Day)"),
        ("IN", "MH", date(2026, 9, 14), "IN: gazetted holiday in Maharashtra 2026-09-14 (Ganesh Chaturthi)"),
        ("IN", None, date(2026, 9, 14), None),  # no state known: the national gazetted holidays alone
    ],
)
def test_a_holiday_is_the_one_of_the_addresss_nation_or_state(
    code: str, subdivision: str | None, day: date, closed_by: str | None
) -> None:
    closed = closed_day(rules(code), day, subdivision=subdivision)

    assert (closed.detail if closed else None) == closed_by


def test_the_door_and_the_planner_keep_the_addresss_own_holidays() -> None:
    london, day = ZoneInfo("Europe/London"), date(2027, 1, 4)
    uk, ten = rules("UK", "Europe/London"), datetime(2027, 1, 4, 10, tzinfo=ZoneInfo("Europe/London"))

    shut = door_closed(uk, ten, day, london, subdivision="SCT")
    no_start = visit_starts(uk, day, london, 1800, subdivision="SCT")

    assert shut is not None and shut.door_rule is DoorRule.VISITING_DAY and "in Scotland" in shut.detail
    assert isinstance(no_start, Closed) and no_start.detail == shut.detail
    assert door_closed(uk, ten, day, london, subdivision="ENG") is None
    assert visit_starts(uk, day, london, 1800, subdivision="ENG") != []


def test_indonesia_allows_a_visit_outside_the_hours_with_the_debtors_consent_and_india_allows_none() -> None:
    jakarta, kolkata = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Kolkata")
    late_in_jakarta, late_in_kolkata = (
        datetime(2026, 12, 2, 20, 5, tzinfo=jakarta),
        datetime(2026, 12, 2, 19, 5, tzinfo=kolkata),
    )
    indonesia = door_closed(rules("ID", "Asia/Jakarta"), late_in_jakarta, WORK_DATE, jakarta)
    india = door_closed(rules("IN", "Asia/Kolkata"), late_in_kolkata, WORK_DATE, kolkata)

    assert indonesia is not None and indonesia.override and indonesia.consent
    assert india is not None and not india.override


def test_the_uk_allows_an_override_on_a_bank_holiday_and_indonesia_does_not() -> None:
    uk, indonesia = closed_day(rules("UK"), date(2026, 12, 25)), closed_day(rules("ID"), date(2026, 8, 17))

    assert uk is not None and uk.override and indonesia is not None and not indonesia.override


def test_a_visit_starts_inside_the_hours_and_ends_by_their_close() -> None:
    spans = visit_starts(rules(), WORK_DATE, SHANGHAI, service_s=30 * 60)

    assert spans == [Span(datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI), datetime(2026, 12, 2, 20, 30, tzinfo=SHANGHAI))]


def test_the_debtors_window_and_inconvenient_times_narrow_the_starts() -> None:
    spans = visit_starts(
        rules(), WORK_DATE, SHANGHAI, 30 * 60, preferred=(time(9), time(17)), avoid=[(time(12), time(13, 30))]
    )

    assert spans == [
        Span(datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI), datetime(2026, 12, 2, 11, 30, tzinfo=SHANGHAI)),
        Span(datetime(2026, 12, 2, 13, 30, tzinfo=SHANGHAI), datetime(2026, 12, 2, 17, 0, tzinfo=SHANGHAI)),
    ]


def test_a_window_outside_the_hours_leaves_no_start_and_says_which_rule() -> None:
    closed = visit_starts(rules("IN", "Asia/Kolkata"), WORK_DATE, ZoneInfo("Asia/Kolkata"), 1800, (time(19), time(20)))

    assert isinstance(closed, Closed) and closed.door_rule is DoorRule.VISITING_HOURS
    assert "IN RBI recovery agents: only 08:00–19:00 at the debtor's location" in closed.detail


def test_a_holiday_leaves_no_start() -> None:
    closed = visit_starts(rules(), date(2026, 10, 1), SHANGHAI, 1800)

    assert isinstance(closed, Closed) and closed.detail == "CN: public holiday 2026-10-01 (National Day)"


def test_a_branch_may_keep_stricter_hours_and_is_named_for_them() -> None:
    branch = rules(visiting_from=time(9), visiting_until=time(20))
    late = door_closed(branch, datetime.combine(WORK_DATE, time(20), tzinfo=SHANGHAI), WORK_DATE, SHANGHAI)

    assert (branch.opens, branch.closes) == (time(9), time(20))
    assert late is not None and late.rule.label == "branch hours 09:00–20:00"
    assert "stricter than CN" in late.rule.source
    looser = rules(visiting_from=time(7), visiting_until=time(22))
    assert (looser.opens, looser.closes) == (time(8), time(21))  # never looser than the pack, whatever is stored
