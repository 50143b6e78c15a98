"""Whether the door may open now: the sheet's work date, the legal visiting hours and days at the address, a
supervisor's override where the pack allows one, and the case's eligibility."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.db import utcnow
from api.geo import point_shape
from api.models.branches import Branch
from api.models.cases import Address
from api.models.sheets import VisitSheet
from api.models.visit_requests import VisitRequest
from api.models.visits import Visit
from api.problems import Conflict, problem_members
from api.rules.branch import BranchRules
from api.rules.eligibility import EligibilityFlag
from api.rules.hours import Closed, DoorRule, door_closed, hours_detail
from api.rules.subdivisions import address_subdivision
from api.rules.zones import zone_at
from api.sheets import eligibility
from api.visits.schemas import HoursOverrideCreate

_DOOR_MEMBERS = problem_members(
    rule=(DoorRule, "The rule: `work_date`, `visiting_hours` or `visiting_day` (a public holiday, say)."),
    rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `US §1006.6(b)(1)`, `CN: public holiday`."),
    rule_source=(str, "Where the rule comes from."),
    pack=(str, "The branch's jurisdiction pack, e.g. `CN`."),
    override_allowed=(bool, "Whether a supervisor's written override lets the visit go ahead anyway."),
    override_needs_consent=(bool, "Whether that override must record the debtor's consent (`debtor_consent`)."),
    work_date=(date, "The sheet's work date."),
    local_time=(str, "The time now at the address, HH:MM in its own time zone."),
    timezone=(str, "The address's time zone."),
    visiting_from=(str, "The visiting hours begin, HH:MM local time at the address."),
    visiting_until=(str, "They end, HH:MM local time."),
)


class NotTheWorkDate(Conflict):
    title = "The sheet is for another day"
    slug = "not-the-work-date"
    members = _DOOR_MEMBERS


class OutsideVisitingHours(Conflict):
    title = "Outside the legal visiting hours at the address"
    slug = "outside-visiting-hours"
    members = _DOOR_MEMBERS


class NotAVisitingDay(Conflict):
    title = "No visits on this day at the address"
    slug = "not-a-visiting-day"
    members = _DOOR_MEMBERS


class VisitNotEligible(Conflict):
    title = "The case keeps this visit from the door now"
    slug = "visit-not-eligible"
    members = problem_members(
        flag=(EligibilityFlag, "What holds it: a case flag in force (e.g. `attorney`) or `visit_cap`."),
        rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `US §1006.6(b)(2)`, `CN: represented`."),
        rule_source=(str, "Where the rule comes from."),
        release_allowed=(
            bool,
            "Whether a supervisor may release the request from it, with a reason (POST"
            " /visit-requests/{id}/eligibility-releases); an inconvenient time is waited out instead.",
        ),
    )


class OverrideNotAllowed(Conflict):
    title = "The jurisdiction allows no override of this rule"
    slug = "override-not-allowed"
    members = problem_members(
        rule=(DoorRule, "The rule: `work_date`, `visiting_hours` or `visiting_day`."),
        rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `IN: RBI hours`."),
        rule_source=(str, "Where the rule comes from."),
        pack=(str, "The branch's jurisdiction pack, e.g. `IN`."),
    )


class OverrideNeedsConsent(Conflict):
    title = "The jurisdiction allows this override only with the debtor's consent"
    slug = "override-needs-consent"
    members = problem_members(
        rule=(DoorRule, "The rule: `visiting_hours`."),
        rule_label=(str, "The rule as its jurisdiction's pack names it, e.g. `ID POJK 22/2023 Pasal 62(2)f`."),
        rule_source=(str, "Where the rule comes from."),
        pack=(str, "The branch's jurisdiction pack, e.g. `ID`."),
    )


CONSENT_MIN_CHARS = 10


_DOOR_PROBLEMS = {
    DoorRule.WORK_DATE: NotTheWorkDate,
    DoorRule.VISITING_HOURS: OutsideVisitingHours,
    DoorRule.VISITING_DAY: NotAVisitingDay,
}


def _door_now(
    session: Session, visit: Visit, sheet: VisitSheet
) -> tuple[BranchRules, ZoneInfo, datetime, Closed | None]:
    """The branch's rules, the address's time zone, now, and the rule that shuts the visit's door now (None: open):
    the hours in the address's zone, the holidays of its nation or state as its text stands now."""
    rules = branches_service.rules_of(session.get_one(Branch, visit.branch_id))
    address = session.get_one(Address, visit.address_id)
    point = point_shape(address.point)
    zone, subdivision = zone_at(point.y, point.x, rules.timezone), address_subdivision(rules.pack, address.raw_text)
    now = utcnow()
    return rules, zone, now, door_closed(rules, now, sheet.work_date, zone, subdivision=subdivision)


def ensure_door_open(session: Session, visit: Visit, sheet: VisitSheet) -> None:
    """On the sheet's work date and inside the legal hours at the address (its own time zone), on a day its
    jurisdiction visits; or with a supervisor's written override where the rule broken allows one."""
    rules, zone, now, closed = _door_now(session, visit, sheet)
    if closed is None or _overridden(visit, closed):
        return
    advice = (
        "A supervisor may allow it with a reason (POST .../hours-override)"
        if closed.override
        else f"No override is allowed ({closed.rule.label})"
    )
    raise _DOOR_PROBLEMS[closed.door_rule](
        f"Not now: {closed.detail}. {advice}.",
        rule=closed.door_rule,
        rule_label=closed.rule.label,
        rule_source=closed.rule.source,
        pack=rules.pack.code.value,
        override_allowed=closed.override,
        override_needs_consent=closed.consent,
        work_date=sheet.work_date,
        local_time=now.astimezone(zone).strftime("%H:%M"),
        timezone=zone.key,
        visiting_from=rules.opens.strftime("%H:%M"),
        visiting_until=rules.closes.strftime("%H:%M"),
    )


def _overridden(visit: Visit, closed: Closed) -> bool:
    """A supervisor's override lets the visit past the rule: one the rule allows, with the debtor's consent recorded
    where the rule needs it."""
    consented = bool(visit.hours_override_consent) or not closed.consent
    return closed.override and bool(visit.hours_override_reason) and consented


def ensure_override_allowed(session: Session, visit: Visit, sheet: VisitSheet, data: HoursOverrideCreate) -> None:
    """The rule keeping the door shut now allows a supervisor's written override; while the door is open, the pack
    allows overriding the visiting hours (an override asked ahead, for a visit that may run late). Where the pack
    allows it only with the debtor's consent, the override says how it was given."""
    rules, _, _, closed = _door_now(session, visit, sheet)
    if closed is None:
        hours = rules.pack.hours
        closed = Closed(DoorRule.VISITING_HOURS, rules.hours_rule, hours_detail(rules), hours.override, hours.consent)
    pack = rules.pack.code.value
    members = {"rule": closed.door_rule, "rule_label": closed.rule.label, "rule_source": closed.rule.source}
    if not closed.override:
        raise OverrideNotAllowed(f"{closed.detail}; the {pack} pack allows no override of it.", pack=pack, **members)
    if closed.consent and len(data.debtor_consent.strip()) < CONSENT_MIN_CHARS:
        raise OverrideNeedsConsent(
            f"{closed.detail}; the {pack} pack allows a visit then only with the debtor's consent: say how and when"
            f" the debtor gave it (`debtor_consent`, at least {CONSENT_MIN_CHARS} characters).",
            pack=pack,
            **members,
        )


def ensure_eligible(session: Session, visit: Visit, sheet: VisitSheet) -> None:
    """The case as it stands now lets the visit through its door: no restriction or visit cap in force and not
    released (set after the sheet was published too), and not a time the debtor said is inconvenient."""
    rules = branches_service.rules_of(session.get_one(Branch, visit.branch_id))
    request = session.get_one(VisitRequest, visit.visit_request_id)
    block = eligibility.door_block(session, rules, sheet.work_date, request, utcnow())
    if block is None:
        return
    advice = (
        "A supervisor may release the request from it with a reason"
        if block.release
        else "Not until it no longer holds"
    )
    raise VisitNotEligible(
        f"Not now: {block.detail}. {advice}.",
        flag=block.flag,
        rule_label=block.rule.label,
        rule_source=block.rule.source,
        release_allowed=block.release,
    )
