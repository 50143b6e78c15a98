"""Without SpatiaLite or PostGIS the service refuses to start and says what to install."""

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.db import SpatialBackendMissing, check_spatial_backend, make_engine


def test_missing_spatialite_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPATIALITE_LIBRARY_PATH", str(tmp_path / "no" / "mod_spatialite"))
    engine = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")

    with pytest.raises(SpatialBackendMissing, match="apt-get install libsqlite3-mod-spatialite"):
        check_spatial_backend(engine)
    engine.dispose()


def test_database_without_postgis_names_the_package(postgres_url: str) -> None:
    name = f"fieldvisit_no_postgis_{os.getpid()}"
    admin = create_engine(make_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
    try:
        with pytest.raises(SpatialBackendMissing, match="postgresql-15-postgis-3"):
            check_spatial_backend(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_spatial_backend_present(database_url: str) -> None:
    engine = make_engine(database_url)
    check_spatial_backend(engine)
    engine.dispose()
