"""Solver processes never outlive the process that started them: killed with it (a server or worker killed mid-solve
leaves no engine searching on as an orphan)."""

import ctypes
import ctypes.util
import os
import signal
import sys
from multiprocessing import parent_process

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a spawned solver process: ask Linux to kill it when its parent's thread that started it ends, and end at
    once if the parent is gone already. Elsewhere: nothing (the parent stops it on leaving, as always)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    parent = parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the request was made
        os._exit(1)
