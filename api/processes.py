"""Which process holds a claim (a key being handled, a run being planned), and whether it is still there: a claim
names its process as "host:pid"; a process of this host that is gone holds nothing any more."""

import os
import socket

HOST = socket.gethostname()


def owner() -> str:
    """This process, as claims name it."""
    return f"{HOST}:{os.getpid()}"


def gone(holder: str) -> bool:
    """Whether `holder` ("host:pid") is a process of this host that no longer runs (of another host: not known)."""
    host, _, pid = holder.rpartition(":")
    return host == HOST and pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
