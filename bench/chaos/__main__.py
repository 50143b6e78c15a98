"""`python -m bench.chaos`: several server processes and planning workers on one database, phones writing through
them while a random process is killed (SIGKILL) every few seconds and started again; then what was lost or doubled.

Phones: supervisors' phones add addresses to cases (`POST /cases/{id}/addresses`), the agents' report the addresses
of their sheets invalid (`POST /addresses/{id}/invalid-reports`, each a finding and a webhook); each request is
retried with its one Idempotency-Key, through any server, until it is answered. Meanwhile a planning run is
started, and the findings go to a loopback webhook receiver. At the end, with every process up again, printed:
the rows each kind of write made against the answers the phones got (lost, doubled), keys still held, webhook
deliveries per `Webhook-Id` (doubled), runs left running; and, with `--throughput`, creates a second through one
server process against two (`serve --workers 2`).
"""

import argparse
import json
import os
import random
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx2
from sqlalchemy import create_engine, text

from bench.load.__main__ import _login, prepared
from bench.load.server import SERVE, _free_port, server_env

ROOT = Path(__file__).resolve().parents[2]
WORKER = [*SERVE[:-1], "worker"]


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on loopback that counts the deliveries of each `Webhook-Id`."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.seen[self.headers.get("webhook-id", "")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class Fleet:
    """The server processes (each on its port) and the workers, any of which may be killed and started again."""

    def __init__(self, env: dict[str, str], servers: int, workers: int, log: Path) -> None:
        self.env, self.log = env, log
        self.ports = [_free_port() for _ in range(servers)]
        self.processes: dict[str, subprocess.Popen[bytes] | None] = {}
        self.roles = {f"server:{port}": [*SERVE, "--port", str(port)] for port in self.ports}
        self.roles |= {f"worker:{n}": [*WORKER] for n in range(workers)}
        self.kills = 0
        # the phones' one client (a client per request would load the CA bundle each time: most of the harness's
        # own CPU); a connection to a killed server fails like any dropped line and is retried
        self.http = httpx2.Client(timeout=30)

    def start(self, role: str) -> None:
        with self.log.open("ab") as out:
            self.processes[role] = subprocess.Popen(self.roles[role], cwd=ROOT, env=self.env, stdout=out, stderr=out)

    def start_all(self) -> None:
        for role in self.roles:
            self.start(role)
        for port in self.ports:
            _wait_up(f"http://127.0.0.1:{port}")

    def kill_one(self) -> None:
        role = random.choice(list(self.roles))
        process = self.processes.get(role)
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            self.kills += 1
        time.sleep(1)
        self.start(role)

    def stop(self) -> None:
        for process in self.processes.values():
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        self.http.close()

    def base(self) -> str:
        return f"http://127.0.0.1:{random.choice(self.ports)}"


def _wait_up(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    with httpx2.Client(timeout=1) as http:
        while time.monotonic() < deadline:
            try:
                if http.get(f"{base}/health").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"{base} did not come up")


def _until_answered(fleet: Fleet, method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """The request, through any server, with its one key, until it is answered (not a 5xx, not a dropped line)."""
    keyed = headers | {"Idempotency-Key": str(uuid4())}
    for _ in range(600):
        try:
            answer = fleet.http.request(method, f"{fleet.base()}{path}", json=body, headers=keyed)
        except httpx2.TransportError:
            time.sleep(0.2)
            continue
        if (answer.status_code == 409 and "request-in-progress" in answer.text) or answer.status_code >= 500:
            time.sleep(0.3)
            continue
        return answer
    raise SystemExit(f"{path}: never answered")


def _adder(fleet: Fleet, headers: dict[str, str], case_ids: list[str], until: float, acked: list[str]) -> None:
    while time.monotonic() < until:
        case_id = random.choice(case_ids)
        body = {"kind": "work", "raw_text": f"上海市静安区南京西路{random.randint(1, 9999)}号 {uuid4().hex[:6]}"}
        answer = _until_answered(fleet, "POST", f"/cases/{case_id}/addresses", body, headers)
        if answer.status_code == 201:
            acked.append(answer.json()["id"])


def _reporter(fleet: Fleet, headers: dict[str, str], address_ids: list[str], until: float, acked: list[str]) -> None:
    for address_id in address_ids:
        if time.monotonic() >= until:
            return
        body = {"reason": "demolished", "note": "fenced off", "client_id": str(uuid4())}
        answer = _until_answered(fleet, "POST", f"/addresses/{address_id}/invalid-reports", body, headers)
        if answer.status_code == 201:
            acked.append(answer.json()["id"])


@dataclass
class Figures:
    """What the phones were told against what the database holds, at the end of a chaos run."""

    kills: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)  # distinct ids answered 201, by kind of write
    stored: dict[str, int] = field(default_factory=dict)  # rows made, by kind of write
    held: int = 0  # Idempotency-Keys still held by a request that never ended
    findings: int = 0
    delivered: int = 0  # distinct Webhook-Ids the receiver got
    pending: int = 0  # new findings not delivered yet, their delivery still due (to be retried)
    undelivered: int = 0  # new findings neither delivered nor due: lost
    doubled_deliveries: int = 0
    left_running: int = 0
    later_run: int = 0  # the answer to the run started before the kills

    def lost(self, kind: str) -> int:
        return max(0, self.acknowledged[kind] - self.stored[kind])

    def doubled(self, kind: str) -> int:
        return max(0, self.stored[kind] - self.acknowledged[kind])

    def print(self) -> None:
        for kind in self.stored:
            print(
                f"{kind}: {self.acknowledged[kind]} acknowledged, {self.stored[kind]} stored:"
                f" lost {self.lost(kind)}, doubled {self.doubled(kind)}"
            )
        print(f"processes killed: {self.kills}; keys still held: {self.held}")
        print(
            f"webhooks: {self.delivered} of the {self.findings} new findings delivered, {self.pending} still due,"
            f" {self.undelivered} lost, {self.doubled_deliveries} deliveries doubled"
        )
        print(f"runs left running: {self.left_running} (the second run was {self.later_run})")


def chaos(
    database_url: str | None,
    redis_url: str | None,
    *,
    servers: int,
    workers: int,
    phones: int,
    seconds: float,
    kill_every: float,
    settle_s: float = 60,
    first_plan_s: int = 5,
    seeded: bool = False,
) -> Figures:
    """A chaos run (see the module's docstring); the figures once every process is up again and either nothing is
    left to settle (no run running, every finding delivered) or `settle_s` passed. `seeded`: the database given is
    migrated and holds the demo already; `first_plan_s`: the solver time of the day planned before the kills."""
    if seeded and database_url:
        env = server_env(database_url, Path(tempfile.mkdtemp(prefix="fieldvisit-chaos-")) / "var")
    else:
        database_url, env = prepared(ROOT, database_url, "fieldvisit-chaos-")
    receiver = Receiver()
    env |= {
        "FIELDVISIT_WEBHOOKS__ALLOW_HTTP": "true",
        "FIELDVISIT_WEBHOOKS__ALLOW_NETWORKS": '["127.0.0.0/8"]',
        "FIELDVISIT_PLANNING__TIME_LIMIT_S": "10",
    }
    if redis_url:  # a queue of its own: another run on the same Redis plans on another database
        env |= {"FIELDVISIT_REDIS_URL": redis_url, "FIELDVISIT_PLANNING__QUEUE_NAME": f"chaos-{uuid4().hex}"}
    log = Path(env["FIELDVISIT_VAR_DIR"]) / "fleet.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    fleet = Fleet(env, servers, workers if redis_url else 0, log)
    fleet.start_all()
    try:
        with httpx2.Client(base_url=fleet.base(), timeout=120) as http:
            supervisor = _login(http, "supervisor")
            work_date = http.get("/teams", headers=supervisor).json()["items"][0]["work_date"]
            first = {"work_date": work_date, "time_limit_s": first_plan_s}
            run = http.post("/planning-runs", json=first, headers=supervisor)
            while (state := http.get(f"/planning-runs/{run.json()['id']}", headers=supervisor).json())["status"] in (
                "queued",
                "running",
            ):
                time.sleep(0.5)
            published = http.post(f"/planning-runs/{state['id']}/publish", headers=supervisor)
            if published.status_code != 200:
                raise RuntimeError(f"the first run ended {state} and its publish answered {published.text}")
            hook = {"url": receiver.url, "secret": "chaos-secret-of-sixteen+"}
            http.post("/webhooks", json=hook, headers=supervisor).raise_for_status()
            cases = [case["id"] for case in http.get("/cases?limit=200", headers=supervisor).json()["items"]]
            agents = [(_login(http, f"agent{n}"), n) for n in range(1, 9)]
            sheets = {
                n: http.get("/me/sheet", params={"work_date": work_date}, headers=headers).json()
                for headers, n in agents
            }
            # and a run of the next day, planned while the fleet is being killed
            later = http.post("/planning-runs", json={"work_date": work_date, "time_limit_s": 10}, headers=supervisor)
        before = _counts(database_url)
        added: list[str] = []
        reported: list[str] = []
        until = time.monotonic() + seconds
        threads: list[threading.Thread] = []
        for _ in range(max(0, phones - len(agents))):
            threads.append(threading.Thread(target=_adder, args=(fleet, supervisor, cases, until, added)))
        for headers, n in agents:
            mine = [stop["address"]["id"] for stop in sheets[n]["stops"]][n % 2 :: 2]  # partners split the stops
            threads.append(threading.Thread(target=_reporter, args=(fleet, headers, mine, until, reported)))
        for phone in threads:
            phone.start()
        while time.monotonic() < until:
            time.sleep(kill_every)
            fleet.kill_one()
        for phone in threads:
            phone.join()
        for role, process in fleet.processes.items():
            if process is None or process.poll() is not None:
                fleet.start(role)
        for port in fleet.ports:
            _wait_up(f"http://127.0.0.1:{port}")
        figures = Figures(kills=fleet.kills, later_run=later.status_code)
        figures.acknowledged = {"addresses": len(set(added)), "reports": len(set(reported))}
        settled = time.monotonic() + settle_s
        with httpx2.Client(base_url=fleet.base(), timeout=120) as http:
            supervisor = _login(http, "supervisor")
        while True:  # leases lapse, due webhooks go out
            _measure(figures, database_url, before, receiver, fleet.base(), supervisor)
            if time.monotonic() >= settled or (not figures.left_running and figures.delivered >= figures.findings):
                return figures
            time.sleep(1)
    finally:
        fleet.stop()


def _measure(
    figures: Figures, database_url: str, before: dict[str, int], receiver: Receiver, base: str, headers: dict[str, str]
) -> None:
    after = _counts(database_url)
    figures.stored = {kind: after[kind] - before[kind] for kind in ("addresses", "reports")}
    figures.held = after["held"]
    figures.findings = after["findings"] - before["findings"]
    seen = dict(receiver.seen)
    figures.delivered = len(seen)
    new, due = _findings_since(database_url, before["last_finding"])
    figures.pending = len(due - set(seen))
    figures.undelivered = len(new - set(seen) - due)
    figures.doubled_deliveries = sum(count - 1 for count in seen.values() if count > 1)
    runs = httpx2.get(f"{base}/planning-runs?limit=200", headers=headers, timeout=120).json()["items"]
    figures.left_running = sum(run["status"] in ("queued", "running") for run in runs)


def _findings_since(database_url: str, last: int) -> tuple[set[str], set[str]]:
    """The ids (as Webhook-Id has them) of the findings after `last`, and of those whose delivery is still due."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        new = {
            str(row)
            for row in connection.execute(text("SELECT id FROM finding WHERE id > :last"), {"last": last}).scalars()
        }
        due = {
            str(row)
            for row in connection.execute(
                text("SELECT finding_id FROM webhook_delivery WHERE delivered_at IS NULL AND finding_id > :last"),
                {"last": last},
            ).scalars()
        }
    engine.dispose()
    return new, due


def _counts(database_url: str) -> dict[str, int]:
    """The rows the phones' writes make, the keys still held and the findings, as the database has them now."""
    queries = {
        "addresses": "SELECT count(*) FROM address WHERE kind = 'work'",
        "reports": "SELECT count(*) FROM address_report WHERE raised_by = 'agent'",
        "held": "SELECT count(*) FROM idempotency_record WHERE status_code IS NULL",
        "findings": "SELECT count(*) FROM finding",
        "last_finding": "SELECT coalesce(max(id), 0) FROM finding",
    }
    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = {name: int(connection.execute(text(query)).scalar_one()) for name, query in queries.items()}
    engine.dispose()
    return found


def throughput(args: argparse.Namespace) -> None:
    """Creates a second with keys through one server process, then through `serve --workers 2`."""
    for workers in (1, 2):
        database_url, env = prepared(ROOT, args.database_url, "fieldvisit-throughput-")
        port = _free_port()
        command = [*SERVE, "--port", str(port), "--workers", str(workers)]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_up(base)
            with httpx2.Client(base_url=base, timeout=60) as http:
                headers = _login(http, "supervisor")
                case_id = http.get("/cases?limit=1", headers=headers).json()["items"][0]["id"]
            done = Counter[str]()
            until = time.monotonic() + args.seconds

            threads = [threading.Thread(target=_creates, args=(base, headers, case_id, until, done)) for _ in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(
                f"serve --workers {workers} on {database_url.split('@')[-1]}: "
                f"{done['201'] / args.seconds:.1f} creates/s ({json.dumps(done)})"
            )
        finally:
            process.terminate()
            process.wait(timeout=30)


def _creates(base: str, headers: dict[str, str], case_id: str, until: float, done: Counter[str]) -> None:
    with httpx2.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            body = {"kind": "work", "raw_text": f"上海市静安区南京西路{uuid4().hex[:6]}号"}
            keyed = headers | {"Idempotency-Key": str(uuid4())}
            answer = http.post(f"/cases/{case_id}/addresses", json=body, headers=keyed)
            done[str(answer.status_code)] += 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (PostGIS for the real thing; default SQLite)")
    parser.add_argument("--redis-url", help="planning through RQ workers on this Redis (else in the servers)")
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--phones", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-every", type=float, default=4)
    parser.add_argument("--throughput", action="store_true", help="measure 1 against 2 server processes instead")
    args = parser.parse_args()
    if args.throughput:
        throughput(args)
        return
    chaos(
        args.database_url,
        args.redis_url,
        servers=args.servers,
        workers=args.workers,
        phones=args.phones,
        seconds=args.seconds,
        kill_every=args.kill_every,
    ).print()


if __name__ == "__main__":
    main()
