"""When a visit may happen: on a day the jurisdiction visits (not a public holiday there, the address's own nation's
or state's where its pack keeps holidays by part of the country; not a weekday its pack excludes), inside the legal
hours at the debtor's location (the address's own time zone), and for a team at the door, on its sheet's work date
(the branch's clock)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

from api.rules.branch import BranchRules
from api.rules.packs import HolidayCalendar, Rule
from api.rules.subdivisions import subdivision_name

WORK_DATE_RULE = Rule("work date", "a sheet is worked on the day it was planned for")


class DoorRule(StrEnum):
    """The rule that keeps a team from checking in or starting a visit now."""

    WORK_DATE = "work_date"  # the sheet is for another day
    VISITING_HOURS = "visiting_hours"  # outside the legal hours at the address
    VISITING_DAY = "visiting_day"  # a public holiday there, or a weekday the jurisdiction does not visit on


@dataclass(frozen=True, slots=True)
class Closed:
    """Why no visit may happen then, in words that name the rule and its pack."""

    door_rule: DoorRule
    rule: Rule
    detail: str  # e.g. "CN: public holiday 2026-10-01 (National Day)"
    override: bool  # a supervisor may allow it with a written reason
    consent: bool = False  # ... only with the debtor's consent to the visit then, recorded


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of time, as aware datetimes."""

    start: datetime
    end: datetime


@lru_cache(maxsize=64)
def _country_holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    # the names in English, as the rules' other words: holidays' default is the country's own language (元旦), which
    # it used once the project moved to CPython 3.12 (tests/rules/test_hours.py failed with 元旦 for New Year's Day)
    return holidays.country_holidays(country, subdiv=subdivision, years=year, language="en_US")


@lru_cache(maxsize=1024)
def holiday_name(calendar: HolidayCalendar, day: date, subdivision: str | None = None) -> str | None:
    """The public holiday `day` is in the calendar's country (in its `subdivision`, e.g. "SCT", where the calendar
    is kept by part of the country; None: the national days), or None. China's calendar knows its adjusted working
    days (调休): a weekend worked in exchange is no holiday, a weekday taken off is one; for a year it has no data
    for yet, the statutory days alone are used."""
    if calendar.calendar == "chinese-calendar":
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            pass
        else:
            return name if on_holiday and name else None  # an ordinary weekend is a day off but no holiday
    return _country_holidays(calendar.country, subdivision, day.year).get(day)


def closed_day(rules: BranchRules, day: date, *, subdivision: str | None = None) -> Closed | None:
    """Why no visit happens on `day` (the debtor's local date) at an address in `subdivision` (see
    `api.rules.subdivisions.address_subdivision`), or None."""
    pack = rules.pack
    if day.isoweekday() not in pack.days.weekdays:
        detail = f"{pack.days.rule.label}: no visits on a {day:%A} ({day.isoformat()})"
        return Closed(DoorRule.VISITING_DAY, pack.days.rule, detail, override=False)
    if pack.holidays is not None:
        name = holiday_name(pack.holidays, day, subdivision)
        if name is not None:
            where = f" in {subdivision_name(pack.holidays, subdivision)}" if subdivision else ""
            detail = f"{pack.holidays.rule.label}{where} {day.isoformat()} ({name})"
            return Closed(DoorRule.VISITING_DAY, pack.holidays.rule, detail, override=pack.holidays.override)
    return None


def hours_detail(rules: BranchRules) -> str:
    return f"{rules.hours_rule.label}: only {rules.opens:%H:%M}–{rules.closes:%H:%M} at the debtor's location"


def window_meets_hours(rules: BranchRules, start: time, end: time) -> bool:
    """Whether a debtor's preferred window (local time at the address) overlaps the legal hours."""
    return start < rules.closes and end > rules.opens


def visit_starts(
    rules: BranchRules,
    day: date,
    zone: ZoneInfo,
    service_s: int,
    preferred: tuple[time, time] | None = None,
    avoid: Sequence[tuple[time, time]] = (),
    *,
    subdivision: str | None = None,
) -> list[Span] | Closed:
    """When a visit of `service_s` may start on `day` at a place in `zone`: inside the legal hours (ending by their
    close), inside the debtor's `preferred` window if any, and out of the times the debtor said are inconvenient
    (`avoid`, the visit not overlapping them); all in the place's local time; the place's holidays are those of
    its `subdivision`. Empty or closed: why."""
    closed = closed_day(rules, day, subdivision=subdivision)
    if closed is not None:
        return closed
    # seconds of the local day: cheap to compare, and wall-clock arithmetic is what local hours mean
    start, end = seconds_of(rules.opens), seconds_of(rules.closes) - service_s
    if preferred is not None:
        start, end = max(start, seconds_of(preferred[0])), min(end, seconds_of(preferred[1]))
    spans = [(start, end)] if start <= end else []
    for since, until in avoid:
        # a start in (since - service, until) would overlap the inconvenient time
        cut_from, cut_to = seconds_of(since) - service_s, seconds_of(until)
        spans = [piece for span in spans for piece in _cut(span, cut_from, cut_to)]
    if not spans:
        why = "its preferred window" if preferred is not None else "its length"
        detail = f"{why} leaves no start inside the hours: {hours_detail(rules)}"
        if avoid:
            detail += ", out of the debtor's inconvenient times"
        return Closed(DoorRule.VISITING_HOURS, rules.hours_rule, detail, override=False)
    midnight = datetime.combine(day, time(0), zone)
    return [Span(midnight + timedelta(seconds=first), midnight + timedelta(seconds=last)) for first, last in spans]


def seconds_of(moment: time) -> int:
    """A wall-clock time as seconds after midnight."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _cut(span: tuple[int, int], cut_from: int, cut_to: int) -> list[tuple[int, int]]:
    """`span` without the open interval (cut_from, cut_to)."""
    start, end = span
    pieces = []
    if start <= cut_from:
        pieces.append((start, min(end, cut_from)))
    if end >= cut_to:
        pieces.append((max(start, cut_to), end))
    return pieces


def door_closed(
    rules: BranchRules, now: datetime, work_date: date, zone: ZoneInfo, *, subdivision: str | None = None
) -> Closed | None:
    """The rule broken by being at the door of a place in `zone` (and `subdivision`, for its holidays) at `now`, for
    a sheet of `work_date`; None when allowed."""
    at_branch = now.astimezone(ZoneInfo(rules.timezone))
    if at_branch.date() != work_date:
        detail = f"this sheet is for {work_date.isoformat()}, and it is {at_branch:%Y-%m-%d} at the branch"
        return Closed(DoorRule.WORK_DATE, WORK_DATE_RULE, detail, override=True)
    local = now.astimezone(zone)
    closed = closed_day(rules, local.date(), subdivision=subdivision)
    if closed is not None:
        return closed
    if not rules.opens <= local.time().replace(tzinfo=None) < rules.closes:
        detail = f"it is {local:%H:%M} at the address; {hours_detail(rules)}"
        hours = rules.pack.hours
        return Closed(DoorRule.VISITING_HOURS, rules.hours_rule, detail, hours.override, hours.consent)
    return None
