"""The jurisdiction packs: every file loads, names a source for each rule, and a malformed one is refused."""

import tomllib
from datetime import time
from importlib import resources
from typing import Any

import pytest

from api.rules.branch import looser_hours
from api.rules.packs import CaseFlag, Jurisdiction, pack, parse_pack
from api.rules.zones import zone_at


@pytest.mark.parametrize("code", list(Jurisdiction))
def test_every_pack_loads_and_cites_a_source_for_each_rule(code: Jurisdiction) -> None:
    loaded = pack(code)

    assert loaded.code is code and loaded.version
    rules = [loaded.hours.rule, loaded.days.rule, loaded.retention, loaded.third_parties, loaded.visit_cap.rule]
    rules += [rule.rule for rule in loaded.eligibility.values()]
    rules += [loaded.holidays.rule] if loaded.holidays else []
    assert all(rule.label and rule.source for rule in rules)
    assert set(loaded.eligibility) == set(CaseFlag)


def test_the_packs_say_what_the_law_says() -> None:
    assert (pack("CN").hours.opens, pack("CN").hours.closes, pack("CN").retention_days) == (time(8), time(21), 730)
    assert pack("US").eligibility[CaseFlag.ATTORNEY].blocks and not pack("US").eligibility[CaseFlag.ATTORNEY].release
    assert pack("UK").eligibility[CaseFlag.VULNERABLE].blocks
    assert pack("IN").eligibility[CaseFlag.OPEN_COMPLAINT].blocks and pack("IN").hours.closes == time(19)
    assert not pack("CN").eligibility[CaseFlag.OPEN_COMPLAINT].blocks
    assert pack("ID").days.weekdays == frozenset(range(1, 7)) and pack("ID").hours.closes == time(20)
    assert (pack("PH").hours.opens, pack("PH").hours.closes) == (time(6), time(22))


def test_the_packs_say_whose_holidays_and_which_overrides_need_the_debtors_consent() -> None:
    uk, india, indonesia, china = (pack(code).holidays for code in ("UK", "IN", "ID", "CN"))

    assert uk is not None and uk.subdivisions and uk.default_subdivision == "ENG"
    assert india is not None and india.subdivisions and india.default_subdivision is None
    assert indonesia is not None and not indonesia.subdivisions  # hari libur nasional: national only
    assert china is not None and not china.subdivisions
    assert pack("US").holidays is None  # Regulation F names no holidays, federal or state
    assert pack("ID").hours.override and pack("ID").hours.consent  # POJK 22/2023 Pasal 62(3)
    assert not pack("IN").hours.override
    assert pack("UK").hours.rule.label == "UK CONC 7.9.4R" and "MCOB 13.5.4G" in pack("UK").hours.rule.source


def _cn() -> dict[str, Any]:
    return tomllib.loads(resources.files("api.rules.jurisdictions").joinpath("cn.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda data: data.pop("hours"), "missing or malformed"),
        (lambda data: data["hours"].update({"from": "22:00"}), "hours open at or after they close"),
        (lambda data: data["days"].update({"weekdays": [0, 1]}), "weekdays are 1 (Monday) to 7"),
        (lambda data: data["eligibility"].pop("attorney"), "eligibility must name each of"),
        (lambda data: data["eligibility"]["bereavement"].pop("quiet_days"), "bereavement needs quiet_days"),
        (lambda data: data["holidays"].update({"calendar": "mine"}), "unknown holiday calendar"),
        (lambda data: data["holidays"].update({"subdivisions": True}), "only the holidays package keeps holidays by"),
        (
            lambda data: data["holidays"].update(
                {"calendar": "holidays", "subdivisions": True, "default_subdivision": "X"}
            ),
            "'X' is not a subdivision of CN's calendar",
        ),
        (lambda data: data["hours"].update({"override": False, "consent": True}), "consent only qualifies an override"),
        (lambda data: data.update({"code": "XX"}), "'XX' is not a valid Jurisdiction"),
    ],
)
def test_a_malformed_pack_is_refused_saying_what_is_wrong(change: Any, complaint: str) -> None:
    data = _cn()
    change(data)

    with pytest.raises(ValueError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse_pack(data)


def test_a_branch_may_only_be_stricter_than_its_pack() -> None:
    assert looser_hours(pack("CN"), time(9), time(20)) is None
    assert looser_hours(pack("CN"), None, None) is None
    assert (
        looser_hours(pack("CN"), time(7, 30), None) == "CN visits start at 08:00 at the earliest (CN NIFA convention)"
    )
    assert looser_hours(pack("IN"), None, time(20)) == "IN visits end by 19:00 at the latest (IN RBI recovery agents)"


@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (31.23, 121.47, "Asia/Shanghai"),
        (34.05, -118.24, "America/Los_Angeles"),
        (41.88, -87.63, "America/Chicago"),
        (51.51, -0.13, "Europe/London"),
        (-6.2, 106.85, "Asia/Jakarta"),
        (14.6, 120.98, "Asia/Manila"),
    ],
)
def test_the_time_zone_comes_from_the_point(lat: float, lon: float, zone: str) -> None:
    assert zone_at(lat, lon, "UTC").key == zone
