"""The job runner: a job's round runs in one process at a time, as often as declared across all of them, and a
lease whose process died or lapsed is taken over."""

import subprocess
import threading
import time
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.jobs.runner import Job, Runner
from api.models.jobs import JobLease
from api.processes import HOST


class Rounds:
    """A round that takes a while and counts how many ran, and how many at once at most."""

    def __init__(self, seconds: float = 0.2) -> None:
        self.seconds, self.ran, self.most_at_once = seconds, 0, 0
        self._running = 0
        self._lock = threading.Lock()
        self.began = threading.Event()

    def __call__(self, _stopping: threading.Event) -> None:
        with self._lock:
            self._running += 1
            self.ran += 1
            self.most_at_once = max(self.most_at_once, self._running)
        self.began.set()
        time.sleep(self.seconds)
        with self._lock:
            self._running -= 1


def test_two_processes_never_run_a_round_at_once_and_run_it_as_often_as_declared_together(app: FastAPI) -> None:
    rounds = Rounds()
    runners = [Runner(app.state.sessionmaker, [Job("counted", rounds, every_s=1.0)]) for _ in range(2)]
    for runner in runners:
        runner.start()
    assert rounds.began.wait(30)  # a process's first connection to SpatiaLite takes a moment
    time.sleep(4)
    for runner in runners:
        runner.stop()

    assert rounds.most_at_once == 1
    assert 2 <= rounds.ran <= 5  # one a second after the last ended, across both; each its own: 6 or more


def test_a_lease_whose_process_died_or_lapsed_is_taken_over_and_a_live_one_is_not(
    app: FastAPI, session: Session
) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    session.add_all(
        [
            JobLease(name="died-here", worker=f"{HOST}:{dead.pid}", lease_until=utcnow() + timedelta(seconds=25)),
            JobLease(name="lapsed-elsewhere", worker="another-host:1", lease_until=utcnow() - timedelta(seconds=1)),
            JobLease(name="running-elsewhere", worker="another-host:2", lease_until=utcnow() + timedelta(seconds=25)),
        ]
    )
    session.commit()
    rounds = {name: Rounds(0) for name in ("died-here", "lapsed-elsewhere", "running-elsewhere")}
    runner = Runner(app.state.sessionmaker, [Job(name, each, every_s=60) for name, each in rounds.items()])

    runner.once()
    runner.stop()

    assert {name: each.ran for name, each in rounds.items()} == {
        "died-here": 1,
        "lapsed-elsewhere": 1,
        "running-elsewhere": 0,
    }
    session.expire_all()
    leases = {lease.name: lease.worker for lease in session.scalars(select(JobLease))}
    assert leases == {"died-here": "", "lapsed-elsewhere": "", "running-elsewhere": "another-host:2"}


def test_a_process_told_to_stop_mid_round_leaves_the_job_to_the_next_at_once(app: FastAPI, session: Session) -> None:
    started = threading.Event()

    def long_round(stopping: threading.Event) -> None:
        started.set()
        stopping.wait(30)

    runner = Runner(app.state.sessionmaker, [Job("long", long_round, every_s=3600)])
    runner.start()
    assert started.wait(10)
    runner.stop()

    lease = session.scalars(select(JobLease).where(JobLease.name == "long")).one()
    assert (lease.worker, lease.lease_until, lease.ended_at) == ("", None, None)  # due again at once
