"""A planning run's lease. The process planning a run (its `worker`, "host:pid") moves `lease_until` on every few
seconds while it works, and learns there whether a cancellation was asked for. A running run whose lease lapsed, or
whose process on this host is gone, belongs to a process that stopped (killed, out of memory, its machine down): it
is failed at the next look, and its branch and date are free to plan again."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models.sheets import PlanningRun, RunStatus
from api.processes import gone, renewing

RUN_LEASE = timedelta(seconds=20)  # a run not renewed for this long is not being planned any more
RENEW_EVERY_S = 2.0


def lease() -> datetime:
    return utcnow() + RUN_LEASE


def lapsed(run: PlanningRun, now: datetime) -> bool:
    """Whether a running run's process stopped: its lease ran out, or its process on this host is gone."""
    if run.status is not RunStatus.RUNNING:
        return False
    return run.lease_until is None or run.lease_until <= now or gone(run.worker)


@contextmanager
def kept(sessions: Callable[[], Session], run_id: UUID, worker: str) -> Iterator[threading.Event]:
    """While `worker` plans the run: its lease moved on every `RENEW_EVERY_S`; the event is set once a cancellation
    is asked for (the solver stops waiting for its engines)."""
    cancelled = threading.Event()

    def renew() -> None:
        with sessions() as session:
            session.execute(
                update(PlanningRun)
                .where(
                    PlanningRun.id == run_id,
                    PlanningRun.status == RunStatus.RUNNING,
                    PlanningRun.worker == worker,
                )
                .values(lease_until=lease())
            )
            asked = session.scalar(select(PlanningRun.cancel_requested).where(PlanningRun.id == run_id))
            session.commit()
        if asked:
            cancelled.set()

    with renewing(renew, RENEW_EVERY_S, f"the lease of planning run {run_id}"):
        yield cancelled
