"""A day under way: a planning run's kind (`evening`, or `in_day` for the rest of a date that has begun) and, for a
failed run, why in a machine code beside its words, and what moving a stop to another team costs it; a team stood
down for the rest of its day; findings of a team's sheet changed during its day.

Revision ID: e29c0e1f2b40
Revises: d18c0e1f2b3f
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db

from alembic import op

revision: str = "e29c0e1f2b40"
down_revision: str | None = "d18c0e1f2b3f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("evening", "in_day")
FAILURES = ("no_teams", "nothing_to_plan", "no_plan", "abandoned", "error")
FINDING_KINDS = (
    "repayment_promised",
    "contact_found",
    "address_reported",
    "address_confirmed_invalid",
    "address_report_rejected",
    "fake_address_suspected",
    "visit_failed",
    "evidence_flagged",
    "visit_overstayed",
    "presence_doubtful",
    "team_out_of_contact",
    "team_off_route",
)
NEW_FINDING_KINDS = ("sheet_changed", "team_running_late")


def _enum(name: str, *values: str, length: int | None = None) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=length or max(map(len, values))
    )


def _finding_kind(*kinds: str) -> sa.Enum:
    return _enum("finding_kind", *kinds, length=25)


def upgrade() -> None:
    with op.batch_alter_table("planning_run") as batch:
        batch.add_column(sa.Column("kind", _enum("run_kind", *KINDS), server_default="evening", nullable=False))
        batch.add_column(sa.Column("failure", _enum("run_failure", *FAILURES), nullable=True))
        batch.add_column(sa.Column("move_cost_m", sa.Integer(), server_default="3000", nullable=False))
    with op.batch_alter_table("team") as batch:
        batch.add_column(sa.Column("stood_down_at", api.db.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stood_down_reason", sa.Text(), server_default="", nullable=False))
    op.execute("UPDATE planning_run SET failure = 'abandoned' WHERE status = 'failed' AND error LIKE 'abandoned%'")
    op.execute("UPDATE planning_run SET failure = 'error' WHERE status = 'failed' AND failure IS NULL")
    with op.batch_alter_table("finding") as batch:
        batch.alter_column(
            "kind",
            existing_type=_finding_kind(*FINDING_KINDS),
            type_=_finding_kind(*FINDING_KINDS, *NEW_FINDING_KINDS),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("team") as batch:
        batch.drop_column("stood_down_reason")
        batch.drop_column("stood_down_at")
    new = "SELECT id FROM finding WHERE kind IN ('sheet_changed', 'team_running_late')"
    op.execute(f"DELETE FROM webhook_delivery WHERE finding_id IN ({new})")
    op.execute(f"DELETE FROM finding WHERE id IN ({new})")
    with op.batch_alter_table("finding") as batch:
        batch.alter_column(
            "kind",
            existing_type=_finding_kind(*FINDING_KINDS, *NEW_FINDING_KINDS),
            type_=_finding_kind(*FINDING_KINDS),
            existing_nullable=False,
        )
    with op.batch_alter_table("planning_run") as batch:
        batch.drop_constraint(op.f("ck_planning_run_run_failure"), type_="check")
        batch.drop_constraint(op.f("ck_planning_run_run_kind"), type_="check")
        batch.drop_column("move_cost_m")
        batch.drop_column("failure")
        batch.drop_column("kind")
