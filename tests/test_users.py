from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.branches.service import local_today
from api.models.auth import RefreshToken
from api.models.users import Role, User
from tests.factories import PASSWORD, auth_headers, make_branch, make_team, make_user, problem_type


def _user_count(session: Session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(User))
    assert count is not None
    return count


def _new_user(role: Role, **fields: Any) -> dict[str, Any]:
    return {
        "username": f"new.{role.value}",
        "full_name": "王芳",
        "role": role.value,
        "password": "long enough pw",
    } | fields


def _stored(session: Session, user: User) -> User:
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored is not None
    return stored


def test_supervisor_of_another_branch_gets_404(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    outsider = make_user(session, Role.SUPERVISOR)  # of a new branch

    for response in (
        client.get(f"/users/{agent.id}", headers=auth_headers(outsider)),
        client.patch(f"/users/{agent.id}", json={"full_name": "改名"}, headers=auth_headers(outsider)),
        client.patch(f"/users/{agent.id}", json={"active": False}, headers=auth_headers(outsider)),
    ):
        assert response.status_code == 404
        assert problem_type(response) == "user-not-found"
    stored = _stored(session, agent)
    assert (stored.full_name, stored.active) == (agent.full_name, True)


def test_supervisor_does_not_see_admins(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    admin = make_user(session, Role.ADMIN)

    response = client.get(f"/users/{admin.id}", headers=auth_headers(supervisor))

    assert response.status_code == 404 and problem_type(response) == "user-not-found"


def test_lists_never_include_other_branches(client: TestClient, session: Session) -> None:
    home = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, home)
    agent = make_user(session, Role.AGENT, home)
    foreign = make_user(session, Role.AGENT)
    admin = make_user(session, Role.ADMIN)

    def ids(caller: User, **params: str) -> set[str]:
        response = client.get("/users", params=params, headers=auth_headers(caller))
        assert response.status_code == 200
        return {u["id"] for u in response.json()["items"]}

    assert ids(supervisor) == {str(supervisor.id), str(agent.id)}
    assert ids(supervisor, branch_id=str(foreign.branch_id)) == set()
    assert ids(supervisor, role="agent") == {str(agent.id)}
    assert ids(admin) == {str(u.id) for u in (supervisor, agent, foreign, admin)}
    assert ids(admin, branch_id=str(foreign.branch_id)) == {str(foreign.id)}


@pytest.mark.parametrize("role", [Role.AGENT, Role.PHONE_COLLECTOR])
def test_field_staff_may_not_manage_users(client: TestClient, session: Session, role: Role) -> None:
    caller = make_user(session, role)
    before = _user_count(session)

    for response in (
        client.get("/users", headers=auth_headers(caller)),
        client.get(f"/users/{caller.id}", headers=auth_headers(caller)),
        client.post("/users", json=_new_user(Role.AGENT), headers=auth_headers(caller)),
    ):
        assert response.status_code == 403
        assert problem_type(response) == "role-not-allowed"
    assert _user_count(session) == before


@pytest.mark.parametrize("role", [Role.AGENT, Role.PHONE_COLLECTOR])
def test_supervisor_creates_field_staff_in_their_branch(client: TestClient, session: Session, role: Role) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.post("/users", json=_new_user(role), headers=auth_headers(supervisor))

    assert response.status_code == 201
    created = response.json()
    assert (created["role"], created["branch_id"], created["active"]) == (role.value, str(supervisor.branch_id), True)
    assert "password" not in created and "password_hash" not in created
    session.expire_all()
    assert session.scalar(select(User.branch_id).where(User.username == f"new.{role.value}")) == supervisor.branch_id


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisor_may_not_create_supervisors_or_admins(client: TestClient, session: Session, role: Role) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    before = _user_count(session)

    response = client.post("/users", json=_new_user(role), headers=auth_headers(supervisor))

    assert response.status_code == 403
    assert problem_type(response) == "role-not-allowed"
    assert _user_count(session) == before


def test_supervisor_may_not_create_users_in_another_branch(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    other = make_branch(session)
    before = _user_count(session)

    response = client.post(
        "/users", json=_new_user(Role.AGENT, branch_id=str(other.id)), headers=auth_headers(supervisor)
    )

    assert response.status_code == 404 and problem_type(response) == "branch-not-found"
    assert _user_count(session) == before


def test_admin_names_the_branch_of_everyone_but_admins(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    branch = make_branch(session)

    unnamed = client.post("/users", json=_new_user(Role.AGENT), headers=auth_headers(admin))
    assert unnamed.status_code == 422 and problem_type(unnamed) == "branch-required"

    agent = client.post("/users", json=_new_user(Role.AGENT, branch_id=str(branch.id)), headers=auth_headers(admin))
    assert agent.status_code == 201 and agent.json()["branch_id"] == str(branch.id)

    other_admin = client.post("/users", json=_new_user(Role.ADMIN), headers=auth_headers(admin))
    assert other_admin.status_code == 201 and other_admin.json()["branch_id"] is None


def test_taken_username_is_409(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    existing = make_user(session, Role.AGENT)  # of another branch: usernames are global
    before = _user_count(session)

    response = client.post(
        "/users", json=_new_user(Role.AGENT, username=existing.username), headers=auth_headers(supervisor)
    )

    assert response.status_code == 409
    assert problem_type(response) == "username-taken"
    assert _user_count(session) == before


def test_create_body_is_strict(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    before = _user_count(session)

    for body in (
        _new_user(Role.AGENT, branch_id=12),
        _new_user(Role.AGENT) | {"role": "boss"},
        _new_user(Role.AGENT, username="Has Spaces"),
        _new_user(Role.AGENT, password="short"),
        _new_user(Role.AGENT, is_admin=True),
    ):
        response = client.post("/users", json=body, headers=auth_headers(admin))
        assert response.status_code == 422, body
        assert problem_type(response) == "validation-failed"
    assert _user_count(session) == before


def test_deactivating_an_agent_with_an_upcoming_team_is_409(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch)
    team = make_team(session, branch, (agent, make_user(session, Role.AGENT, branch)))

    response = client.patch(f"/users/{agent.id}", json={"active": False}, headers=auth_headers(supervisor))

    assert response.status_code == 409
    assert problem_type(response) == "agent-has-teams"
    assert response.json()["work_dates"] == [team.work_date.isoformat()]
    assert _stored(session, agent).active is True


def test_an_agent_whose_teams_are_past_can_be_deactivated(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch)
    yesterday = local_today(branch) - timedelta(days=1)
    make_team(session, branch, (agent, make_user(session, Role.AGENT, branch)), work_date=yesterday)

    response = client.patch(f"/users/{agent.id}", json={"active": False}, headers=auth_headers(supervisor))

    assert response.status_code == 200 and response.json()["active"] is False
    assert _stored(session, agent).active is False


def test_changing_the_role_of_an_agent_in_a_team_is_409(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch)
    make_team(session, branch, (agent, make_user(session, Role.AGENT, branch)))

    response = client.patch(f"/users/{agent.id}", json={"role": "phone_collector"}, headers=auth_headers(supervisor))

    assert response.status_code == 409 and problem_type(response) == "agent-has-teams"
    assert _stored(session, agent).role is Role.AGENT


def test_deactivation_ends_refresh_tokens(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch)
    tokens = client.post("/auth/login", json={"username": agent.username, "password": PASSWORD}).json()

    response = client.patch(f"/users/{agent.id}", json={"active": False}, headers=auth_headers(supervisor))

    assert response.status_code == 200
    session.expire_all()
    assert session.scalars(select(RefreshToken.revoked_at).where(RefreshToken.user_id == agent.id)).all() != [None]
    refreshed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401 and problem_type(refreshed) == "refresh-token-invalid"
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401


def test_supervisor_may_not_promote_or_change_supervisors(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    colleague = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch)

    for user, body in (
        (agent, {"role": "supervisor"}),
        (colleague, {"full_name": "改名"}),
        (colleague, {"active": False}),
    ):
        response = client.patch(f"/users/{user.id}", json=body, headers=auth_headers(supervisor))
        assert response.status_code == 403 and problem_type(response) == "role-not-allowed", body

    assert _stored(session, agent).role is Role.AGENT
    stored = _stored(session, colleague)
    assert (stored.full_name, stored.active) == (colleague.full_name, True)


@pytest.mark.parametrize("member", ["full_name", "role", "active", "password"])
def test_patch_with_null_for_a_member_is_422(client: TestClient, session: Session, member: str) -> None:
    admin = make_user(session, Role.ADMIN)
    agent = make_user(session, Role.AGENT)

    response = client.patch(f"/users/{agent.id}", json={member: None}, headers=auth_headers(admin))

    assert response.status_code == 422
    assert problem_type(response) == "validation-failed"
    stored = _stored(session, agent)
    assert (stored.full_name, stored.role, stored.active) == (agent.full_name, Role.AGENT, True)


def test_patch_renames_and_reactivates(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    agent = make_user(session, Role.AGENT, branch, active=False)

    response = client.patch(
        f"/users/{agent.id}", json={"full_name": "李娜", "active": True}, headers=auth_headers(supervisor)
    )

    assert response.status_code == 200
    assert (response.json()["full_name"], response.json()["active"]) == ("李娜", True)
    stored = _stored(session, agent)
    assert (stored.full_name, stored.active) == ("李娜", True)


def test_an_admin_without_a_branch_cannot_take_a_branch_role(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    other_admin = make_user(session, Role.ADMIN)

    response = client.patch(f"/users/{other_admin.id}", json={"role": "supervisor"}, headers=auth_headers(admin))

    assert response.status_code == 422
    assert problem_type(response) == "admin-has-no-branch"
    assert _stored(session, other_admin).role is Role.ADMIN


def test_unknown_user_is_404(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)

    response = client.get(f"/users/{uuid4()}", headers=auth_headers(admin))

    assert response.status_code == 404 and problem_type(response) == "user-not-found"
