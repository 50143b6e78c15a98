"""Every error is application/problem+json with a stable type, and a crash hides its internals."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import SessionDep
from api.models.users import Role, User
from tests.factories import auth_headers, make_user, problem_type


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/no-such-thing")

    assert response.status_code == 404
    assert problem_type(response) == "not-found"
    assert "/no-such-thing" in response.json()["detail"]


def test_wrong_method_is_a_problem(client: TestClient) -> None:
    response = client.delete("/health")

    assert response.status_code == 405
    assert problem_type(response) == "method-not-allowed"


def test_a_wrong_method_names_every_method_the_path_takes(client: TestClient) -> None:
    branches = client.options("/branches")
    one = client.put("/visit-requests/00000000-0000-4000-8000-000000000000")

    assert branches.status_code == 405 and branches.headers["allow"] == "GET, HEAD, POST"
    assert one.status_code == 405 and one.headers["allow"] == "GET, HEAD, PATCH"


def test_malformed_json_is_a_problem(client: TestClient) -> None:
    response = client.post("/auth/login", content=b"{not json", headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert problem_type(response) == "malformed-json"
    assert "pointer" not in response.text


def test_validation_errors_point_at_the_member(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)

    response = client.post(
        "/branches",
        json={"name": "X", "timezone": "Mars/Olympus", "office_address": "a", "office": {"lat": 91, "lon": 0}},
        headers=auth_headers(admin),
    )

    assert response.status_code == 422
    assert problem_type(response) == "validation-failed"
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/timezone", "#/office/lat"}


def test_strict_bodies_do_not_coerce_or_accept_unknown_members(client: TestClient, session: Session) -> None:
    response = client.post("/auth/login", json={"username": 5, "password": "x", "remember": True})

    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/username", "#/remember"}


def test_query_parameter_errors_name_the_parameter(client: TestClient, session: Session) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)

    response = client.get("/users?limit=0&cursor=%%%", headers=auth_headers(supervisor))

    assert response.status_code == 422
    assert {e["parameter"] for e in response.json()["errors"]} == {"limit"}
    bad_cursor = client.get("/users?cursor=bm90LWEtY3Vyc29y", headers=auth_headers(supervisor))
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["parameter"] == "cursor"


def test_a_crash_is_a_500_problem_without_internals(app: FastAPI, client: TestClient) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret connection string postgres://u:p@db")

    response = client.get("/boom")

    assert response.status_code == 500
    assert problem_type(response) == "internal-error"
    assert "secret" not in response.text


def test_health_reports_the_backend(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in ("spatialite", "postgis")


def test_a_lost_race_on_a_database_constraint_is_a_409(app: FastAPI, client: TestClient, session: Session) -> None:
    @app.post("/race")
    def race(session: SessionDep) -> None:
        session.add(User(username="twin", full_name="A", role=Role.ADMIN, password_hash="x"))
        session.add(User(username="twin", full_name="B", role=Role.ADMIN, password_hash="x"))
        session.flush()  # what a request that lost a race to a concurrent one sees

    response = client.post("/race")

    assert response.status_code == 409
    assert problem_type(response) == "conflict"
    assert "twin" not in response.text
    assert session.scalar(select(func.count()).select_from(User).where(User.username == "twin")) == 0


def test_nul_characters_are_refused_not_stored(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.ADMIN)

    response = client.post(
        "/branches",
        json={
            "name": "Pudong\u0000",
            "timezone": "Asia/Shanghai",
            "office_address": "x",
            "office": {"lat": 31, "lon": 121},
        },
        headers=auth_headers(admin),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/name"
