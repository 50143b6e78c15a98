from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from api.branches.service import local_today
from api.models.branches import Branch
from api.models.cases import Address, AddressValidity, DebtCase, InvalidReason
from api.models.users import Role, User
from api.models.visit_requests import VisitPurpose, VisitRequest, VisitRequestStatus
from tests.factories import (
    PEOPLES_SQUARE,
    as_uuid,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_user,
    make_visit_request,
    problem_type,
    tomorrow,
)


def _branch_of(session: Session, case: DebtCase) -> Branch:
    branch = session.get(Branch, case.branch_id)
    assert branch is not None
    return branch


def _body(address: Address, day: date, **fields: Any) -> dict[str, Any]:
    return {
        "case_id": str(address.case_id),
        "address_id": str(address.id),
        "purpose": "negotiate",
        "earliest_date": day.isoformat(),
        **fields,
    }


def _create(client: TestClient, headers: dict[str, str], address: Address, day: date, **fields: Any) -> Response:
    return client.post("/visit-requests", json=_body(address, day, **fields), headers=headers)


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(VisitRequest)) or 0


def _reread(session: Session, request: VisitRequest) -> VisitRequest:
    session.expire_all()
    row = session.get(VisitRequest, request.id)
    assert row is not None
    return row


def _collector_case(session: Session) -> tuple[User, DebtCase, Address, date]:
    collector = make_user(session, Role.PHONE_COLLECTOR)
    branch = session.get(Branch, collector.branch_id)
    assert branch is not None
    case = make_case(session, branch, collector=collector, reference="REF-001", debtor_name="李娜")
    return collector, case, make_address(session, case), tomorrow(branch)


def test_collector_requests_a_visit_for_their_case(client: TestClient, session: Session) -> None:
    collector, case, address, day = _collector_case(session)

    response = _create(
        client,
        auth_headers(collector),
        address,
        day,
        priority=5,
        window_start="09:00",
        window_end="12:00",
        notes="晚上在家",
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["case_id"] == str(case.id) and body["address_id"] == str(address.id)
    assert body["case_reference"] == "REF-001" and body["debtor_name"] == "李娜"
    assert body["address_text"] == address.raw_text
    assert body["address_point"] == {"lat": PEOPLES_SQUARE.lat, "lon": PEOPLES_SQUARE.lon}
    assert body["requested_by_id"] == str(collector.id)
    assert body["purpose"] == "negotiate" and body["priority"] == 5 and body["status"] == "open"
    assert body["earliest_date"] == body["latest_date"] == day.isoformat()
    assert body["window_start"] == "09:00" and body["window_end"] == "12:00"
    row = session.get(VisitRequest, as_uuid(body["id"]))
    assert row is not None and row.requested_by_id == collector.id and row.priority == 5


def test_supervisor_requests_with_defaults_and_an_address_without_a_point(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    address = make_address(session, make_case(session, branch), point=None)

    response = _create(client, auth_headers(supervisor), address, tomorrow(branch))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["priority"] == 3 and body["notes"] == "" and body["address_point"] is None
    assert body["window_start"] is None and body["window_end"] is None
    assert body["requested_by_id"] == str(supervisor.id)
    assert (body["amount_owed"], body["currency"], body["required_skills"]) == ("12345.67", "CNY", [])


def test_a_request_says_what_is_owed_and_that_a_complaint_case_needs_an_experienced_team(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    address = make_address(session, make_case(session, branch, complaint_history=True))

    body = _create(client, auth_headers(supervisor), address, tomorrow(branch)).json()

    assert body["required_skills"] == ["experienced"]


def test_collector_cannot_request_for_a_case_of_another_collector(client: TestClient, session: Session) -> None:
    collector, case, _, day = _collector_case(session)
    branch = _branch_of(session, case)
    colleague = make_user(session, Role.PHONE_COLLECTOR, branch)
    for other_case in (make_case(session, branch, collector=colleague), make_case(session, branch)):
        address = make_address(session, other_case)

        response = _create(client, auth_headers(collector), address, day)

        assert response.status_code == 404
        assert problem_type(response) == "case-not-found"
    assert _count(session) == 0


def test_supervisor_of_another_branch_gets_404_on_every_endpoint(client: TestClient, session: Session) -> None:
    request = make_visit_request(session)
    outsider = make_user(session, Role.SUPERVISOR)
    headers = auth_headers(outsider)
    case = session.get(DebtCase, request.case_id)
    assert case is not None

    got = client.get(f"/visit-requests/{request.id}", headers=headers)
    patched = client.patch(
        f"/visit-requests/{request.id}", json={"priority": 5, "status": "cancelled"}, headers=headers
    )
    posted = _create(client, headers, request.address, tomorrow(_branch_of(session, case)) + timedelta(days=5))
    listed = client.get("/visit-requests", headers=headers)

    assert got.status_code == 404 and problem_type(got) == "visit-request-not-found"
    assert patched.status_code == 404 and problem_type(patched) == "visit-request-not-found"
    assert posted.status_code == 404 and problem_type(posted) == "case-not-found"
    assert listed.status_code == 200 and listed.json()["items"] == []
    row = _reread(session, request)
    assert row.priority == 3 and row.status is VisitRequestStatus.OPEN
    assert _count(session) == 1


def test_agent_is_refused_on_every_endpoint(client: TestClient, session: Session) -> None:
    request = make_visit_request(session)
    case = session.get(DebtCase, request.case_id)
    assert case is not None
    branch = _branch_of(session, case)
    headers = auth_headers(make_user(session, Role.AGENT, branch))

    responses = [
        _create(client, headers, request.address, tomorrow(branch) + timedelta(days=5)),
        client.get("/visit-requests", headers=headers),
        client.get(f"/visit-requests/{request.id}", headers=headers),
        client.patch(f"/visit-requests/{request.id}", json={"status": "cancelled"}, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 403
        assert problem_type(response) == "role-not-allowed"
    assert _count(session) == 1
    assert _reread(session, request).status is VisitRequestStatus.OPEN


def test_an_invalid_address_cannot_be_requested(client: TestClient, session: Session) -> None:
    collector, case, _, day = _collector_case(session)
    for validity in (AddressValidity.REPORTED_INVALID, AddressValidity.CONFIRMED_INVALID):
        address = make_address(session, case, validity=validity, invalid_reason=InvalidReason.DEMOLISHED)

        response = _create(client, auth_headers(collector), address, day)

        assert response.status_code == 409
        assert problem_type(response) == "address-invalid"
        assert response.json()["validity"] == validity.value
        assert response.json()["invalid_reason"] == "demolished"
    assert _count(session) == 0


def test_an_address_of_another_case_is_422(client: TestClient, session: Session) -> None:
    collector, case, _, day = _collector_case(session)
    other_address = make_address(session, make_case(session, _branch_of(session, case), collector=collector))

    response = _create(client, auth_headers(collector), other_address, day, case_id=str(case.id))

    assert response.status_code == 422
    assert problem_type(response) == "address-not-of-case"
    assert response.json()["errors"][0]["pointer"] == "#/address_id"
    assert _count(session) == 0


def test_a_date_before_the_branch_today_is_422(client: TestClient, session: Session) -> None:
    collector, case, address, _ = _collector_case(session)
    today = local_today(_branch_of(session, case))

    past = _create(client, auth_headers(collector), address, today - timedelta(days=1))
    same_day = _create(client, auth_headers(collector), address, today)

    assert past.status_code == 422
    assert problem_type(past) == "visit-date-in-past"
    assert same_day.status_code == 201


def test_a_window_outside_visiting_hours_is_422(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)  # the branch visits from 08:00 until 21:00
    headers = auth_headers(collector)

    for start, end in (("21:00", "23:00"), ("06:00", "08:00")):
        response = _create(client, headers, address, day, window_start=start, window_end=end)

        assert response.status_code == 422
        assert problem_type(response) == "window-outside-visiting-hours"
        assert response.json()["visiting_from"] == "08:00"
    assert _count(session) == 0
    overlapping = _create(client, headers, address, day, window_start="20:00", window_end="22:00")
    assert overlapping.status_code == 201


def test_a_window_needs_both_ends_in_order_and_no_offset(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)
    headers = auth_headers(collector)

    half = _create(client, headers, address, day, window_start="09:00")
    reversed_ = _create(client, headers, address, day, window_start="12:00", window_end="09:00")
    with_offset = _create(client, headers, address, day, window_start="09:00+08:00", window_end="12:00+08:00")

    assert half.status_code == 422 and problem_type(half) == "visit-window-invalid"
    assert reversed_.status_code == 422 and problem_type(reversed_) == "visit-window-invalid"
    assert with_offset.status_code == 422 and problem_type(with_offset) == "validation-failed"
    assert _count(session) == 0


def test_earliest_after_latest_is_422(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)

    response = _create(client, auth_headers(collector), address, day + timedelta(days=2), latest_date=day.isoformat())

    assert response.status_code == 422
    assert problem_type(response) == "visit-dates-out-of-order"
    assert _count(session) == 0


def test_an_overlapping_pending_request_for_the_address_is_a_duplicate(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)
    headers = auth_headers(collector)
    existing = make_visit_request(session, address, earliest_date=day, latest_date=day + timedelta(days=2))

    clash = _create(
        client, headers, address, day + timedelta(days=2), latest_date=(day + timedelta(days=4)).isoformat()
    )

    assert clash.status_code == 409
    assert problem_type(clash) == "visit-request-duplicate"
    assert clash.json()["visit_request_id"] == str(existing.id)
    assert _count(session) == 1
    existing.status = VisitRequestStatus.PLANNED
    session.commit()
    assert _create(client, headers, address, day).status_code == 409
    after = _create(client, headers, address, day + timedelta(days=3))
    assert after.status_code == 201
    existing.status = VisitRequestStatus.CANCELLED
    session.commit()
    assert _create(client, headers, address, day).status_code == 201


def test_date_filter_returns_exactly_the_requests_eligible_that_day(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)
    day = tomorrow(branch)

    def on(earliest: date, latest: date, **fields: object) -> VisitRequest:
        return make_visit_request(
            session, make_address(session, case), earliest_date=earliest, latest_date=latest, **fields
        )

    only_that_day = on(day, day)
    spanning = on(day - timedelta(days=1), day + timedelta(days=3))
    ending_that_day = on(day - timedelta(days=1), day)
    cancelled = on(day, day, status=VisitRequestStatus.CANCELLED)
    on(day - timedelta(days=1), day - timedelta(days=1))
    on(day + timedelta(days=1), day + timedelta(days=2))
    make_visit_request(session, earliest_date=day, latest_date=day)  # another branch

    every = client.get("/visit-requests", params={"date": day.isoformat()}, headers=auth_headers(supervisor))
    open_ = client.get(
        "/visit-requests", params={"date": day.isoformat(), "status": "open"}, headers=auth_headers(supervisor)
    )

    assert every.status_code == 200 and open_.status_code == 200
    assert {r["id"] for r in every.json()["items"]} == {
        str(r.id) for r in (only_that_day, spanning, ending_that_day, cancelled)
    }
    assert {r["id"] for r in open_.json()["items"]} == {str(r.id) for r in (only_that_day, spanning, ending_that_day)}


def test_date_range_case_and_purpose_filters(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    headers = auth_headers(make_user(session, Role.SUPERVISOR, branch))
    case, other_case = make_case(session, branch), make_case(session, branch)
    day = tomorrow(branch)
    early = make_visit_request(session, make_address(session, case), earliest_date=day, latest_date=day)
    late = make_visit_request(
        session,
        make_address(session, other_case),
        earliest_date=day + timedelta(days=5),
        latest_date=day + timedelta(days=6),
        purpose=VisitPurpose.DELIVER_LETTER,
    )

    def ids(**params: str) -> set[str]:
        response = client.get("/visit-requests", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["items"]}

    assert ids(from_date=(day + timedelta(days=1)).isoformat()) == {str(late.id)}
    assert ids(to_date=(day + timedelta(days=4)).isoformat()) == {str(early.id)}
    assert ids(from_date=day.isoformat(), to_date=(day + timedelta(days=5)).isoformat()) == {
        str(early.id),
        str(late.id),
    }
    assert ids(case_id=str(case.id)) == {str(early.id)}
    assert ids(purpose="deliver_letter") == {str(late.id)}
    backwards_range = {"from_date": day.isoformat(), "to_date": (day - timedelta(days=1)).isoformat()}
    backwards = client.get("/visit-requests", params=backwards_range, headers=headers)
    assert backwards.status_code == 422 and problem_type(backwards) == "validation-failed"


def test_collectors_see_requests_of_their_cases_and_admins_filter_by_branch(
    client: TestClient, session: Session
) -> None:
    collector, case, address, _ = _collector_case(session)
    branch = _branch_of(session, case)
    mine = make_visit_request(session, address)
    colleagues = make_visit_request(session, make_address(session, make_case(session, branch)), requested_by=collector)
    elsewhere = make_visit_request(session)
    admin = make_user(session, Role.ADMIN)

    seen_by_collector = client.get("/visit-requests", headers=auth_headers(collector)).json()["items"]
    seen_by_admin = client.get("/visit-requests", headers=auth_headers(admin)).json()["items"]
    admin_in_branch = client.get(
        "/visit-requests", params={"branch_id": str(branch.id)}, headers=auth_headers(admin)
    ).json()

    assert [r["id"] for r in seen_by_collector] == [str(mine.id)]
    assert client.get(f"/visit-requests/{colleagues.id}", headers=auth_headers(collector)).status_code == 404
    assert {r["id"] for r in seen_by_admin} == {str(mine.id), str(colleagues.id), str(elsewhere.id)}
    assert {r["id"] for r in admin_in_branch["items"]} == {str(mine.id), str(colleagues.id)}


def test_pages_follow_the_cursor_and_return_every_row_once(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    headers = auth_headers(make_user(session, Role.SUPERVISOR, branch))
    case = make_case(session, branch)
    created = {str(make_visit_request(session, make_address(session, case)).id) for _ in range(7)}

    seen: list[str] = []
    pages = 0
    params: dict[str, str | int] = {"limit": 3}
    while True:
        response = client.get("/visit-requests", params=params, headers=headers)
        assert response.status_code == 200
        page = response.json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert pages == 3
    assert sorted(seen) == sorted(created)


@contextmanager
def _counting_selects(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_listing_does_not_query_once_per_row(client: TestClient, session: Session, app: FastAPI) -> None:
    branch = make_branch(session)
    headers = auth_headers(make_user(session, Role.SUPERVISOR, branch))
    case = make_case(session, branch)
    make_visit_request(session, make_address(session, case))
    client.get("/visit-requests", headers=headers)  # the first request opens the connection

    with _counting_selects(app) as one_row:
        assert len(client.get("/visit-requests", headers=headers).json()["items"]) == 1
    for _ in range(5):
        make_visit_request(session, make_address(session, make_case(session, branch)))
    with _counting_selects(app) as six_rows:
        assert len(client.get("/visit-requests", headers=headers).json()["items"]) == 6

    assert len(six_rows) == len(one_row)


def test_an_open_request_is_cancelled_and_reopened(client: TestClient, session: Session) -> None:
    collector, _, address, _ = _collector_case(session)
    request = make_visit_request(session, address, requested_by=collector)
    headers = auth_headers(collector)

    cancelled = client.patch(f"/visit-requests/{request.id}", json={"status": "cancelled"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert datetime.fromisoformat(cancelled.json()["updated_at"]) > request.updated_at
    assert _reread(session, request).status is VisitRequestStatus.CANCELLED
    reopened = client.patch(f"/visit-requests/{request.id}", json={"status": "open"}, headers=headers)
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert _reread(session, request).status is VisitRequestStatus.OPEN


def test_other_status_changes_are_409(client: TestClient, session: Session) -> None:
    collector, _, address, _ = _collector_case(session)
    headers = auth_headers(collector)
    request = make_visit_request(session, address, requested_by=collector)
    cases = [
        (VisitRequestStatus.OPEN, "planned"),
        (VisitRequestStatus.OPEN, "completed"),
        (VisitRequestStatus.PLANNED, "cancelled"),
        (VisitRequestStatus.PLANNED, "open"),
        (VisitRequestStatus.COMPLETED, "open"),
        (VisitRequestStatus.CANCELLED, "completed"),
    ]
    for current, wanted in cases:
        request.status = current
        session.commit()

        response = client.patch(f"/visit-requests/{request.id}", json={"status": wanted}, headers=headers)

        assert response.status_code == 409, (current, wanted)
        assert problem_type(response) == "visit-request-status-change-not-allowed"
        assert _reread(session, request).status is current


def test_only_an_open_request_changes_its_plan(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)
    headers = auth_headers(collector)
    request = make_visit_request(session, address, requested_by=collector, status=VisitRequestStatus.PLANNED)

    for change in ({"priority": 5}, {"purpose": "negotiate"}, {"earliest_date": (day + timedelta(days=1)).isoformat()}):
        response = client.patch(f"/visit-requests/{request.id}", json=change, headers=headers)

        assert response.status_code == 409
        assert problem_type(response) == "visit-request-not-open"
    notes = client.patch(
        f"/visit-requests/{request.id}", json={"notes": "门卫说周末在家", "priority": 3}, headers=headers
    )
    assert notes.status_code == 200 and notes.json()["notes"] == "门卫说周末在家"
    row = _reread(session, request)
    assert row.priority == 3 and row.purpose is VisitPurpose.CONFIRM_ADDRESS and row.earliest_date == day


def test_a_patch_is_checked_against_the_whole_resulting_row(client: TestClient, session: Session) -> None:
    collector, case, address, day = _collector_case(session)
    headers = auth_headers(collector)
    request = make_visit_request(
        session,
        address,
        earliest_date=day,
        latest_date=day + timedelta(days=2),
        window_start=time(9),
        window_end=time(12),
    )
    today = local_today(_branch_of(session, case))
    refusals = [
        ({"earliest_date": (day + timedelta(days=3)).isoformat()}, "visit-dates-out-of-order"),
        ({"window_start": None}, "visit-window-invalid"),
        ({"window_end": "08:30"}, "visit-window-invalid"),
        ({"window_start": "22:00", "window_end": "23:00"}, "window-outside-visiting-hours"),
        ({"earliest_date": (today - timedelta(days=1)).isoformat()}, "visit-date-in-past"),
    ]
    for change, slug in refusals:
        response = client.patch(f"/visit-requests/{request.id}", json=change, headers=headers)

        assert response.status_code == 422, change
        assert problem_type(response) == slug
    row = _reread(session, request)
    assert (row.earliest_date, row.latest_date, row.window_start, row.window_end) == (
        day,
        day + timedelta(days=2),
        time(9),
        time(12),
    )

    moved = client.patch(
        f"/visit-requests/{request.id}",
        json={
            "latest_date": (day + timedelta(days=5)).isoformat(),
            "window_start": None,
            "window_end": None,
            "priority": 4,
        },
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["latest_date"] == (day + timedelta(days=5)).isoformat()
    assert moved.json()["window_start"] is None and moved.json()["priority"] == 4


def test_rescheduling_or_reopening_onto_another_request_is_a_duplicate(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)
    headers = auth_headers(collector)
    first = make_visit_request(session, address, earliest_date=day, latest_date=day)
    later = make_visit_request(
        session, address, earliest_date=day + timedelta(days=3), latest_date=day + timedelta(days=4)
    )

    moved = client.patch(f"/visit-requests/{later.id}", json={"earliest_date": day.isoformat()}, headers=headers)
    assert moved.status_code == 409 and problem_type(moved) == "visit-request-duplicate"
    assert moved.json()["visit_request_id"] == str(first.id)
    assert _reread(session, later).earliest_date == day + timedelta(days=3)

    first.status = VisitRequestStatus.CANCELLED
    session.commit()
    client.patch(f"/visit-requests/{later.id}", json={"earliest_date": day.isoformat()}, headers=headers)
    reopened = client.patch(f"/visit-requests/{first.id}", json={"status": "open"}, headers=headers)
    assert reopened.status_code == 409 and problem_type(reopened) == "visit-request-duplicate"
    assert _reread(session, first).status is VisitRequestStatus.CANCELLED


def test_reopening_needs_dates_still_ahead_and_a_valid_address(client: TestClient, session: Session) -> None:
    collector, case, address, day = _collector_case(session)
    headers = auth_headers(collector)
    yesterday = local_today(_branch_of(session, case)) - timedelta(days=1)
    expired = make_visit_request(
        session, address, earliest_date=yesterday, latest_date=yesterday, status=VisitRequestStatus.CANCELLED
    )
    invalid = make_address(
        session, case, validity=AddressValidity.CONFIRMED_INVALID, invalid_reason=InvalidReason.VAGUE
    )
    on_invalid = make_visit_request(session, invalid, status=VisitRequestStatus.CANCELLED)

    past = client.patch(f"/visit-requests/{expired.id}", json={"status": "open"}, headers=headers)
    bad_address = client.patch(f"/visit-requests/{on_invalid.id}", json={"status": "open"}, headers=headers)
    moved_and_reopened = client.patch(
        f"/visit-requests/{expired.id}",
        json={"status": "open", "earliest_date": day.isoformat(), "latest_date": day.isoformat()},
        headers=headers,
    )

    assert past.status_code == 422 and problem_type(past) == "visit-date-in-past"
    assert bad_address.status_code == 409 and problem_type(bad_address) == "address-invalid"
    assert _reread(session, on_invalid).status is VisitRequestStatus.CANCELLED
    assert moved_and_reopened.status_code == 200, moved_and_reopened.text
    assert moved_and_reopened.json()["earliest_date"] == day.isoformat()


def test_null_for_a_non_nullable_member_is_422(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)
    headers = auth_headers(collector)
    request = make_visit_request(session, address, requested_by=collector)

    patched = [
        client.patch(f"/visit-requests/{request.id}", json={name: None}, headers=headers)
        for name in ("priority", "status", "earliest_date", "notes")
    ]
    posted = _create(client, headers, address, day + timedelta(days=9), purpose=None)

    for response in [*patched, posted]:
        assert response.status_code == 422
        assert problem_type(response) == "validation-failed"
    assert patched[0].json()["errors"][0]["detail"].endswith("leave the member out to keep its value")
    assert posted.json()["errors"][0]["pointer"] == "#/purpose"
    assert _count(session) == 1
    assert _reread(session, request).priority == 3


def test_bodies_are_strict(client: TestClient, session: Session) -> None:
    collector, _, address, day = _collector_case(session)
    headers = auth_headers(collector)

    refused = [
        _body(address, day, priority=True),
        _body(address, day, priority=6),
        _body(address, day, purpose="visit_for_fun"),
        _body(address, day, requested_by_id=str(collector.id)),
        {**_body(address, day), "earliest_date": 20261201},
    ]
    for body in refused:
        response = client.post("/visit-requests", json=body, headers=headers)

        assert response.status_code == 422, body
        assert problem_type(response) == "validation-failed"
    assert _count(session) == 0
