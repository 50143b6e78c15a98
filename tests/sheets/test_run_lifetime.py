"""A planning run's life: solving never stops the server answering, in any setting; a cancellation stops the
engines within seconds; the engines never outlive the run's process."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.config import PlanningSettings, Settings
from api.geo import GeoPoint
from api.main import create_app
from api.models.users import Role, User
from routing.engines import engines
from tests.factories import (
    PEOPLES_SQUARE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
)
from tests.sheets.test_planning_runs import wait_for_run

LIMIT_S = 12


def busy_day(session: Session) -> User:
    """Two teams and sixty requests around the office: OR-Tools searches until its limit."""
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    for _ in range(2):
        team = make_team(session, branch)
        team.max_visits = 40
    session.commit()
    for n in range(60):
        point = GeoPoint(lat=PEOPLES_SQUARE.lat + 0.004 * (n % 8), lon=PEOPLES_SQUARE.lon + 0.005 * (n // 8))
        make_visit_request(session, make_address(session, make_case(session, branch), point=point))
    return supervisor


@contextmanager
def _solving(settings: Settings, supervisor: User) -> Iterator[tuple[TestClient, Any, str]]:
    """A server planning with one solver worker, its run solving."""
    planning = PlanningSettings(time_limit_s=LIMIT_S, solver_workers=1)
    application = create_app(settings.model_copy(update={"planning": planning}))
    with TestClient(application) as client:
        started = client.post("/planning-runs", json={"time_limit_s": LIMIT_S}, headers=auth_headers(supervisor))
        assert started.status_code == 202, started.text
        url = started.headers["Location"]
        deadline = time.monotonic() + 30
        while client.get(url, headers=auth_headers(supervisor)).json()["stage"] != "solving":
            assert time.monotonic() < deadline, "the run never started solving"
            time.sleep(0.05)
        yield client, application, url


def test_a_solve_with_one_worker_never_stops_the_server_answering(settings: Settings, session: Session) -> None:
    supervisor = busy_day(session)
    with _solving(settings, supervisor) as (client, application, url):
        waits = []
        for _ in range(12):
            began = time.monotonic()
            assert client.get("/health").status_code == 200
            waits.append(time.monotonic() - began)
            time.sleep(0.25)
        assert client.get(url, headers=auth_headers(supervisor)).json()["stage"] == "solving"  # all along
        client.post(f"{url}/cancel", headers=auth_headers(supervisor))
        wait_for_run(application)

    assert max(waits) < 1.0, waits


def test_a_cancelled_run_stops_its_engines_within_seconds(settings: Settings, session: Session) -> None:
    supervisor = busy_day(session)
    with _solving(settings, supervisor) as (client, application, url):
        asked = time.monotonic()
        cancelled = client.post(f"{url}/cancel", headers=auth_headers(supervisor))
        wait_for_run(application)
        took = time.monotonic() - asked
        run = client.get(url, headers=auth_headers(supervisor)).json()

    assert cancelled.status_code == 200, cancelled.text
    assert run["status"] == "cancelled" and run["sheets"] == []
    assert took < LIMIT_S / 2, took
    assert engines.busy == 0  # no engine searches on: the one stopped was killed, none is left waiting for it
