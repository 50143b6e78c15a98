"""`python -m bench.load.bodies`: the server's memory while clients send huge bodies to the anonymous login.

`--clients` clients at once each POST `--mib` MiB of JSON to `/auth/login`, first with Content-Length declared, then
chunked (no length). Printed per round: the answers, the server's peak and after-round resident memory (RSS,
sampled every 20 ms) against its idle RSS, and the wall time. Measure an earlier commit with `--tree`.
"""

import argparse
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import psutil

from bench.load.server import SERVE, fieldvisit, served, server_env

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 64 * 1024
MIB = 1024 * 1024


def _body(size: int) -> bytes:
    head, tail = b'{"username": "agent1", "password": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]


def _round(base: str, body: bytes, clients: int, chunked: bool, server: psutil.Process) -> str:
    answers: Counter[str] = Counter()
    lock, done, peak = threading.Lock(), threading.Event(), [server.memory_info().rss]

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], server.memory_info().rss)
            time.sleep(0.02)

    def send() -> None:
        try:
            answer = httpx2.post(base + "/auth/login", content=_chunks(body) if chunked else body, timeout=120)
            outcome = str(answer.status_code)
        except httpx2.TransportError as error:
            outcome = type(error).__name__
        with lock:
            answers[outcome] += 1

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.perf_counter()
    senders = [threading.Thread(target=send) for _ in range(clients)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    seconds = time.perf_counter() - began
    time.sleep(2)
    done.set()
    sampler.join()
    after = server.memory_info().rss
    answered = ", ".join(f"{count} x {outcome}" for outcome, count in sorted(answers.items()))
    kind = "chunked" if chunked else "declared"
    return f"{kind:<9} {answered:<28} peak {peak[0] / MIB:7.0f} MiB   after {after / MIB:7.0f} MiB   {seconds:5.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.bodies", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose server is measured")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--mib", type=int, default=50, help="size of each body")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="fieldvisit-bodies-"))
    env = server_env(f"sqlite:///{scratch / 'bodies.db'}", scratch / "var")
    tree = args.tree.resolve()
    fieldvisit(tree, env, "db", "upgrade")
    body = _body(args.mib * MIB)
    with served(SERVE, tree, env, "/health") as (base, process):
        server = psutil.Process(process.pid)
        print(f"server: {tree}; {args.clients} clients x {args.mib} MiB; idle {server.memory_info().rss / MIB:.0f} MiB")
        for chunked in (False, True):
            print(_round(base, body, args.clients, chunked, server))


if __name__ == "__main__":
    main()
