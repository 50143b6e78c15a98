"""The eligibility gate on plain values: which restrictions block under which pack, for how long, the visit cap's
rolling period, and releases."""

from datetime import date, time, timedelta
from uuid import uuid4

import pytest

from api.rules.eligibility import EligibilityFlag, Restriction, check_eligibility, release_rule
from api.rules.packs import CaseFlag, pack

HOME, WORK = uuid4(), uuid4()
DAY = date(2026, 12, 10)
SINCE = date(2026, 11, 20)


def _flags(code: str, *restrictions: Restriction, **given: object) -> list[EligibilityFlag]:
    verdict = check_eligibility(pack(code), restrictions, HOME, DAY, **given)  # type: ignore[arg-type]
    return [block.flag for block in verdict.blocks]


# what each pack does with each flag set on a case since SINCE, for a request at HOME
BLOCKS = {
    "CN": {"open_complaint": False, "attorney": True, "vulnerable": True},
    "US": {"open_complaint": False, "attorney": True, "vulnerable": True},
    "IN": {"open_complaint": True, "attorney": True, "vulnerable": True},
}


@pytest.mark.parametrize(
    ("code", "flag", "blocks"),
    [(code, flag, blocks) for code, flags in BLOCKS.items() for flag, blocks in flags.items()],
)
def test_a_flag_blocks_where_its_pack_says_so(code: str, flag: str, blocks: bool) -> None:
    restriction = Restriction(CaseFlag(flag), SINCE)

    verdict = check_eligibility(pack(code), [restriction], HOME, DAY)

    assert verdict.eligible is not blocks
    if blocks:
        [block] = verdict.blocks
        rule = pack(code).eligibility[CaseFlag(flag)].rule
        assert block.flag == flag and block.rule == rule
        assert block.detail.startswith(f"{rule.label}: ") and "since 2026-11-20" in block.detail


def test_the_detail_names_the_rule_in_words() -> None:
    verdict = check_eligibility(pack("US"), [Restriction(CaseFlag.ATTORNEY, SINCE)], HOME, DAY)

    assert verdict.detail == "US §1006.6(b)(2): represented by an attorney since 2026-11-20"
    assert verdict.blocks[0].release is False


@pytest.mark.parametrize("code", ["CN", "US", "IN"])
@pytest.mark.parametrize(
    ("offset", "quiet"), [(-1, False), (0, True), (29, True), (30, False)]
)  # the day before it, its first day, the 30th quiet day, the day after
def test_a_bereavement_is_quiet_for_the_packs_days_from_its_start(code: str, offset: int, quiet: bool) -> None:
    assert pack(code).eligibility[CaseFlag.BEREAVEMENT].quiet_days == 30
    death = DAY - timedelta(days=offset)

    flags = _flags(code, Restriction(CaseFlag.BEREAVEMENT, death))

    assert flags == ([EligibilityFlag.BEREAVEMENT] if quiet else [])


def test_a_bereavement_with_an_end_is_quiet_until_then() -> None:
    death = DAY - timedelta(days=40)

    assert _flags("CN", Restriction(CaseFlag.BEREAVEMENT, death, ends_on=DAY)) == [EligibilityFlag.BEREAVEMENT]
    assert (
        _flags("CN", Restriction(CaseFlag.BEREAVEMENT, DAY - timedelta(days=3), ends_on=DAY - timedelta(days=1))) == []
    )
    detail = check_eligibility(pack("CN"), [Restriction(CaseFlag.BEREAVEMENT, death, ends_on=DAY)], HOME, DAY).detail
    assert detail == f"CN: bereavement quiet period: bereavement, quiet from {death.isoformat()} until 2026-12-10"


def test_a_restriction_holds_from_its_start_to_its_end() -> None:
    assert _flags("US", Restriction(CaseFlag.VULNERABLE, DAY + timedelta(days=1))) == []
    assert _flags("US", Restriction(CaseFlag.VULNERABLE, SINCE, ends_on=DAY)) == [EligibilityFlag.VULNERABLE]
    assert _flags("US", Restriction(CaseFlag.VULNERABLE, SINCE, ends_on=DAY - timedelta(days=1))) == []


@pytest.mark.parametrize("code", ["CN", "US", "IN"])
def test_an_inconvenient_place_blocks_requests_there_only(code: str) -> None:
    place = Restriction(CaseFlag.INCONVENIENT, SINCE, address_id=HOME)

    at_home = check_eligibility(pack(code), [place], HOME, DAY)
    at_work = check_eligibility(pack(code), [place], WORK, DAY)

    assert [block.flag for block in at_home.blocks] == [EligibilityFlag.INCONVENIENT]
    assert "this address is inconvenient" in at_home.detail
    assert at_work.eligible and at_work.avoid == ()


@pytest.mark.parametrize("code", ["CN", "US", "IN"])
def test_inconvenient_times_are_avoided_not_blocked(code: str) -> None:
    mornings = Restriction(CaseFlag.INCONVENIENT, SINCE, time_from=time(8), time_until=time(12))
    evenings_at_work = Restriction(
        CaseFlag.INCONVENIENT, SINCE, time_from=time(18), time_until=time(21), address_id=WORK
    )

    at_home = check_eligibility(pack(code), [mornings, evenings_at_work], HOME, DAY)
    at_work = check_eligibility(pack(code), [mornings, evenings_at_work], WORK, DAY)

    assert at_home.eligible and at_home.avoid == ((time(8), time(12)),)
    assert at_work.eligible and at_work.avoid == ((time(8), time(12)), (time(18), time(21)))


def test_times_no_longer_in_force_are_not_avoided() -> None:
    ended = Restriction(
        CaseFlag.INCONVENIENT, SINCE, ends_on=DAY - timedelta(days=1), time_from=time(8), time_until=time(12)
    )

    assert check_eligibility(pack("CN"), [ended], HOME, DAY).avoid == ()


@pytest.mark.parametrize(("code", "visits", "days"), [("CN", 3, 30), ("US", 2, 7), ("IN", 3, 30)])
def test_the_visit_cap_counts_visits_in_the_rolling_days_up_to_the_work_date(code: str, visits: int, days: int) -> None:
    cap = pack(code).visit_cap
    assert (cap.visits, cap.days) == (visits, days)
    first = DAY - timedelta(days=days - 1)  # the oldest day that still counts
    inside = [first] * visits
    one_short = [first] * (visits - 1) + [first - timedelta(days=1)]

    assert _flags(code, visit_dates=inside) == [EligibilityFlag.VISIT_CAP]
    assert _flags(code, visit_dates=one_short) == []
    detail = check_eligibility(pack(code), [], HOME, DAY, inside).detail
    assert detail.startswith(f"{cap.rule.label}: {visits} visits from {first.isoformat()} to 2026-12-10")


def test_visits_after_the_work_date_do_not_count() -> None:
    assert _flags("US", visit_dates=[DAY + timedelta(days=1), DAY + timedelta(days=2)]) == []


def test_a_released_block_lets_the_request_through() -> None:
    restrictions = [Restriction(CaseFlag.ATTORNEY, SINCE), Restriction(CaseFlag.VULNERABLE, SINCE)]

    verdict = check_eligibility(
        pack("CN"), restrictions, HOME, DAY, [DAY] * 3, released={EligibilityFlag.ATTORNEY, EligibilityFlag.VISIT_CAP}
    )

    assert [block.flag for block in verdict.blocks] == [EligibilityFlag.VULNERABLE]
    assert [block.flag for block in verdict.released] == [EligibilityFlag.ATTORNEY, EligibilityFlag.VISIT_CAP]


@pytest.mark.parametrize(
    ("code", "flag"),
    [("US", CaseFlag.ATTORNEY), ("IN", CaseFlag.OPEN_COMPLAINT), ("IN", CaseFlag.BEREAVEMENT)],
)
def test_a_release_counts_only_where_the_pack_allows_one(code: str, flag: CaseFlag) -> None:
    restriction = Restriction(flag, DAY)

    verdict = check_eligibility(pack(code), [restriction], HOME, DAY, released={EligibilityFlag(flag.value)})

    assert [block.flag for block in verdict.blocks] == [flag]
    assert verdict.blocks[0].release is False and verdict.released == ()
    assert release_rule(pack(code), EligibilityFlag(flag.value)) == (pack(code).eligibility[flag].rule, False)


def test_each_flag_blocks_once_and_in_a_fixed_order() -> None:
    restrictions = [
        Restriction(CaseFlag.VULNERABLE, SINCE),
        Restriction(CaseFlag.ATTORNEY, SINCE + timedelta(days=2)),
        Restriction(CaseFlag.ATTORNEY, SINCE),
    ]

    verdict = check_eligibility(pack("IN"), restrictions, HOME, DAY)

    assert [block.flag for block in verdict.blocks] == [EligibilityFlag.ATTORNEY, EligibilityFlag.VULNERABLE]
    assert "since 2026-11-20" in verdict.blocks[0].detail  # the earliest one's
    assert release_rule(pack("US"), EligibilityFlag.VISIT_CAP) == (pack("US").visit_cap.rule, True)
