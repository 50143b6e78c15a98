"""Each test gets a fresh database cloned from one migrated by Alembic at session start, and an app built on it.

SpatiaLite by default; set FIELDVISIT_TEST_DATABASE_URL to a PostgreSQL URL (with PostGIS installed) to run the
same tests on PostGIS. The two backends run in separate pytest processes (see the Makefile).
"""

import gc
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import sqlean
import time_machine
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alembic import command
from api.config import (
    AuthSettings,
    EvidenceSettings,
    PlanningSettings,
    Settings,
    TrackingSettings,
    WebhookSettings,
)
from api.main import create_app
from api.roads.build import build_roads
from api.roads.store import DATA_NAME
from api.rules.branch import BranchRules
from api.rules.hours import closed_day
from api.rules.packs import pack
from tests.moto_s3 import moto_endpoint, s3_client  # noqa: F401  (fixtures)
from tests.synthetic_city import City, write_city

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("FIELDVISIT_TEST_DATABASE_URL")
TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256"
_counter = itertools.count()
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _visiting_days_ahead(today: date) -> bool:
    """Whether the CN pack (the tests' branches') visits on each of the next few days: tests plan for tomorrow and
    ask for requests open for the two days after."""
    rules = BranchRules(pack("CN"), "Asia/Shanghai", None, None, 0.0, (), 3600)
    return all(closed_day(rules, today + timedelta(days=ahead)) is None for ahead in range(1, 4))


@pytest.fixture(scope="session", autouse=True)
def ordinary_days() -> Iterator[None]:
    """On the eve of a public holiday in China the suite runs as on the next ordinary day (the clock ticking on),
    so that what tests plan for "tomorrow" is not left out as a holiday."""
    now = datetime.now(SHANGHAI)
    day = now.date()
    while not _visiting_days_ahead(day):
        day += timedelta(days=1)
    if day == now.date():
        yield
        return
    with time_machine.travel(datetime.combine(day, now.time(), tzinfo=SHANGHAI), tick=True):
        yield


@event.listens_for(Engine, "connect")
def _unsynced_sqlite(dbapi_conn: object, record: object) -> None:
    """Test databases are thrown away, so SQLite need not wait for the disk at each commit (a process killed mid-write
    still loses nothing; only the machine crashing could). The service's engines keep SQLite's default, FULL."""
    if isinstance(dbapi_conn, sqlean.Connection):
        dbapi_conn.execute("PRAGMA synchronous = OFF")


def pytest_report_header() -> str:
    return f"fieldvisit database backend: {'postgis' if POSTGRES_URL else 'spatialite'}"


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    return config


def _admin_engine():  # type: ignore[no-untyped-def]
    assert POSTGRES_URL is not None
    return create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if POSTGRES_URL is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
        command.upgrade(alembic_config(url), "head")
        yield url
        return
    name = f"fieldvisit_template_{os.getpid()}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    command.upgrade(alembic_config(url), "head")
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class _Clones:
    """PostGIS test databases cloned from the template one test ahead: the next test's clone is made on a thread while
    this test runs, so that no test waits for `CREATE DATABASE … TEMPLATE` (a tenth of a second each)."""

    def __init__(self, template: str) -> None:
        self._admin = _admin_engine()
        self._template = template
        self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clone")
        self._next = self._maker.submit(self._clone)

    def _clone(self) -> str:
        name = f"fieldvisit_test_{os.getpid()}_{next(_counter)}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"'))
        return name

    def take(self) -> str:
        name = self._next.result()
        self._next = self._maker.submit(self._clone)
        return name

    def drop(self, name: str) -> None:
        """Dropped on the thread too, after the next clone: no test waits for it either."""
        self._maker.submit(self._drop, name)

    def _drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.drop(self._next.result())
        self._maker.shutdown()
        self._admin.dispose()


@pytest.fixture(scope="session")
def _clones(template_url: str) -> Iterator[_Clones | None]:
    if POSTGRES_URL is None:
        yield None
        return
    clones = _Clones(make_url(template_url).database or "")
    yield clones
    clones.close()


@pytest.fixture
def database_url(template_url: str, _clones: _Clones | None, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the migrated template database."""
    if _clones is None:
        path = tmp_path / "test.db"
        shutil.copyfile(make_url(template_url).database or "", path)
        yield f"sqlite:///{path}"
        return
    name = _clones.take()
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    _clones.drop(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        auth=AuthSettings(jwt_secret=SecretStr(TEST_JWT_SECRET)),
        planning=PlanningSettings(time_limit_s=1, solver_workers=1),
        webhook_interval_s=None,  # tests send due webhooks themselves
        promise_watch_interval_s=None,  # and settle the promises due themselves
        tracking=TrackingSettings(watch_interval_s=None, purge_interval_s=None),  # and look over the tracks themselves
        evidence=EvidenceSettings(sweep_interval_s=None),
        webhooks=WebhookSettings(allow_http=True, allow_networks=["127.0.0.0/8"]),  # receivers on loopback
    )


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `fieldvisit` command on the test's database and var directory."""
    monkeypatch.setenv("FIELDVISIT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FIELDVISIT_VAR_DIR", str(settings.var_dir))
    return CliRunner()


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    """A session on the test database, for factories and for checking what the API wrote."""
    with app.state.sessionmaker() as db_session:
        yield db_session


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostGIS server's URL, for the tests that use the server itself rather than a test database."""
    if POSTGRES_URL is None:
        pytest.skip("needs the PostGIS server (FIELDVISIT_TEST_DATABASE_URL)")
    return POSTGRES_URL


# Every fixture that reaches the test database depends on one of these (settings, app, client, session, runner and
# the console's live server on database_url); a test whose fixture closure has none of them runs the same on either
# backend, so the PostGIS process leaves it to the SpatiaLite one.
DATABASE_FIXTURES = frozenset({"template_url", "database_url", "postgres_url"})
SPATIALITE_ONLY = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostGIS, only the tests that use a database; and the browser tests run last: Playwright's sync API keeps
    an asyncio loop running in the main thread for the rest of the session, where `asyncio.run` (the body-limit and
    upload tests) then refuses to start."""
    if POSTGRES_URL is not None:
        left = [item for item in items if not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]
        if left:
            config.hook.pytest_deselected(items=left)
            config.stash[SPATIALITE_ONLY] = len(left)
            items[:] = [item for item in items if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    items.sort(key=lambda item: "tests/console/" in item.nodeid)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What importing and collecting made (about 360,000 objects, alive to the end) is left out of the garbage
    collector's passes, and the passes come less often: each test's app is thousands of objects that live until
    the test ends, and with Python's thresholds the collector walked the whole heap every second or so (a tenth of
    the suite's time, its pauses up to 7 s)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@pytest.fixture(scope="session", autouse=True)
def spatialite_only(request: pytest.FixtureRequest, record_testsuite_property: Callable[[str, object], None]) -> None:
    """How many tests the PostGIS run left to SpatiaLite, in its JUnit XML for .ci/summary.py."""
    deselected = request.config.stash.get(SPATIALITE_ONLY, 0)
    if deselected:
        record_testsuite_property("spatialite_only", deselected)


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    """The synthetic city (tests/synthetic_city.py) as an OpenStreetMap extract."""
    return write_city(tmp_path_factory.mktemp("city") / "city.osm.pbf")


@pytest.fixture(scope="session")
def city_roads(city: City, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The city's road data for cars, built once: the `.osrm` base path."""
    built = build_roads(
        city.path,
        tmp_path_factory.mktemp("roads"),
        UUID(int=0),
        "car",
        [],
        max_snap_m=500,
        max_outside_share=0,
        progress=lambda _: None,
    )
    return built.folder / DATA_NAME
