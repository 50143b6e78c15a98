from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.users.models import Role
from tests.factories import PASSWORD, auth_headers, make_user, problem_type


def login(client: TestClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/auth/login", json={"username": username, "password": password})


def test_login_returns_tokens_that_open_me(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)

    response = login(client, agent.username)

    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == agent.username
    assert "password_hash" not in me.json()


def test_wrong_password_unknown_user_and_inactive_user_are_the_same_401(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    inactive = make_user(session, Role.AGENT, active=False)

    for response in (
        login(client, agent.username, "wrong password"),
        login(client, "nobody"),
        login(client, inactive.username),
    ):
        assert response.status_code == 401
        assert problem_type(response) == "login-failed"
        assert response.headers["www-authenticate"] == "Bearer"


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    first = login(client, agent.username).json()

    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    reused = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and problem_type(reused) == "refresh-token-invalid"
    # the leak is contained: the token issued by the legitimate refresh is dead too
    after = client.post("/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert after.status_code == 401


def test_logout_ends_the_refresh_token(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    tokens = login(client, agent.username).json()

    assert client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_missing_bad_and_foreign_tokens_are_401(client: TestClient, session: Session) -> None:
    assert problem_type(client.get("/me")) == "not-authenticated"
    assert client.get("/me", headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    forged = auth_headers(make_user(session, Role.AGENT))
    forged["Authorization"] = forged["Authorization"][:-2] + "xx"
    assert client.get("/me", headers=forged).status_code == 401


def test_deactivated_user_loses_access_at_once(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    headers = auth_headers(agent)
    agent.active = False
    session.commit()

    assert client.get("/me", headers=headers).status_code == 401
