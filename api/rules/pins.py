"""Where a supervisor may pin a visit in a team's day: the time it is pinned to start."""

from collections.abc import Sequence
from datetime import time

from api.rules.hours import Closed, seconds_of
from routing.model import TimeWindow


def pin_start_allowed(start: time, windows: Sequence[TimeWindow] | Closed, shift_start: time, shift_end: time) -> bool:
    """Whether a visit may be pinned to start at `start`: at a time it may start (`windows`, in seconds after the
    branch's midnight: its own window, the legal hours at its address, out of the debtor's inconvenient times;
    `Closed` or none: no time that day) and inside the team's shift, before it ends."""
    in_hours = not isinstance(windows, Closed) and any(window.contains(seconds_of(start)) for window in windows)
    return in_hours and shift_start <= start < shift_end
