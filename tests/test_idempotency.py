"""POSTs with an Idempotency-Key run once per caller and key: retries get the first answer, a different request
with the same key is refused, a retry while the first runs gets 409, and a first attempt that crashed can be
retried."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from api import processes
from api.cases import service as cases_service
from api.db import utcnow
from api.idempotency import claims
from api.idempotency.middleware import request_digest
from api.models.branches import Branch
from api.models.cases import Address, DebtCase, DebtorContact
from api.models.idempotency import IdempotencyRecord
from api.models.users import Role, User
from tests.factories import auth_headers, make_branch, make_case, make_user, problem_type


def _supervisor_and_case(session: Session) -> tuple[User, DebtCase]:
    branch = make_branch(session)
    return make_user(session, Role.SUPERVISOR, branch), make_case(session, branch)


def _contacts(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(DebtorContact)) or 0


def _post(client: TestClient, headers: dict[str, str], case_id: Any, key: str, phone: str = "13800001111") -> Any:
    body = {"phone": phone, "kind": "mobile"}
    return client.post(f"/cases/{case_id}/contacts", json=body, headers=headers | {"Idempotency-Key": key})


def test_a_retry_gets_the_first_answer_and_creates_nothing_more(client: TestClient, session: Session) -> None:
    supervisor, case = _supervisor_and_case(session)
    headers = auth_headers(supervisor)

    first = _post(client, headers, case.id, "key-1")
    retry = _post(client, headers, case.id, "key-1")

    assert first.status_code == 201
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert _contacts(session) == 1


def test_the_same_key_for_another_request_is_refused(client: TestClient, session: Session) -> None:
    supervisor, case = _supervisor_and_case(session)
    headers = auth_headers(supervisor)
    _post(client, headers, case.id, "key-2")

    other = _post(client, headers, case.id, "key-2", phone="13800002222")

    assert other.status_code == 422 and problem_type(other) == "idempotency-key-reused"
    assert _contacts(session) == 1


def test_a_retry_while_the_first_is_handled_gets_409(client: TestClient, session: Session) -> None:
    supervisor, case = _supervisor_and_case(session)
    body = json.dumps({"phone": "13800001111", "kind": "mobile"}, separators=(",", ":")).encode()
    digest = request_digest(f"/cases/{case.id}/contacts", "", body)
    session.add(_held(supervisor, "key-3", digest, owner="another-host:4242", lease_s=20))
    session.commit()

    headers = auth_headers(supervisor) | {"Idempotency-Key": "key-3", "content-type": "application/json"}
    response = client.post(f"/cases/{case.id}/contacts", content=body, headers=headers)

    assert response.status_code == 409 and problem_type(response) == "request-in-progress"
    assert _contacts(session) == 0


def _held(user: User, key: str, digest: str, *, owner: str, lease_s: float) -> IdempotencyRecord:
    """A claim of a first attempt: by `owner` ("host:pid"), its lease running out in `lease_s` seconds."""
    lease = utcnow() + timedelta(seconds=lease_s)
    return IdempotencyRecord(
        user_id=user.id, key=key, request_hash=digest, claim="c" * 32, owner=owner, lease_until=lease
    )


def _contact_body(phone: str = "13800001111") -> bytes:
    return json.dumps({"phone": phone, "kind": "mobile"}, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("owner", "lease_s"),
    [(f"{processes.HOST}:{2**22 + 17}", 20), ("another-host:4242", -1)],
    ids=["its-process-is-gone", "its-lease-ran-out"],
)
def test_a_claim_whose_attempt_stopped_is_taken_over_by_the_retry(
    client: TestClient, session: Session, owner: str, lease_s: float
) -> None:
    supervisor, case = _supervisor_and_case(session)
    digest = request_digest(f"/cases/{case.id}/contacts", "", _contact_body())
    session.add(_held(supervisor, "wedged", digest, owner=owner, lease_s=lease_s))
    session.commit()
    headers = auth_headers(supervisor) | {"Idempotency-Key": "wedged", "content-type": "application/json"}

    retried = client.post(f"/cases/{case.id}/contacts", content=_contact_body(), headers=headers)
    again = client.post(f"/cases/{case.id}/contacts", content=_contact_body(), headers=headers)

    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert _contacts(session) == 1


def test_an_attempt_taken_over_changes_nothing_when_it_comes_back(session: Session, app: FastAPI) -> None:
    supervisor, _ = _supervisor_and_case(session)
    sessions = app.state.sessionmaker
    first = claims.claim_key(sessions, supervisor.id, "late", "d" * 64)
    assert isinstance(first, claims.Claimed)
    session.execute(update(IdempotencyRecord).values(lease_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    second = claims.claim_key(sessions, supervisor.id, "late", "d" * 64)
    assert isinstance(second, claims.Claimed) and second.taken_over

    claims.settle(sessions, supervisor.id, "late", first.claim, {"status": 500})  # the first comes back, failed
    claims.renew(sessions, supervisor.id, "late", first.claim)
    session.expire_all()
    record = session.get_one(IdempotencyRecord, (supervisor.id, "late"))

    assert record.claim == second.claim and record.lease_until is not None and record.lease_until > utcnow()


def test_a_crashed_first_attempt_can_be_retried(
    client: TestClient, app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor, case = _supervisor_and_case(session)
    real = cases_service.create_contact

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("lost the database")

    monkeypatch.setattr(cases_service, "create_contact", crash)
    crashed = _post(client, auth_headers(supervisor), case.id, "key-4")
    monkeypatch.setattr(cases_service, "create_contact", real)
    retried = _post(client, auth_headers(supervisor), case.id, "key-4")

    assert crashed.status_code == 500
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert _contacts(session) == 1


def test_keys_belong_to_their_caller_and_must_be_sensible(client: TestClient, session: Session) -> None:
    supervisor, case = _supervisor_and_case(session)
    colleague = make_user(session, Role.SUPERVISOR, session.get_one(Branch, case.branch_id))

    mine = _post(client, auth_headers(supervisor), case.id, "shared")
    theirs = _post(client, auth_headers(colleague), case.id, "shared", phone="13800003333")
    too_long = _post(client, auth_headers(supervisor), case.id, "x" * 201)

    assert mine.status_code == theirs.status_code == 201
    assert too_long.status_code == 422 and problem_type(too_long) == "idempotency-key-invalid"
    assert _contacts(session) == 2


@contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn on a free loopback port, which sends answers as the app gives them."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_retry_right_after_the_answer_arrived_gets_it_replayed(
    app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor, case = _supervisor_and_case(session)
    keep = claims.settle

    def slow_keep(*args: Any) -> None:
        time.sleep(0.3)  # a busy database: keeping the answer takes a while
        keep(*args)

    monkeypatch.setattr(claims, "settle", slow_keep)
    with _served(app) as base, httpx2.Client(base_url=base, headers=auth_headers(supervisor)) as http:
        answers = []
        for n in range(3):
            body = {"phone": f"1380000{n:04d}", "kind": "mobile"}
            first = http.post(f"/cases/{case.id}/contacts", json=body, headers={"Idempotency-Key": f"race-{n}"})
            retry = http.post(f"/cases/{case.id}/contacts", json=body, headers={"Idempotency-Key": f"race-{n}"})
            answers.append((first.status_code, retry.status_code, retry.headers.get("idempotent-replayed")))

    assert answers == [(201, 201, "true")] * 3
    assert _contacts(session) == 3


def test_a_claim_that_fails_for_a_reason_of_the_code_is_logged_as_itself(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a passing database condition is a 503; any other database error is a crash, logged as what it is."""
    supervisor, case = _supervisor_and_case(session)

    def broken(*args: Any) -> None:
        raise ProgrammingError("SELECT", {}, Exception("no such column: idempotency_record.claim"))

    monkeypatch.setattr(claims, "claim_key", broken)
    response = _post(client, auth_headers(supervisor), case.id, "key-broken")

    assert response.status_code == 500 and problem_type(response) == "internal-error"
    crashes = [record for record in caplog.records if record.exc_info]
    assert [record.exc_info[0] for record in crashes if record.exc_info] == [ProgrammingError]
    assert _contacts(session) == 0


def _add_address(client: TestClient, supervisor: User, case_id: Any) -> Any:
    """A phone's address for the case, with the one key it retries until it has an answer."""
    body = {"kind": "home", "raw_text": "上海市静安区南京西路1号"}
    headers = auth_headers(supervisor) | {"Idempotency-Key": "address-1"}
    return client.post(f"/cases/{case_id}/addresses", json=body, headers=headers)


def test_a_write_whose_answer_cannot_be_kept_is_not_kept_either_and_the_retry_creates_it_once(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    """The database fails as the answer is kept (it went away after the write, as when PostgreSQL was killed): the
    phone must not be told of a row that its retry, taken over, creates a second time."""
    supervisor, case = _supervisor_and_case(session)
    failing = True

    def lose_the_answer(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if (
            failing
            and statement.lstrip().upper().startswith("UPDATE IDEMPOTENCY_RECORD")
            and "status_code" in statement
        ):
            raise OperationalError(statement, {}, Exception("server closed the connection unexpectedly"))

    event.listen(app.state.engine, "before_cursor_execute", lose_the_answer)
    try:
        first = _add_address(client, supervisor, case.id)
    finally:
        failing = False
        event.remove(app.state.engine, "before_cursor_execute", lose_the_answer)
    # the attempt's process is gone by now: its claim, if any is left, has lapsed
    session.execute(update(IdempotencyRecord).values(lease_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    retried = _add_address(client, supervisor, case.id)

    assert retried.status_code == 201, retried.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Address).where(Address.case_id == case.id)) == 1
    if first.status_code == 201:  # told it succeeded: the retry must be the same answer
        assert retried.json()["id"] == first.json()["id"]
    else:
        assert first.status_code >= 500 and first.headers["content-type"] == "application/problem+json"
