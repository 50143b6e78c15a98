"""Every background job, declared once: its name, what a round does, how often, and whether one process at a time
runs it. The server runs those `server_jobs` names (all by default) in its lifespan; `fieldvisit worker --job …`
runs the ones named, planning from Redis included."""

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from api.addresses.geocoders import Geocoder
from api.addresses.jobs import GeocodingPasses
from api.config import Settings
from api.jobs.runner import LOOK_EVERY_S, Job
from api.payments.service import settle_due
from api.roads.travel import travel_provider
from api.sheets.jobs import InProcessQueue
from api.tracks.service import purge_expired
from api.tracks.watch import watch_round
from api.visit_evidence.store import open_store
from api.webhooks.delivery import deliver_due
from api.webhooks.service import webhook_reach

log = logging.getLogger(__name__)

PLANNING = "planning"
PLANNING_EVERY_S = 5.0  # runs wake it when submitted; this is a backstop


def declared_jobs(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    geocoders: Sequence[Geocoder] = (),
    planning: InProcessQueue | None = None,
) -> list[Job]:
    """The jobs these settings set up: webhooks, track-watch, geocoding (with geocoders), tracks-purge,
    promise-watch, evidence-sweep (local store) and planning (runs submitted to this process, without Redis)."""
    jobs: list[Job] = []
    if settings.webhook_interval_s:
        reach = webhook_reach(settings)
        jobs.append(Job("webhooks", lambda _: deliver_due(sessions, reach), settings.webhook_interval_s))
    tracking = settings.tracking
    if tracking.watch_interval_s:
        margin = timedelta(minutes=tracking.duty_margin_min)
        travel = travel_provider(settings.planning)
        jobs.append(Job("track-watch", lambda _: watch_round(sessions, margin, travel), tracking.watch_interval_s))
    if geocoders:
        passes = GeocodingPasses(sessions, geocoders)
        jobs.append(Job("geocoding", passes.round, LOOK_EVERY_S, close=passes.close))
    if tracking.purge_interval_s:
        jobs.append(Job("tracks-purge", lambda _: _purge_tracks(sessions), tracking.purge_interval_s))
    if settings.promise_watch_interval_s:
        jobs.append(Job("promise-watch", lambda _: _settle_promises(sessions), settings.promise_watch_interval_s))
    if settings.evidence.sweep_interval_s and settings.evidence.backend == "local":
        jobs.append(Job("evidence-sweep", lambda _: _sweep_uploads(settings), settings.evidence.sweep_interval_s))
    if planning is not None:
        jobs.append(Job(PLANNING, planning.plan_submitted, PLANNING_EVERY_S, exclusive=False, wake=planning.wake))
    return jobs


def _purge_tracks(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        deleted = purge_expired(session)
    if deleted:
        log.info("purged %d fixes past their retention in %d branches", sum(deleted.values()), len(deleted))


def _settle_promises(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        changed = settle_due(session)
    if changed:
        log.info("settled %d repayment promises past their date", changed)


def _sweep_uploads(settings: Settings) -> None:
    removed = open_store(settings).sweep_uploads(settings.evidence.sweep_idle_days * 86400)
    if removed:
        log.info("removed %d abandoned uploads, %d bytes", len(removed), sum(size for _, size in removed))
