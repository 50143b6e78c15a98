"""Each team's own way of travelling (`team.travel_mode`, none: the settings'), and traffic by the hour: a branch's
hour factors on the road engine's times (`branch.travel_hour_factors`, none: the engine's times all day), its
planned legs priced again by AMap (`priced_leg`), and each calibration of the factors from the legs its teams drove
or AMap priced, with its error on held-out legs.

Revision ID: 21c88ae6fb5b
Revises: 5e0b7c2d9a14
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db
from alembic import op

revision: str = "21c88ae6fb5b"
down_revision: str | None = "5e0b7c2d9a14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "travel_calibration",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("tracks", "amap", name="calibration_source", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("legs_per_hour", sa.JSON(), nullable=False),
        sa.Column("learnt_from", sa.Integer(), nullable=False),
        sa.Column("held_out", sa.Integer(), nullable=False),
        sa.Column("set_aside", sa.Integer(), nullable=False),
        sa.Column("error_before", sa.Double(), nullable=False),
        sa.Column("error_after", sa.Double(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", api.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], name=op.f("fk_travel_calibration_branch_id_branch")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["app_user.id"], name=op.f("fk_travel_calibration_requested_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_travel_calibration")),
    )
    with op.batch_alter_table("travel_calibration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_travel_calibration_branch_id"), ["branch_id"], unique=False)
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("travel_hour_factors", sa.JSON(), nullable=True))
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "travel_mode",
                sa.Enum(
                    "walking", "cycling", "transit", "driving", name="travel_mode", native_enum=False, create_constraint=True
                ),
                nullable=True,
            )
        )
    op.create_table(
        "priced_leg",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("sheet_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("engine_s", sa.Integer(), nullable=False),
        sa.Column("priced_s", sa.Integer(), nullable=False),
        sa.Column("priced_m", sa.Integer(), nullable=False),
        sa.Column("asked_at", api.db.UtcDateTime(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], name=op.f("fk_priced_leg_branch_id_branch")),
        sa.ForeignKeyConstraint(["sheet_id"], ["visit_sheet.id"], name=op.f("fk_priced_leg_sheet_id_visit_sheet")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priced_leg")),
    )
    with op.batch_alter_table("priced_leg", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_priced_leg_branch_id"), ["branch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("priced_leg", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_priced_leg_branch_id"))
    op.drop_table("priced_leg")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_team_travel_mode"), type_="check")
        batch_op.drop_column("travel_mode")
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_column("travel_hour_factors")
    with op.batch_alter_table("travel_calibration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_calibration_branch_id"))
    op.drop_table("travel_calibration")
