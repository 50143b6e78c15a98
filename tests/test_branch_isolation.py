"""A supervisor of another branch gets 404 for every object of a branch, and no list shows them."""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.models.users import Role, User
from tests.factories import (
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_contact,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
)


@dataclass
class BranchObjects:
    ids: dict[str, str]
    supervisor: User


@pytest.fixture
def first_branch(session: Session) -> BranchObjects:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    team = make_team(session, branch)
    case = make_case(session, branch, collector=collector)
    contact = make_contact(session, case)
    address = make_address(session, case)
    request = make_visit_request(session, address, requested_by=collector)
    ids = {
        "branch": branch.id,
        "user": collector.id,
        "team": team.id,
        "case": case.id,
        "contact": contact.id,
        "address": address.id,
        "visit_request": request.id,
    }
    return BranchObjects({kind: str(value) for kind, value in ids.items()}, supervisor)


# (method, path template, body): every endpoint that names an object of a branch
OBJECT_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/branches/{branch}", None),
    ("GET", "/users/{user}", None),
    ("PATCH", "/users/{user}", {"full_name": "Renamed"}),
    ("GET", "/teams/{team}", None),
    ("PATCH", "/teams/{team}", {"name": "Renamed"}),
    ("GET", "/cases/{case}", None),
    ("PATCH", "/cases/{case}", {"notes": "changed"}),
    ("GET", "/cases/{case}/contacts", None),
    ("POST", "/cases/{case}/contacts", {"phone": "13900000000", "kind": "mobile"}),
    ("GET", "/contacts/{contact}", None),
    ("PATCH", "/contacts/{contact}", {"notes": "changed"}),
    ("GET", "/cases/{case}/addresses", None),
    ("POST", "/cases/{case}/addresses", {"kind": "home", "raw_text": "上海市静安区南京西路1号"}),
    ("GET", "/addresses/{address}", None),
    ("PATCH", "/addresses/{address}", {"raw_text": "changed"}),
    ("GET", "/visit-requests/{visit_request}", None),
    ("PATCH", "/visit-requests/{visit_request}", {"notes": "changed"}),
]

LISTS = ["/branches", "/users", "/teams", "/cases", "/visit-requests"]


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ENDPOINTS)
def test_outsider_supervisor_gets_404(
    client: TestClient,
    session: Session,
    first_branch: BranchObjects,
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    outsider = make_user(session, Role.SUPERVISOR)
    path = template.format(**first_branch.ids)

    response = client.request(method, path, json=body, headers=auth_headers(outsider))
    own = client.request(method, path, json=body, headers=auth_headers(first_branch.supervisor))

    assert response.status_code == 404, response.text
    assert problem_type(response).endswith("-not-found")
    assert own.status_code in (200, 201), own.text  # the same request works for the branch's own supervisor


@pytest.mark.parametrize("path", LISTS)
def test_lists_never_show_another_branch(
    client: TestClient, session: Session, first_branch: BranchObjects, path: str
) -> None:
    outsider = make_user(session, Role.SUPERVISOR)

    response = client.get(path, headers=auth_headers(outsider))

    assert response.status_code == 200
    listed = {item["id"] for item in response.json()["items"]}
    assert not listed & set(first_branch.ids.values())


def test_an_admin_sees_every_branch(client: TestClient, session: Session, first_branch: BranchObjects) -> None:
    admin = make_user(session, Role.ADMIN)

    for method, template, _ in OBJECT_ENDPOINTS:
        if method == "GET":
            response = client.get(template.format(**first_branch.ids), headers=auth_headers(admin))
            assert response.status_code == 200, template
