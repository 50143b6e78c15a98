import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.auth.security import issue_access_token
from api.config import AuthSettings, Settings
from api.db import utcnow
from api.models.auth import RefreshToken
from api.models.users import Role
from tests.conftest import TEST_JWT_SECRET
from tests.factories import PASSWORD, auth_headers, make_branch, make_user, problem_type


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


def test_refresh_rotates_and_reuse_revokes_the_family(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    agent = make_user(session, Role.AGENT)
    first = login(client, agent.username).json()

    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=61), tick=True)  # past the retry grace window
    reused = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and problem_type(reused) == "refresh-token-invalid"
    # the leak is contained: the token issued by the legitimate refresh is dead too
    after = client.post("/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert after.status_code == 401


def test_a_refresh_retried_within_the_grace_window_gets_the_same_pair(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    first = login(client, agent.username).json()

    answered = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    retried = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})  # the answer was lost

    assert answered.status_code == retried.status_code == 200
    assert answered.json()["refresh_token"] == retried.json()["refresh_token"]
    assert answered.json()["access_token"] == retried.json()["access_token"]
    onward = client.post("/auth/refresh", json={"refresh_token": retried.json()["refresh_token"]})
    assert onward.status_code == 200
    me = client.get("/me", headers={"Authorization": f"Bearer {onward.json()['access_token']}"})
    assert me.status_code == 200


def test_two_refreshes_at_once_both_get_the_new_pair(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    token = login(client, agent.username).json()["refresh_token"]
    answers: list[Any] = []

    def refresh() -> None:
        answers.append(client.post("/auth/refresh", json={"refresh_token": token}))

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json()["refresh_token"] == answers[1].json()["refresh_token"]


def test_ending_a_login_ends_its_access_tokens_at_once(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    admin = make_user(session, Role.ADMIN)
    logged_out, changed = login(client, agent.username).json(), login(client, agent.username).json()

    assert client.post("/auth/logout", json={"refresh_token": logged_out["refresh_token"]}).status_code == 204
    gone = client.get("/me", headers={"Authorization": f"Bearer {logged_out['access_token']}"})
    still = client.get("/me", headers={"Authorization": f"Bearer {changed['access_token']}"})
    new_password = client.patch(
        f"/users/{agent.id}", json={"password": "another long passphrase"}, headers=auth_headers(admin)
    )
    after_change = client.get("/me", headers={"Authorization": f"Bearer {changed['access_token']}"})

    assert gone.status_code == 401 and "ended" in gone.json()["detail"]
    assert still.status_code == 200 and new_password.status_code == 200
    assert after_change.status_code == 401


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


def test_a_token_signed_with_the_real_key_naming_no_login_or_anothers_is_401(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    agent, other = make_user(session, Role.AGENT, branch), make_user(session, Role.AGENT, branch)
    others_login = RefreshToken(
        user_id=other.id, family_id=uuid4(), token_sha256="0" * 64, expires_at=utcnow() + timedelta(days=1)
    )
    session.add(others_login)
    session.commit()
    settings = Settings(auth=AuthSettings())

    for login_id in (uuid4(), others_login.family_id):
        token, _ = issue_access_token(TEST_JWT_SECRET, settings, agent.id, login_id, utcnow())
        refused = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401 and problem_type(refused) == "not-authenticated", refused.text


def test_deactivated_user_loses_access_at_once(client: TestClient, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    headers = auth_headers(agent)
    agent.active = False
    session.commit()

    assert client.get("/me", headers=headers).status_code == 401


def _from(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000), raise_server_exceptions=False)


def test_a_guesser_waits_and_even_the_right_password_is_refused_meanwhile(
    app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    agent = make_user(session, Role.AGENT)
    with _from(app, "203.0.113.7") as guesser:
        wrong = [login(guesser, agent.username, f"guess {n}").status_code for n in range(5)]
        throttled = login(guesser, agent.username)
        time_machine.move_to(datetime.now(UTC) + timedelta(minutes=16), tick=True)
        later = login(guesser, agent.username)

    assert wrong == [401] * 5
    assert throttled.status_code == 429 and problem_type(throttled) == "login-throttled"
    assert 0 < int(throttled.headers["retry-after"]) <= 900 and throttled.json()["retry_after_s"] > 0
    assert later.status_code == 200


def test_a_guesser_elsewhere_does_not_lock_the_agent_out_of_their_own_phone(app: FastAPI, session: Session) -> None:
    agent = make_user(session, Role.AGENT)
    with _from(app, "198.51.100.20") as phone:
        assert login(phone, agent.username).status_code == 200  # the agent's usual address
        for n in range(12):
            with _from(app, f"203.0.113.{n}") as guesser:
                assert login(guesser, agent.username, f"guess {n}").status_code in (401, 429)
        with _from(app, "203.0.113.99") as newcomer:
            refused = login(newcomer, agent.username)
        again = login(phone, agent.username)

    assert refused.status_code == 429  # the account is guarded against addresses it does not know
    assert again.status_code == 200


def test_one_address_guessing_through_usernames_waits(app: FastAPI, session: Session) -> None:
    with _from(app, "203.0.113.50") as guesser:
        answers = [login(guesser, f"user{n}", "guess").status_code for n in range(21)]

    assert answers[:20] == [401] * 20 and answers[20] == 429
