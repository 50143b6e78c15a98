"""Geocoding in the background. An import that leaves addresses without a point asks, in its own transaction, for a
geocoding pass of its branch (`ask_for_pass`); the `geocoding` job (`api.jobs`) takes the passes asked for, one at
a time, under a lease it keeps moving while it works. A pass whose process stopped (killed, its machine down) is
taken over by the next process that looks: no pass is lost, and while one runs no other process runs it too."""

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from sqlalchemy import Delete, Update, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.addresses.geocoders import Geocoder
from api.addresses.service import GeocodeSummary, geocode_unplaced
from api.db import rows_matched, upsert, utcnow, writing
from api.models.addresses import GeocodingDue
from api.processes import held, owner, renewing

log = logging.getLogger(__name__)

PASS_LEASE = timedelta(seconds=30)  # a pass not renewed for this long is not running any more
RENEW_EVERY_S = 5.0
_Statement = TypeVar("_Statement", Update, Delete)


def ask_for_pass(session: Session, branch_id: UUID) -> None:
    """Ask for a geocoding pass of the branch, in the caller's transaction: the ask commits with the addresses that
    need it, or not at all. A pass already running ends without taking this ask away (its addresses may be new)."""
    now = utcnow()
    session.execute(
        upsert(session, GeocodingDue)
        .values(branch_id=branch_id, asks=1, asked_at=now, worker="")
        .on_conflict_do_update(index_elements=["branch_id"], set_={"asks": GeocodingDue.asks + 1, "asked_at": now})
    )


def settled(sessions: sessionmaker[Session], timeout_s: float) -> bool:
    """Wait until no pass is asked for or running (in any process), at most `timeout_s`; whether it came."""
    deadline = time.monotonic() + timeout_s
    while True:
        with sessions() as session:
            if not session.scalar(select(func.count()).select_from(GeocodingDue)):
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


class _Stopping(Exception):
    """The process is stopping: the pass is left for another to take at once."""


class GeocodingPasses:
    """The passes asked for, run one after another under their leases: the `geocoding` job's round."""

    def __init__(self, sessions: sessionmaker[Session], geocoders: Sequence[Geocoder]) -> None:
        self._sessions = sessions
        self._geocoders = list(geocoders)
        self._worker = owner()

    def round(self, stopping: threading.Event) -> None:
        """Run every pass nobody runs, until none is left or the process stops (leaving its pass to the next)."""
        while not stopping.is_set() and (taken := self._take()) is not None:
            self._pass(*taken, stopping)

    def close(self) -> None:
        for geocoder in self._geocoders:
            geocoder.close()

    def _take(self) -> tuple[UUID, int] | None:
        """Claim the oldest pass nobody runs (a lapsed lease, or a process of this host that is gone), if any."""
        now = utcnow()
        with self._sessions() as session:
            writing(session)  # SQLite: the write lock from the start, so that two processes cannot both claim
            for due in session.scalars(select(GeocodingDue).order_by(GeocodingDue.asked_at)).all():
                if held(due.worker, due.lease_until, now):
                    continue
                lease_was = (
                    GeocodingDue.lease_until.is_(None)
                    if due.lease_until is None
                    else GeocodingDue.lease_until == due.lease_until
                )
                claimed = rows_matched(
                    session,
                    update(GeocodingDue)
                    .where(GeocodingDue.branch_id == due.branch_id, GeocodingDue.worker == due.worker, lease_was)
                    .values(worker=self._worker, lease_until=now + PASS_LEASE),
                )
                if claimed:
                    session.commit()
                    if due.worker:
                        log.warning("took over the geocoding pass of branch %s from %s", due.branch_id, due.worker)
                    return due.branch_id, due.asks
        return None

    def _pass(self, branch_id: UUID, asks: int, stopping: threading.Event) -> None:
        def renew() -> None:
            with self._sessions.begin() as session:
                session.execute(self._mine(update(GeocodingDue), branch_id).values(lease_until=utcnow() + PASS_LEASE))

        def stop_if_stopping(_done: int, _total: int) -> None:
            if stopping.is_set():
                raise _Stopping

        try:
            with renewing(renew, RENEW_EVERY_S, f"the lease of the geocoding pass of branch {branch_id}"):
                summary = geocode_unplaced(
                    self._sessions, self._geocoders, branch_id=branch_id, progress=stop_if_stopping
                )
        except _Stopping:
            self._release(branch_id)
            return
        except Exception:  # its lease lapses and a process takes it again
            log.exception("geocoding the addresses of branch %s failed", branch_id)
            return
        self._finish(branch_id, asks, summary)

    def _finish(self, branch_id: UUID, asks: int, summary: GeocodeSummary) -> None:
        """End the asks the pass saw; an ask that came while it ran leaves the pass to run again."""
        with self._sessions.begin() as session:
            ended = rows_matched(session, self._mine(delete(GeocodingDue), branch_id).where(GeocodingDue.asks == asks))
        if not ended:
            self._release(branch_id)
        log.info(
            "geocoded %d addresses of branch %s: %d trusted, %d untrusted, %d not found, %d failed (%s); "
            "%d reports resolved by the system",
            summary.addresses, branch_id, summary.trusted, summary.untrusted, summary.not_found, summary.failed,
            ", ".join(f"{outcome} {count}" for outcome, count in sorted(summary.by_outcome.items())), summary.resolved,
        )  # fmt: skip

    def _release(self, branch_id: UUID) -> None:
        with self._sessions.begin() as session:
            session.execute(self._mine(update(GeocodingDue), branch_id).values(worker="", lease_until=None))

    def _mine(self, statement: _Statement, branch_id: UUID) -> _Statement:
        """The statement, narrowed to the branch's pass while this process holds it."""
        return statement.where(GeocodingDue.branch_id == branch_id, GeocodingDue.worker == self._worker)
