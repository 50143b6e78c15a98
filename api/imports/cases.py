"""Bulk import of cases from a CSV file or an .xlsx workbook (read by `case_file`): one row per address, all rows
or none.

Rows with the same `case_reference` describe one case and must agree on its columns; each row adds an address to
its case and, when `visit_purpose` is given, a visit request for that address. The phones of a case are the union of
its rows' `phones`. Every row is checked with the rules of the API (its request schemas and visit scheduling rules),
and a file with any error writes nothing.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from geoalchemy2 import WKTElement
from pydantic import BaseModel, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.cases import service as cases_service
from api.cases.schemas import AddressCreate, CaseCreate, ContactCreate
from api.db import utcnow
from api.imports.case_file import CaseFile, CsvRejected, FileFormat, RowErrors, read_rows
from api.imports.schemas import ImportSummary
from api.models.branches import Branch
from api.models.cases import Address, ContactKind, ContactSource, DebtCase, DebtorContact
from api.models.users import User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.problems import ValidationFailed
from api.rules.grades import PointSource
from api.rules.grading import describe
from api.visit_requests import service as visit_requests_service
from api.visit_requests.schemas import VisitRequestCreate

REQUIRED_COLUMNS = (
    "case_reference",
    "debtor_name",
    "debtor_id_number",
    "amount_owed",
    "overdue_bucket",
    "complaint_history",
    "address_kind",
    "address",
)
OPTIONAL_COLUMNS = (
    "phone_collector",
    "phones",
    "case_notes",
    "lat",
    "lon",
    "visit_purpose",
    "visit_priority",
    "visit_earliest_date",
    "visit_latest_date",
    "visit_window_start",
    "visit_window_end",
    "visit_notes",
)
# schema member -> CSV column, to point errors found by a schema at the column they came from
CASE_COLUMNS = {
    "reference": "case_reference",
    "debtor_name": "debtor_name",
    "debtor_id_number": "debtor_id_number",
    "amount_owed": "amount_owed",
    "overdue_bucket": "overdue_bucket",
    "complaint_history": "complaint_history",
    "phone_collector_id": "phone_collector",
    "notes": "case_notes",
}
ADDRESS_COLUMNS = {"kind": "address_kind", "raw_text": "address", "point": "lat", "lat": "lat", "lon": "lon"}
VISIT_COLUMNS = {
    "purpose": "visit_purpose",
    "priority": "visit_priority",
    "earliest_date": "visit_earliest_date",
    "latest_date": "visit_latest_date",
    "window_start": "visit_window_start",
    "window_end": "visit_window_end",
    "notes": "visit_notes",
}
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass
class _AddressDraft:
    data: AddressCreate
    address_id: UUID
    visit: VisitRequestCreate | None


@dataclass
class _CaseDraft:
    first_row: int
    data: CaseCreate
    case_id: UUID = field(default_factory=uuid4)
    phones: dict[str, ContactCreate] = field(default_factory=dict)
    addresses: list[_AddressDraft] = field(default_factory=list)


def import_cases(session: Session, actor: User, branch_id: UUID | None, file: CaseFile) -> ImportSummary:
    """Create the cases, contacts, addresses and visit requests of a case file in one branch, or raise CsvRejected
    listing every error (nothing is written then). The caller commits."""
    branch = branches_service.branch_for_new_row(session, actor, branch_id)
    planner = _Planner(session, branch)
    for row, values in read_rows(file.lines, REQUIRED_COLUMNS, OPTIONAL_COLUMNS):
        planner.add_row(row, values)
    if planner.found.errors:
        count = len(planner.found.errors)
        raise CsvRejected(f"{count} error(s) in the file; fix them and import it again.", errors=planner.found.errors)
    return _write(session, actor, branch, list(planner.cases.values()), file.format)


def _validate[Model: BaseModel](model: type[Model], payload: dict[str, Any]) -> Model:
    # cells are text: parse them leniently, as the API parses the strings JSON carries (enums, dates, decimals)
    return model.model_validate(payload, strict=False)


class _Planner:
    """Checks rows one by one, collecting every error, and groups the valid rows into cases."""

    def __init__(self, session: Session, branch: Branch) -> None:
        self.session = session
        self.branch = branch
        self.found = RowErrors()
        self.cases: dict[str, _CaseDraft] = {}
        self.existing = set(session.scalars(select(DebtCase.reference).where(DebtCase.branch_id == branch.id)))
        self.users: dict[str, User | None] = {}

    def add_row(self, row: int, values: dict[str, str]) -> None:
        errors_before = len(self.found.errors)
        case = self._case(row, values)
        draft = self._draft_for(row, case) if case is not None else None
        phones = self._phones(row, values)
        address = self._address(row, values)
        address_id = uuid4()
        visit = self._visit(row, values, draft.case_id if draft else uuid4(), address_id)
        if len(self.found.errors) > errors_before:
            return
        assert draft is not None and address is not None
        for phone in phones:
            draft.phones.setdefault(phone.phone, phone)
        draft.addresses.append(_AddressDraft(address, address_id, visit))

    def _user(self, username: str) -> User | None:
        if username not in self.users:
            self.users[username] = self.session.scalar(select(User).where(User.username == username))
        return self.users[username]

    def _case(self, row: int, values: dict[str, str]) -> CaseCreate | None:
        errors_before = len(self.found.errors)
        payload: dict[str, Any] = {
            "reference": values["case_reference"],
            "debtor_name": values["debtor_name"],
            "debtor_id_number": values["debtor_id_number"],
            "amount_owed": values["amount_owed"],
            "overdue_bucket": values["overdue_bucket"],
            "notes": values.get("case_notes", ""),
        }
        complaint = _BOOLEANS.get(values["complaint_history"].lower())
        if complaint is None:
            self.found.add(row, "complaint_history", "must be one of true, false, 1, 0, yes, no")
        else:
            payload["complaint_history"] = complaint
        if username := values.get("phone_collector", ""):
            collector = self._user(username)
            if collector is not None and cases_service.is_eligible_collector(collector, self.branch.id):
                payload["phone_collector_id"] = str(collector.id)
            else:
                self.found.add(row, "phone_collector", f"{username!r} is not an active phone collector of this branch")
        if values["case_reference"] in self.existing:
            self.found.add(row, "case_reference", "the branch already has a case with this reference")
        try:
            case = _validate(CaseCreate, payload)
        except ValidationError as exc:
            self.found.add_validation(row, exc, CASE_COLUMNS)
            return None
        return case if len(self.found.errors) == errors_before else None

    def _draft_for(self, row: int, case: CaseCreate) -> _CaseDraft | None:
        draft = self.cases.get(case.reference)
        if draft is None:
            draft = self.cases[case.reference] = _CaseDraft(first_row=row, data=case)
            return draft
        differing = [name for name in CASE_COLUMNS if getattr(case, name) != getattr(draft.data, name)]
        for name in differing:
            self.found.add(row, CASE_COLUMNS[name], f"differs from row {draft.first_row} of case {case.reference!r}")
        return None if differing else draft

    def _phones(self, row: int, values: dict[str, str]) -> list[ContactCreate]:
        contacts = []
        for phone in filter(None, (part.strip() for part in values.get("phones", "").split(";"))):
            try:
                contacts.append(_validate(ContactCreate, {"phone": phone, "kind": ContactKind.MOBILE.value}))
            except ValidationError as exc:
                self.found.add_validation(row, exc, {"phone": "phones"}, prefix=f"{phone!r}: ")
        return contacts

    def _address(self, row: int, values: dict[str, str]) -> AddressCreate | None:
        payload: dict[str, Any] = {"kind": values["address_kind"], "raw_text": values["address"]}
        lat, lon = values.get("lat", ""), values.get("lon", "")
        if bool(lat) != bool(lon):
            self.found.add(row, "lon" if lat else "lat", "give both lat and lon, or neither")
            return None
        if lat:
            payload["point"] = {"lat": lat, "lon": lon}
        try:
            return _validate(AddressCreate, payload)
        except ValidationError as exc:
            self.found.add_validation(row, exc, ADDRESS_COLUMNS)
            return None

    def _visit(self, row: int, values: dict[str, str], case_id: UUID, address_id: UUID) -> VisitRequestCreate | None:
        given = {name: values.get(column, "") for name, column in VISIT_COLUMNS.items()}
        if not given["purpose"]:
            for name, value in given.items():
                if value:
                    self.found.add(row, VISIT_COLUMNS[name], "given without visit_purpose")
            return None
        payload = {"case_id": str(case_id), "address_id": str(address_id)} | {k: v for k, v in given.items() if v}
        try:
            visit = _validate(VisitRequestCreate, payload)
        except ValidationError as exc:
            self.found.add_validation(row, exc, VISIT_COLUMNS)
            return None
        schedule = visit_requests_service.Schedule(
            earliest_date=visit.earliest_date,
            latest_date=visit.latest_date or visit.earliest_date,
            window_start=visit.window_start,
            window_end=visit.window_end,
        )
        try:
            visit_requests_service.check_schedule(schedule, self.branch)
            visit_requests_service.check_not_in_past(schedule, self.branch, earliest_too=True)
        except ValidationFailed as problem:
            pointers = [error.get("pointer", "") for error in problem.extensions.get("errors", [])] or [""]
            for pointer in pointers:
                self.found.add(row, VISIT_COLUMNS.get(pointer.removeprefix("#/")), problem.detail or problem.title)
            return None
        return visit


def _graded(raw_text: str) -> dict[str, Any]:
    grade, parts = describe(raw_text)
    return {"grade": grade, "parts": parts.as_dict()}


def _placed(point_wkt: WKTElement | None, now: datetime) -> dict[str, Any]:
    if point_wkt is None:
        return {"point": None}
    return {"point": point_wkt, "point_source": PointSource.IMPORT, "point_set_at": now}


def _write(
    session: Session, actor: User, branch: Branch, drafts: list[_CaseDraft], file_format: FileFormat
) -> ImportSummary:
    # bulk inserts: a 5 MiB file holds tens of thousands of rows, too many to track as ORM objects
    cases = [{"id": d.case_id, "branch_id": branch.id, **d.data.model_dump(exclude={"branch_id"})} for d in drafts]
    contacts = [
        {"case_id": draft.case_id, "source": ContactSource.CASE_FILE, **contact.model_dump()}
        for draft in drafts
        for contact in draft.phones.values()
    ]
    now = utcnow()
    addresses = [
        {
            "id": address.address_id,
            "case_id": draft.case_id,
            "source": ContactSource.CASE_FILE,
            **_graded(address.data.raw_text),
            **_placed(address.data.point.to_wkt() if address.data.point else None, now),
            **address.data.model_dump(exclude={"point"}),
        }
        for draft in drafts
        for address in draft.addresses
    ]
    visits = [
        {
            "case_id": visit.case_id,
            "address_id": visit.address_id,
            "purpose": visit.purpose,
            "priority": visit.priority,
            "requested_by_id": actor.id,
            "earliest_date": visit.earliest_date,
            "latest_date": visit.latest_date or visit.earliest_date,
            "window_start": visit.window_start,
            "window_end": visit.window_end,
            "notes": visit.notes,
            "status": VisitRequestStatus.OPEN,
        }
        for draft in drafts
        for address in draft.addresses
        if (visit := address.visit) is not None
    ]
    # cases before their contacts and addresses, addresses before their visit requests
    for model, rows in ((DebtCase, cases), (DebtorContact, contacts), (Address, addresses), (VisitRequest, visits)):
        if rows:
            session.execute(insert(model), rows)
    return ImportSummary(
        file_format=file_format,
        branch_id=branch.id,
        cases=len(cases),
        contacts=len(contacts),
        addresses=len(addresses),
        visit_requests=len(visits),
        addresses_without_point=sum(address["point"] is None for address in addresses),
        grades=Counter(address["grade"] for address in addresses),
    )
