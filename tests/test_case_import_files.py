"""What agencies' files look like: CSV from Excel in China (GB18030/GBK) and .xlsx workbooks import like a UTF-8 CSV,
all rows or none; files that cannot be read are clear problems, and nothing is written."""

import io
import zipfile
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.imports import case_file
from api.imports.cases import REQUIRED_COLUMNS
from api.models.cases import DebtCase, DebtorContact
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from tests.factories import auth_headers, make_branch, make_user, problem_type, tomorrow
from tests.test_case_import import HEADER, counts, good_rows, row, to_csv

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RARE = "𠮷"  # outside GBK: GB18030 has it in four bytes


def post_file(client: TestClient, user: User, body: bytes, content_type: str) -> Any:
    return client.post("/cases/import", content=body, headers={"Content-Type": content_type} | auth_headers(user))


def to_xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cells(values: dict[str, Any], header: list[str] = HEADER) -> list[Any]:
    return [values.get(name) for name in header]


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("gbk", "text/csv"),
        ("gbk", "text/csv; charset=GBK"),
        ("gbk", "text/csv; charset=gb2312"),
        ("utf-8", "text/csv"),
    ],
)
def test_a_csv_in_gbk_or_utf8_imports_with_its_chinese_text_intact(
    client: TestClient, session: Session, encoding: str, content_type: str
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    text = to_csv(good_rows(branch, collector))

    response = post_file(client, supervisor, text.encode(encoding), content_type)

    assert response.status_code == 201, response.text
    assert response.json()["file_format"] == ("csv-utf-8" if encoding == "utf-8" else "csv-gb18030")
    assert counts(session) == (2, 3, 3, 2)
    cases = {c.reference: c for c in session.scalars(select(DebtCase))}
    assert cases["IMP-001"].debtor_name == "王芳" and cases["IMP-002"].notes == "曾投诉"
    assert session.scalar(select(VisitRequest.notes).where(VisitRequest.notes != "")) == "先打电话"


@pytest.mark.parametrize("content_type", ["text/csv", "text/csv; charset=gb18030", "text/csv; charset=gbk"])
def test_a_gb18030_csv_keeps_characters_gbk_lacks_even_labelled_gbk(
    client: TestClient, session: Session, content_type: str
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_file(
        client, supervisor, ("\ufeff" + to_csv([row(debtor_name=f"王{RARE}")])).encode("gb18030"), content_type
    )

    assert response.status_code == 201, response.text
    assert session.scalar(select(DebtCase.debtor_name)) == f"王{RARE}"


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (to_csv([row()]).encode("gbk"), "text/csv; charset=utf-8", "Byte "),
        (to_csv([row()]).encode("utf-8"), "text/csv; charset=shift_jis", "charset=shift_jis"),
        (to_csv([row()]).encode("utf-8"), "text/csv; charset=no-such-thing", "charset=no-such-thing"),
        (b"case_reference\r\n\x80\xff\x80\xff\r\n", "text/csv", "neither UTF-8 nor GB18030"),
    ],
    ids=["gbk-labelled-utf-8", "shift-jis", "unknown-charset", "neither"],
)
def test_a_csv_in_no_accepted_encoding_is_422_naming_the_accepted_ones(
    client: TestClient, session: Session, body: bytes, content_type: str, detail: str
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_file(client, supervisor, body, content_type)

    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert problem_type(response) == "csv-encoding-not-accepted"
    assert detail in response.json()["detail"]
    assert response.json()["accepted"] == ["utf-8", "gb18030", "gbk", "gb2312"]
    assert counts(session) == (0, 0, 0, 0)


def test_an_xlsx_from_excel_imports_its_typed_cells_as_the_csv_would_have_them(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    day = tomorrow(branch)
    typed = row(
        amount_owed=5000,  # type: ignore[arg-type]  (cells hold numbers, dates, booleans, as Excel stores them)
        complaint_history=False,  # type: ignore[arg-type]
        phones=13812345678,  # type: ignore[arg-type]
        visit_purpose="negotiate",
        visit_priority=5.0,  # type: ignore[arg-type]
        visit_earliest_date=datetime(day.year, day.month, day.day),  # type: ignore[arg-type]
        visit_window_start=time(9, 0),  # type: ignore[arg-type]
        visit_window_end=time(12, 30),  # type: ignore[arg-type]
        lat=31.188,  # type: ignore[arg-type]
        lon=121.437,  # type: ignore[arg-type]
    )
    other = row(case_reference="IMP-002", amount_owed=1234.5, complaint_history=True, phones="13900000009")  # type: ignore[arg-type]

    response = post_file(client, supervisor, to_xlsx([cells(typed), [], cells(other)]), XLSX)

    assert response.status_code == 201, response.text
    assert response.json()["file_format"] == "xlsx" and response.json()["cases"] == 2
    cases = {c.reference: c for c in session.scalars(select(DebtCase))}
    assert cases["IMP-001"].amount_owed == Decimal("5000") and cases["IMP-002"].amount_owed == Decimal("1234.5")
    assert (cases["IMP-001"].complaint_history, cases["IMP-002"].complaint_history) == (False, True)
    assert cases["IMP-001"].debtor_name == "王芳"
    assert set(session.scalars(select(DebtorContact.phone))) == {"13812345678", "13900000009"}
    visit = session.scalars(select(VisitRequest)).one()
    assert (visit.earliest_date, visit.priority) == (day, 5)
    assert (visit.window_start, visit.window_end) == (time(9, 0), time(12, 30))


def test_an_xlsx_sent_as_text_csv_is_known_by_its_contents(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_file(client, supervisor, to_xlsx([cells(row())]), "text/csv")

    assert response.status_code == 201, response.text
    assert response.json()["file_format"] == "xlsx"


def test_an_xlsx_with_bad_rows_lists_every_error_by_row_and_column_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    bad = row(case_reference="IMP-002", overdue_bucket="M9", complaint_history="maybe")
    wrong_date = row(case_reference="IMP-003", visit_purpose="negotiate", visit_earliest_date=datetime(2031, 1, 2, 15))  # type: ignore[arg-type]

    response = post_file(client, supervisor, to_xlsx([cells(row()), cells(bad), cells(wrong_date)]), XLSX)

    assert response.status_code == 422 and problem_type(response) == "csv-rejected"
    errors = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert errors == {(2, "overdue_bucket"), (2, "complaint_history"), (3, "visit_earliest_date")}
    assert counts(session) == (0, 0, 0, 0)


def test_an_xlsx_header_is_checked_like_a_csv_header_and_empty_trailing_cells_are_not_columns(
    client: TestClient, session: Session
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    header = [*REQUIRED_COLUMNS, "currency"]
    values = cells(row(), header)
    out = io.BytesIO()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    sheet.append(values)
    sheet["Z1"].style = "Note"  # a styled empty cell past the header: stored, and not a column
    workbook.save(out)

    response = post_file(client, supervisor, out.getvalue(), XLSX)

    assert response.status_code == 422 and problem_type(response) == "csv-rejected"
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(None, "currency")]


def test_excel_error_cells_are_named_and_nothing_is_written(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_file(
        client, supervisor, to_xlsx([cells(row(address="#N/A")), cells(row(amount_owed="#DIV/0!"))]), XLSX
    )

    assert response.status_code == 422 and problem_type(response) == "csv-rejected"
    assert [e["detail"] for e in response.json()["errors"]] == [
        "cell K2 holds the Excel error #N/A",
        "cell D3 holds the Excel error #DIV/0!",
    ]
    assert counts(session) == (0, 0, 0, 0)


def test_a_formula_whose_result_was_not_saved_is_named_not_read_as_empty(client: TestClient, session: Session) -> None:
    """A workbook written by a program that does not compute its formulas holds no result for them: reading such a
    cell as empty would lose what the user meant, so it is an error naming the cell; a formula saved with its result
    (as Excel saves every one) imports as that result."""
    supervisor = make_user(session, Role.SUPERVISOR)
    unsaved = to_xlsx([cells(row(case_notes='=CONCATENATE("夜班", "后")'))])  # openpyxl saves no results
    with zipfile.ZipFile(io.BytesIO(unsaved)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").decode()
    unsaved_cell = '<c r="I2"><f>CONCATENATE("夜班", "后")</f><v /></c>'
    assert unsaved_cell in sheet
    saved_cell = '<c r="I2" t="str"><f>CONCATENATE("夜班", "后")</f><v>夜班后</v></c>'
    saved = _replace_part(unsaved, "xl/worksheets/sheet1.xml", sheet.replace(unsaved_cell, saved_cell).encode())

    refused = post_file(client, supervisor, unsaved, XLSX)
    imported = post_file(client, supervisor, saved, XLSX)

    assert refused.status_code == 422 and problem_type(refused) == "csv-rejected"
    assert [e["detail"] for e in refused.json()["errors"]] == [
        "cell I2 holds a formula whose result was not saved with the workbook; open it in Excel, save it and import "
        "it again"
    ]
    assert imported.status_code == 201, imported.text
    assert session.scalars(select(DebtCase.notes)).one() == "夜班后"


def _ole2(*streams: str) -> bytes:
    """The start of an OLE2 compound file naming its streams, as an .xls or an encrypted workbook is."""
    return case_file.OLE2_MAGIC + bytes(504) + b"".join(name.encode("utf-16-le") for name in streams)


def _corrupt_xlsx() -> bytes:
    good = to_xlsx([cells(row())])
    return good[: len(good) // 2]


def _entity_bomb() -> bytes:
    """A workbook whose first cell expands an entity to a billion characters."""
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    good = to_xlsx([cells(row())])
    with zipfile.ZipFile(io.BytesIO(good)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").decode()
    bomb = f"<!DOCTYPE worksheet [{entities}]>" + sheet.replace("<t>IMP-001</t>", "<t>&a9;</t>")
    return _replace_part(good, "xl/worksheets/sheet1.xml", bomb.encode())


def _replace_part(xlsx: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, content if member.filename == name else source.read(member))
        if name not in source.namelist():
            target.writestr(name, content)  # a part nothing refers to
    return out.getvalue()


@pytest.mark.parametrize(
    ("make_body", "content_type", "detail"),
    [
        (_corrupt_xlsx, XLSX, "not a readable .xlsx workbook"),
        (lambda: b"case_reference,debtor_name\r\n", XLSX, "not an .xlsx workbook"),
        (lambda: _ole2("Workbook", "SummaryInformation"), XLSX, "Excel 97-2003 (.xls)"),
        (lambda: _ole2("Workbook"), "text/csv", "Excel 97-2003 (.xls)"),
        (lambda: _ole2("EncryptionInfo", "EncryptedPackage"), XLSX, "password-protected"),
        (_entity_bomb, XLSX, "not a readable .xlsx workbook"),
        (
            lambda: _replace_part(to_xlsx([cells(row())]), "xl/padding.bin", bytes(case_file.MAX_XLSX_UNPACKED_BYTES)),
            XLSX,
            "unpacks to more than",
        ),
    ],
    ids=["truncated", "csv-labelled-xlsx", "xls", "xls-labelled-csv", "password", "entity-bomb", "zip-bomb"],
)
def test_a_workbook_that_cannot_be_read_is_422_never_a_500(
    client: TestClient, session: Session, make_body: Any, content_type: str, detail: str
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_file(client, supervisor, make_body(), content_type)

    assert response.status_code == 422, response.text
    assert problem_type(response) == "xlsx-not-readable" and detail in response.json()["detail"]
    assert counts(session) == (0, 0, 0, 0)


def test_a_sheet_past_the_row_cap_is_refused_without_reading_on(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(cells(row()))
    sheet.cell(row=1_048_576, column=16_384, value="far")  # a million rows, each as wide as Excel allows
    out = io.BytesIO()
    workbook.save(out)

    response = post_file(client, supervisor, out.getvalue(), XLSX)

    assert response.status_code == 422 and problem_type(response) == "xlsx-not-readable"
    assert f"more than {case_file.MAX_XLSX_ROWS} rows" in response.json()["detail"]
    assert counts(session) == (0, 0, 0, 0)


def test_a_workbook_with_no_data_rows_is_rejected_like_a_csv(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_file(client, supervisor, to_xlsx([]), XLSX)

    assert response.status_code == 422 and problem_type(response) == "csv-rejected"
    assert response.json()["detail"] == "The file has a header but no data rows."
