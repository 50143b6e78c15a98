"""Engine, sessions and the declarative base shared by every domain's tables."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from geoalchemy2 import load_spatialite
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

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


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    """An engine on SpatiaLite (sqlite URLs, through sqlean, which can load extensions) or PostGIS."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import sqlean

        os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(parsed, module=sqlean, **kwargs)
        event.listen(engine, "connect", _load_spatialite)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(parsed, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 5000")
    # readers and the writer do not block each other (a planning run reads while requests write)
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _begin(connection: Any) -> None:
    """A transaction declared `writing` takes SQLite's write lock when it starts. Two transactions that read and
    then write at the same time deadlock, and SQLite fails one at once with "database is locked" instead of
    letting it wait; taking the lock first makes the second wait (busy_timeout). Others keep the driver's way:
    reads outside a transaction, one begun by the first write."""
    if connection.get_execution_options().get(WRITING, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def writing(session: Session) -> None:
    """Declare that the session's next transaction writes: on SQLite it takes the write lock from its start.
    Call it before the transaction's first statement."""
    session.connection(execution_options={WRITING: True})


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


def get_session(request: Request) -> Iterator[Session]:
    """One request, one transaction: committed before the response leaves, rolled back on any error."""
    with request.app.state.sessionmaker() as session:
        if request.method not in READ_METHODS:
            writing(session)
        try:
            yield session
            session.commit()
        except Problem as problem:
            session.commit() if problem.commits else session.rollback()
            raise
        except Exception:
            session.rollback()
            raise


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose every flush is written to the audit trail (`api.audit.chain`)."""
    from api.audit.chain import install

    sessions = sessionmaker(engine, expire_on_commit=False)
    install(sessions)
    return sessions


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
