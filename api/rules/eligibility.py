"""Whether a visit request may go to the field on a date: the case's restrictions its jurisdiction's pack blocks on
(an open complaint, an attorney, a particularly vulnerable debtor, a bereavement's quiet period, a place the debtor
said is inconvenient) and the pack's cap on visits of a case in a rolling period. A supervisor's release lets one
request through a block where the pack allows it. The debtor's inconvenient times block nothing: the visit is
planned around them."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from uuid import UUID

from api.rules.packs import CaseFlag, Pack, Rule


class EligibilityFlag(StrEnum):
    """What keeps a request off the sheets, as a block and a release name it: a case flag, or the visit cap."""

    OPEN_COMPLAINT = CaseFlag.OPEN_COMPLAINT.value
    ATTORNEY = CaseFlag.ATTORNEY.value
    VULNERABLE = CaseFlag.VULNERABLE.value
    BEREAVEMENT = CaseFlag.BEREAVEMENT.value
    INCONVENIENT = CaseFlag.INCONVENIENT.value
    VISIT_CAP = "visit_cap"


@dataclass(frozen=True, slots=True)
class Restriction:
    """A flag set on a case (not lifted), from `starts_on` to `ends_on` (inclusive; None: open-ended). An
    `inconvenient` one names times (local at the address) and/or an address of the case."""

    flag: CaseFlag
    starts_on: date
    ends_on: date | None = None
    note: str = ""
    time_from: time | None = None
    time_until: time | None = None
    address_id: UUID | None = None

    def last_day(self, pack: Pack) -> date | None:
        """The last day it is in force; a bereavement without an end is quiet for the pack's days."""
        quiet_days = pack.eligibility[CaseFlag.BEREAVEMENT].quiet_days
        if self.flag is CaseFlag.BEREAVEMENT and self.ends_on is None and quiet_days is not None:
            return self.starts_on + timedelta(days=quiet_days - 1)
        return self.ends_on

    def in_force(self, pack: Pack, day: date) -> bool:
        last = self.last_day(pack)
        return self.starts_on <= day and (last is None or day <= last)


@dataclass(frozen=True, slots=True)
class Block:
    """Why a request may not go to the field, in words that name the pack's rule."""

    flag: EligibilityFlag
    rule: Rule
    detail: str  # e.g. "US §1006.6(b)(2): represented by an attorney since 2026-11-20"
    release: bool  # a supervisor may release the request anyway, with a reason


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the gate decided for one request on one date."""

    blocks: tuple[Block, ...] = ()  # not released: the request is left out
    released: tuple[Block, ...] = ()  # blocks a supervisor released for this request
    avoid: tuple[tuple[time, time], ...] = ()  # the debtor's inconvenient times, local at the address

    @property
    def eligible(self) -> bool:
        return not self.blocks

    @property
    def detail(self) -> str:
        return "; ".join(block.detail for block in self.blocks)


ELIGIBLE = Verdict()

_SINCE = {
    CaseFlag.OPEN_COMPLAINT: "an open complaint",
    CaseFlag.ATTORNEY: "represented by an attorney",
    CaseFlag.VULNERABLE: "known to be particularly vulnerable",
}


def release_rule(pack: Pack, flag: EligibilityFlag) -> tuple[Rule, bool]:
    """The pack's rule for `flag`, and whether it lets a supervisor release a request from it."""
    if flag is EligibilityFlag.VISIT_CAP:
        return pack.visit_cap.rule, pack.visit_cap.release
    eligibility = pack.eligibility[CaseFlag(flag.value)]
    return eligibility.rule, eligibility.release


def check_eligibility(
    pack: Pack,
    restrictions: Iterable[Restriction],
    address_id: UUID,
    work_date: date,
    visit_dates: Iterable[date] = (),
    released: Collection[EligibilityFlag] = (),
) -> Verdict:
    """The gate for a request at `address_id` on `work_date`, given the case's restrictions, the dates of its
    earlier visits and the flags released for this request (a release counts only where the pack allows one).
    A flag the pack does not block on blocks nothing; one block per flag, the earliest restriction's."""
    found: dict[EligibilityFlag, Block] = {}
    avoid: list[tuple[time, time]] = []
    for restriction in sorted(restrictions, key=lambda each: each.starts_on):
        if not restriction.in_force(pack, work_date):
            continue
        if restriction.time_from is not None and restriction.time_until is not None:
            if restriction.address_id is None or restriction.address_id == address_id:
                avoid.append((restriction.time_from, restriction.time_until))
            continue  # times at a place: that place is inconvenient only then
        eligibility = pack.eligibility[restriction.flag]
        flag = EligibilityFlag(restriction.flag.value)
        if not eligibility.blocks or flag in found:
            continue
        detail = _detail(pack, restriction, address_id)
        if detail is not None:
            found[flag] = Block(flag, eligibility.rule, f"{eligibility.rule.label}: {detail}", eligibility.release)
    cap = visit_cap_block(pack, work_date, visit_dates)
    if cap is not None:
        found[EligibilityFlag.VISIT_CAP] = cap
    blocks = [found[flag] for flag in EligibilityFlag if flag in found]
    return Verdict(
        blocks=tuple(block for block in blocks if not (block.release and block.flag in released)),
        released=tuple(block for block in blocks if block.release and block.flag in released),
        avoid=tuple(sorted(set(avoid))),
    )


def _detail(pack: Pack, restriction: Restriction, address_id: UUID) -> str | None:
    """The block in words, or None when the restriction does not bear on this request."""
    since = restriction.starts_on.isoformat()
    match restriction.flag:
        case CaseFlag.BEREAVEMENT:
            last = restriction.last_day(pack)
            return f"bereavement, quiet from {since} until {last.isoformat() if last else 'further notice'}"
        case CaseFlag.INCONVENIENT:
            if restriction.address_id != address_id:
                return None
            return f"the debtor said this address is inconvenient (since {since})"
        case flag:
            return f"{_SINCE[flag]} since {since}"


def visit_cap_block(pack: Pack, work_date: date, visit_dates: Iterable[date]) -> Block | None:
    """The block when the case was visited the pack's most times in its rolling days up to `work_date`."""
    cap = pack.visit_cap
    first = work_date - timedelta(days=cap.days - 1)
    counted = sorted(day for day in visit_dates if first <= day <= work_date)
    if len(counted) < cap.visits:
        return None
    detail = (
        f"{cap.rule.label}: {len(counted)} visits from {first.isoformat()} to {work_date.isoformat()} "
        f"(the last on {counted[-1].isoformat()})"
    )
    return Block(EligibilityFlag.VISIT_CAP, cap.rule, detail, cap.release)
