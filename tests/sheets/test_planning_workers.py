"""With Redis configured, planning runs go through an RQ queue and `fieldvisit worker` processes plan them."""

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from sqlalchemy import select

from api.config import PlanningSettings, Settings
from api.main import create_app
from api.models.sheets import PlanningRun, RunStatus, VisitSheet
from api.models.users import Role
from api.sheets.jobs import plan_queued_run
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
)

REDIS_URL = os.environ.get("FIELDVISIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BRANCHES = 5


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisConnectionError:
        pytest.fail(f"these tests need the Redis at {REDIS_URL} (FIELDVISIT_TEST_REDIS_URL)")
    queue = f"planning-test-{uuid4().hex}"
    yield settings.model_copy(
        update={
            "redis_url": REDIS_URL,
            "planning": PlanningSettings(time_limit_s=1, solver_workers=1, queue_name=queue),
        }
    )
    Queue(queue, connection=connection).delete(delete_jobs=True)
    connection.close()


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "FIELDVISIT_DATABASE_URL": settings.database_url,
        "FIELDVISIT_REDIS_URL": REDIS_URL,
        "FIELDVISIT_PLANNING__QUEUE_NAME": settings.planning.queue_name,
        "FIELDVISIT_PLANNING__TIME_LIMIT_S": "1",
        "FIELDVISIT_PLANNING__SOLVER_WORKERS": "1",
    }
    command = [sys.executable, "-c", "from api.cli import main; main()", "worker", "--burst"]
    return subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def test_two_workers_share_the_runs_of_several_branches_and_plan_each_once(
    redis_settings: Settings, tmp_path: Path
) -> None:
    app = create_app(redis_settings)
    run_ids: list[UUID] = []
    with TestClient(app) as client, app.state.sessionmaker() as session:
        for _ in range(BRANCHES):
            branch = make_branch(session)
            supervisor = make_user(session, Role.SUPERVISOR, branch)
            make_team(session, branch)
            for point in NEAR_OFFICE[:3]:
                make_visit_request(session, make_address(session, make_case(session, branch), point=point))
            response = client.post("/planning-runs", json={}, headers=auth_headers(supervisor))
            assert response.status_code == 202 and response.json()["status"] == "queued"
            run_ids.append(UUID(response.json()["id"]))
    queue = Queue(redis_settings.planning.queue_name, connection=Redis.from_url(REDIS_URL))
    for run_id in run_ids:  # every run delivered twice, as a retried delivery would
        queue.enqueue_call(plan_queued_run, args=(str(run_id),))
    assert queue.count == 2 * BRANCHES

    workers = [_worker(redis_settings, tmp_path / f"worker{index}.log") for index in range(2)]
    for index, process in enumerate(workers):  # done with the queue, each ends at once (RQ's own lingered a minute)
        assert process.wait(timeout=45) == 0, (tmp_path / f"worker{index}.log").read_text()

    with app.state.sessionmaker() as session:
        runs = session.scalars(select(PlanningRun).where(PlanningRun.id.in_(run_ids))).all()
        assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
        sheets = Counter(session.scalars(select(VisitSheet.run_id)))
        assert sheets == Counter(dict.fromkeys(run_ids, 1))  # one team per branch: one sheet, planned once
        planned_by = Counter(run.figures["worker"] for run in runs)
    assert len(planned_by) == 2, planned_by  # both workers planned some
    assert sum(planned_by.values()) == BRANCHES
    app.state.engine.dispose()


def test_without_redis_the_worker_command_refuses_to_start(settings: Settings) -> None:
    env = os.environ | {"FIELDVISIT_DATABASE_URL": settings.database_url}
    env.pop("FIELDVISIT_REDIS_URL", None)
    command = [sys.executable, "-c", "from api.cli import main; main()", "worker", "--burst"]

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert finished.returncode == 1 and "FIELDVISIT_REDIS_URL" in finished.stderr
