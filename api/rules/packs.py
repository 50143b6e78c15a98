"""Jurisdiction rule packs: the law (and the firm's policy) of one country as a versioned data file in
`api/rules/jurisdictions/`, each rule with the label that reasons and problems show and the source it comes from."""

import tomllib
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal

import holidays

DEFAULT_PACK = "CN"


class Jurisdiction(StrEnum):
    """The rule pack a branch follows: `CN` China (mainland), `US` Regulation F, `UK` FCA CONC 7, `IN` RBI, `ID`
    POJK 22/2023, `PH` SEC MC 18 s.2019."""

    CN = "CN"
    US = "US"
    UK = "UK"
    IN = "IN"
    ID = "ID"
    PH = "PH"


class CaseFlag(StrEnum):
    """What may keep a case from being visited, as a pack's `eligibility` keys name them."""

    OPEN_COMPLAINT = "open_complaint"
    ATTORNEY = "attorney"  # the debtor is represented by a lawyer
    VULNERABLE = "vulnerable"  # known to be particularly vulnerable
    BEREAVEMENT = "bereavement"  # a death in the family: a quiet period
    INCONVENIENT = "inconvenient"  # times and places the debtor said are inconvenient


@dataclass(frozen=True, slots=True)
class Rule:
    label: str  # how reasons and problems name it, e.g. "US §1006.6(b)(1)"
    source: str  # where it comes from


@dataclass(frozen=True, slots=True)
class Hours:
    opens: time
    closes: time
    rule: Rule
    override: bool  # a supervisor may allow a visit outside them, with a written reason
    consent: bool = False  # ... only with the debtor's consent to that time, recorded with the reason


@dataclass(frozen=True, slots=True)
class Days:
    weekdays: frozenset[int]  # ISO weekdays visits may happen on (1 = Monday)
    rule: Rule


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    calendar: Literal["chinese-calendar", "holidays"]
    country: str
    rule: Rule
    override: bool
    subdivisions: bool = False  # kept by part of the country: an address keeps its own part's holidays
    default_subdivision: str | None = None  # the part of an address that names none; None: the national days


@dataclass(frozen=True, slots=True)
class Eligibility:
    blocks: bool  # a case with the flag is not sent to the field
    release: bool  # a supervisor may release one request anyway, with a reason
    rule: Rule
    quiet_days: int | None = None  # bereavement: how long the quiet lasts


@dataclass(frozen=True, slots=True)
class VisitCap:
    visits: int  # at most this many visits of a case
    days: int  # in any this many days
    release: bool
    rule: Rule


@dataclass(frozen=True, slots=True)
class Pack:
    code: Jurisdiction
    name: str
    version: str
    hours: Hours
    days: Days
    holidays: HolidayCalendar | None
    retention_days: int
    retention: Rule
    third_parties: Rule
    eligibility: dict[CaseFlag, Eligibility]
    visit_cap: VisitCap


def _rule(section: dict[str, Any]) -> Rule:
    return Rule(label=str(section["rule"]), source=str(section["source"]))


def _holidays(section: dict[str, Any]) -> HolidayCalendar:
    return HolidayCalendar(
        section["calendar"],
        section["country"],
        _rule(section),
        bool(section["override"]),
        subdivisions=bool(section.get("subdivisions", False)),
        default_subdivision=section.get("default_subdivision"),
    )


def _hours(section: dict[str, Any]) -> Hours:
    override, consent = bool(section["override"]), bool(section.get("consent", False))
    return Hours(_time(section["from"]), _time(section["until"]), _rule(section), override, consent)


def _time(text: str) -> time:
    return time.fromisoformat(text)


def parse_pack(data: dict[str, Any]) -> Pack:
    """A pack from its file's TOML; ValueError saying what is wrong."""
    try:
        hours, days, records = data["hours"], data["days"], data["records"]
        calendar = data.get("holidays")
        cap = data["visit_cap"]
        pack = Pack(
            code=Jurisdiction(data["code"]),
            name=str(data["name"]),
            version=str(data["version"]),
            hours=_hours(hours),
            days=Days(frozenset(int(day) for day in days["weekdays"]), _rule(days)),
            holidays=None if calendar is None else _holidays(calendar),
            retention_days=int(records["retention_days"]),
            retention=_rule(records),
            third_parties=_rule(data["third_parties"]),
            eligibility={
                flag: Eligibility(
                    blocks=bool(section["blocks"]),
                    release=bool(section.get("release", True)),
                    rule=_rule(section),
                    quiet_days=section.get("quiet_days"),
                )
                for flag, section in ((CaseFlag(key), value) for key, value in data["eligibility"].items())
            },
            visit_cap=VisitCap(int(cap["visits"]), int(cap["days"]), bool(cap["release"]), _rule(cap)),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"rule pack {data.get('code')!r}: missing or malformed {error}") from error
    if pack.hours.opens >= pack.hours.closes:
        raise ValueError(f"rule pack {pack.code}: hours open at or after they close")
    if pack.hours.consent and not pack.hours.override:
        raise ValueError(f"rule pack {pack.code}: the debtor's consent only qualifies an override the pack allows")
    if not pack.days.weekdays <= set(range(1, 8)):
        raise ValueError(f"rule pack {pack.code}: weekdays are 1 (Monday) to 7")
    if pack.holidays is not None:
        _check_calendar(pack.code, pack.holidays)
    if set(pack.eligibility) != set(CaseFlag):
        raise ValueError(f"rule pack {pack.code}: eligibility must name each of {', '.join(CaseFlag)}")
    if pack.eligibility[CaseFlag.BEREAVEMENT].quiet_days is None:
        raise ValueError(f"rule pack {pack.code}: bereavement needs quiet_days")
    if pack.visit_cap.visits < 1 or pack.visit_cap.days < 1:
        raise ValueError(f"rule pack {pack.code}: visit_cap needs at least 1 visit in at least 1 day")
    return pack


def _check_calendar(code: Jurisdiction, calendar: HolidayCalendar) -> None:
    if calendar.calendar not in ("chinese-calendar", "holidays"):
        raise ValueError(f"rule pack {code}: unknown holiday calendar {calendar.calendar!r}")
    if calendar.subdivisions and calendar.calendar != "holidays":
        raise ValueError(f"rule pack {code}: only the holidays package keeps holidays by subdivision")
    default = calendar.default_subdivision
    if default is None:
        return
    if not calendar.subdivisions or default not in holidays.country_holidays(calendar.country).subdivisions:
        raise ValueError(f"rule pack {code}: {default!r} is not a subdivision of {calendar.country}'s calendar")


@cache
def pack(code: Jurisdiction | str) -> Pack:
    """The pack of a jurisdiction, read once from its file."""
    jurisdiction = Jurisdiction(code)
    data = resources.files("api.rules.jurisdictions").joinpath(f"{jurisdiction.lower()}.toml")
    text = data.read_text(encoding="utf-8")
    loaded = parse_pack(tomllib.loads(text))
    if loaded.code is not jurisdiction:
        raise ValueError(f"rule pack file {jurisdiction.lower()}.toml says it is {loaded.code}")
    return loaded
