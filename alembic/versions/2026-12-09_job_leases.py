"""Background jobs' leases: one row per job, so that a job runs in one process at a time across every machine.

Revision ID: b4d2e6f81a09
Revises: a7c31e0d5f28
Create Date: 2026-12-09 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db

from alembic import op

revision: str = "b4d2e6f81a09"
down_revision: str | None = "a7c31e0d5f28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("worker", sa.String(300), server_default="", nullable=False),
        sa.Column("lease_until", api.db.UtcDateTime(), nullable=True),
        sa.Column("ended_at", api.db.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_lease")),
    )


def downgrade() -> None:
    op.drop_table("job_lease")
