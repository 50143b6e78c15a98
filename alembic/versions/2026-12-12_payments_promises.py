"""Payments from the core system (`payment`, one per branch and reference) and the repayment promises made at the
door that they keep or break (`promise`, one per visit, with its state), the branch's grace days for a promise, and
the `promise_broken` finding.

Revision ID: 6b2f9e41c7d3
Revises: 21c88ae6fb5b
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db
from alembic import op

revision: str = "6b2f9e41c7d3"
down_revision: str | None = "21c88ae6fb5b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
    "sheet_changed",
    "team_running_late",
    "address_report_resolved",
    "geocoder_refused",
)
CHANNELS = ("bank_transfer", "alipay", "wechat_pay", "card", "cash", "other")
STATES = ("pending", "kept", "partly_kept", "broken")


def _enum(name: str, *values: str, length: int | None = None) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=length or max(map(len, values))
    )


def upgrade() -> None:
    op.create_table(
        "payment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_at", api.db.UtcDateTime(), nullable=False),
        sa.Column("channel", _enum("payment_channel", *CHANNELS), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", api.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], name=op.f("fk_payment_branch_id_branch")),
        sa.ForeignKeyConstraint(["case_id"], ["debt_case.id"], name=op.f("fk_payment_case_id_debt_case")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["app_user.id"], name=op.f("fk_payment_recorded_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("branch_id", "reference", name=op.f("uq_payment_branch_id_reference")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_case_id"), ["case_id"], unique=False)
    op.create_table(
        "promise",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("made_at", api.db.UtcDateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("state", _enum("promise_state", *STATES), nullable=False),
        sa.Column("settled_at", api.db.UtcDateTime(), nullable=True),
        sa.Column("follow_up_request_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", api.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", api.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], name=op.f("fk_promise_branch_id_branch")),
        sa.ForeignKeyConstraint(["case_id"], ["debt_case.id"], name=op.f("fk_promise_case_id_debt_case")),
        sa.ForeignKeyConstraint(
            ["follow_up_request_id"], ["visit_request.id"], name=op.f("fk_promise_follow_up_request_id_visit_request")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_promise_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promise")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_promise_visit_id")),
    )
    with op.batch_alter_table("promise", schema=None) as batch_op:
        batch_op.create_index("ix_promise_branch_due", ["branch_id", "due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_promise_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promise_grace_days", sa.Integer(), server_default="3", nullable=False))
        batch_op.create_check_constraint(op.f("ck_branch_promise_grace_days_range"), "promise_grace_days BETWEEN 0 AND 30")
    with op.batch_alter_table("finding") as batch:
        batch.alter_column(
            "kind",
            existing_type=_enum("finding_kind", *FINDING_KINDS, length=25),
            type_=_enum("finding_kind", *FINDING_KINDS, "promise_broken", length=25),
            existing_nullable=False,
        )


def downgrade() -> None:
    new = "SELECT id FROM finding WHERE kind = 'promise_broken'"
    op.execute(f"DELETE FROM webhook_delivery WHERE finding_id IN ({new})")
    op.execute(f"DELETE FROM finding WHERE id IN ({new})")
    with op.batch_alter_table("finding") as batch:
        batch.alter_column(
            "kind",
            existing_type=_enum("finding_kind", *FINDING_KINDS, "promise_broken", length=25),
            type_=_enum("finding_kind", *FINDING_KINDS, length=25),
            existing_nullable=False,
        )
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_branch_promise_grace_days_range"), type_="check")
        batch_op.drop_column("promise_grace_days")
    with op.batch_alter_table("promise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promise_case_id"))
        batch_op.drop_index("ix_promise_branch_due")
    op.drop_table("promise")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_case_id"))
    op.drop_table("payment")
