"""What follows an outcome: the time on site, the contacts and the address learnt at the door, the findings
published, and the sheet's stop kept saying where the visit stands."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.address_reports import service as reports_service
from api.branches import service as branches_service
from api.findings import service as findings_service
from api.geo import GeoPoint
from api.models.address_reports import ReportOrigin
from api.models.branches import Branch
from api.models.cases import (
    Address,
    AddressValidity,
    ContactSource,
    ContactStatus,
    DebtCase,
    DebtorContact,
    InvalidReason,
)
from api.models.findings import FindingKind
from api.models.sheets import StopState
from api.models.visits import (
    AWAITING_CONFIRMATION,
    AddressAssessment,
    ContactResult,
    Outcome,
    ReviewFlag,
    Visit,
    VisitStatus,
)
from api.payments import service as payments_service
from api.rules.grades import PointSource
from api.rules.on_site import overstayed, time_on_site_s
from api.rules.position import Fix, door_point
from api.sheets import service as sheets_service
from api.visits import evidence_policy

_NOT_THERE = {
    AddressAssessment.NO_SUCH_ADDRESS: InvalidReason.NONEXISTENT,
    AddressAssessment.DEMOLISHED: InvalidReason.DEMOLISHED,
}


def learn_from(session: Session, visit: Visit, outcome: Outcome) -> None:
    """What a confirmed outcome teaches: the contacts found at the door join the case, the findings go out, the
    address is placed or reported, and a repayment promise is followed."""
    new_phones = _add_contacts(session, visit, outcome)
    _publish_findings(session, visit, outcome, new_phones)
    _learn_address(session, visit, outcome)
    arrived = evidence_policy.arrival(session, visit) or visit.started_at or outcome.submitted_at
    payments_service.promise_from_outcome(session, visit, outcome, arrived)


def _publish_findings(session: Session, visit: Visit, outcome: Outcome, new_phones: list[str]) -> None:
    """What the supervisor and the phone collector must hear about at once."""
    case, report, where = session.get_one(DebtCase, visit.case_id), outcome.report, {"visit_id": str(visit.id)}
    if report.promise is not None:
        promise = report.promise.model_dump(mode="json")
        findings_service.publish(session, case, FindingKind.REPAYMENT_PROMISED, **where, **promise)
    if new_phones or report.employer is not None:
        employer = report.employer.model_dump(mode="json") if report.employer is not None else None
        findings_service.publish(
            session, case, FindingKind.CONTACT_FOUND, **where, phones=new_phones, employer=employer
        )
    if report.fake_address_suspected:
        findings_service.publish(session, case, FindingKind.FAKE_ADDRESS_SUSPECTED, **where, notes=report.notes)
    if report.contact_result is ContactResult.NOBODY:
        findings_service.publish(session, case, FindingKind.VISIT_FAILED, **where, reason="nobody answered")


def _add_contacts(session: Session, visit: Visit, outcome: Outcome) -> list[str]:
    """Add the phones found at the door that the case does not have; the ones added."""
    added: list[str] = []
    known = set(session.scalars(select(DebtorContact.phone).where(DebtorContact.case_id == visit.case_id)))
    for finding in outcome.report.contacts:
        if finding.phone not in known:
            session.add(
                DebtorContact(
                    case_id=visit.case_id,
                    phone=finding.phone,
                    kind=finding.kind,
                    status=ContactStatus.VERIFIED if finding.verified else ContactStatus.UNVERIFIED,
                    source=ContactSource.FIELD_VISIT,
                    holder=finding.holder,
                    notes=f"found at the door on visit {visit.id}",
                )
            )
            known.add(finding.phone)
            added.append(finding.phone)
    return added


def _learn_address(session: Session, visit: Visit, outcome: Outcome) -> None:
    """What the door taught about the address: where it is (the debtor or family met there and the two check-ins
    agreeing), or that it is not there (no such address, demolished: a report for the supervisor)."""
    address = session.get_one(Address, visit.address_id)
    report = outcome.report
    gone = _NOT_THERE.get(report.address_assessment)
    if gone is not None:
        if address.validity not in (AddressValidity.REPORTED_INVALID, AddressValidity.CONFIRMED_INVALID):
            note = f"外访结果：{report.address_assessment.value} the visit's outcome. {report.notes}".strip()
            reports_service.raise_report(
                session, address, ReportOrigin.OUTCOME, gone, note, reported_by_id=outcome.submitted_by_id,
                visit_id=visit.id,
            )  # fmt: skip
        return
    if not report.met_there or address.point_source is PointSource.SUPERVISOR:
        return
    latest = {check_in.agent_id: check_in for check_in in visit.check_ins}
    if len(latest) != 2:
        return
    first, second = (Fix(c.lat, c.lon, c.accuracy_m) for c in latest.values())
    found = door_point(first, second)
    if found is None:
        return
    point = GeoPoint(lat=found.lat, lon=found.lon).to_wkt()
    address.place(point, PointSource.DOOR, accuracy_m=found.accuracy_m)
    if address.validity is AddressValidity.UNVERIFIED:
        address.validity = AddressValidity.VERIFIED


def measure_time_on_site(session: Session, visit: Visit, outcome: Outcome) -> None:
    """From the arrival at the door to the first outcome: longer than the branch allows, and the visit is flagged
    for the supervisor's review ("leave as soon as the purpose is reached")."""
    arrived = evidence_policy.arrival(session, visit)
    if arrived is None:
        return
    visit.on_site_s = time_on_site_s(arrived, outcome.submitted_at)
    limit = branches_service.rules_of(session.get_one(Branch, visit.branch_id)).max_on_site_s
    on_site = overstayed(arrived, outcome.submitted_at, limit)
    if on_site is None:
        return
    visit.review_flags = [*visit.review_flags, ReviewFlag.OVERSTAYED.value]
    findings_service.publish(
        session,
        session.get_one(DebtCase, visit.case_id),
        FindingKind.VISIT_OVERSTAYED,
        visit_id=str(visit.id),
        on_site_s=on_site,
        max_on_site_s=limit,
    )


def sync_stop(session: Session, visit: Visit, confirmed: Outcome | None = None) -> None:
    """Keep the visit's stop saying where the visit stands: the phones rebuild their day from the sheet alone.
    `confirmed`: the outcome just confirmed, which tells a completed visit done from failed."""
    _hold_sheet(session, visit)
    stop = sheets_service.stop_of(session, visit.sheet_id, visit.visit_request_id)
    stop.visit_id = visit.id
    stop.awaiting_confirmation = visit.status in AWAITING_CONFIRMATION
    if stop.state is not StopState.CANCELLED:
        stop.state = _stop_state(visit, stop.state, confirmed)
    session.flush()


def _hold_sheet(session: Session, visit: Visit) -> None:
    """Lock the sheet the visit's stop is on: a publication that moves the visit to a new version of its sheet
    either comes first (the visit is then read on the new one) or waits for this transaction."""
    while True:
        sheet_id = visit.sheet_id
        sheets_service.lock_sheet(session, sheet_id)
        session.refresh(visit, ["sheet_id"])
        if visit.sheet_id == sheet_id:
            return


def _stop_state(visit: Visit, now: StopState, confirmed: Outcome | None) -> StopState:
    if visit.status is VisitStatus.CHECKING_IN:
        return StopState.CHECKING_IN
    if visit.status in (VisitStatus.IN_PROGRESS, VisitStatus.REPORTED):
        return StopState.IN_PROGRESS
    if confirmed is None:  # an amendment waits: the stop stays as its confirmed outcome left it
        return now
    return StopState.FAILED if confirmed.report.contact_result is ContactResult.NOBODY else StopState.DONE
