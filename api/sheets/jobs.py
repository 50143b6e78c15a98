"""Where planning runs are executed: the `planning` job of the server's runner (`api.jobs`, the default), or RQ
workers on Redis (`fieldvisit worker`).

`submit` is called once the run is committed. The run itself is claimed with a conditional update (see
`api.sheets.planner.execute_run`), so a run handed to several workers is planned exactly once.
"""

import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy.orm import Session, sessionmaker

from api.config import PlanningSettings, Settings
from api.models.sheets import RunStatus
from api.rules import zones
from api.sheets.planner import execute_run


class PlanningWorker(SimpleWorker):
    """RQ's worker, which ends at once when it stops. RQ's own waits for its command channel's thread, which may sit
    a whole minute (RQ's `sleep_time`) waiting for a subscription that already ended: a worker told to stop, or done
    with its queue in burst mode, then lingers for a minute."""

    def unsubscribe(self) -> None:
        if self.pubsub is not None and self.pubsub_thread is not None:
            self.pubsub.unsubscribe()
            self.pubsub_thread.stop(timeout=1)  # a daemon thread: the process may end without it


class PlanningQueue(Protocol):
    def submit(self, run_id: UUID) -> None: ...

    def close(self) -> None: ...


class InProcessQueue:
    """Plans the runs submitted to this process one after another: the round of its `planning` job, woken by each
    submission."""

    def __init__(self, sessions: sessionmaker[Session], settings: PlanningSettings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._submitted: deque[tuple[UUID, Future[RunStatus | None]]] = deque()
        self.wake = threading.Event()
        self.last: Future[RunStatus | None] | None = None

    def submit(self, run_id: UUID) -> None:
        self.last = Future()
        self._submitted.append((run_id, self.last))
        self.wake.set()

    def plan_submitted(self, _stopping: threading.Event) -> None:
        """Plan every run submitted so far, even while the process stops (its runs are committed as queued)."""
        while self._submitted:
            run_id, planned = self._submitted.popleft()
            try:
                planned.set_result(execute_run(self._sessions, self._settings, run_id))
            except Exception as error:
                planned.set_exception(error)
                raise

    def close(self) -> None:
        """Holds nothing: the job runner stops the `planning` job's thread."""


class RedisQueue:
    """Hands runs to `fieldvisit worker` processes, on this machine or others, through an RQ queue on Redis."""

    def __init__(self, redis_url: str, settings: PlanningSettings) -> None:
        self._redis = Redis.from_url(redis_url)
        self._queue = Queue(settings.queue_name, connection=self._redis)
        self._timeout_s = settings.time_limit_s + 600

    def submit(self, run_id: UUID) -> None:
        self._queue.enqueue_call(
            plan_queued_run, args=(str(run_id),), timeout=self._timeout_s, result_ttl=24 * 3600, failure_ttl=7 * 86400
        )

    def close(self) -> None:
        self._redis.close()


@dataclass(slots=True)
class _WorkerContext:
    sessions: sessionmaker[Session]
    settings: PlanningSettings


_context: _WorkerContext | None = None


def plan_queued_run(run_id: str) -> str | None:
    """The RQ job: plan the run if no other worker has claimed it; its final status, or None."""
    assert _context is not None, "runs only inside `fieldvisit worker`"
    status = execute_run(_context.sessions, _context.settings, UUID(run_id))
    return status.value if status is not None else None


def run_worker(settings: Settings, sessions: sessionmaker[Session], *, burst: bool = False) -> None:
    """Process planning runs from the queue until stopped (with `burst`: until the queue is empty)."""
    global _context
    assert settings.redis_url is not None
    zones.load()
    _context = _WorkerContext(sessions, settings.planning)
    connection = Redis.from_url(settings.redis_url)
    try:
        # no fork per job: the solver starts its own processes, and the engine's connections stay in this one
        PlanningWorker([Queue(settings.planning.queue_name, connection=connection)], connection=connection).work(
            burst=burst, logging_level="INFO"
        )
    finally:
        _context = None
        connection.close()


def planning_queue(settings: Settings, sessions: sessionmaker[Session]) -> PlanningQueue:
    """RQ on Redis when `redis_url` is set, else this process's `planning` job."""
    if settings.redis_url:
        return RedisQueue(settings.redis_url, settings.planning)
    zones.load()  # this process plans
    return InProcessQueue(sessions, settings.planning)
