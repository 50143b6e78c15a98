"""Migrations for SpatiaLite and PostGIS alike, with GeoAlchemy2's helpers."""

import warnings
from typing import Any

from geoalchemy2 import alembic_helpers
from sqlalchemy import pool

from alembic import context
from api.config import Settings
from api.db import make_engine
from api.models import Base

config = context.config
# tests hand in a changed copy of the metadata to prove that `alembic check` notices drift
target_metadata = config.attributes.get("target_metadata", Base.metadata)

# SpatiaLite 5 tables that GeoAlchemy2's include_object does not know; autogenerate would drop them
_SPATIALITE_INTERNAL = {
    "KNN",
    "KNN2",
    "SpatialIndex",
    "ElementaryGeometries",
    "sql_statements_log",
    "data_licenses",
    "spatial_ref_sys_aux",
    "spatial_ref_sys_all",
}


def include_object(obj: Any, name: str | None, obj_type: str, reflected: bool, compare_to: Any) -> bool:
    if obj_type == "table" and reflected and compare_to is None and name in _SPATIALITE_INTERNAL:
        return False
    return bool(alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to))


def database_url() -> str:
    return config.attributes.get("database_url") or Settings().database_url


def run_migrations_online() -> None:
    # the geography index is PostgreSQL-only (ddl_if); SQLite cannot reflect expression indexes anyway
    warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression-based index")
    engine = make_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # a batch rebuild of a spatial table must know it is spatial, also in a later process than its creation
            alembic_helpers._SPATIAL_TABLES.update(
                row[0] for row in connection.exec_driver_sql("SELECT f_table_name FROM geometry_columns")
            )
            connection.commit()
            # a batch rebuild drops and re-creates tables that other rows refer to; the keys are checked after.
            # Straight to the driver: inside a transaction SQLite ignores this pragma.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported: SpatiaLite cannot render them.")
run_migrations_online()
