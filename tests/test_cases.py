from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models.cases import DebtCase, OverdueBucket
from api.models.users import Role
from tests.factories import auth_headers, make_branch, make_case, make_user, problem_type

ID_NUMBER = "11010519491231002X"  # a valid check digit (X)


def case_body(**fields: Any) -> dict[str, Any]:
    return {
        "reference": "HB-2026-0001",
        "debtor_name": "李娜",
        "debtor_id_number": ID_NUMBER,
        "amount_owed": "8800.50",
        "overdue_bucket": "M2",
    } | fields


def count_cases(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(DebtCase)) or 0


def test_supervisor_creates_a_case_in_their_branch_and_never_sees_the_full_id_number(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)

    response = client.post(
        "/cases", json=case_body(phone_collector_id=str(collector.id)), headers=auth_headers(supervisor)
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["branch_id"] == str(supervisor.branch_id)
    assert body["debtor_id_number_masked"] == "110***********002X"
    assert ID_NUMBER not in response.text
    assert "debtor_id_number" not in body
    assert body["amount_owed"] == "8800.50"
    assert body["currency"] == "CNY" and body["complaint_history"] is False
    assert body["phone_collector_id"] == str(collector.id)
    fetched = client.get(f"/cases/{body['id']}", headers=auth_headers(supervisor))
    assert fetched.json()["debtor_id_number_masked"] == "110***********002X"
    assert ID_NUMBER not in fetched.text
    stored = session.get(DebtCase, UUID(body["id"]))
    assert stored is not None and stored.debtor_id_number == ID_NUMBER


def test_amount_may_be_a_json_number_and_is_answered_as_a_string_with_two_places(
    client: TestClient, session: Session
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.post("/cases", json=case_body(amount_owed=100), headers=auth_headers(supervisor))

    assert response.status_code == 201, response.text
    assert response.json()["amount_owed"] == "100.00"


@pytest.mark.parametrize(
    "amount",
    ["-1", "1.234", "123456789012345", "NaN", True, "abc"],
    ids=["negative", "3-places", "15-digits", "nan", "bool", "text"],
)
def test_bad_amounts_are_refused(client: TestClient, session: Session, amount: object) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.post("/cases", json=case_body(amount_owed=amount), headers=auth_headers(supervisor))

    assert response.status_code == 422
    assert problem_type(response) == "validation-failed"
    assert response.json()["errors"][0]["pointer"] == "#/amount_owed"
    assert count_cases(session) == 0


@pytest.mark.parametrize(
    "id_number",
    ["110105194912310021", "11010519491231002x", "1101051949123100", "11010519491231002Y", "１10105194912310021"],
    ids=["wrong-check-digit", "lower-case-x", "16-chars", "letter-Y", "full-width-digit"],
)
def test_id_numbers_with_a_bad_check_digit_or_shape_are_refused(
    client: TestClient, session: Session, id_number: str
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.post("/cases", json=case_body(debtor_id_number=id_number), headers=auth_headers(supervisor))

    assert response.status_code == 422
    assert problem_type(response) == "validation-failed"
    assert response.json()["errors"][0]["pointer"] == "#/debtor_id_number"
    assert count_cases(session) == 0


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("440524188001010014", "440***********0014"),
        ("11010519491231002X", "110***********002X"),
        ("110105491231002", "110********1002"),
    ],
    ids=["check-digit-4", "check-digit-X", "legacy-15"],
)
def test_valid_and_legacy_id_numbers_are_accepted_and_masked(
    client: TestClient, session: Session, id_number: str, masked: str
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.post("/cases", json=case_body(debtor_id_number=id_number), headers=auth_headers(supervisor))

    assert response.status_code == 201, response.text
    assert response.json()["debtor_id_number_masked"] == masked


def test_reference_taken_in_the_branch_is_409_but_free_in_another_branch(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    existing = make_case(session, branch, reference="DUP-1")
    make_case(session, reference="ELSEWHERE")

    taken = client.post("/cases", json=case_body(reference="DUP-1"), headers=auth_headers(supervisor))
    free = client.post("/cases", json=case_body(reference="ELSEWHERE"), headers=auth_headers(supervisor))

    assert taken.status_code == 409
    assert problem_type(taken) == "case-reference-taken"
    assert taken.json()["case_id"] == str(existing.id)
    assert free.status_code == 201
    assert count_cases(session) == 3


def test_renaming_a_case_to_a_taken_reference_is_409(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    make_case(session, branch, reference="A-1")
    other = make_case(session, branch, reference="A-2")

    response = client.patch(f"/cases/{other.id}", json={"reference": "A-1"}, headers=auth_headers(supervisor))

    assert response.status_code == 409
    assert problem_type(response) == "case-reference-taken"
    session.expire_all()
    assert session.get(DebtCase, other.id).reference == "A-2"  # type: ignore[union-attr]


def test_phone_collector_must_be_an_active_collector_of_the_branch(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    ineligible = {
        "agent": make_user(session, Role.AGENT, branch),
        "inactive": make_user(session, Role.PHONE_COLLECTOR, branch, active=False),
        "other-branch": make_user(session, Role.PHONE_COLLECTOR),
    }

    for reason, user in ineligible.items():
        response = client.post(
            "/cases",
            json=case_body(reference=reason, phone_collector_id=str(user.id)),
            headers=auth_headers(supervisor),
        )
        assert response.status_code == 422, reason
        assert problem_type(response) == "phone-collector-not-eligible"
        assert response.json()["errors"][0]["pointer"] == "#/phone_collector_id"
    assert count_cases(session) == 0


def test_admin_names_the_branch_and_gets_422_without_one(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session)

    missing = client.post("/cases", json=case_body(), headers=auth_headers(admin))
    named = client.post("/cases", json=case_body(branch_id=str(branch.id)), headers=auth_headers(admin))

    assert missing.status_code == 422 and problem_type(missing) == "branch-required"
    assert named.status_code == 201 and named.json()["branch_id"] == str(branch.id)


def test_supervisor_cannot_create_in_another_branch(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    other = make_branch(session)

    response = client.post("/cases", json=case_body(branch_id=str(other.id)), headers=auth_headers(supervisor))

    assert response.status_code == 404
    assert problem_type(response) == "branch-not-found"
    assert count_cases(session) == 0


def test_phone_collector_sees_only_their_own_cases(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    colleague = make_user(session, Role.PHONE_COLLECTOR, branch)
    own = make_case(session, branch, collector)
    theirs = make_case(session, branch, colleague)
    unassigned = make_case(session, branch)
    headers = auth_headers(collector)

    listed = client.get("/cases", headers=headers)

    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [str(own.id)]
    assert client.get(f"/cases/{own.id}", headers=headers).status_code == 200
    for hidden in (theirs, unassigned):
        for response in (
            client.get(f"/cases/{hidden.id}", headers=headers),
            client.patch(f"/cases/{hidden.id}", json={"notes": "x"}, headers=headers),
        ):
            assert response.status_code == 404
            assert problem_type(response) == "case-not-found"
    session.expire_all()
    assert session.get(DebtCase, theirs.id).notes == ""  # type: ignore[union-attr]


def test_phone_collector_may_change_only_the_notes_of_their_case(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    case = make_case(session, branch, collector)
    headers = auth_headers(collector)

    notes = client.patch(f"/cases/{case.id}", json={"notes": "说周五还款"}, headers=headers)
    amount = client.patch(f"/cases/{case.id}", json={"amount_owed": "1.00", "notes": "x"}, headers=headers)

    assert notes.status_code == 200 and notes.json()["notes"] == "说周五还款"
    assert amount.status_code == 403
    assert problem_type(amount) == "role-not-allowed"
    session.expire_all()
    stored = session.get(DebtCase, case.id)
    assert stored is not None and stored.amount_owed == Decimal("12345.67") and stored.notes == "说周五还款"


def test_supervisor_updates_a_case_and_unassigns_its_collector(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    case = make_case(session, branch, collector)

    response = client.patch(
        f"/cases/{case.id}",
        json={"overdue_bucket": "M6+", "amount_owed": 99.5, "phone_collector_id": None, "complaint_history": True},
        headers=auth_headers(supervisor),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["overdue_bucket"] == "M6+" and body["amount_owed"] == "99.50"
    assert body["phone_collector_id"] is None and body["complaint_history"] is True
    session.expire_all()
    stored = session.get(DebtCase, case.id)
    assert stored is not None and stored.overdue_bucket is OverdueBucket.M6_PLUS and stored.phone_collector_id is None


def test_list_filters_by_bucket_collector_complaints_and_branch(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    branch, other = make_branch(session), make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    m1 = make_case(session, branch, overdue_bucket=OverdueBucket.M1)
    mine = make_case(session, branch, collector, complaint_history=True)
    far = make_case(session, other)
    headers = auth_headers(admin)

    def ids(**params: str) -> set[str]:
        response = client.get("/cases", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["items"]}

    assert ids() == {str(m1.id), str(mine.id), str(far.id)}
    assert ids(branch_id=str(branch.id)) == {str(m1.id), str(mine.id)}
    assert ids(overdue_bucket="M1") == {str(m1.id)}
    assert ids(phone_collector_id=str(collector.id)) == {str(mine.id)}
    assert ids(complaint_history="true") == {str(mine.id)}


def test_list_pages_through_the_cases(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    made = {str(make_case(session, branch).id) for _ in range(3)}
    headers = auth_headers(supervisor)

    first = client.get("/cases", params={"limit": 2}, headers=headers).json()
    second = client.get("/cases", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()

    assert len(first["items"]) == 2 and second["next_cursor"] is None
    assert {c["id"] for c in first["items"] + second["items"]} == made


def test_supervisor_of_another_branch_gets_404_on_read_and_update(client: TestClient, session: Session) -> None:
    case = make_case(session)
    outsider = make_user(session, Role.SUPERVISOR)
    headers = auth_headers(outsider)

    responses = [
        client.get(f"/cases/{case.id}", headers=headers),
        client.patch(f"/cases/{case.id}", json={"notes": "x"}, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 404
        assert problem_type(response) == "case-not-found"
    assert client.get("/cases", headers=headers).json()["items"] == []
    session.expire_all()
    assert session.get(DebtCase, case.id).notes == ""  # type: ignore[union-attr]


def test_agents_may_not_use_cases(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    agent = make_user(session, Role.AGENT, branch)
    case = make_case(session, branch)
    headers = auth_headers(agent)

    responses = [
        client.get("/cases", headers=headers),
        client.get(f"/cases/{case.id}", headers=headers),
        client.post("/cases", json=case_body(), headers=headers),
        client.patch(f"/cases/{case.id}", json={"notes": "x"}, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 403
        assert problem_type(response) == "role-not-allowed"
    assert count_cases(session) == 1


def test_phone_collector_may_not_create_cases(client: TestClient, session: Session) -> None:
    collector = make_user(session, Role.PHONE_COLLECTOR)

    response = client.post("/cases", json=case_body(), headers=auth_headers(collector))

    assert response.status_code == 403
    assert problem_type(response) == "role-not-allowed"
    assert count_cases(session) == 0
