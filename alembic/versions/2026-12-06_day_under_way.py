"""A day under way: a planning run's kind (`evening`, or `in_day` for the rest of a date that has begun) and, for a
failed run, why in a machine code beside its words.

Revision ID: e29c0e1f2b40
Revises: d18c0e1f2b3f
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "e29c0e1f2b40"
down_revision: str | None = "d18c0e1f2b3f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("evening", "in_day")
FAILURES = ("no_teams", "nothing_to_plan", "no_plan", "abandoned", "error")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=max(map(len, values)))


def upgrade() -> None:
    with op.batch_alter_table("planning_run") as batch:
        batch.add_column(sa.Column("kind", _enum("run_kind", *KINDS), server_default="evening", nullable=False))
        batch.add_column(sa.Column("failure", _enum("run_failure", *FAILURES), nullable=True))
    op.execute("UPDATE planning_run SET failure = 'abandoned' WHERE status = 'failed' AND error LIKE 'abandoned%'")
    op.execute("UPDATE planning_run SET failure = 'error' WHERE status = 'failed' AND failure IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("planning_run") as batch:
        batch.drop_constraint(op.f("ck_planning_run_run_failure"), type_="check")
        batch.drop_constraint(op.f("ck_planning_run_run_kind"), type_="check")
        batch.drop_column("failure")
        batch.drop_column("kind")
