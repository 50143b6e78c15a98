"""Which process holds a claim (a key being handled, a run being planned, a geocoding pass), and whether it is still
there: a claim names its process as "host:pid"; a process of this host that is gone holds nothing any more. A claim
held for long is a lease, renewed while its holder works (`renewing`)."""

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

log = logging.getLogger(__name__)

HOST = socket.gethostname()


def owner() -> str:
    """This process, as claims name it."""
    return f"{HOST}:{os.getpid()}"


def gone(holder: str) -> bool:
    """Whether `holder` ("host:pid") is a process of this host that no longer runs (of another host: not known)."""
    host, _, pid = holder.rpartition(":")
    return host == HOST and pid.isdigit() and not _alive(int(pid))


def held(worker: str, lease_until: datetime | None, now: datetime) -> bool:
    """Whether a lease is held: by a process (`worker`, "host:pid"), not lapsed at `now`, its process not gone."""
    return bool(worker) and lease_until is not None and lease_until > now and not gone(worker)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@contextmanager
def renewing(renew: Callable[[], None], every_s: float, name: str) -> Iterator[None]:
    """While the block runs, `renew` (a lease's) is called every `every_s` seconds in a thread of its own; a failure
    is logged and the next call tries again (a lease outlives a few misses: the database may be away a moment)."""
    done = threading.Event()

    def keep() -> None:
        while not done.wait(every_s):
            try:
                renew()
            except Exception:
                log.warning("could not renew %s", name, exc_info=True)

    keeper = threading.Thread(target=keep, name=name, daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()
