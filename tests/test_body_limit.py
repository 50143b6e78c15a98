"""Request bodies are refused with 413 before the server reads past the route's limit, declared or chunked, and a
refused body changes nothing (not even an Idempotency-Key's record)."""

import json
from uuid import uuid4

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.idempotency.models import IdempotencyRecord
from api.limits import body_limit
from api.users.models import Role
from tests.factories import auth_headers, make_user, problem_type

CHUNK = 64 * 1024
FIFTY_MB = 50 * 1024 * 1024


def _post_streamed(
    app: FastAPI, path: str, total: int, headers: dict[str, str], declare_length: bool
) -> tuple[int, dict[str, str], bytes, int]:
    """POST `total` bytes of a JSON string to the app in chunks, as a server would hand them over; answers the
    status, headers, body and how many bytes the app asked for."""
    consumed = 0
    sent = {"status": 0, "headers": {}, "body": b""}

    async def receive() -> dict[str, object]:
        nonlocal consumed
        if consumed >= total:
            return {"type": "http.disconnect"}
        size = min(CHUNK, total - consumed)
        consumed += size
        return {"type": "http.request", "body": b"x" * size, "more_body": consumed < total}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
            sent["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}  # type: ignore[union-attr]
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")  # type: ignore[operator]

    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-type", b"application/json"))
    if declare_length:
        raw_headers.append((b"content-length", str(total).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    anyio.run(app, scope, receive, send)
    return sent["status"], sent["headers"], sent["body"], consumed  # type: ignore[return-value]


def test_a_declared_50_mb_login_is_413_before_any_of_it_is_read(client: TestClient, app: FastAPI) -> None:
    status, headers, body, consumed = _post_streamed(app, "/auth/login", FIFTY_MB, {}, declare_length=True)

    assert status == 413 and headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"].endswith("/payload-too-large") and problem["max_bytes"] == 1024 * 1024
    assert consumed == 0


def test_a_chunked_50_mb_login_is_413_once_it_passes_the_limit(client: TestClient, app: FastAPI) -> None:
    status, headers, body, consumed = _post_streamed(app, "/auth/login", FIFTY_MB, {}, declare_length=False)

    assert status == 413 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"].endswith("/payload-too-large")
    assert consumed <= 1024 * 1024 + CHUNK  # read up to the limit, not a byte of chunk further


def test_an_idempotent_post_over_the_limit_is_413_and_leaves_no_record(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    key = str(uuid4())
    headers = {**auth_headers(supervisor), "Idempotency-Key": key}

    status, _, body, consumed = _post_streamed(app, "/branches", 3 * 1024 * 1024, headers, declare_length=False)

    assert status == 413 and json.loads(body)["max_bytes"] == 1024 * 1024
    assert consumed <= 1024 * 1024 + CHUNK
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    # the same key then runs the request it is sent with
    retried = client.post("/branches", json={"name": "Pudong", "timezone": "Asia/Shanghai"}, headers=headers)
    assert retried.status_code != 413 and problem_type(retried) != "request-in-progress"


def test_a_body_under_the_limit_reaches_its_route(client: TestClient) -> None:
    response = client.post("/auth/login", json={"username": "nobody", "password": "p" * 200_000})

    assert response.status_code == 422 and problem_type(response) == "validation-failed"  # the route's own answer


def test_the_large_routes_have_their_own_limits() -> None:
    assert body_limit("POST", "/cases/import", 1024) == 5 * 1024 * 1024
    assert body_limit("PUT", f"/evidence/{uuid4()}/content", 1024) > 1 << 40
    assert body_limit("POST", "/cases", 1024) == 1024
    assert body_limit("GET", "/cases/import", 1024) == 1024
