"""A geocoding pass after an import is kept in the database until it has run: a process that stops leaves it to the
next, a process that died is taken over from, and two processes never run one pass both."""

import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.addresses.geocoders import Candidate, Geocoder
from api.addresses.jobs import ask_for_pass, settled
from api.config import Settings
from api.db import make_engine, utcnow
from api.jobs.declared import declared_jobs
from api.jobs.runner import Runner
from api.models.addresses import GeocodingDue
from api.models.cases import Address, DebtCase
from api.processes import HOST
from api.rules.grades import Precision
from api.sessions import sessions_of
from tests.factories import make_address, make_branch, make_case


class SlowGeocoder(Geocoder):
    """Finds every text at a door, taking `seconds` to answer; counts what it was asked."""

    name = "slow"

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.asked: Counter[str] = Counter()
        self._lock = threading.Lock()

    def geocode(self, text: str, *, city: str | None = None) -> list[Candidate]:
        with self._lock:
            self.asked[text] += 1
        time.sleep(self.seconds)
        return [Candidate(31.23, 121.47, Precision.DOOR, self.name, "门牌号", text)]

    def close(self) -> None:
        return


def _imported(session: Session, addresses: int = 5) -> DebtCase:
    """A branch's case with addresses and no points, and the pass its import asked for."""
    case = make_case(session, make_branch(session))
    for n in range(addresses):
        make_address(session, case, point=None, raw_text=f"上海市黄浦区南京东路{case.reference}-{n + 1}号")
    ask_for_pass(session, case.branch_id)
    session.commit()
    return case


def _unplaced(session: Session, case: DebtCase) -> int:
    session.expire_all()
    return len(session.scalars(select(Address).where(Address.case_id == case.id, Address.point.is_(None))).all())


def _job(settings: Settings, geocoder: Geocoder) -> Runner:
    """The geocoding job of a process of its own (its own engine on the database), running."""
    sessions = sessions_of(make_engine(settings.database_url))
    jobs = declared_jobs(settings, sessions, geocoders=[geocoder])
    runner = Runner(sessions, [job for job in jobs if job.name == "geocoding"])
    runner.start()
    return runner


def _settled(session: Session) -> bool:
    """No pass asked for or running any more, within 30 s."""
    return settled(sessionmaker(session.get_bind()), timeout_s=30)


def _until(condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_processes_never_run_one_pass_both(settings: Settings, session: Session) -> None:
    case = _imported(session, addresses=6)
    geocoder = SlowGeocoder()
    jobs = [_job(settings, geocoder) for _ in range(2)]
    try:
        assert _settled(session)
    finally:
        for job in jobs:
            job.stop()

    assert _unplaced(session, case) == 0
    assert len(geocoder.asked) == 6 and set(geocoder.asked.values()) == {1}  # each text asked by one process, once


def test_a_process_that_stops_mid_pass_leaves_the_rest_to_the_next(settings: Settings, session: Session) -> None:
    case = _imported(session, addresses=8)
    geocoder = SlowGeocoder(seconds=0.3)
    first = _job(settings, geocoder)
    _until(lambda: 0 < _unplaced(session, case) < 8)
    first.stop()
    left = _unplaced(session, case)
    due = session.scalars(select(GeocodingDue)).one()
    assert 0 < left < 8 and due.worker == "" and due.lease_until is None  # released at once, not held for 30 s

    second = _job(settings, geocoder)
    try:
        assert _settled(session)
    finally:
        second.stop()

    assert _unplaced(session, case) == 0
    assert len(geocoder.asked) == 8 and set(geocoder.asked.values()) == {1}


def _due_branches(session: Session) -> set[UUID]:
    session.expire_all()
    return set(session.scalars(select(GeocodingDue.branch_id)))


def test_a_pass_whose_process_died_is_taken_over(settings: Settings, session: Session) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    killed_here = _imported(session)  # its process on this machine is gone, its lease still running
    lapsed_elsewhere = _imported(session)  # another machine's, whose lease ran out
    running_elsewhere = _imported(session)  # another machine's, renewed a moment ago
    holders = {
        killed_here.branch_id: (f"{HOST}:{dead.pid}", utcnow() + timedelta(seconds=25)),
        lapsed_elsewhere.branch_id: ("another-host:1", utcnow() - timedelta(seconds=1)),
        running_elsewhere.branch_id: ("another-host:2", utcnow() + timedelta(seconds=25)),
    }
    for due in session.scalars(select(GeocodingDue)):
        due.worker, due.lease_until = holders[due.branch_id]
    session.commit()

    job = _job(settings, SlowGeocoder())
    try:
        # until both passes ended (their addresses placed and their asks gone), not only placed: a stop between the
        # two leaves the ask, released, for the next process, which is not what this test is about
        _until(
            lambda: (
                _unplaced(session, killed_here) == 0
                and _unplaced(session, lapsed_elsewhere) == 0
                and _due_branches(session) == {running_elsewhere.branch_id}
            )
        )
    finally:
        job.stop()

    assert _unplaced(session, running_elsewhere) == 5  # its process still works on it
    session.expire_all()
    assert [(due.branch_id, due.worker) for due in session.scalars(select(GeocodingDue))] == [
        (running_elsewhere.branch_id, "another-host:2")
    ]


def test_an_ask_that_comes_during_a_pass_runs_it_again(settings: Settings, session: Session) -> None:
    case = _imported(session, addresses=4)
    geocoder = SlowGeocoder(seconds=0.2)
    job = _job(settings, geocoder)
    try:
        _until(lambda: _unplaced(session, case) < 4)  # the pass read its addresses and placed one
        later = make_address(session, case, point=None, raw_text="上海市黄浦区南京东路999号")
        ask_for_pass(session, case.branch_id)  # a second import, while the first's pass runs
        session.commit()
        assert _settled(session)
    finally:
        job.stop()

    session.refresh(later)
    assert later.point is not None and _unplaced(session, case) == 0
