"""Running a fieldvisit server of a given checkout, on a given database, for a bench."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

SECRET = "bench-secret-that-is-long-enough-for-hs256"
SERVE = [sys.executable, "-c", "from api.cli import main; main()", "serve"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of a server and its commands on `database_url`, with its state under `var_dir`."""
    return os.environ | {
        "FIELDVISIT_DATABASE_URL": database_url,
        "FIELDVISIT_VAR_DIR": str(var_dir),
        "FIELDVISIT_AUTH__JWT_SECRET": SECRET,
        "FIELDVISIT_PLANNING__TIME_LIMIT_S": "5",
        "FIELDVISIT_PLANNING__SOLVER_WORKERS": "1",
    }


def fieldvisit(tree: Path, env: dict[str, str], *args: str) -> None:
    """Run the `fieldvisit` command of the checkout `tree` (its own `api`, found first from its directory)."""
    subprocess.run([*SERVE[:-1], *args], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def served(
    command: list[str], tree: Path, env: dict[str, str], health: str
) -> Iterator[tuple[str, "subprocess.Popen[bytes]"]]:
    """`command --port P` run in `tree` until it answers `health`: its base URL and its process; stopped after."""
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)], cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        with httpx2.Client(timeout=1) as probe:
            while True:
                try:
                    if probe.get(base + health).status_code < 500:
                        break
                except httpx2.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server {' '.join(command)} did not start")
                time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)
