"""`fieldvisit worker`: the jobs named, in this process, until it is told to stop (SIGTERM or Ctrl-C). Planning is
RQ's worker on Redis, in the main thread (RQ handles the signals there); the others run in the runner's threads."""

import signal
import threading
from collections.abc import Sequence

from api.addresses.geocoders import configured_geocoders
from api.config import Settings
from api.db import make_engine
from api.jobs.declared import PLANNING, declared_jobs
from api.jobs.runner import Runner
from api.sessions import sessions_of
from api.sheets.jobs import run_worker


class JobNotSetUp(Exception):
    """A job named that these settings do not set up."""


def run_jobs(settings: Settings, names: Sequence[str], *, burst: bool = False) -> None:
    """Run the jobs named until stopped; with `burst`, one round of each (planning: until its queue is empty)."""
    engine = make_engine(settings.database_url)
    sessions = sessions_of(engine)
    geocoders = configured_geocoders(settings.geocoding, sessions) if "geocoding" in names else []
    declared = {job.name: job for job in declared_jobs(settings, sessions, geocoders=geocoders)}
    if PLANNING in names and not settings.redis_url:
        raise JobNotSetUp("Set FIELDVISIT_REDIS_URL: without it, planning runs inside the API server.")
    missing = [name for name in names if name not in declared and name != PLANNING]
    if missing:
        set_up = ", ".join([*declared, *([PLANNING] if settings.redis_url else [])])
        raise JobNotSetUp(f"Not set up by these settings: {', '.join(missing)} (set up: {set_up}).")
    runner = Runner(sessions, [declared[name] for name in names if name != PLANNING])
    try:
        if burst:
            runner.once()
        else:
            runner.start()
        if PLANNING in names:
            run_worker(settings, sessions, burst=burst)
        elif not burst:
            _until_told_to_stop()
    finally:
        runner.stop()
        engine.dispose()


def _until_told_to_stop() -> None:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
