"""The eligibility gate where a day is planned, re-planned or pinned: the holding restrictions, the releases and the
earlier visits of the day's cases, each loaded in one query for all of them, and `api.rules.eligibility`'s verdict
for each request. The same gate holds at the door, as the case stands at that moment (`door_block`), and each
published stop shows what would hold it there (`stop_blocks`)."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.branches.rules import rules_of
from api.geo import point_shape
from api.models.branches import Branch
from api.models.cases import CaseRestriction
from api.models.sheets import OPEN_STOP_STATES, SheetStop, VisitSheet
from api.models.visit_requests import EligibilityRelease, VisitRequest
from api.models.visits import Visit  # read only: the dates a case was visited, for the pack's cap
from api.rules.branch import BranchRules
from api.rules.eligibility import ELIGIBLE, Block, EligibilityFlag, Restriction, Verdict, check_eligibility
from api.rules.packs import CaseFlag
from api.rules.zones import zone_at


def verdicts(
    session: Session, rules: BranchRules, work_date: date, requests: Sequence[VisitRequest]
) -> dict[UUID, Verdict]:
    """The gate's verdict for each request (by id) on `work_date`, in three queries whatever their number."""
    if not requests:
        return {}
    case_ids = sorted({request.case_id for request in requests})
    restrictions: dict[UUID, list[Restriction]] = defaultdict(list)
    holding = select(CaseRestriction).where(CaseRestriction.case_id.in_(case_ids), CaseRestriction.lifted_at.is_(None))
    for row in session.scalars(holding):
        restrictions[row.case_id].append(
            Restriction(row.flag, row.starts_on, row.ends_on, row.note, row.time_from, row.time_until, row.address_id)
        )
    released: dict[UUID, set[EligibilityFlag]] = defaultdict(set)
    releases = select(EligibilityRelease.visit_request_id, EligibilityRelease.flag).where(
        EligibilityRelease.visit_request_id.in_([request.id for request in requests])
    )
    for request_id, flag in session.execute(releases):
        released[request_id].add(flag)
    zone = ZoneInfo(rules.timezone)
    since = datetime.combine(work_date - timedelta(days=rules.pack.visit_cap.days), time(0), zone)
    visited: dict[UUID, list[date]] = defaultdict(list)
    started = select(Visit.case_id, Visit.started_at).where(Visit.case_id.in_(case_ids), Visit.started_at >= since)
    for case_id, started_at in session.execute(started):
        assert started_at is not None  # the query keeps started visits only
        visited[case_id].append(started_at.astimezone(zone).date())  # the branch's day, as the cap counts days
    return {
        request.id: check_eligibility(
            rules.pack,
            restrictions[request.case_id],
            request.address_id,
            work_date,
            visited[request.case_id],
            released[request.id],
        )
        if request.case_id in restrictions or request.case_id in visited
        else ELIGIBLE
        for request in requests
    }


def door_block(
    session: Session, rules: BranchRules, work_date: date, request: VisitRequest, moment: datetime
) -> Block | None:
    """What keeps the request's visit from its door at `moment` of `work_date`, as the case stands now: a restriction
    or the visit cap in force and not released, or a time the debtor said is inconvenient; None when nothing does."""
    return _first_block(rules, verdicts(session, rules, work_date, [request])[request.id], request, moment)


def stop_blocks(
    session: Session, sheets: Sequence[VisitSheet], requests: Mapping[UUID, VisitRequest]
) -> dict[tuple[UUID, UUID], Block]:
    """`door_block` of each stop of the sheets where nothing has started yet, at its planned start, by (sheet id,
    request id): three queries for each branch and date among them."""
    days: dict[tuple[UUID, date], list[tuple[VisitSheet, SheetStop]]] = defaultdict(list)
    for sheet in sheets:
        for stop in sheet.stops:
            if stop.state in OPEN_STOP_STATES:
                days[(sheet.branch_id, sheet.work_date)].append((sheet, stop))
    found: dict[tuple[UUID, UUID], Block] = {}
    for (branch_id, work_date), stops in days.items():
        rules = rules_of(session.get_one(Branch, branch_id))
        gate = verdicts(session, rules, work_date, list({requests[stop.visit_request_id] for _, stop in stops}))
        for sheet, stop in stops:
            request = requests[stop.visit_request_id]
            block = _first_block(rules, gate[request.id], request, stop.starts_at)
            if block is not None:
                found[(sheet.id, request.id)] = block
    return found


def _first_block(rules: BranchRules, verdict: Verdict, request: VisitRequest, moment: datetime) -> Block | None:
    if verdict.blocks:
        return verdict.blocks[0]
    if not verdict.avoid:
        return None
    point = point_shape(request.address.point)
    local = moment.astimezone(zone_at(point.y, point.x, rules.timezone)).time()
    for start, end in verdict.avoid:
        if start <= local < end:
            eligibility = rules.pack.eligibility[CaseFlag.INCONVENIENT]
            detail = f"{eligibility.rule.label}: the debtor said {start:%H:%M}–{end:%H:%M} is inconvenient"
            return Block(EligibilityFlag.INCONVENIENT, eligibility.rule, detail, release=False)
    return None
