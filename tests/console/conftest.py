"""The console in a real browser: the app served by uvicorn on loopback (on the test's database), Debian's Chromium
driven by pytest-playwright, every request the page makes recorded, and a screenshot of each screen kept in
test-results/console/<backend>/ for a reviewer to look at (and one in test-results/playwright/ on failure)."""

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import ConsoleSettings, Settings
from api.demo import DEMO_PASSWORD
from api.main import create_app

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
BACKEND = "postgis" if os.environ.get("FIELDVISIT_TEST_DATABASE_URL") else "spatialite"
SHOTS = ROOT / "test-results" / "console" / BACKEND
# as the machine's own checks start it: no calls home, which a closed network refuses anyway
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

# A screen may take longer than Playwright's 5 s to show what it waits for when CI runs both backends on two cores;
# a check that holds is met at once, one that fails still fails.
expect.set_options(timeout=20_000)


class Answers:
    """An ASGI wrapper that notes each request's method, path, Range header and answer status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.seen = app, []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        asked = (scope["method"], scope["path"], headers.get(b"range", b"").decode())

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((*asked, message["status"]))
            await send(message)

        await self.app(scope, receive, noting)


@dataclass
class Live:
    """The app serving on loopback, what it answered, and a way to call it as a demo user."""

    url: str
    app: FastAPI
    answers: Answers
    http: httpx.Client  # one client for the test's calls: each new one would load the CA bundle again
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            login = self.http.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            assert login.status_code == 200, login.text
            self.tokens[username] = login.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def call(self, username: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, headers=self.headers(username), **kwargs)
        if response.status_code == 401:  # the clock moved past the token's life: log in again
            self.tokens.pop(username)
            response = self.http.request(method, path, headers=self.headers(username), **kwargs)
        return response


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def access_token_ttl_s() -> int:
    """The served app's access-token lifetime; a test parametrizes it to see the console refresh its login."""
    return 900


@pytest.fixture
def live(settings: Settings, access_token_ttl_s: int) -> Iterator[Live]:
    console = ConsoleSettings(day_poll_s=1, findings_poll_s=0.5)
    auth = settings.auth.model_copy(update={"access_token_ttl_s": access_token_ttl_s})
    app = create_app(settings.model_copy(update={"console": console, "auth": auth}))
    answers = Answers(app)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(answers, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=60) as http:
        yield Live(url, app, answers, http)
    server.should_exit = True
    thread.join(timeout=20)
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's browser is Debian's Chromium: Playwright's own download needs the internet."""
    return browser_type_launch_args | {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return browser_context_args | {"viewport": {"width": 1400, "height": 900}, "locale": "zh-CN"}


@dataclass
class Console:
    """A browser tab on the console, with every URL it asked for and every error it logged."""

    page: Page
    base: str
    requested: list[str]
    problems: list[str]
    name: str

    def screenshot(self, screen: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.name}-{screen}.png"
        self.page.screenshot(path=path)
        return path

    def log_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.page.goto(f"{self.base}/console/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("form#login button[type=submit]")
        self.page.wait_for_selector("#nav a")

    def go(self, screen: str) -> None:
        self.page.evaluate("hash => { location.hash = hash; }", f"#/{screen}")

    def other_origins(self) -> list[str]:
        return [url for url in self.requested if not url.startswith((self.base, "blob:", "data:"))]

    def tokens_in_urls(self) -> list[str]:
        """URLs the page asked for that carry a JWT (they start "eyJ", base64 of '{"')."""
        return [url for url in self.requested if "eyJ" in url]


@pytest.fixture
def console(page: Page, context: BrowserContext, live: Live, request: pytest.FixtureRequest) -> Console:
    """A tab on the console (pytest-playwright keeps a screenshot of it in test-results/playwright on failure)."""
    requested: list[str] = []
    problems: list[str] = []
    context.on("request", lambda asked: requested.append(asked.url))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))

    def console_message(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(f"csp: {message.text}")

    page.on("console", console_message)
    name = re.sub(r"\[chromium-?(.*)\]$", r"-\1", request.node.name.removeprefix("test_")).rstrip("-")
    return Console(page, live.url, requested, problems, name)


def wait_until(check: Callable[[], bool], timeout_s: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
