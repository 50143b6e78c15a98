"""`python -m bench.load.calls`: each of the agents' calls on its own under the 20-phone load, `/health`, and the
bare peer, in one run: where the agents' rate goes.

The phones of `python -m bench.load` each loop over one call only, one phase per call (`GET /health`, `GET
/me/sheet`, the keyed `POST /teams/{id}/departure-checks`, `GET /visit-sheets`), then the peer's readers; printed:
each phase's line and its rate as a share of the peer's.
"""

import argparse
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import httpx2

from bench.load.__main__ import CHECKLIST, ROOT, Tally, Worker, _login, _phase, _seed_day, _timed, peer_phase, prepared
from bench.load.server import SERVE, served

Call = Callable[[Tally, httpx2.Client], None]


def _looping(base: str, call: Call) -> Callable[[float, Tally], None]:
    def work(until: float, tally: Tally) -> None:
        with httpx2.Client(base_url=base, timeout=60) as http:
            while time.monotonic() < until:
                call(tally, http)

    return work


def _calls(headers: dict[str, str], team_id: str, work_date: str) -> dict[str, Call]:
    day = {"work_date": work_date}

    def departure(tally: Tally, http: httpx2.Client) -> None:
        check: dict[str, Any] = {"items": CHECKLIST, "client_id": str(uuid4())}
        keyed = headers | {"Idempotency-Key": str(uuid4())}
        _timed(tally, http, "POST", f"/teams/{team_id}/departure-checks", json=check, headers=keyed)

    def read(url: str, **options: Any) -> Call:
        return lambda tally, http: _timed(tally, http, "GET", url, **options)

    return {
        "GET /health": read("/health"),
        "GET /me/sheet": read("/me/sheet", params=day, headers=headers),
        "POST departure-checks": departure,
        "GET /visit-sheets": read("/visit-sheets", params=day, headers=headers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.calls", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--clients", type=int, default=4, help="client processes sharing the phones")
    args = parser.parse_args()
    database_url, env = prepared(ROOT, args.database_url, "fieldvisit-calls-")
    print(f"server: {ROOT} on {database_url.split('@')[-1]}; {args.agents} phones, {args.seconds:g} s a phase")
    tallies: dict[str, Tally] = {}
    with served(SERVE, ROOT, env, "/health") as (base, _):
        with httpx2.Client(base_url=base, timeout=120) as http:
            work_date, agents = _seed_day(http, args.agents)
            phones = [(_login(http, username), team) for username, team in agents]
        per_phone = [_calls(headers, team, work_date) for headers, team in phones]
        for name in per_phone[0]:
            workers: list[Worker] = [(name, _looping(base, calls[name])) for calls in per_phone]
            tallies[name] = _phase(workers, args.seconds, args.clients)[name]
    tallies["peer: bare sheet read"] = peer_phase(env, [team for _, team in phones], args.seconds, args.clients)
    peer = max(tallies["peer: bare sheet read"].rate, 1)
    for name, tally in tallies.items():
        print(f"{tally.line(name, args.seconds)}   / peer {tally.rate / peer:.2f}")


if __name__ == "__main__":
    main()
