"""Where planning runs are executed: a worker thread in the server process (the default), or RQ workers on Redis.

`submit` is called once the run is committed. The run itself is claimed with a conditional update (see
`api.sheets.planner.execute_run`), so a run handed to several workers is planned exactly once.
"""

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol
from uuid import UUID

from sqlalchemy.orm import Session, sessionmaker

from api.config import PlanningSettings
from api.sheets.models import RunStatus
from api.sheets.planner import execute_run


class PlanningQueue(Protocol):
    def submit(self, run_id: UUID) -> None: ...

    def close(self) -> None: ...


class InProcessQueue:
    """Plans runs one after another in a thread of this process."""

    def __init__(self, sessions: sessionmaker[Session], settings: PlanningSettings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planning")
        self.last: Future[RunStatus | None] | None = None

    def submit(self, run_id: UUID) -> None:
        self.last = self._pool.submit(execute_run, self._sessions, self._settings, run_id)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
