"""Geocoding passes asked for, kept in the database until one has run (a pass survives its process).

Revision ID: f3a1c0d2e4b7
Revises: f3a1c0d2e4b6
Create Date: 2026-12-07 00:00:02
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db

from alembic import op

revision: str = "f3a1c0d2e4b7"
down_revision: str | None = "f3a1c0d2e4b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "geocoding_due",
        sa.Column("branch_id", sa.Uuid(), primary_key=True),
        sa.Column("asks", sa.Integer(), nullable=False),
        sa.Column("asked_at", api.db.UtcDateTime(), nullable=False),
        sa.Column("worker", sa.String(300), server_default="", nullable=False),
        sa.Column("lease_until", api.db.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], name=op.f("fk_geocoding_due_branch_id_branch")),
    )


def downgrade() -> None:
    op.drop_table("geocoding_due")
