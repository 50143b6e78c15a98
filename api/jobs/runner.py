"""The runner: every job in a thread of its own, a round every `every_s` seconds or at once when nudged, until the
process stops. An exclusive job's round runs under the job's lease row (`JobLease`), as planning runs and geocoding
passes run under theirs (`api.processes`): in one process at a time across every machine, taken over when its
holder's lease lapsed or its process on this host is gone, and as often as declared across all processes together.
A job that is not exclusive claims its own work (a planning run, under the run's lease)."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db import rows_matched, upsert, utcnow
from api.models.jobs import JobLease
from api.processes import held, owner, renewing

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # a round not renewed for this long is not running any more
RENEW_EVERY_S = 5.0
LOOK_EVERY_S = 10.0  # how often a process looks whether another's lease lapsed or a job fell due
STOP_WITHIN_S = 60.0  # a round still running then is left to end with the process; its lease lapses


@dataclass(frozen=True, slots=True)
class Job:
    """A piece of background work: what one round does (told through the event when the process stops), how often,
    and whether one process at a time runs it (under its lease row) or each claims its own work."""

    name: str
    round: Callable[[threading.Event], object]
    every_s: float
    exclusive: bool = True
    wake: threading.Event = field(default_factory=threading.Event, compare=False)
    close: Callable[[], None] | None = None


class Runner:
    """Runs `jobs` in threads of this process, from `start` until `stop`."""

    def __init__(self, sessions: sessionmaker[Session], jobs: list[Job]) -> None:
        self._sessions = sessions
        self.jobs = {job.name: job for job in jobs}
        self._worker = owner()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for job in self.jobs.values():
            thread = threading.Thread(target=self._run, args=(job,), name=f"job {job.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def once(self) -> None:
        """One round of each job, here and now (an exclusive one only if no other process holds its lease)."""
        for job in self.jobs.values():
            self._turn(job, nudged=True)

    def nudge(self, name: str) -> None:
        """Run a round of the job now (in this process, unless another holds its lease), if this process runs it."""
        if name in self.jobs:
            self.jobs[name].wake.set()

    def stop(self) -> None:
        """Stop every job: a round under way is told to stop and leaves its work to the next process; then close."""
        self._stopping.set()
        for job in self.jobs.values():
            job.wake.set()
        for thread in self._threads:
            thread.join(timeout=STOP_WITHIN_S)
        for job in self.jobs.values():
            if job.close is not None:
                job.close()

    def _run(self, job: Job) -> None:
        while not self._stopping.is_set():
            nudged = job.wake.is_set()
            job.wake.clear()
            try:
                self._turn(job, nudged)
            except Exception:  # the database may be away a moment: the next round tries again
                log.exception("a round of job %s failed", job.name)
            job.wake.wait(job.every_s if not job.exclusive else min(job.every_s, LOOK_EVERY_S))

    def _turn(self, job: Job, nudged: bool) -> None:
        """The job's round if it is its turn here: always for a job that claims its own work, else under its lease."""
        if not job.exclusive:
            job.round(self._stopping)
        elif self._take(job, nudged):
            self._round(job)

    def _take(self, job: Job, nudged: bool) -> bool:
        """Claim the job's lease if nobody holds it and a round is due (or this process was nudged)."""
        now = utcnow()
        with self._sessions() as session:
            lease = session.execute(
                select(JobLease.worker, JobLease.lease_until, JobLease.ended_at).where(JobLease.name == job.name)
            ).first()
            if lease is None:
                session.execute(upsert(session, JobLease).values(name=job.name).on_conflict_do_nothing())
                session.commit()
                worker, lease_until, ended_at = "", None, None
            else:
                worker, lease_until, ended_at = lease
            if held(worker, lease_until, now):
                return False
            if not nudged and ended_at is not None and ended_at + timedelta(seconds=job.every_s) > now:
                return False
            lease_was = JobLease.lease_until.is_(None) if lease_until is None else JobLease.lease_until == lease_until
            claimed = rows_matched(
                session,
                update(JobLease)
                .where(JobLease.name == job.name, JobLease.worker == worker, lease_was)
                .values(worker=self._worker, lease_until=now + LEASE),
            )
            session.commit()
        if claimed and worker:
            log.warning("took over job %s from %s", job.name, worker)
        return bool(claimed)

    def _round(self, job: Job) -> None:
        """One round under the lease, renewed while it runs; released when it ends, with when it ended unless the
        process is stopping (then the next process runs it at once)."""

        def renew() -> None:
            with self._sessions.begin() as session:
                session.execute(self._mine(job).values(lease_until=utcnow() + LEASE))

        try:
            with renewing(renew, RENEW_EVERY_S, f"the lease of job {job.name}"):
                job.round(self._stopping)
        finally:
            ended = {} if self._stopping.is_set() else {"ended_at": utcnow()}
            with self._sessions.begin() as session:
                session.execute(self._mine(job).values(worker="", lease_until=None, **ended))

    def _mine(self, job: Job) -> Update:
        return update(JobLease).where(JobLease.name == job.name, JobLease.worker == self._worker)
