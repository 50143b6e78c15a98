"""Geocoding in the background: after an import commits, a thread of this process geocodes the branch's addresses
that have no point, one pass at a time, so that no request waits on a provider."""

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from uuid import UUID

from sqlalchemy.orm import Session, sessionmaker

from api.addresses.geocoders import Geocoder
from api.addresses.service import GeocodeSummary, geocode_unplaced

log = logging.getLogger(__name__)


class BackgroundGeocoding:
    def __init__(self, sessions: sessionmaker[Session], geocoders: Sequence[Geocoder]) -> None:
        self._sessions = sessions
        self._geocoders = list(geocoders)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geocoding")
        self.last: Future[GeocodeSummary | None] | None = None

    def submit(self, branch_id: UUID) -> None:
        self.last = self._pool.submit(self._pass, branch_id)

    def _pass(self, branch_id: UUID) -> GeocodeSummary | None:
        try:
            summary = geocode_unplaced(self._sessions, self._geocoders, branch_id=branch_id)
        except Exception:  # the next import or `fieldvisit addresses geocode` tries again
            log.exception("geocoding the addresses of branch %s failed", branch_id)
            return None
        log.info(
            "geocoded %d addresses of branch %s: %d trusted, %d untrusted, %d not found, %d failed",
            summary.addresses, branch_id, summary.trusted, summary.untrusted, summary.not_found, summary.failed,
        )  # fmt: skip
        return summary

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for geocoder in self._geocoders:
            geocoder.close()
