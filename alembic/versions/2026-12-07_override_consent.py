"""The debtor's consent recorded with an override of the visiting hours, where the pack allows one only with it
(Indonesia: POJK 22/2023 Pasal 62 ayat (3)).

Revision ID: f3a1c0d2e4b9
Revises: f3a1c0d2e4b8
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "f3a1c0d2e4b9"
down_revision: str | None = "f3a1c0d2e4b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("hours_override_consent", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("hours_override_consent")
