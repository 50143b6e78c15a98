"""Request bodies are refused with 413 once they pass the route's limit, declared or chunked, and a refused body
changes nothing (not even an Idempotency-Key's record); the rest of it is read and thrown away (up to a bound) so
that a client sending all before it reads gets the 413, not a reset."""

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.limits import DRAIN_BYTES, MAX_FILE_BYTES, body_limit
from api.models.idempotency import IdempotencyRecord
from api.models.users import Role
from tests.factories import auth_headers, make_user, problem_type
from tests.test_case_import import CSV_HEADERS
from tests.test_crash import server

CHUNK = 64 * 1024
FIFTY_MB = 50 * 1024 * 1024
PAST_DRAIN = DRAIN_BYTES + 16 * 1024 * 1024


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


def test_a_declared_50_mb_login_is_413_once_the_body_is_thrown_away(client: TestClient, app: FastAPI) -> None:
    status, headers, body, consumed = _post_streamed(app, "/auth/login", FIFTY_MB, {}, declare_length=True)

    assert status == 413 and headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"].endswith("/payload-too-large") and problem["max_bytes"] == 1024 * 1024
    assert consumed == FIFTY_MB  # read to its end, so that the client reading after it sent all gets the answer


def test_a_declared_body_past_the_drain_limit_is_413_before_any_of_it_is_read(client: TestClient, app: FastAPI) -> None:
    status, _, body, consumed = _post_streamed(app, "/auth/login", PAST_DRAIN, {}, declare_length=True)

    assert status == 413 and json.loads(body)["type"].endswith("/payload-too-large")
    assert consumed == 0


def test_a_declared_body_awaiting_100_continue_is_413_before_it_is_asked_for(client: TestClient, app: FastAPI) -> None:
    status, _, _, consumed = _post_streamed(app, "/auth/login", FIFTY_MB, {"Expect": "100-continue"}, True)

    assert status == 413 and consumed == 0


def test_a_chunked_login_is_413_once_it_passes_the_limit_and_no_more_than_the_drain_is_read(
    client: TestClient, app: FastAPI
) -> None:
    status, headers, body, consumed = _post_streamed(app, "/auth/login", PAST_DRAIN, {}, declare_length=False)

    assert status == 413 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"].endswith("/payload-too-large")
    assert consumed <= 1024 * 1024 + DRAIN_BYTES + 2 * CHUNK  # the limit, then at most the drain thrown away


def test_an_idempotent_post_over_the_limit_is_413_and_leaves_no_record(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    key = str(uuid4())
    headers = {**auth_headers(supervisor), "Idempotency-Key": key}

    status, _, body, consumed = _post_streamed(app, "/branches", 3 * 1024 * 1024, headers, declare_length=False)

    assert status == 413 and json.loads(body)["max_bytes"] == 1024 * 1024
    assert consumed == 3 * 1024 * 1024  # read to its end and thrown away
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


def _chunks(total: int) -> Iterator[bytes]:
    for start in range(0, total, CHUNK):
        yield b"x" * min(CHUNK, total - start)


@pytest.mark.parametrize("connection", ["keep-alive", "close"])
@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_a_client_sending_an_oversized_import_to_a_real_server_reads_its_413(
    settings: Settings, session: Session, tmp_path: Path, declare_length: bool, connection: str
) -> None:
    """A plain client sends its whole body, then reads the answer: the server reads the rest of a refused body
    before it answers, else the client sees the connection reset under it (at once if it asked for it closed)."""
    supervisor = make_user(session, Role.SUPERVISOR)
    total = 10 * MAX_FILE_BYTES
    headers = CSV_HEADERS | auth_headers(supervisor) | {"Connection": connection}
    if declare_length:
        headers["Content-Length"] = str(total)

    with server(settings, tmp_path / "server.log") as (base, _):
        client = http.client.HTTPConnection(*base.removeprefix("http://").split(":"), timeout=60)
        client.request("POST", "/cases/import", body=_chunks(total), headers=headers, encode_chunked=not declare_length)
        response = client.getresponse()
        body = response.read()
        client.close()

    assert response.status == 413 and response.getheader("content-type") == "application/problem+json"
    assert json.loads(body)["max_bytes"] == MAX_FILE_BYTES
