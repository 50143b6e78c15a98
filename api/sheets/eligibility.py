"""The eligibility gate where a day is planned, re-planned or pinned: the holding restrictions, the releases and the
earlier visits of the day's cases, each loaded in one query for all of them, and `api.rules.eligibility`'s verdict
for each request."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cases.models import CaseRestriction
from api.rules.branch import BranchRules
from api.rules.eligibility import ELIGIBLE, EligibilityFlag, Restriction, Verdict, check_eligibility
from api.visit_requests.models import EligibilityRelease, VisitRequest
from api.visits.models import Visit  # read only: the dates a case was visited, for the pack's cap


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
