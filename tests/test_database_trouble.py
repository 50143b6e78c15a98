"""A database that is busy or away answers 503 with Retry-After and changes nothing; a login storm beside the
agents' reads and writes answers no 5xx at all."""

import threading
from collections import Counter
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api import db
from api.config import Settings
from api.main import create_app
from api.models.users import Role
from api.models.webhooks import WebhookSubscription
from tests.conftest import POSTGRES_URL
from tests.factories import auth_headers, make_user, problem_type
from tests.test_visits import Day

SQLITE_ONLY = pytest.mark.skipif(POSTGRES_URL is not None, reason="SQLite's write lock")
HOOK = {"url": "http://127.0.0.1:9/hook", "secret": "s" * 32}


def _subscriptions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0


def test_a_login_storm_beside_the_agents_answers_no_5xx(
    settings: Settings, session: Session, time_machine: TimeMachineFixture
) -> None:
    """8 threads of wrong passwords (throttling set out of the way, so every one is hashed) while both agents read
    their sheet (which appends audit rows) and the supervisor writes: the storm found 500s "database is locked"."""
    limits = ("login_failures_per_address", "login_failures_per_client", "login_failures_per_account")
    lenient = settings.auth.model_copy(update=dict.fromkeys(limits, 10**6))
    application = create_app(settings.model_copy(update={"auth": lenient}))
    with TestClient(application, raise_server_exceptions=False) as client:
        day = Day(client, session, time_machine)
        statuses: Counter[tuple[str, int]] = Counter()
        lock = threading.Lock()

        def call(kind: str, times: int, send: object) -> None:
            for _ in range(times):
                status = send().status_code  # type: ignore[operator]
                with lock:
                    statuses[(kind, status)] += 1

        wrong = {"username": day.a.username, "password": "not-the-password"}
        workers = [
            threading.Thread(target=call, args=("login", 12, lambda: client.post("/auth/login", json=wrong)))
            for _ in range(8)
        ]
        for agent in (day.a, day.b):
            workers.append(
                threading.Thread(
                    target=call,
                    args=(
                        "sheet",
                        25,
                        lambda agent=agent: client.get(
                            "/me/sheet", params={"work_date": day.work_date.isoformat()}, headers=auth_headers(agent)
                        ),
                    ),
                )
            )
        workers.append(
            threading.Thread(
                target=call,
                args=("write", 25, lambda: client.post("/webhooks", json=HOOK, headers=auth_headers(day.supervisor))),
            )
        )
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    application.state.engine.dispose()

    assert statuses == Counter({("login", 401): 96, ("sheet", 200): 50, ("write", 201): 25})


@SQLITE_ONLY
def test_a_write_that_cannot_have_the_lock_is_503_with_retry_after(
    client: TestClient, app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.3)
    logins = (auth_headers(supervisor), {**auth_headers(supervisor), "Idempotency-Key": "k-busy-1"})
    with app.state.engine.execution_options(**{db.WRITING: True}).begin():  # holds the writer lock
        for headers in logins:
            busy = client.post("/webhooks", json=HOOK, headers=headers)

            assert busy.status_code == 503 and problem_type(busy) == "database-busy"
            assert int(busy.headers["retry-after"]) >= 1
    assert _subscriptions(session) == 0
    # and the key is free for the retry once the lock is
    retried = client.post("/webhooks", json=HOOK, headers={**auth_headers(supervisor), "Idempotency-Key": "k-busy-1"})
    assert retried.status_code == 201 and _subscriptions(session) == 1


def _take_database_away(database_url: str, tmp_path: Path) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").rename(tmp_path / "moved.db")  # and the next connection cannot open it
        Path(url.database or "").mkdir()
        return
    admin = create_engine(make_url(POSTGRES_URL or ""), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": url.database},
        )
    admin.dispose()


def _bring_database_back(database_url: str, tmp_path: Path) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").rmdir()
        (tmp_path / "moved.db").rename(url.database or "")
        return
    admin = create_engine(make_url(POSTGRES_URL or ""), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def test_a_database_outage_is_503_with_retry_after_and_the_retry_runs(
    client: TestClient, app: FastAPI, session: Session, database_url: str, tmp_path: Path
) -> None:
    supervisor = make_user(session, Role.SUPERVISOR)
    headers = auth_headers(supervisor)
    session.close()
    app.state.engine.dispose()  # the pooled connections would outlive the file's move
    _take_database_away(database_url, tmp_path)
    try:
        for sent in (headers, {**headers, "Idempotency-Key": "k-outage-1"}):
            away = client.post("/webhooks", json=HOOK, headers=sent)

            assert away.status_code == 503 and problem_type(away) == "database-unavailable"
            assert int(away.headers["retry-after"]) >= 1
        assert client.get("/health").status_code == 503
    finally:
        app.state.engine.dispose()
        _bring_database_back(database_url, tmp_path)

    retried = client.post("/webhooks", json=HOOK, headers={**headers, "Idempotency-Key": "k-outage-1"})
    assert retried.status_code == 201 and _subscriptions(session) == 1
