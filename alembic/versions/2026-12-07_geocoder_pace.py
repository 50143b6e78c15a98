"""When each geocoder may next be asked, shared by every process that uses its key.

Revision ID: f3a1c0d2e4b6
Revises: f3a1c0d2e4b5
Create Date: 2026-12-07 00:00:01
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db

from alembic import op

revision: str = "f3a1c0d2e4b6"
down_revision: str | None = "f3a1c0d2e4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "geocoder_pace",
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("next_at", api.db.UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("geocoder_pace")
