from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.geo import GeoPoint
from api.models.cases import Address, AddressValidity, ContactSource, ContactStatus, DebtorContact, InvalidReason
from api.models.users import Role
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from tests.factories import (
    auth_headers,
    count_rows,
    make_address,
    make_branch,
    make_case,
    make_contact,
    make_user,
    make_visit_request,
    problem_type,
)


def endpoint_calls(
    case_id: UUID, contact_id: UUID, address_id: UUID
) -> list[tuple[str, str, dict[str, object] | None]]:
    """Every contact and address endpoint, with a body that would be accepted."""
    return [
        ("POST", f"/cases/{case_id}/contacts", {"phone": "13900000001", "kind": "home"}),
        ("GET", f"/cases/{case_id}/contacts", None),
        ("GET", f"/contacts/{contact_id}", None),
        ("PATCH", f"/contacts/{contact_id}", {"status": "verified"}),
        ("POST", f"/cases/{case_id}/addresses", {"kind": "work", "raw_text": "北京市朝阳区建国路1号"}),
        ("GET", f"/cases/{case_id}/addresses", None),
        ("GET", f"/addresses/{address_id}", None),
        ("PATCH", f"/addresses/{address_id}", {"raw_text": "北京市朝阳区建国路2号"}),
    ]


# contacts


def test_supervisor_adds_lists_reads_and_updates_contacts(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)
    headers = auth_headers(supervisor)

    created = client.post(
        f"/cases/{case.id}/contacts",
        json={"phone": "+8613800138000", "kind": "family", "holder": "母亲"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["source"] == "case_file" and contact["status"] == "unverified" and contact["holder"] == "母亲"

    listed = client.get(f"/cases/{case.id}/contacts", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [contact["id"]]
    assert client.get(f"/contacts/{contact['id']}", headers=headers).json()["phone"] == "+8613800138000"

    updated = client.patch(f"/contacts/{contact['id']}", json={"status": "wrong_number"}, headers=headers)
    assert updated.status_code == 200 and updated.json()["status"] == "wrong_number"
    session.expire_all()
    stored = session.get(DebtorContact, UUID(contact["id"]))
    assert stored is not None and stored.status is ContactStatus.WRONG_NUMBER


def test_phone_collector_adds_contacts_to_their_own_case_only(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    own = make_case(session, branch, collector)
    other = make_case(session, branch)
    headers = auth_headers(collector)

    added = client.post(f"/cases/{own.id}/contacts", json={"phone": "13911112222", "kind": "work"}, headers=headers)
    refused = client.post(f"/cases/{other.id}/contacts", json={"phone": "13911112222", "kind": "work"}, headers=headers)

    assert added.status_code == 201 and added.json()["source"] == "phone_collector"
    assert refused.status_code == 404 and problem_type(refused) == "case-not-found"
    session.expire_all()
    assert session.scalars(select(DebtorContact.case_id)).all() == [own.id]


def test_a_phone_twice_on_one_case_is_409_on_create_and_update(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)
    first = make_contact(session, case, phone="13800000001")
    second = make_contact(session, case, phone="13800000002")
    make_contact(session, make_case(session, branch), phone="13800000003")  # the same number on another case is fine
    headers = auth_headers(supervisor)

    created = client.post(
        f"/cases/{case.id}/contacts", json={"phone": "13800000001", "kind": "mobile"}, headers=headers
    )
    updated = client.patch(f"/contacts/{second.id}", json={"phone": "13800000001"}, headers=headers)
    elsewhere = client.post(
        f"/cases/{case.id}/contacts", json={"phone": "13800000003", "kind": "mobile"}, headers=headers
    )

    for response in (created, updated):
        assert response.status_code == 409
        assert problem_type(response) == "contact-phone-taken"
        assert response.json()["contact_id"] == str(first.id)
    assert elsewhere.status_code == 201
    assert count_rows(session, DebtorContact) == 4
    assert session.get(DebtorContact, second.id).phone == "13800000002"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "phone", ["138 0013 8000", "138-0013-8000", "1234", "1" * 21, "+86abc", "++8613800138000", "１３８００１３８０００"]
)
def test_malformed_phones_are_refused(client: TestClient, session: Session, phone: str) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)

    response = client.post(
        f"/cases/{case.id}/contacts", json={"phone": phone, "kind": "mobile"}, headers=auth_headers(supervisor)
    )

    assert response.status_code == 422
    assert problem_type(response) == "validation-failed"
    assert response.json()["errors"][0]["pointer"] == "#/phone"
    assert count_rows(session, DebtorContact) == 0


# addresses


def test_address_with_a_point_is_stored_and_read_back_as_lat_lon(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)
    headers = auth_headers(supervisor)

    created = client.post(
        f"/cases/{case.id}/addresses",
        json={"kind": "home", "raw_text": "上海市浦东新区世纪大道100号", "point": {"lat": 31.2397, "lon": 121.4998}},
        headers=headers,
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["point"] == {"lat": 31.2397, "lon": 121.4998}
    assert body["validity"] == "unverified" and body["invalid_reason"] is None and body["source"] == "case_file"
    session.expire_all()
    stored = session.get(Address, UUID(body["id"]))
    assert stored is not None and GeoPoint.from_wkb(stored.point) == GeoPoint(lat=31.2397, lon=121.4998)
    fetched = client.get(f"/addresses/{body['id']}", headers=headers).json()
    assert fetched["point"] == {"lat": 31.2397, "lon": 121.4998}

    cleared = client.patch(f"/addresses/{body['id']}", json={"point": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["point"] is None
    session.expire_all()
    assert session.get(Address, UUID(body["id"])).point is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"validity": "reported_invalid"}, "required when validity is reported_invalid"),
        ({"validity": "confirmed_invalid"}, "required when validity is confirmed_invalid"),
        ({"validity": "verified", "invalid_reason": "vague"}, "must be null when validity is verified"),
        ({"invalid_reason": "demolished"}, "must be null when validity is unverified"),
    ],
    ids=["reported-without-reason", "confirmed-without-reason", "verified-with-reason", "unverified-with-reason"],
)
def test_new_address_needs_a_reason_exactly_when_invalid(
    client: TestClient, session: Session, body: dict[str, str], detail: str
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)

    response = client.post(
        f"/cases/{case.id}/addresses",
        json={"kind": "home", "raw_text": "某地"} | body,
        headers=auth_headers(supervisor),
    )

    assert response.status_code == 422
    assert problem_type(response) == "invalid-reason-mismatch"
    assert response.json()["errors"] == [{"pointer": "#/invalid_reason", "detail": detail}]
    assert count_rows(session, Address) == 0


def test_reporting_an_address_invalid_needs_a_reason_and_valid_again_drops_it(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    address = make_address(session, make_case(session, branch, collector))
    headers = auth_headers(collector)

    without = client.patch(f"/addresses/{address.id}", json={"validity": "reported_invalid"}, headers=headers)
    assert without.status_code == 422 and problem_type(without) == "invalid-reason-mismatch"
    reported = client.patch(
        f"/addresses/{address.id}",
        json={"validity": "reported_invalid", "invalid_reason": "demolished", "invalid_note": "整栋楼已拆"},
        headers=headers,
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["invalid_reason"] == "demolished"
    keeps_reason = client.patch(f"/addresses/{address.id}", json={"validity": "unverified"}, headers=headers)
    assert keeps_reason.status_code == 422 and problem_type(keeps_reason) == "invalid-reason-mismatch"
    session.expire_all()
    assert session.get(Address, address.id).validity is AddressValidity.REPORTED_INVALID  # type: ignore[union-attr]

    withdrawn = client.patch(
        f"/addresses/{address.id}", json={"validity": "unverified", "invalid_reason": None}, headers=headers
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["validity"] == "unverified" and withdrawn.json()["invalid_reason"] is None


def test_only_managers_confirm_an_address_invalid_or_revoke_it(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    case = make_case(session, branch, collector)
    address = make_address(
        session, case, validity=AddressValidity.REPORTED_INVALID, invalid_reason=InvalidReason.NONEXISTENT
    )
    confirm = {"validity": "confirmed_invalid"}

    by_collector = client.patch(f"/addresses/{address.id}", json=confirm, headers=auth_headers(collector))
    new_confirmed = client.post(
        f"/cases/{case.id}/addresses",
        json={"kind": "home", "raw_text": "某地", "validity": "confirmed_invalid", "invalid_reason": "vague"},
        headers=auth_headers(collector),
    )
    assert by_collector.status_code == 403 and problem_type(by_collector) == "role-not-allowed"
    assert new_confirmed.status_code == 403 and problem_type(new_confirmed) == "role-not-allowed"
    assert count_rows(session, Address) == 1

    by_supervisor = client.patch(f"/addresses/{address.id}", json=confirm, headers=auth_headers(supervisor))
    assert by_supervisor.status_code == 200 and by_supervisor.json()["validity"] == "confirmed_invalid"

    revert = {"validity": "verified", "invalid_reason": None}
    collector_reverts = client.patch(f"/addresses/{address.id}", json=revert, headers=auth_headers(collector))
    assert collector_reverts.status_code == 403 and problem_type(collector_reverts) == "role-not-allowed"
    session.expire_all()
    assert session.get(Address, address.id).validity is AddressValidity.CONFIRMED_INVALID  # type: ignore[union-attr]
    supervisor_reverts = client.patch(f"/addresses/{address.id}", json=revert, headers=auth_headers(supervisor))
    assert supervisor_reverts.status_code == 200 and supervisor_reverts.json()["validity"] == "verified"


def test_confirming_an_address_invalid_cancels_its_open_visit_requests(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    address = make_address(session, make_case(session, branch))
    open_request = make_visit_request(session, address)
    planned = make_visit_request(session, address, status=VisitRequestStatus.PLANNED)
    elsewhere = make_visit_request(session, make_address(session, make_case(session, branch)))

    response = client.patch(
        f"/addresses/{address.id}",
        json={"validity": "confirmed_invalid", "invalid_reason": "nonexistent"},
        headers=auth_headers(supervisor),
    )

    assert response.status_code == 200, response.text
    session.expire_all()
    statuses = {r.id: r.status for r in session.scalars(select(VisitRequest))}
    assert statuses == {
        open_request.id: VisitRequestStatus.CANCELLED,
        planned.id: VisitRequestStatus.PLANNED,
        elsewhere.id: VisitRequestStatus.OPEN,
    }


def test_address_list_filters_by_validity(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)
    unverified = make_address(session, case)
    reported = make_address(
        session, case, validity=AddressValidity.REPORTED_INVALID, invalid_reason=InvalidReason.VAGUE
    )
    headers = auth_headers(supervisor)

    every = client.get(f"/cases/{case.id}/addresses", headers=headers).json()["items"]
    only_reported = client.get(f"/cases/{case.id}/addresses", params={"validity": "reported_invalid"}, headers=headers)

    assert [a["id"] for a in every] == [str(unverified.id), str(reported.id)]
    assert [a["id"] for a in only_reported.json()["items"]] == [str(reported.id)]


def test_phone_collector_address_source(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    case = make_case(session, branch, collector)

    response = client.post(
        f"/cases/{case.id}/addresses",
        json={"kind": "hometown", "raw_text": "河南省周口市某村"},
        headers=auth_headers(collector),
    )

    assert response.status_code == 201
    assert response.json()["source"] == ContactSource.PHONE_COLLECTOR.value


# who may see what


@pytest.mark.parametrize("outsider_role", [Role.SUPERVISOR, Role.PHONE_COLLECTOR])
def test_every_contact_and_address_endpoint_is_404_outside_what_the_user_sees(
    client: TestClient, session: Session, outsider_role: Role
) -> None:
    branch = make_branch(session)
    case = make_case(session, branch)
    contact = make_contact(session, case)
    address = make_address(session, case)
    # a supervisor of another branch, or a collector of the same branch to whom the case is not assigned
    outsider = make_user(session, outsider_role, None if outsider_role is Role.SUPERVISOR else branch)
    expected = {"/cases": "case-not-found", "/contacts": "contact-not-found", "/addresses": "address-not-found"}

    for method, url, body in endpoint_calls(case.id, contact.id, address.id):
        response = client.request(method, url, json=body, headers=auth_headers(outsider))
        assert response.status_code == 404, f"{method} {url}"
        assert problem_type(response) == expected["/" + url.split("/")[1]], f"{method} {url}"
    session.expire_all()
    assert (count_rows(session, DebtorContact), count_rows(session, Address)) == (1, 1)
    assert session.get(Address, address.id).raw_text == "上海市黄浦区南京东路100号3室"  # type: ignore[union-attr]
    assert session.get(DebtorContact, contact.id).status is ContactStatus.UNVERIFIED  # type: ignore[union-attr]


def test_admin_reaches_every_branch(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    case = make_case(session)
    contact = make_contact(session, case)
    address = make_address(session, case)

    for method, url, body in endpoint_calls(case.id, contact.id, address.id):
        response = client.request(method, url, json=body, headers=auth_headers(admin))
        assert response.status_code in (200, 201), f"{method} {url}: {response.text}"


def test_agents_may_not_use_contacts_or_addresses(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    agent = make_user(session, Role.AGENT, branch)
    case = make_case(session, branch)
    contact = make_contact(session, case)
    address = make_address(session, case)

    for method, url, body in endpoint_calls(case.id, contact.id, address.id):
        response = client.request(method, url, json=body, headers=auth_headers(agent))
        assert response.status_code == 403, f"{method} {url}"
        assert problem_type(response) == "role-not-allowed"
    assert (count_rows(session, DebtorContact), count_rows(session, Address)) == (1, 1)
