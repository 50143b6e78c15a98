"""The chaos harness (`python -m bench.chaos`) in a short form: two server processes (and, with Redis, a planning
worker) on the test's database, phones creating addresses and reporting them invalid through any server,
with an Idempotency-Key each, a planning run under way and findings going out to a webhook receiver, while a random
process is killed (SIGKILL) every few seconds and started again. Nothing a phone was told is lost or doubled, and
no finding is sent twice or lost (delivered, or due to be retried)."""

import os

from sqlalchemy.orm import Session

from api.demo import seed_demo
from bench.chaos.__main__ import chaos

REDIS_URL = os.environ.get("FIELDVISIT_TEST_REDIS_URL")  # .ci/run's; without it the servers plan themselves


def test_processes_killed_at_random_lose_and_double_nothing(database_url: str, session: Session) -> None:
    seed_demo(session)
    session.commit()
    short = {"servers": 2, "workers": 1, "phones": 12, "seconds": 12, "kill_every": 3, "settle_s": 45}
    figures = chaos(database_url, REDIS_URL, **short, first_plan_s=1, seeded=True)
    figures.print()

    assert figures.kills >= 3
    for kind in ("addresses", "reports"):
        assert figures.acknowledged[kind] > 0, kind
        assert (figures.lost(kind), figures.doubled(kind)) == (0, 0), kind
    assert figures.held == 0
    # every finding delivered once, or still due (a delivery a killed process held is retried after its backoff)
    assert figures.findings > 0 and figures.undelivered == 0 and figures.doubled_deliveries == 0
    assert figures.delivered + figures.pending == figures.findings
    assert figures.left_running == 0 and figures.later_run == 202
