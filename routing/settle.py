"""When a search may stop: at its deadline, or earlier, for a search started from a previous plan, once it has
settled (found nothing significantly better for a while)."""

import time
from dataclasses import dataclass, field

# an improvement smaller than this share of the best cost so far does not count as progress
SIGNIFICANT = 1e-4
_PATIENCE_PER_STOP_S = 0.002
_PATIENCE_LEAST_S = 0.25
_PATIENCE_MOST_S = 5.0


def patience_s(stops: int) -> float:
    """How long a warm search over `stops` stops may go without progress before it counts as settled: 2 ms per
    stop, between 0.25 s and 5 s (a demo day settles in milliseconds; a 1,000-stop day's search still finds small
    gains every second or so)."""
    return min(_PATIENCE_MOST_S, max(_PATIENCE_LEAST_S, _PATIENCE_PER_STOP_S * stops))


@dataclass(slots=True)
class Settling:
    """Stop at `deadline` (a `time.perf_counter()` instant) or, with `patience_s` set, once the best cost seen
    has not fallen by `SIGNIFICANT` of itself for that long. Engines report each better cost to `improved`."""

    deadline: float
    patience_s: float | None = None
    best: float | None = None
    since: float = field(default_factory=time.perf_counter)

    def improved(self, cost: float) -> None:
        if self.best is None or cost < self.best - SIGNIFICANT * abs(self.best):
            self.best, self.since = cost, time.perf_counter()

    def over(self) -> bool:
        now = time.perf_counter()
        return now >= self.deadline or (self.patience_s is not None and now - self.since >= self.patience_s)
