"""`python -m bench.evidence`: upload a large recording to a served API with the local store, next to a plain copy.

A real server (uvicorn, in its own process) on 127.0.0.1 with a fresh SpatiaLite database: the demo branch is seeded,
tomorrow planned and published, a visit started by both agents; then, for each run, a WAV recording of `--size-mib`
is declared, PUT through the API in one streamed request, and completed (the server re-reads it, checks size and
SHA-256, inspects it and seals it, fsynced). Measured in the same run: the server's resident memory while it works
(sampled every 5 ms, growth over its size just before the upload) and the throughput against a plain copy of the same
file on the same disk (`shutil.copyfile`, then fsync, as the server's sealed file is; the target's peer) and, for
reference, the same copy left in the page cache. Prints one row per run and the medians; then, as the floor, how fast
uvicorn alone receives a file of the same size and throws it away (`bench.evidence.sink`), measured after the runs:
measured between them it slowed the later runs' uploads (on this VM, memory the guest frees is taken back by the
host and costs a fault when touched again; the sink's receiving churns through a lot of it).
"""

import argparse
import hashlib
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx2
import psutil

from api.demo import DEMO_PASSWORD

MIB = 1 << 20
RATE = 8000  # 8 kHz mono 16-bit PCM: 16,000 bytes a second, as a phone's voice recorder
MEMORY_TARGET_MIB = 32
THROUGHPUT_TARGET = 0.5
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Row:
    run: int
    size_mib: float
    upload_s: float
    complete_s: float
    copy_s: float
    cached_copy_s: float
    growth_mib: float

    @property
    def api_mib_s(self) -> float:
        return self.size_mib / (self.upload_s + self.complete_s)

    @property
    def copy_mib_s(self) -> float:
        return self.size_mib / self.copy_s

    @property
    def cached_copy_mib_s(self) -> float:
        return self.size_mib / self.cached_copy_s


def write_recording(path: Path, size: int, run: int) -> str:
    """A WAV of `size` bytes written in 1 MiB blocks (its first samples differ per run); its SHA-256."""
    data_size = size - 44
    header = b"RIFF" + struct.pack("<I", size - 8) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
    header += b"data" + struct.pack("<I", data_size)
    block = bytes(range(256)) * (MIB // 256)
    sha = hashlib.sha256()
    with path.open("wb") as file:
        first = header + struct.pack("<I", run) + block[: MIB - len(header) - 4]
        for chunk in _blocks(first, block, size):
            file.write(chunk)
            sha.update(chunk)
    return sha.hexdigest()


def _blocks(first: bytes, block: bytes, size: int) -> Iterator[bytes]:
    yield first[:size]
    left = size - len(first)
    while left > 0:
        yield block[:left]
        left -= len(block)


class Sampler(threading.Thread):
    """The peak resident memory of a process while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.done = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serving(process: subprocess.Popen[bytes], url: str) -> subprocess.Popen[bytes]:
    """The process, once `url` answers 200."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(url).status_code == 200:
                return process
        except httpx2.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"{url} did not answer")


class Server:
    """`fieldvisit serve` with its own database and var directory, on a free port of 127.0.0.1, and beside it the
    bare receiving app (`sink_url`) on another."""

    def __init__(self, workdir: Path) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.env = os.environ | {
            "FIELDVISIT_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "FIELDVISIT_VAR_DIR": str(workdir / "var"),
            "FIELDVISIT_PLANNING__TIME_LIMIT_S": "2",
            "FIELDVISIT_PLANNING__SOLVER_WORKERS": "1",
            "FIELDVISIT_EVIDENCE__MAX_RECORDING_BYTES": str(4 << 30),
        }
        fieldvisit = Path(sys.executable).with_name("fieldvisit")
        for command in (["db", "upgrade"], ["demo", "seed"]):
            subprocess.run([fieldvisit, *command], env=self.env, cwd=ROOT, check=True, capture_output=True)
        serve = [fieldvisit, "serve", "--port", str(port)]
        process = subprocess.Popen(serve, env=self.env, cwd=ROOT, stderr=subprocess.DEVNULL)
        self.process = _serving(process, f"{self.url}/health")
        sink = [sys.executable, "-m", "uvicorn", "bench.evidence.sink:app", "--port", str(port := _free_port())]
        self.sink_url = f"http://127.0.0.1:{port}/"
        sink_process = subprocess.Popen([*sink, "--lifespan", "off"], cwd=ROOT, stderr=subprocess.DEVNULL)
        try:
            self.sink = _serving(sink_process, self.sink_url)
        except RuntimeError:
            self.process.terminate()
            raise

    def stop(self) -> None:
        for process in (self.process, self.sink):
            process.terminate()
            process.wait(timeout=30)


class Phone:
    def __init__(self, server: Server, username: str) -> None:
        self.http = httpx2.Client(base_url=server.url, timeout=600)
        token = self.http.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"

    def call(self, method: str, url: str, body: Any = None, status: int = 200) -> Any:
        response = self.http.request(method, url, json=body)
        if response.status_code != status:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.text}")
        return response.json()


def started_visit(server: Server) -> tuple[Phone, str]:
    """Plan and publish tomorrow, both agents of the first team check in at its first stop, the visit starts."""
    supervisor, agent1, agent2 = (Phone(server, name) for name in ("supervisor", "agent1", "agent2"))
    run = supervisor.call("POST", "/planning-runs", {}, status=202)  # the branch's tomorrow
    while run["status"] in ("queued", "running"):
        time.sleep(0.5)
        run = supervisor.call("GET", f"/planning-runs/{run['id']}")
    supervisor.call("POST", f"/planning-runs/{run['id']}/publish")
    sheet = agent1.call("GET", f"/me/sheet?work_date={run['work_date']}")
    stop = sheet["stops"][0]
    visit: dict[str, Any] = {}
    for agent in (agent1, agent2):
        checklist = {"items": ["recorder_charged", "camera_charged", "letters_carried", "forms_carried"]}
        agent.call("POST", f"/teams/{sheet['team_id']}/departure-checks", checklist | {"client_id": str(uuid4())}, 201)
        check_in = {
            "lat": stop["address"]["point"]["lat"],
            "lon": stop["address"]["point"]["lon"],
            "accuracy_m": 10,
            "device_time": datetime.now(UTC).isoformat(),
            "client_id": str(uuid4()),
        }
        url = f"/visit-sheets/{sheet['id']}/stops/{stop['visit_request_id']}/check-ins"
        visit = agent.call("POST", url, check_in, 201)
    agent1.call("POST", f"/visits/{visit['id']}/start", {})
    return agent1, visit["id"]


def measure(server: Server, agent: Phone, visit_id: str, workdir: Path, size: int, run: int) -> Row:
    source = workdir / f"recording-{run}.wav"
    digest = write_recording(source, size, run)
    # the peer at its best: the faster of two copies of each kind (the first copy after writing a file can be slow)
    copies = [(_copy(source, workdir / "copy.wav", durable=False), _copy(source, workdir / "copy.wav")) for _ in "ab"]
    cached_s, copy_s = min(cached for cached, _ in copies), min(durable for _, durable in copies)
    declared = agent.call(
        "POST",
        f"/visits/{visit_id}/evidence",
        {
            "kind": "recording",
            "purpose": "whole_visit",
            "content_type": "audio/wav",
            "size": size,
            "sha256": digest,
            "captured_at": datetime.now(UTC).isoformat(),
            "client_id": str(uuid4()),
        },
        201,
    )
    baseline = psutil.Process(server.process.pid).memory_info().rss
    sampler = Sampler(server.process.pid)
    sampler.start()
    started = time.perf_counter()
    headers = {"Authorization": agent.http.headers["Authorization"], "Upload-Offset": "0"}
    sent = _put(str(agent.http.base_url.join(declared["upload"]["url"])), source, headers)
    uploaded = time.perf_counter()
    completed = agent.call("POST", f"/evidence/{declared['id']}/complete")
    finished = time.perf_counter()
    peak = sampler.stop()
    source.unlink()
    if completed["status"] != "accepted":
        raise RuntimeError(f"upload {sent}, completion {completed}")
    upload_s, complete_s, growth_mib = uploaded - started, finished - uploaded, (peak - baseline) / MIB
    return Row(run, size / MIB, upload_s, complete_s, copy_s, cached_s, growth_mib)


def _put(url: str, source: Path, headers: dict[str, str] | None = None) -> str:
    """Stream the file to `url` with curl, as a phone would from another machine: the client should not take the
    server's cores (a Python client on the same two cores would); with httpx when there is no curl."""
    headers = headers or {}
    if shutil.which("curl") is None:
        with source.open("rb") as body:
            response = httpx2.put(url, content=iter(lambda: body.read(MIB), b""), headers=headers, timeout=600)
        response.raise_for_status()
        return response.text
    command = ["curl", "-sSf", "-T", str(source), url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _timed(call: Callable[..., object], *args: Any) -> float:
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def _copy(source: Path, target: Path, durable: bool = True) -> float:
    """Seconds to copy the file; durable: until it is on the disk (fsync), as the server's sealed evidence is."""
    os.sync()  # no measurement pays for writing back what came before it
    started = time.perf_counter()
    shutil.copyfile(source, target)
    if durable:
        with target.open("rb") as copy:
            os.fsync(copy.fileno())
    seconds = time.perf_counter() - started
    target.unlink()
    os.sync()
    return seconds


def _floor(server: Server, workdir: Path, size: int) -> float:
    """Median seconds of three PUTs of a `size` file to the bare receiving app."""
    source = workdir / "floor.wav"
    write_recording(source, size, 0)
    seconds = statistics.median(_timed(_put, server.sink_url, source) for _ in range(3))
    source.unlink()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        workdir = Path(tmp)
        server = Server(workdir)
        try:
            agent, visit_id = started_visit(server)
            print(
                "run  MiB    upload s  complete s  API MiB/s  copy MiB/s  ratio  cached copy MiB/s  ratio"
                "  server RSS growth MiB",
                flush=True,
            )
            rows = []
            for run in range(1, args.runs + 1):
                row = measure(server, agent, visit_id, workdir, args.size_mib * MIB, run)
                rows.append(row)
                print(_line(str(row.run), row), flush=True)
            receive_s = _floor(server, workdir, args.size_mib * MIB)
        finally:
            server.stop()
    median = Row(
        0,
        args.size_mib,
        statistics.median(r.upload_s for r in rows),
        statistics.median(r.complete_s for r in rows),
        statistics.median(r.copy_s for r in rows),
        statistics.median(r.cached_copy_s for r in rows),
        statistics.median(r.growth_mib for r in rows),
    )
    print(_line("med", median))
    floor_mib_s = args.size_mib / receive_s
    print(
        f"floor: uvicorn alone receiving {args.size_mib} MiB and throwing it away (after the runs, median of 3):"
        f" {floor_mib_s:.0f} MiB/s; the API's median is {median.api_mib_s / floor_mib_s:.2f} of it"
    )
    ratio = statistics.median(r.api_mib_s / r.copy_mib_s for r in rows)
    met = median.growth_mib < MEMORY_TARGET_MIB and ratio >= THROUGHPUT_TARGET
    print(
        f"targets: memory growth < {MEMORY_TARGET_MIB} MiB, throughput >= {THROUGHPUT_TARGET:.0%} of the copy:"
        f" median growth {median.growth_mib:.1f} MiB, median ratio {ratio:.2f} -> {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


def _line(run: str, row: Row) -> str:
    return (
        f"{run:<4} {row.size_mib:<6.0f} {row.upload_s:<9.2f} {row.complete_s:<11.2f} {row.api_mib_s:<10.0f}"
        f" {row.copy_mib_s:<11.0f} {row.api_mib_s / row.copy_mib_s:<6.2f} {row.cached_copy_mib_s:<18.0f}"
        f" {row.api_mib_s / row.cached_copy_mib_s:<6.2f} {row.growth_mib:.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
