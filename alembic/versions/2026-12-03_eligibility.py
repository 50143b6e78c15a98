"""Field rules: eligibility. A case's restrictions (an open complaint, an attorney, a particularly vulnerable debtor,
a bereavement, the debtor's inconvenient times and places), who set and lifted them; a supervisor's release of one
visit request from one block of the gate, with the reason.

Revision ID: b17c0e1f2b3d
Revises: a17c0e1f2b3c
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "b17c0e1f2b3d"
down_revision: str | None = "a17c0e1f2b3c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_FLAGS = ("open_complaint", "attorney", "vulnerable", "bereavement", "inconvenient")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=max(map(len, values)))


def upgrade() -> None:
    op.create_table(
        "case_restriction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("flag", _enum("case_flag", *CASE_FLAGS), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("time_from", sa.Time(), nullable=True),
        sa.Column("time_until", sa.Time(), nullable=True),
        sa.Column("address_id", sa.Uuid(), nullable=True),
        sa.Column("set_by_id", sa.Uuid(), nullable=False),
        sa.Column("set_at", api.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lifted_by_id", sa.Uuid(), nullable=True),
        sa.Column("lifted_at", api.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("ends_on IS NULL OR starts_on <= ends_on", name=op.f("ck_case_restriction_date_order")),
        sa.CheckConstraint(
            "(time_from IS NULL AND time_until IS NULL) OR (time_from < time_until)",
            name=op.f("ck_case_restriction_time_order"),
        ),
        sa.CheckConstraint(
            "flag = 'inconvenient' OR (time_from IS NULL AND address_id IS NULL)",
            name=op.f("ck_case_restriction_place_only_inconvenient"),
        ),
        sa.CheckConstraint(
            "flag != 'inconvenient' OR time_from IS NOT NULL OR address_id IS NOT NULL",
            name=op.f("ck_case_restriction_inconvenient_says_what"),
        ),
        sa.CheckConstraint(
            "(lifted_at IS NULL AND lifted_by_id IS NULL AND lift_reason = '')"
            " OR (lifted_at IS NOT NULL AND lifted_by_id IS NOT NULL AND lift_reason != '')",
            name=op.f("ck_case_restriction_lifted_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["address_id", "case_id"],
            ["address.id", "address.case_id"],
            name=op.f("fk_case_restriction_address_id_case_id_address"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["debt_case.id"], name=op.f("fk_case_restriction_case_id_debt_case")),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"], ["app_user.id"], name=op.f("fk_case_restriction_lifted_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(["set_by_id"], ["app_user.id"], name=op.f("fk_case_restriction_set_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_restriction")),
    )
    with op.batch_alter_table("case_restriction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_restriction_case_id"), ["case_id"], unique=False)

    op.create_table(
        "eligibility_release",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visit_request_id", sa.Uuid(), nullable=False),
        sa.Column("flag", _enum("eligibility_flag", *CASE_FLAGS, "visit_cap"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("released_by_id", sa.Uuid(), nullable=False),
        sa.Column("released_at", api.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["app_user.id"], name=op.f("fk_eligibility_release_released_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["visit_request_id"],
            ["visit_request.id"],
            name=op.f("fk_eligibility_release_visit_request_id_visit_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_release")),
        sa.UniqueConstraint("visit_request_id", "flag", name=op.f("uq_eligibility_release_visit_request_id_flag")),
    )
    with op.batch_alter_table("eligibility_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eligibility_release_visit_request_id"), ["visit_request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eligibility_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_release_visit_request_id"))
    op.drop_table("eligibility_release")
    with op.batch_alter_table("case_restriction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_restriction_case_id"))
    op.drop_table("case_restriction")
