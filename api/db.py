"""Engine, sessions and the declarative base shared by every domain's tables."""

import hashlib
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from geoalchemy2 import load_spatialite
from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Delete,
    Engine,
    FromClause,
    MetaData,
    Table,
    Update,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Float, TypeDecorator

from api.problems import Problem

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends (SQLite keeps no offset, so it is stored naive in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class likely(FunctionElement[bool]):
    """A condition true of most rows (a whole branch's cases, say): SQLite's planner, which has no statistics,
    then walks another index rather than this condition's; elsewhere it is the condition as it is."""

    type = Boolean()
    inherit_cache = True


@compiles(likely)
def _as_it_is(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(likely, "sqlite")
def _likely_on_sqlite(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


class seconds_between(FunctionElement[float]):
    """Seconds from the second moment to the first (negative when the first is earlier), on either backend."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _epoch_difference(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _julian_difference(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_table(clause: FromClause) -> Table:
    """A model's table: SQLAlchemy types `Model.__table__` and `Mapper.local_table` as any FROM clause, and every
    model here maps a Table."""
    if not isinstance(clause, Table):
        raise TypeError(f"{clause!r} is not a table")
    return clause


def rows_matched(session: Session, statement: Update | Delete) -> int:
    """How many rows an UPDATE or DELETE matched (Session.execute types its result as a Result, without the
    rowcount of the CursorResult it is)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


class SpatialBackendMissing(RuntimeError):
    """The database cannot store locations: SpatiaLite or PostGIS is not installed."""


SPATIALITE_HELP = (
    "SpatiaLite is not installed. On Debian/Ubuntu run: apt-get install libsqlite3-mod-spatialite "
    "(macOS: brew install libspatialite)."
)
POSTGIS_HELP = (
    "PostGIS is not available in this database. Install it (Debian/Ubuntu: apt-get install postgresql-15-postgis-3) "
    "and run CREATE EXTENSION postgis as a superuser, or run `fieldvisit db upgrade`, which does it."
)


WRITING = "fieldvisit_writing"  # execution option: the transaction will write
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _load_spatialite(dbapi_conn: Any, record: Any) -> None:
    try:
        load_spatialite(dbapi_conn, record, init_mode="WGS84", transaction=True)
    except Exception as exc:  # the driver's error text varies by platform; the cause is the missing module
        raise SpatialBackendMissing(f"{SPATIALITE_HELP} ({exc})") from exc


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine on SpatiaLite (sqlite URLs, through sqlean, which can load extensions) or PostGIS (its pooled
    connections checked before use). Errors never show a statement's values: they hold debtors' data."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import sqlean

        os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(parsed, module=sqlean, **({"hide_parameters": True} | kwargs))
        event.listen(engine, "connect", _load_spatialite)
        event.listen(engine, "connect", _sqlite_pragmas)
        _SqliteWriters(sqlean.OperationalError).install(engine)
        return engine
    # a server restarted or a connection cut while pooled: found at checkout and replaced, not failing a request;
    # no JIT: compiling a report's plan took longer than running it (0.45 s of a month's 1 s)
    defaults = {"pool_pre_ping": True, "hide_parameters": True, "connect_args": {"options": "-c jit=off"}}
    return create_engine(parsed, **(defaults | kwargs))


BUSY_TIMEOUT_S = 5.0  # how long a write waits for SQLite's write lock before the request answers 503


def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    # readers and the writer do not block each other (a planning run reads while requests write)
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_HOLDS = "fieldvisit_holds_write_lock"


def _dbapi(connection: Connection) -> DBAPIConnection:
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None  # None only once the connection is closed or invalidated
    return dbapi_connection


class _SqliteWriters:
    """SQLite has one writer at a time. Reads run outside transactions (the driver's way) and never wait; a write
    transaction begins at its first write statement (or at its start, when declared `writing`) with BEGIN
    IMMEDIATE, after taking this process's writer lock, which hands over at once and in order to the next writer
    (SQLite's own busy handler, left for other processes, polls with growing sleeps). Reading outside the write
    transaction is PostgreSQL's read committed: what the code is written for. A writer that waits longer than
    BUSY_TIMEOUT_S gets "database is locked", which requests answer as 503 with Retry-After."""

    def __init__(self, locked: type[Exception]) -> None:
        self._lock = threading.Lock()
        self._locked = locked

    def install(self, engine: Engine) -> None:
        event.listen(engine, "begin", self._on_begin)
        event.listen(engine, "before_cursor_execute", self._before_execute)
        for name in ("commit", "rollback"):
            event.listen(engine, name, self._release_connection)
        # a connection that goes back to the pool, or away, leaves its transaction (and the lock) behind
        event.listen(engine.pool, "reset", self._on_reset)
        event.listen(engine.pool, "checkin", self._release_record)
        event.listen(engine.pool, "close", self._release_record)
        event.listen(engine.pool, "invalidate", self._on_invalidate)

    def _on_begin(self, connection: Connection) -> None:
        if connection.get_execution_options().get(WRITING, False):
            self._take(connection)

    def _before_execute(self, connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if _WRITES.match(statement) and not _dbapi(connection).in_transaction:
            self._take(connection)

    def _take(self, connection: Connection) -> None:
        fairy = connection.connection
        if fairy.info.get(_HOLDS):
            return
        if not self._lock.acquire(timeout=BUSY_TIMEOUT_S):
            raise OperationalError("BEGIN IMMEDIATE", {}, self._locked("database is locked"))
        fairy.info[_HOLDS] = True
        try:
            _dbapi(connection).execute("BEGIN IMMEDIATE")  # other processes' writers: SQLite's busy timeout
        except BaseException:
            self._release(fairy.info)
            raise

    def _release_connection(self, connection: Connection) -> None:
        self._release(connection.connection.info)

    def _release_record(self, dbapi_connection: Any, record: Any) -> None:
        self._release(record.info)

    def _on_reset(self, dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        self._release(record.info)

    def _on_invalidate(self, dbapi_connection: Any, record: Any, exception: BaseException | None) -> None:
        self._release(record.info)

    def _release(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS, False):
            self._lock.release()


def writing(session: Session) -> None:
    """Declare that the session's next transaction writes: on SQLite it takes the write lock from its start (its
    reads then see no other writer's changes until it ends). Call it before the transaction's first statement."""
    session.connection(execution_options={WRITING: True})


Upsert = PostgresqlInsert | SqliteInsert


def upsert(session: Session, entity: type[Any]) -> Upsert:
    """An INSERT of the session's dialect (PostgreSQL's or SQLite's), which can say what to do on a conflict."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(entity)
    return sqlite_insert(entity)


def one_at_a_time(session: Session, name: str) -> None:
    """Make the session's next transaction the only one called `name` running, across every process of every
    machine: another waits until it ends, then sees what it wrote. For background rounds that read and then write
    (the track watch's findings), which two processes would otherwise both write. SQLite: its write lock from the
    start; PostgreSQL: a transaction's advisory lock. Call it before the transaction's first statement."""
    writing(session)
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def check_spatial_backend(engine: Engine) -> None:
    """Fail with installation advice when the database has no spatial support."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:  # the connect hook raises SpatialBackendMissing
            conn.execute(text("SELECT spatialite_version()"))
        return
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT postgis_version()"))
    except DBAPIError as exc:
        if "postgis_version" in str(exc.orig):
            raise SpatialBackendMissing(POSTGIS_HELP) from exc
        raise


DEFERRED_COMMIT = "fieldvisit.deferred_commit"  # scope key: the request's commit is the idempotency middleware's


class DeferredCommit:
    """A request whose answer must be kept in the same transaction as its writes (a POST with an Idempotency-Key):
    the session dependency hands its open session over here instead of committing, and the idempotency middleware
    commits it together with the answer, or rolls it back."""

    def __init__(self) -> None:
        self.session: Session | None = None


def get_session(request: Request) -> Iterator[Session]:
    """One request, one transaction: committed before the response leaves, rolled back on any error. A request
    that may write takes SQLite's write lock at its first statement (not before: a dependency that does not touch
    the database, such as checking a password, runs without it). Under a `DeferredCommit`, what would be committed
    is handed over open instead, to be committed with the answer."""
    engine: Engine = request.app.state.engine
    bind = engine if request.method in READ_METHODS else engine.execution_options(**{WRITING: True})
    deferred: DeferredCommit | None = request.scope.get(DEFERRED_COMMIT)
    session = request.app.state.sessionmaker(bind=bind)
    handed_over = False
    try:
        yield session
        handed_over = _commit(session, deferred)
    except Problem as problem:
        if problem.commits:
            handed_over = _commit(session, deferred)
        else:
            session.rollback()
        raise
    except Exception:
        session.rollback()
        raise
    finally:
        if not handed_over:
            session.close()


def _commit(session: Session, deferred: DeferredCommit | None) -> bool:
    """Commit, or hand the open transaction to whoever commits it with the answer; whether it was handed over."""
    if deferred is None:
        session.commit()
        return False
    session.flush()  # a write the database refuses fails the request here, as a commit would
    deferred.session = session
    return True


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for reads only, whatever the method, that never takes the write lock; nothing it changes is kept."""
    with request.app.state.sessionmaker() as session:
        yield session
        session.rollback()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
