import csv
import io
from datetime import time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.geo import GeoPoint
from api.imports.case_file import CsvRejected, read_case_file
from api.imports.cases import import_cases
from api.limits import MAX_FILE_BYTES
from api.models.branches import Branch
from api.models.cases import Address, ContactKind, ContactSource, DebtCase, DebtorContact, OverdueBucket
from api.models.users import Role, User
from api.models.visit_requests import VisitPurpose, VisitRequest, VisitRequestStatus
from tests.factories import auth_headers, make_branch, make_case, make_user, problem_type, tomorrow

HEADER = [
    "case_reference",
    "debtor_name",
    "debtor_id_number",
    "amount_owed",
    "overdue_bucket",
    "complaint_history",
    "phone_collector",
    "phones",
    "case_notes",
    "address_kind",
    "address",
    "lat",
    "lon",
    "visit_purpose",
    "visit_priority",
    "visit_earliest_date",
    "visit_latest_date",
    "visit_window_start",
    "visit_window_end",
    "visit_notes",
]
CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}


def row(**values: str) -> dict[str, str]:
    base = {
        "case_reference": "IMP-001",
        "debtor_name": "王芳",
        "debtor_id_number": "11010519491231002X",
        "amount_owed": "5000.00",
        "overdue_bucket": "M3",
        "complaint_history": "no",
        "address_kind": "home",
        "address": "上海市徐汇区漕溪北路1号",
    }
    return base | values


def to_csv(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def counts(session: Session) -> tuple[int, int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (DebtCase, DebtorContact, Address, VisitRequest)
    )


def post_csv(client: TestClient, user: User, text: str | bytes, **params: Any) -> Any:
    return client.post("/cases/import", content=text, params=params, headers=CSV_HEADERS | auth_headers(user))


def good_rows(branch: Branch, collector: User) -> list[dict[str, str]]:
    day = tomorrow(branch)
    return [
        row(
            phones="13900000001",
            phone_collector=collector.username,
            lat="31.1880",
            lon="121.4370",
            visit_purpose="confirm_address",
            visit_priority="5",
            visit_earliest_date=day.isoformat(),
            visit_latest_date=(day + timedelta(days=3)).isoformat(),
            visit_window_start="09:00",
            visit_window_end="12:00",
            visit_notes="先打电话",
        ),
        row(
            phones="13900000001; 13900000009",
            phone_collector=collector.username,
            address_kind="work",
            address="上海市静安区南京西路2号",
        ),
        row(
            case_reference="IMP-002",
            debtor_name="赵磊",
            debtor_id_number="440524188001010014",
            amount_owed="120",
            overdue_bucket="M6+",
            complaint_history="TRUE",
            phones="+8613800000002",
            case_notes="曾投诉",
            address_kind="hometown",
            address="广东省汕头市某村",
            visit_purpose="negotiate",
            visit_earliest_date=day.isoformat(),
        ),
    ]


def test_a_good_file_imports_every_case_contact_address_and_visit_request(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)

    response = post_csv(client, supervisor, "\ufeff" + to_csv(good_rows(branch, collector)))  # Excel writes a BOM

    assert response.status_code == 201, response.text
    assert response.json() == {
        "file_format": "csv-utf-8",
        "branch_id": str(branch.id),
        "cases": 2,
        "contacts": 3,
        "addresses": 3,
        "visit_requests": 2,
        "addresses_without_point": 2,  # the file gave one point; the others wait for a geocoder
        "grades": {"complete": 2, "road": 1},
    }
    assert counts(session) == (2, 3, 3, 2)
    cases = {c.reference: c for c in session.scalars(select(DebtCase))}
    first, second = cases["IMP-001"], cases["IMP-002"]
    assert first.branch_id == branch.id and first.phone_collector_id == collector.id
    assert first.complaint_history is False and second.complaint_history is True
    assert second.overdue_bucket is OverdueBucket.M6_PLUS and str(second.amount_owed) == "120.00"
    assert second.notes == "曾投诉" and second.phone_collector_id is None
    contacts = session.scalars(select(DebtorContact)).all()
    assert sorted((c.case_id == first.id, c.phone) for c in contacts) == [
        (False, "+8613800000002"),
        (True, "13900000001"),
        (True, "13900000009"),
    ]
    assert {(c.kind, c.source) for c in contacts} == {(ContactKind.MOBILE, ContactSource.CASE_FILE)}
    points = {a.raw_text: GeoPoint.from_wkb(a.point) for a in session.scalars(select(Address))}
    assert points == {
        "上海市徐汇区漕溪北路1号": GeoPoint(lat=31.188, lon=121.437),
        "上海市静安区南京西路2号": None,
        "广东省汕头市某村": None,
    }
    visits = {v.purpose: v for v in session.scalars(select(VisitRequest))}
    confirm, negotiate = visits[VisitPurpose.CONFIRM_ADDRESS], visits[VisitPurpose.NEGOTIATE]
    assert confirm.case_id == first.id and confirm.priority == 5 and confirm.notes == "先打电话"
    assert (confirm.window_start, confirm.window_end) == (time(9, 0), time(12, 0))
    assert confirm.latest_date == tomorrow(branch) + timedelta(days=3)
    assert negotiate.priority == 3 and negotiate.latest_date == negotiate.earliest_date == tomorrow(branch)
    assert {v.requested_by_id for v in visits.values()} == {supervisor.id}
    assert {v.status for v in visits.values()} == {VisitRequestStatus.OPEN}
    address_of = {a.id: a.raw_text for a in session.scalars(select(Address))}
    assert address_of[confirm.address_id] == "上海市徐汇区漕溪北路1号"


def test_one_bad_row_among_good_ones_writes_nothing_and_every_error_is_listed(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    rows = good_rows(branch, collector)
    bad = row(
        case_reference="IMP-003",
        debtor_id_number="110105194912310021",
        amount_owed="12.345",
        overdue_bucket="M9",
        complaint_history="maybe",
        phones="138-0000-0000",
        lat="95",
        lon="121",
        visit_priority="3",
    )
    disagreeing = rows[1] | {"debtor_name": "王芳芳", "address": "上海市某处"}  # the case of rows 1 and 2

    response = post_csv(client, supervisor, to_csv([rows[0], rows[1], bad, rows[2], disagreeing]))

    assert response.status_code == 422
    assert problem_type(response) == "csv-rejected"
    errors = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert errors == {
        (3, "debtor_id_number"),
        (3, "amount_owed"),
        (3, "overdue_bucket"),
        (3, "complaint_history"),
        (3, "phones"),
        (3, "lat"),
        (3, "visit_priority"),
        (5, "debtor_name"),
    }
    assert all(e["detail"] for e in response.json()["errors"])
    assert counts(session) == (0, 0, 0, 0)


def test_references_already_in_the_branch_are_row_errors(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_case(session, branch, reference="IMP-001")
    make_case(session, reference="IMP-002")  # another branch's reference does not clash

    response = post_csv(client, supervisor, to_csv([row(), row(case_reference="IMP-002")]))

    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(1, "case_reference")]
    assert counts(session) == (2, 0, 0, 0)


def test_unknown_and_missing_columns_reject_the_header(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    header = [name for name in HEADER if name != "debtor_id_number"] + ["currency"]
    values = {name: value for name, value in row().items() if name != "debtor_id_number"} | {"currency": "CNY"}

    response = post_csv(client, supervisor, to_csv([values], header=header))

    assert response.status_code == 422
    assert problem_type(response) == "csv-rejected"
    assert {(e["row"], e["column"]) for e in response.json()["errors"]} == {
        (None, "currency"),
        (None, "debtor_id_number"),
    }
    assert counts(session) == (0, 0, 0, 0)


def test_visit_rules_are_those_of_the_api(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    day = tomorrow(branch)
    rows = [
        row(case_reference="V1", visit_priority="4"),  # visit columns without a purpose
        row(case_reference="V2", visit_purpose="negotiate", visit_earliest_date=(day - timedelta(days=5)).isoformat()),
        row(
            case_reference="V3",
            visit_purpose="negotiate",
            visit_earliest_date=day.isoformat(),
            visit_window_start="14:00",
            visit_window_end="10:00",
        ),
        row(case_reference="V4", visit_purpose="negotiate"),  # no earliest date
        row(case_reference="V5", visit_purpose="sing", visit_earliest_date=day.isoformat()),
    ]

    response = post_csv(client, supervisor, to_csv(rows))

    assert response.status_code == 422
    assert {(e["row"], e["column"]) for e in response.json()["errors"]} == {
        (1, "visit_priority"),
        (2, "visit_earliest_date"),
        (3, "visit_window_end"),
        (4, "visit_earliest_date"),
        (5, "visit_purpose"),
    }
    assert counts(session) == (0, 0, 0, 0)


def test_collector_lat_lon_and_field_count_errors_point_at_their_cells(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    elsewhere = make_user(session, Role.PHONE_COLLECTOR)
    text = to_csv(
        [
            row(phone_collector="nobody"),
            row(case_reference="X2", phone_collector=elsewhere.username),
            row(case_reference="X3", lat="31.2"),
        ]
    )
    text += "X4,too,few\r\n"

    response = post_csv(client, supervisor, text)

    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(4, None)]  # the shape is checked first
    response = post_csv(client, supervisor, text.rsplit("X4", 1)[0])
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [
        (1, "phone_collector"),
        (2, "phone_collector"),
        (3, "lon"),
    ]
    assert counts(session) == (0, 0, 0, 0)


def test_a_file_over_5_mib_is_413_and_writes_nothing(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    text = to_csv([row()])
    huge = text + "\r\n" * ((MAX_FILE_BYTES - len(text.encode())) // 2 + 1)

    response = post_csv(client, supervisor, huge)
    chunked = client.post(
        "/cases/import", content=iter([huge.encode()]), headers=CSV_HEADERS | auth_headers(supervisor)
    )

    assert len(huge.encode()) > MAX_FILE_BYTES
    for refused in (response, chunked):
        assert refused.status_code == 413
        assert problem_type(refused) == "payload-too-large"
    assert counts(session) == (0, 0, 0, 0)
    at_the_limit = huge.encode()[:MAX_FILE_BYTES]  # the same rows, then fewer blank lines (which are skipped)
    assert post_csv(client, supervisor, at_the_limit).status_code == 201


def test_a_file_not_in_the_charset_it_declares_is_422(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_csv(client, supervisor, to_csv([row()]).encode("gbk"))  # labelled utf-8

    assert response.status_code == 422
    assert problem_type(response) == "csv-encoding-not-accepted"
    assert counts(session) == (0, 0, 0, 0)


def test_only_text_csv_and_xlsx_are_accepted(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.post(
        "/cases/import",
        content=to_csv([row()]),
        headers={"Content-Type": "application/json"} | auth_headers(supervisor),
    )

    assert response.status_code == 415
    assert problem_type(response) == "unsupported-media-type"
    assert counts(session) == (0, 0, 0, 0)


@pytest.mark.parametrize("text", ["", "\r\n\r\n", to_csv([])], ids=["empty", "blank-lines", "header-only"])
def test_a_file_without_data_rows_is_rejected(client: TestClient, session: Session, text: str) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = post_csv(client, supervisor, text)

    assert response.status_code == 422
    assert problem_type(response) == "csv-rejected"


def test_admin_names_the_branch(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session)

    missing = post_csv(client, admin, to_csv([row()]))
    named = post_csv(client, admin, to_csv([row()]), branch_id=str(branch.id))

    assert missing.status_code == 422 and problem_type(missing) == "branch-required"
    assert named.status_code == 201
    case = session.scalar(select(DebtCase))
    assert case is not None and case.branch_id == branch.id


@pytest.mark.parametrize("role", [Role.AGENT, Role.PHONE_COLLECTOR])
def test_only_managers_import(client: TestClient, session: Session, role: Role) -> None:
    user = make_user(session, role)

    response = post_csv(client, user, to_csv([row()]))

    assert response.status_code == 403
    assert problem_type(response) == "role-not-allowed"
    assert counts(session) == (0, 0, 0, 0)


def test_import_cases_is_callable_without_http(session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)

    summary = import_cases(session, supervisor, None, read_case_file(to_csv([row()]).encode()))
    session.commit()
    with pytest.raises(CsvRejected) as refused:
        import_cases(session, supervisor, None, read_case_file(to_csv([row()]).encode()))

    assert summary.model_dump(mode="json") == {
        "file_format": "csv-utf-8",
        "branch_id": str(branch.id),
        "cases": 1,
        "contacts": 0,
        "addresses": 1,
        "visit_requests": 0,
        "addresses_without_point": 1,
        "grades": {"complete": 1},
    }
    assert refused.value.extensions["errors"] == [
        {"row": 1, "column": "case_reference", "detail": "the branch already has a case with this reference"}
    ]
    session.rollback()
    assert counts(session) == (1, 0, 1, 0)
