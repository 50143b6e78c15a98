"""`python -m bench.load`: 20 agents' phones on a served API, alone and beside a storm of wrong-password logins,
next to a bare endpoint reading the same sheet rows from the same database in the same run.

Each agent loops over its day's calls: `GET /me/sheet` (a read that appends audit rows), `POST
/teams/{id}/departure-checks` with an Idempotency-Key (a write), `GET /visit-sheets?work_date=` (a read). The storm
is N threads posting wrong passwords to `/auth/login`. Printed per phase: requests per second, p50 and p99 latency,
and the 5xx count; and the agents' rate as a share of the peer's (the target is at least 0.5).

The server is `fieldvisit serve` of the tree given with --tree (default: this repository), so that an earlier
commit can be measured the same way; the day is seeded through the demo seed and the API only.
"""

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx2

from bench.load.server import SERVE, fieldvisit, served, server_env

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = ["recorder_charged", "camera_charged", "letters_carried", "forms_carried"]
PASSWORD = "fieldvisit-demo"


@dataclass
class Tally:
    """Latencies and statuses of one kind of client's requests in a phase."""

    latencies_s: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies_s.append(seconds)
            self.statuses.append(status)

    def line(self, name: str, seconds: float) -> str:
        ordered = sorted(self.latencies_s) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        errors = sum(status >= 500 for status in self.statuses)
        failed = sum(status == 0 for status in self.statuses)
        return (
            f"{name:<28} {len(ordered) / seconds:8.1f} req/s   p50 {statistics.median(ordered) * 1000:7.1f} ms"
            f"   p99 {p99 * 1000:7.1f} ms   5xx {errors:4d}   no answer {failed:3d}   requests {len(ordered)}"
        )

    @property
    def rate(self) -> int:
        return len(self.latencies_s)


def _login(http: httpx2.Client, username: str) -> dict[str, str]:
    """Log in as a phone does: a server error or a busy answer is retried."""
    for _ in range(30):
        answer = http.post("/auth/login", json={"username": username, "password": PASSWORD})
        if answer.status_code < 500:
            break
        time.sleep(float(answer.headers.get("retry-after", 1)))
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _seed_day(http: httpx2.Client, agents: int) -> tuple[str, list[tuple[str, str]]]:
    """Teams for the demo's day so that `agents` agents work, their sheets planned and published; the work date and
    each agent's (username, team id)."""
    admin, supervisor = _login(http, "admin"), _login(http, "supervisor")
    work_date = http.get("/teams", headers=supervisor).json()["items"][0]["work_date"]
    branch_id = http.get("/branches", headers=admin).json()["items"][0]["id"]
    for n in range(9, agents + 1):
        body = {"username": f"agent{n}", "full_name": f"Agent {n}", "role": "agent", "password": PASSWORD}
        http.post("/users", json=body | {"branch_id": branch_id}, headers=admin).raise_for_status()
    users = {row["username"]: row["id"] for row in http.get("/users?limit=200", headers=admin).json()["items"]}
    for n in range(9, agents + 1, 2):
        team = {"work_date": work_date, "name": f"外访{n}组", "agent_ids": [users[f"agent{n}"], users[f"agent{n + 1}"]]}
        http.post("/teams", json=team, headers=supervisor).raise_for_status()
    run = http.post("/planning-runs", json={"work_date": work_date}, headers=supervisor).json()
    state = run
    while state["status"] in ("queued", "running"):
        time.sleep(0.5)
        state = http.get(f"/planning-runs/{run['id']}", headers=supervisor).json()
    http.post(f"/planning-runs/{run['id']}/publish", headers=supervisor).raise_for_status()
    teams = {member: sheet["team_id"] for sheet in state["sheets"] for member in _members(http, supervisor, sheet)}
    return work_date, [(f"agent{n}", teams[users[f"agent{n}"]]) for n in range(1, agents + 1)]


def _members(http: httpx2.Client, headers: dict[str, str], sheet: dict[str, str]) -> list[str]:
    members = http.get(f"/visit-sheets/{sheet['id']}", headers=headers).json()["members"]
    return [member["agent_id"] for member in members]


def _timed(tally: Tally, http: httpx2.Client, method: str, url: str, **options: Any) -> None:
    began = time.perf_counter()
    try:
        status = http.request(method, url, **options).status_code
    except httpx2.TransportError:
        status = 0
    tally.add(time.perf_counter() - began, status)


def _agent(base: str, headers: dict[str, str], team_id: str, work_date: str, until: float, tally: Tally) -> None:
    with httpx2.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            _timed(tally, http, "GET", "/me/sheet", params={"work_date": work_date}, headers=headers)
            check = {"items": CHECKLIST, "client_id": str(uuid4())}
            keyed = headers | {"Idempotency-Key": str(uuid4())}
            _timed(tally, http, "POST", f"/teams/{team_id}/departure-checks", json=check, headers=keyed)
            _timed(tally, http, "GET", "/visit-sheets", params={"work_date": work_date}, headers=headers)


def _storm(base: str, until: float, tally: Tally) -> None:
    with httpx2.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            wrong = {"username": "supervisor", "password": f"guess-{uuid4().hex[:8]}"}
            _timed(tally, http, "POST", "/auth/login", json=wrong)


def _peer(base: str, team_id: str, until: float, tally: Tally) -> None:
    with httpx2.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            _timed(tally, http, "GET", f"/sheet/{team_id}")


Worker = tuple[str, Callable[[float, Tally], None]]  # the tally it counts in, and what it does until a time


def _phase(workers: list[Worker], seconds: float, processes: int) -> dict[str, Tally]:
    """Run the workers at once, as threads of `processes` client processes (so that the clients' own Python is not
    what limits the rate), for `seconds`; the tallies by name."""
    until = time.monotonic() + seconds
    context = multiprocessing.get_context("fork")  # the workers are closures: forked, not pickled
    results: multiprocessing.Queue[dict[str, tuple[list[float], list[int]]]] = context.Queue()
    shares = [workers[index::processes] for index in range(processes)]
    children = [context.Process(target=_run_share, args=(share, until, results)) for share in shares if share]
    for child in children:
        child.start()
    tallies: dict[str, Tally] = {}
    for _ in children:
        for name, (latencies, statuses) in results.get().items():
            tally = tallies.setdefault(name, Tally())
            tally.latencies_s += latencies
            tally.statuses += statuses
    for child in children:
        child.join()
    return tallies


def _run_share(share: list[Worker], until: float, results: Any) -> None:
    tallies = {name: Tally() for name, _ in share}
    threads = [threading.Thread(target=work, args=(until, tallies[name])) for name, work in share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({name: (tally.latencies_s, tally.statuses) for name, tally in tallies.items()})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose server is measured")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--storm", type=int, default=8, help="threads posting wrong passwords")
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--clients", type=int, default=4, help="client processes sharing the phones and threads")
    args = parser.parse_args()
    tree = args.tree.resolve()
    database_url, env = prepared(tree, args.database_url, "fieldvisit-load-")
    print(f"server: {tree} on {database_url.split('@')[-1]}; {args.agents} agents, {args.seconds:g} s a phase")
    with served(SERVE, tree, env, "/health") as (base, _):
        with httpx2.Client(base_url=base, timeout=120) as http:
            work_date, agents = _seed_day(http, args.agents)
            agents = [(_login(http, username), team) for username, team in agents]  # phones stay logged in
        phones = [("agents", _agent_of(base, agent, work_date)) for agent in agents]
        alone = _phase(phones, args.seconds, args.clients)["agents"]
        storm: list[Worker] = [("storm", lambda until, tally: _storm(base, until, tally))] * args.storm
        crowded = _phase(phones + storm, args.seconds, args.clients)
    peer = peer_phase(env, [team for _, team in agents], args.seconds, args.clients)
    print(alone.line("agents alone", args.seconds))
    print(crowded["agents"].line(f"agents, {args.storm} logins storming", args.seconds))
    print(crowded["storm"].line("  the storm's logins", args.seconds))
    print(peer.line("peer: bare sheet read", args.seconds))
    print(f"agents alone / peer: {alone.rate / max(peer.rate, 1):.2f} (target >= 0.5)")
    print(f"agents storming / agents alone: {crowded['agents'].rate / max(alone.rate, 1):.2f}")


def prepared(tree: Path, database_url: str | None, prefix: str) -> tuple[str, dict[str, str]]:
    """A database (the one given, else a SQLite file in a new temporary folder) migrated and seeded with the demo by
    the checkout `tree`: its URL and the server's environment."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    database_url = database_url or f"sqlite:///{scratch / 'load.db'}"
    env = server_env(database_url, scratch / "var")
    fieldvisit(tree, env, "db", "upgrade")
    fieldvisit(tree, env, "demo", "seed")
    return database_url, env


def peer_phase(env: dict[str, str], team_ids: list[str], seconds: float, processes: int) -> Tally:
    """The bare peer served on the same database, read by one client per team for a phase."""
    uvicorn = [sys.executable, "-m", "uvicorn", "bench.load.peer:app", "--host", "127.0.0.1", "--log-level", "warning"]
    with served(uvicorn, ROOT, env | {"PYTHONPATH": str(ROOT)}, "/docs") as (base, _):
        readers: list[Worker] = [("peer", _peer_of(base, team)) for team in team_ids]
        return _phase(readers, seconds, processes)["peer"]


def _agent_of(base: str, agent: tuple[dict[str, str], str], work_date: str) -> Callable[[float, Tally], None]:
    headers, team_id = agent
    return lambda until, tally: _agent(base, headers, team_id, work_date, until, tally)


def _peer_of(base: str, team_id: str) -> Callable[[float, Tally], None]:
    return lambda until, tally: _peer(base, team_id, until, tally)


if __name__ == "__main__":
    main()
