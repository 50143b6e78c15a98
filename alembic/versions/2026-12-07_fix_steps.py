"""A fix's step count: the phone's cumulative step counter when it took the fix (null if it has none), which tells
two people walking side by side from one person carrying both phones.

Revision ID: f3a1c0d2e4b8
Revises: f3a1c0d2e4b7
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "f3a1c0d2e4b8"
down_revision: str | None = "f3a1c0d2e4b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("position_fix") as batch:
        batch.add_column(sa.Column("steps", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("position_fix") as batch:
        batch.drop_column("steps")
