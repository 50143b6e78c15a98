"""Input that once answered 500 answers 422, and changes nothing."""

import base64
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.models.users import Role
from tests.factories import auth_headers, make_branch, make_user, problem_type


def test_a_password_with_a_lone_surrogate_is_refused(client: TestClient) -> None:
    body = '{"username": "agent1", "password": "x\\udfffx"}'  # valid JSON, not valid Unicode

    response = client.post("/auth/login", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 422 and problem_type(response) == "validation-failed"
    assert response.json()["errors"][0]["pointer"] == "#/password"


def _cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/visits", "/users", "/cases"])
@pytest.mark.parametrize(
    "cursor",
    [_cursor("2026-01-01T00:00:00+00:00", 5), _cursor("2026-01-01T00:00:00", "0" * 32), _cursor(1, 2, 3), "%%%"],
    ids=["number-for-id", "naive-time", "three-values", "not-base64"],
)
def test_a_cursor_the_api_did_not_write_is_422(client: TestClient, session: Session, path: str, cursor: str) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.get(path, params={"cursor": cursor}, headers=auth_headers(supervisor))

    assert response.status_code == 422 and problem_type(response) == "validation-failed"
    assert response.json()["errors"] == [{"parameter": "cursor", "detail": "malformed cursor"}]


def test_a_feed_position_past_any_finding_is_422(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.get("/events", params={"after": "99999999999999999999999"}, headers=auth_headers(supervisor))

    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "after"


@pytest.mark.parametrize("day", ["0", "1700000000", "0001-01-01", "9999-12-31", "2026-2-3", "2026-02-30"])
def test_a_day_in_a_url_is_a_real_calendar_date_or_422(client: TestClient, session: Session, day: str) -> None:
    supervisor = make_user(session, Role.SUPERVISOR, make_branch(session))

    in_path = client.get(f"/visit-sheets/days/{day}", headers=auth_headers(supervisor))
    in_query = client.get("/visits", params={"work_date": day}, headers=auth_headers(supervisor))

    for response in (in_path, in_query):
        assert response.status_code == 422 and problem_type(response) == "validation-failed", response.text


def test_a_method_a_fixed_path_does_not_take_is_405_there(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR, make_branch(session))

    patched = client.patch("/cases/import", json={}, headers=auth_headers(supervisor))

    assert patched.status_code == 405 and problem_type(patched) == "method-not-allowed", patched.text
    assert patched.headers["allow"] == "POST"
