"""The evening pre-check: every address due on a day is checked before the day is planned, and each one that cannot
be trusted becomes a system-raised report in the supervisor's invalid-address queue. Only the supervisor's
confirmation cancels its visits; a rejection (with a corrected point or text) sends it back to planning, and the
same problem is not raised again for it."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.address_reports import service as reports_service
from api.addresses.districts import far_from_district
from api.addresses.geocoders import normalise, query_key
from api.branches import service as branches_service
from api.geo import GeoPoint, point_shape
from api.models.address_reports import AddressProblem, AddressReport, ReportOrigin, ReportStatus
from api.models.addresses import GeocodeAnswer
from api.models.branches import Branch
from api.models.cases import Address, AddressValidity, DebtCase, InvalidReason
from api.models.users import User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.roads.travel import Travel
from api.rules.grades import FINEST_FIRST, PERSON_SET, AddressGrade, PointSource
from api.rules.plannability import Unplannable
from routing.matrix import MatrixProvider

INCOMPLETE = frozenset({AddressGrade.ROAD, AddressGrade.DISTRICT, AddressGrade.UNPARSEABLE})

_REASONS = {
    AddressProblem.VAGUE_TEXT: InvalidReason.VAGUE,
    AddressProblem.INCOMPLETE_TEXT: InvalidReason.INCOMPLETE,
}
_NOTES = {
    AddressProblem.NO_POINT: "预检：地址无法定位 the pre-check: no point, and no geocoder found one",
    AddressProblem.VAGUE_TEXT: "预检：地址模糊 the pre-check: the text is vague",
    AddressProblem.INCOMPLETE_TEXT: "预检：地址不完整 the pre-check: the text stops short of a building",
    AddressProblem.UNTRUSTED_MATCH: "预检：定位精度不足 the pre-check: the geocoder's match is coarser than the text",
    AddressProblem.FAR_FROM_DISTRICT: "预检：坐标不在所属区县 the pre-check: the point lies far from its district",
    AddressProblem.SHARED_POINT: "预检：不同债务人地址坐标相同 the pre-check: another debtor's address has this point",
    AddressProblem.NO_ROAD: "预检：道路无法到达 the pre-check: the road engine cannot reach it",
}


@dataclass(slots=True)
class PrecheckSummary:
    """What one pre-check of a branch's day found."""

    branch_id: UUID
    work_date: date
    addresses: int = 0  # addresses due that day, checked
    reported: Counter[AddressProblem] = field(default_factory=Counter)  # new reports, by problem
    waiting: int = 0  # addresses already in the supervisor's queue (or confirmed invalid), not checked again
    report_ids: list[UUID] = field(default_factory=list)


def precheck_for(
    session: Session, user: User, branch_id: UUID | None, work_date: date, travel: Travel
) -> PrecheckSummary:
    """A supervisor's pre-check of their branch's day (an admin names the branch)."""
    branch = branches_service.branch_for_new_row(session, user, branch_id)
    return check_day(session, branch, work_date, travel.of(branch.id))


def check_day(session: Session, branch: Branch, work_date: date, travel: MatrixProvider | None) -> PrecheckSummary:
    """Check the addresses of the branch's visit requests due on `work_date` and raise a report for each problem
    found (one per address: the first of text, then point problems, then whether `travel`'s roads reach it)."""
    summary = PrecheckSummary(branch.id, work_date)
    addresses = _due(session, branch.id, work_date)
    checked = [address for address in addresses if address.validity not in _WAITING]
    summary.waiting = len(addresses) - len(checked)
    summary.addresses = len(checked)
    rejected = _rejected_problems(session, [address.id for address in checked])
    shared = _shared_points(session, checked)
    reported: set[UUID] = set()
    for address in checked:
        problem = next(
            (problem for problem in _problems(address, address.id in shared) if (address.id, problem) not in rejected),
            None,
        )
        if problem is None:
            continue
        report = reports_service.raise_report(
            session,
            address,
            ReportOrigin.PRECHECK,
            _REASONS.get(problem, InvalidReason.OTHER),
            _note(problem, address),
            problem=problem,
            candidates=_candidates(session, address),
        )
        summary.reported[problem] += 1
        summary.report_ids.append(report.id)
        reported.add(address.id)
    placed = [address for address in checked if address.point is not None and address.id not in reported]
    if travel is not None and placed:
        for report in report_unreachable(session, _unreachable(branch, placed, travel)):
            summary.reported[AddressProblem.NO_ROAD] += 1
            summary.report_ids.append(report.id)
    return summary


def _unreachable(branch: Branch, addresses: Sequence[Address], travel: MatrixProvider) -> list[tuple[Address, str]]:
    """The addresses the roads do not reach from the office and the other addresses, with why."""
    points = [point_shape(branch.office_point), *(point_shape(address.point) for address in addresses)]
    unreachable = travel.matrices([(point.y, point.x) for point in points]).unreachable
    return [(addresses[row - 1], why) for row, why in sorted(unreachable.items()) if row > 0]


_WAITING = (AddressValidity.REPORTED_INVALID, AddressValidity.CONFIRMED_INVALID)


def report_unreachable(session: Session, unreachable: Sequence[tuple[Address, str]]) -> list[AddressReport]:
    """Put each address the road engine cannot reach (with why) before the supervisor, as the pre-check does its
    other problems: unless it already waits there, or a supervisor rejected that problem for it (and so vouched
    for the point). Planning finds these too when it prices the day's travel. The reports raised."""
    rejected = _rejected_problems(session, [address.id for address, _ in unreachable])
    raised = []
    for address, why in unreachable:
        if address.validity in _WAITING or (address.id, AddressProblem.NO_ROAD) in rejected:
            continue
        report = reports_service.raise_report(
            session,
            address,
            ReportOrigin.PRECHECK,
            InvalidReason.OTHER,
            f"{_NOTES[AddressProblem.NO_ROAD]}: {why}",
            problem=AddressProblem.NO_ROAD,
            candidates=_candidates(session, address),
        )
        raised.append(report)
    return raised


def _due(session: Session, branch_id: UUID, work_date: date) -> list[Address]:
    due = (
        select(VisitRequest.address_id)
        .join(DebtCase, DebtCase.id == VisitRequest.case_id)
        .where(DebtCase.branch_id == branch_id)
        .where(VisitRequest.earliest_date <= work_date, VisitRequest.latest_date >= work_date)
        .where(VisitRequest.status.in_((VisitRequestStatus.OPEN, VisitRequestStatus.PLANNED)))
    )
    return list(session.scalars(select(Address).where(Address.id.in_(due)).order_by(Address.id)))


CURABLE = frozenset({AddressProblem.NO_POINT})  # what a geocoder's later point can take away
_RESOLVED = (
    "系统自动解决：后续地理编码已定位到门址 resolved by the system: a later geocoding pass placed it at door level"
)


def resolve_cured(session: Session, address: Address) -> bool:
    """Resolve the pre-check's open report on the address whose cause a geocoder's new point took away: only when
    the address now has no problem at all (a point planning trusts, near its district). Whether one was resolved."""
    report = session.scalar(
        select(AddressReport).where(
            AddressReport.address_id == address.id,
            AddressReport.status == ReportStatus.PENDING,
            AddressReport.raised_by == ReportOrigin.PRECHECK,
            AddressReport.problem.in_(CURABLE),
        )
    )
    if report is None or _problems(address, shared=False):
        return False
    how = f" ({address.point_precision}, {address.point_provider})" if address.point_precision else ""
    return reports_service.resolve_report(session, report, _RESOLVED + how)


def _problems(address: Address, shared: bool) -> list[AddressProblem]:
    """What is wrong with the address, text problems first; nothing for a point a person set."""
    if address.point_source in PERSON_SET:
        return []
    found = []
    if address.grade is AddressGrade.VAGUE:
        found.append(AddressProblem.VAGUE_TEXT)
    elif address.grade in INCOMPLETE:
        found.append(AddressProblem.INCOMPLETE_TEXT)
    point = GeoPoint.from_wkb(address.point)
    if point is None:
        return [*found, AddressProblem.NO_POINT]
    if Unplannable.ADDRESS_POINT_UNTRUSTED in address.plannability().reasons:
        found.append(AddressProblem.UNTRUSTED_MATCH)
    if far_from_district(address.parts, point):
        found.append(AddressProblem.FAR_FROM_DISTRICT)
    if shared:
        found.append(AddressProblem.SHARED_POINT)
    return found


def _shared_points(session: Session, addresses: list[Address]) -> set[UUID]:
    """The addresses whose point is the very point of another debtor's address in another building: a geocoder that
    fell back to one place for both, or a copied coordinate."""
    by_point: defaultdict[tuple[float, float], list[Address]] = defaultdict(list)
    for address in addresses:
        point = GeoPoint.from_wkb(address.point)
        if point is not None and address.point_source is not PointSource.DOOR:
            by_point[(round(point.lat, 6), round(point.lon, 6))].append(address)
    debtors = _debtors(session, {address.case_id for group in by_point.values() if len(group) > 1 for address in group})
    shared: set[UUID] = set()
    for group in by_point.values():
        if len(group) < 2:
            continue
        buildings = {(debtors[address.case_id], building_key(address)) for address in group}
        if len({debtor for debtor, _ in buildings}) > 1 and len({building for _, building in buildings}) > 1:
            shared |= {address.id for address in group}
    return shared


_ABOVE_THE_ROOM = ("province", "city", "district", "town", "road", "lane", "number", "compound", "building")


def building_key(address: Address) -> tuple[str | None, ...] | str:
    """The address down to its building: debtors in different rooms (or units) of one building share its door-level
    point as a matter of course. Text with no parts (another country's) is compared whole."""
    parts = address.parts or {}
    if not any(parts.get(key) for key in _ABOVE_THE_ROOM):
        return normalise(address.raw_text)
    return tuple(parts.get(key) for key in _ABOVE_THE_ROOM)


def _debtors(session: Session, case_ids: set[UUID]) -> dict[UUID, str]:
    if not case_ids:
        return {}
    rows = session.execute(select(DebtCase.id, DebtCase.debtor_id_number).where(DebtCase.id.in_(case_ids)))
    return {case_id: debtor for case_id, debtor in rows}


def _rejected_problems(session: Session, address_ids: list[UUID]) -> set[tuple[UUID, AddressProblem]]:
    rows = session.execute(
        select(AddressReport.address_id, AddressReport.problem)
        .where(AddressReport.address_id.in_(address_ids))
        .where(AddressReport.raised_by == ReportOrigin.PRECHECK, AddressReport.status == ReportStatus.REJECTED)
    )
    return {(address_id, problem) for address_id, problem in rows if problem is not None}


def _candidates(session: Session, address: Address) -> list[dict[str, object]]:
    """What the geocoders answered for the address's text (cached), finest first."""
    key = query_key(address.raw_text, address.parts.get("city"))
    answers = session.scalars(
        select(GeocodeAnswer).where(GeocodeAnswer.query_key == key).order_by(GeocodeAnswer.provider)
    )
    found = [candidate for answer in answers for candidate in answer.candidates]
    order = [precision.value for precision in FINEST_FIRST]
    return sorted(found, key=lambda candidate: order.index(str(candidate["precision"])))


def _note(problem: AddressProblem, address: Address) -> str:
    note = _NOTES[problem]
    if problem is AddressProblem.VAGUE_TEXT and address.parts.get("vague_markers"):
        note += f" ({'、'.join(address.parts['vague_markers'])})"
    if problem is AddressProblem.UNTRUSTED_MATCH and address.point_precision is not None:
        note += f" ({address.point_precision.value} for a {address.grade.value} address)"
    return note
