"""Bulk import of payments from the core system's CSV export (or an .xlsx workbook): one row per payment, all rows or
none, each checked as `POST /payments` checks it; an error names its row and column.

`paid_at` is ISO 8601, with its offset or without one in the branch's local time (`2026-12-08 10:30`)."""

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.imports.case_file import CaseFile, CsvRejected, RowErrors, read_rows
from api.models.cases import DebtCase
from api.models.users import User
from api.payments.schemas import PaymentIn, PaymentsRecorded
from api.payments.service import record_payments
from api.problems import Problem

UNKNOWN = UUID(int=0)  # a row's case when its reference names none
COLUMNS = ("case_reference", "amount", "currency", "paid_at", "channel", "reference")
# schema member -> CSV column
MEMBERS = {
    "case_id": "case_reference",
    "amount": "amount",
    "currency": "currency",
    "paid_at": "paid_at",
    "channel": "channel",
    "reference": "reference",
}


def import_payments(session: Session, actor: User, branch_id: UUID | None, file: CaseFile) -> PaymentsRecorded:
    """Record the file's payments on the branch's cases, or raise CsvRejected listing every error (nothing is
    written then). The caller commits."""
    branch = branches_service.branch_for_new_row(session, actor, branch_id)
    cases = dict(session.execute(select(DebtCase.reference, DebtCase.id).where(DebtCase.branch_id == branch.id)).all())
    zone = ZoneInfo(branch.timezone)
    found = RowErrors()
    payments: list[PaymentIn] = []
    rows: list[int] = []
    for row, values in read_rows(file.lines, COLUMNS, ()):
        case_id = cases.get(values["case_reference"])
        if case_id is None:
            found.add(row, "case_reference", "no case with this reference in the branch")
        paid_at = _moment(values["paid_at"], zone)
        if paid_at is None:
            found.add(row, "paid_at", "give a date and time, e.g. 2026-12-08 10:30 or 2026-12-08T10:30:00+08:00")
        payload: dict[str, Any] = {name: values[column] for name, column in MEMBERS.items()}
        # the other columns are checked too when these two are wrong: every error of the row at once
        payload |= {"case_id": case_id or UNKNOWN, "paid_at": paid_at or datetime.now(zone)}
        try:
            payment = PaymentIn.model_validate(payload, strict=False)
        except ValidationError as exc:
            found.add_validation(row, exc, MEMBERS)
            continue
        if case_id is not None and paid_at is not None:
            payments.append(payment)
            rows.append(row)
    if found.errors:
        raise CsvRejected(
            f"{len(found.errors)} error(s) in the file; fix them and import it again.", errors=found.errors
        )
    try:
        return record_payments(session, actor, payments)
    except Problem as problem:
        errors = [_on_row(error, rows) for error in problem.extensions.get("errors", [])]
        raise CsvRejected(f"{problem.title}: {problem.detail}", errors=errors) from problem


def _moment(text: str, zone: ZoneInfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _on_row(error: dict[str, Any], rows: list[int]) -> dict[str, Any]:
    """A `POST /payments` error (`#/payments/<index>/<member>`) as the file's row and column."""
    _, _, index, member = error["pointer"].split("/")
    return {"row": rows[int(index)], "column": MEMBERS[member], "detail": error["detail"]}
