from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models.branches import Branch
from api.models.users import Role
from api.rules.packs import Jurisdiction
from tests.factories import auth_headers, make_branch, make_user, problem_type


def _branch_count(session: Session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(Branch))
    assert count is not None
    return count


def _new_branch(**fields: Any) -> dict[str, Any]:
    return {
        "name": "杭州分部",
        "timezone": "Asia/Shanghai",
        "office_address": "杭州市西湖区文三路1号",
        "office": {"lat": 30.2741, "lon": 120.1551},
    } | fields


def _stored(session: Session, branch: Branch) -> Branch:
    session.expire_all()
    stored = session.get(Branch, branch.id)
    assert stored is not None
    return stored


def test_admin_creates_a_branch(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)

    body = _new_branch(visiting_from="09:00", visiting_until="20:30")
    response = client.post("/branches", json=body, headers=auth_headers(admin))

    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "杭州分部"
    assert created["office"] == {"lat": 30.2741, "lon": 120.1551}
    assert (created["visiting_from"], created["visiting_until"]) == ("09:00", "20:30")
    session.expire_all()
    assert session.scalar(select(Branch.timezone).where(Branch.name == "杭州分部")) == "Asia/Shanghai"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT, Role.PHONE_COLLECTOR])
def test_only_admins_create_branches(client: TestClient, session: Session, role: Role) -> None:
    caller = make_user(session, role)
    before = _branch_count(session)

    response = client.post("/branches", json=_new_branch(), headers=auth_headers(caller))

    assert response.status_code == 403
    assert problem_type(response) == "role-not-allowed"
    assert _branch_count(session) == before


def test_taken_branch_name_is_409(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    existing = make_branch(session)
    other = make_branch(session)
    before = _branch_count(session)

    created = client.post("/branches", json=_new_branch(name=existing.name), headers=auth_headers(admin))
    renamed = client.patch(f"/branches/{other.id}", json={"name": existing.name}, headers=auth_headers(admin))

    for response in (created, renamed):
        assert response.status_code == 409
        assert problem_type(response) == "branch-name-taken"
        assert response.json()["branch_id"] == str(existing.id)
    assert _branch_count(session) == before
    assert _stored(session, other).name == other.name


def test_supervisor_of_another_branch_gets_404(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    outsider = make_user(session, Role.SUPERVISOR)

    response = client.get(f"/branches/{branch.id}", headers=auth_headers(outsider))

    assert response.status_code == 404
    assert problem_type(response) == "branch-not-found"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT])
def test_only_admins_change_branches(client: TestClient, session: Session, role: Role) -> None:
    own = make_branch(session)
    caller = make_user(session, role, own)
    other = make_branch(session)

    # changing a branch is an admin's job, whichever branch it is: the role is refused before any lookup
    for branch in (own, other):
        response = client.patch(f"/branches/{branch.id}", json={"name": "改名"}, headers=auth_headers(caller))
        assert response.status_code == 403
        assert problem_type(response) == "role-not-allowed"
        assert _stored(session, branch).name == branch.name


def test_user_sees_their_own_branch(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    agent = make_user(session, Role.AGENT, branch)

    response = client.get(f"/branches/{branch.id}", headers=auth_headers(agent))

    assert response.status_code == 200
    assert response.json()["id"] == str(branch.id)


def test_lists_never_include_other_branches(client: TestClient, session: Session) -> None:
    home = make_branch(session)
    away = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, home)
    admin = make_user(session, Role.ADMIN)

    mine = client.get("/branches", headers=auth_headers(supervisor))
    every = client.get("/branches", headers=auth_headers(admin))

    assert [b["id"] for b in mine.json()["items"]] == [str(home.id)]
    assert [b["id"] for b in every.json()["items"]] == [str(home.id), str(away.id)]


def test_unknown_branch_is_404_for_an_admin(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)

    for response in (
        client.get(f"/branches/{uuid4()}", headers=auth_headers(admin)),
        client.patch(f"/branches/{uuid4()}", json={"name": "x"}, headers=auth_headers(admin)),
    ):
        assert response.status_code == 404 and problem_type(response) == "branch-not-found"


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "CST", "", "asia/shanghai"])
def test_unknown_timezone_is_422(client: TestClient, session: Session, timezone: str) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session)
    before = _branch_count(session)

    created = client.post("/branches", json=_new_branch(timezone=timezone), headers=auth_headers(admin))
    changed = client.patch(f"/branches/{branch.id}", json={"timezone": timezone}, headers=auth_headers(admin))

    for response in (created, changed):
        assert response.status_code == 422
        assert problem_type(response) == "validation-failed"
        assert response.json()["errors"][0]["pointer"] == "#/timezone"
    assert _branch_count(session) == before
    assert _stored(session, branch).timezone == "Asia/Shanghai"


def test_admin_changes_timezone_and_office(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session)

    response = client.patch(
        f"/branches/{branch.id}",
        json={"timezone": "Asia/Urumqi", "office": {"lat": 43.8256, "lon": 87.6168}},
        headers=auth_headers(admin),
    )

    assert response.status_code == 200
    assert response.json()["timezone"] == "Asia/Urumqi"
    assert response.json()["office"] == {"lat": 43.8256, "lon": 87.6168}
    assert _stored(session, branch).timezone == "Asia/Urumqi"


@pytest.mark.parametrize(("visiting_from", "visiting_until"), [("21:00", "08:00"), ("09:00", "09:00")])
def test_visiting_hours_out_of_order_are_422_on_create(
    client: TestClient, session: Session, visiting_from: str, visiting_until: str
) -> None:
    admin = make_user(session, Role.ADMIN)

    body = _new_branch(visiting_from=visiting_from, visiting_until=visiting_until)
    response = client.post("/branches", json=body, headers=auth_headers(admin))

    assert response.status_code == 422
    assert problem_type(response) == "validation-failed"
    assert _branch_count(session) == 0


def test_visiting_hours_are_checked_against_the_stored_ones(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session)  # 08:00 to 21:00

    for body in (
        {"visiting_from": "21:30"},
        {"visiting_until": "07:00"},
        {"visiting_from": "12:00", "visiting_until": "11:00"},
    ):
        response = client.patch(f"/branches/{branch.id}", json=body, headers=auth_headers(admin))
        assert response.status_code == 422, body
        assert problem_type(response) == "validation-failed"

    stored = _stored(session, branch)
    assert (stored.visiting_from, stored.visiting_until) == (branch.visiting_from, branch.visiting_until)

    moved = client.patch(f"/branches/{branch.id}", json={"visiting_until": "20:00"}, headers=auth_headers(admin))
    assert moved.status_code == 200
    assert (moved.json()["visiting_from"], moved.json()["visiting_until"]) == ("08:00", "20:00")
    assert moved.json()["hours_rule"] == "branch hours 08:00–20:00"


@pytest.mark.parametrize(
    ("jurisdiction", "body", "pointer"),
    [
        ("CN", {"visiting_until": "22:00"}, "/visiting_until"),
        ("CN", {"visiting_from": "07:30"}, "/visiting_from"),
        ("IN", {"visiting_until": "20:00"}, "/visiting_until"),  # RBI: 08:00-19:00
        ("PH", {"visiting_from": "05:00"}, "/visiting_from"),
    ],
)
def test_a_branch_may_only_make_its_packs_hours_stricter(
    client: TestClient, session: Session, jurisdiction: str, body: dict[str, str], pointer: str
) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session, jurisdiction=Jurisdiction(jurisdiction))

    response = client.patch(f"/branches/{branch.id}", json=body, headers=auth_headers(admin))

    assert response.status_code == 422
    assert problem_type(response) == "hours-looser-than-pack"
    assert response.json()["pack"] == jurisdiction and response.json()["errors"][0]["pointer"] == "#" + pointer
    assert (_stored(session, branch).visiting_from, _stored(session, branch).visiting_until) == (None, None)
    created = client.post("/branches", json=_new_branch(jurisdiction=jurisdiction, **body), headers=auth_headers(admin))
    assert problem_type(created) == "hours-looser-than-pack"


def test_a_branch_follows_its_packs_hours_until_it_sets_its_own(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)

    created = client.post("/branches", json=_new_branch(jurisdiction="IN"), headers=auth_headers(admin)).json()

    assert (created["jurisdiction"], created["visiting_from"], created["visiting_until"]) == ("IN", "08:00", "19:00")
    assert created["hours_rule"] == "IN RBI recovery agents" and created["pack_version"]
    moved = client.patch(f"/branches/{created['id']}", json={"jurisdiction": "ID"}, headers=auth_headers(admin))
    assert (moved.json()["visiting_from"], moved.json()["visiting_until"]) == ("08:00", "20:00")


@pytest.mark.parametrize("body", [{"visiting_from": 8}, {"visiting_from": "25:00"}, {"office": {"lat": 91, "lon": 0}}])
def test_malformed_members_are_422(client: TestClient, session: Session, body: dict[str, Any]) -> None:
    admin = make_user(session, Role.ADMIN)

    response = client.post("/branches", json=_new_branch(**body), headers=auth_headers(admin))

    assert response.status_code == 422 and problem_type(response) == "validation-failed"
    assert _branch_count(session) == 0


@pytest.mark.parametrize("member", ["name", "timezone", "office_address", "office", "visiting_from", "visiting_until"])
def test_patch_with_null_for_a_member_is_422(client: TestClient, session: Session, member: str) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session)

    response = client.patch(f"/branches/{branch.id}", json={member: None}, headers=auth_headers(admin))

    assert response.status_code == 422
    assert problem_type(response) == "validation-failed"
    stored = _stored(session, branch)
    assert (stored.name, stored.timezone, stored.visiting_from) == (branch.name, branch.timezone, branch.visiting_from)
