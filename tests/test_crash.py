"""A server killed (kill -9) while it handles a POST with an Idempotency-Key leaves no wedged key: the phone's retry
to a server started again runs the request, once. One killed while it plans leaves no engine searching on and no run
that says it is running."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import PlanningSettings, Settings
from api.models.cases import DebtCase
from api.models.idempotency import IdempotencyRecord
from api.models.users import Role
from tests.conftest import TEST_JWT_SECRET
from tests.factories import auth_headers, make_branch, make_user, tomorrow
from tests.sheets.test_run_lifetime import busy_day
from tests.test_case_import import CSV_HEADERS, row, to_csv

ROWS = 1500  # enough for the import to take a while after its key is claimed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(
    settings: Settings, log: Path, env: Mapping[str, str] | None = None, *options: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`fieldvisit serve` in a process of its own, on the test's database (`env`: more of its settings; `options`:
    more of the command's)."""
    port = _free_port()
    env = (
        os.environ
        | {
            "FIELDVISIT_DATABASE_URL": settings.database_url,
            "FIELDVISIT_VAR_DIR": str(settings.var_dir),
            "FIELDVISIT_AUTH__JWT_SECRET": TEST_JWT_SECRET,
        }
        | dict(env or {})
    )
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port), *options]
    process = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded CI machine starts two server processes slowly
        with httpx2.Client(timeout=1) as probe:  # one client: each would load the CA bundle afresh
            while not _healthy(probe, base):
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.05)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _healthy(probe: httpx2.Client, base: str) -> bool:
    try:
        return probe.get(f"{base}/health").status_code == 200
    except httpx2.TransportError:
        return False


def _claimed(session: Session) -> IdempotencyRecord | None:
    session.expire_all()
    return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "import-1"))


def test_a_server_killed_between_claim_and_answer_leaves_no_wedged_key(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    day = tomorrow(branch).isoformat()
    rows = [row(case_reference=f"CR-{n:05d}", visit_purpose="negotiate", visit_earliest_date=day) for n in range(ROWS)]
    body = to_csv(rows).encode()
    headers = CSV_HEADERS | auth_headers(supervisor) | {"Idempotency-Key": "import-1"}

    with server(settings, tmp_path / "server.log") as (base, process):
        first = threading.Thread(
            target=lambda: _post_ignoring_errors(f"{base}/cases/import", body, headers), daemon=True
        )
        first.start()
        deadline = time.monotonic() + 60
        while (claim := _claimed(session)) is None:
            assert first.is_alive() and time.monotonic() < deadline, "the import never claimed its key"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # the import is under way: nothing of it is committed
        process.wait(timeout=10)
        first.join(timeout=10)
    wedged = _claimed(session)
    assert wedged is not None and wedged.status_code is None and claim.status_code is None
    assert (session.scalar(select(func.count()).select_from(DebtCase)) or 0) == 0

    with server(settings, tmp_path / "server.log") as (base, _):
        retried = httpx2.post(f"{base}/cases/import", content=body, headers=headers, timeout=120)
        replayed = httpx2.post(f"{base}/cases/import", content=body, headers=headers, timeout=120)

    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
    session.expire_all()
    assert (session.scalar(select(func.count()).select_from(DebtCase)) or 0) == ROWS


def _post_ignoring_errors(url: str, body: bytes, headers: dict[str, str]) -> None:
    with suppress(httpx2.TransportError):  # the server dies under it, as meant
        httpx2.post(url, content=body, headers=headers, timeout=120)


def _children(pid: int) -> set[int]:
    """The processes `pid` started, still running."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            found |= {int(child) for child in (task / "children").read_text().split()}
    return {child for child in found if _running(child)}


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_server_killed_mid_solve_takes_its_engines_with_it_and_its_run_is_failed_at_the_next_look(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    supervisor = busy_day(session)
    slow = settings.model_copy(update={"planning": PlanningSettings(time_limit_s=60)})
    headers = auth_headers(supervisor)

    with (
        server(slow, tmp_path / "server.log") as (base, process),
        httpx2.Client(base_url=base, headers=headers, timeout=30) as http,
    ):
        started = http.post("/planning-runs", json={"time_limit_s": 60})
        assert started.status_code == 202, started.text
        url = started.headers["Location"]
        deadline = time.monotonic() + 60
        while not (engines := _children(process.pid)) or http.get(url).json()["stage"] != "solving":
            assert time.monotonic() < deadline, "the run never started solving"
            time.sleep(0.1)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_running(engine) for engine in engines):
            assert time.monotonic() < deadline, f"engines {engines} outlived their server"
            time.sleep(0.1)

    with server(slow, tmp_path / "server.log") as (base, _):
        looked = httpx2.get(f"{base}{started.headers['Location']}", headers=headers).json()
        again = httpx2.post(f"{base}/planning-runs", json={"time_limit_s": 1}, headers=headers, timeout=30)

    assert (looked["status"], looked["failure"]) == ("failed", "abandoned"), looked
    assert again.status_code == 202, again.text
