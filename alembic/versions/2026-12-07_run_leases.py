"""A planning run's lease: the process planning it (`worker`, "host:pid") keeps `lease_until` moving while it
works; a run whose lease lapsed belongs to a process that stopped, and is failed at the next look.

Revision ID: f3a1c0d2e4b5
Revises: e29c0e1f2b40
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db

from alembic import op

revision: str = "f3a1c0d2e4b5"
down_revision: str | None = "e29c0e1f2b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("planning_run") as batch:
        batch.add_column(sa.Column("worker", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("lease_until", api.db.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("planning_run") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("worker")
