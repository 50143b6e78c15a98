"""Proof of presence: tracks. Each agent's on-duty track of a team's day (opened by the departure check; existing
departure checks open theirs), its fixes stored compactly, the gaps and detours found in it, each visit's presence
assessments, the branch's settings for them, and findings about a team rather than a case (a team out of contact,
off route) or about a visit whose presence is doubtful.

Revision ID: d18c0e1f2b3f
Revises: c17c0e1f2b3e
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db
from alembic import op

revision: str = "d18c0e1f2b3f"
down_revision: str | None = "c17c0e1f2b3e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "repayment_promised",
    "contact_found",
    "address_reported",
    "address_confirmed_invalid",
    "address_report_rejected",
    "fake_address_suspected",
    "visit_failed",
    "evidence_flagged",
    "visit_overstayed",
)
NEW_KINDS = ("presence_doubtful", "team_out_of_contact", "team_off_route")


def _enum(name: str, *values: str, length: int | None = None) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=length or max(map(len, values))
    )


def _finding_kind(*kinds: str) -> sa.Enum:
    return _enum("finding_kind", *kinds, length=25)


def upgrade() -> None:
    op.create_table(
        "track",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("duty_from", api.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("watched_at", api.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["app_user.id"], name=op.f("fk_track_agent_id_app_user")),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], name=op.f("fk_track_branch_id_branch")),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_track_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track")),
        sa.UniqueConstraint("team_id", "agent_id", name=op.f("uq_track_team_id_agent_id")),
    )
    with op.batch_alter_table("track", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_track_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_track_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_track_work_date"), ["work_date"], unique=False)

    op.create_table(
        "position_fix",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("lat_e7", sa.Integer(), nullable=False),
        sa.Column("lon_e7", sa.Integer(), nullable=False),
        sa.Column("accuracy_m", sa.REAL(), nullable=False),
        sa.Column("speed_mps", sa.REAL(), nullable=True),
        sa.Column("heading_deg", sa.SmallInteger(), nullable=True),
        sa.Column("battery_pct", sa.SmallInteger(), nullable=True),
        sa.Column("mock", sa.Boolean(), nullable=False),
        sa.Column("clock_skew_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"], ["track.id"], name=op.f("fk_position_fix_track_id_track"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_position_fix")),
    )
    with op.batch_alter_table("position_fix", schema=None) as batch_op:
        batch_op.create_index("ix_position_fix_track_at", ["track_id", "at_ms"], unique=False)

    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("case_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key(batch_op.f("fk_finding_team_id_team"), "team", ["team_id"], ["id"])
        batch_op.create_check_constraint(
            op.f("ck_finding_about_case_or_team"), "case_id IS NOT NULL OR team_id IS NOT NULL"
        )
        batch_op.alter_column(
            "kind",
            existing_type=_finding_kind(*KINDS),
            type_=_finding_kind(*KINDS, *NEW_KINDS),
            existing_nullable=False,
        )

    op.create_table(
        "track_alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("track_alert_kind", "out_of_contact", "off_route"), nullable=False),
        sa.Column("began_at", api.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", api.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finding_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", api.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"], name=op.f("fk_track_alert_finding_id_finding")),
        sa.ForeignKeyConstraint(
            ["track_id"], ["track.id"], name=op.f("fk_track_alert_track_id_track"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_alert")),
        sa.UniqueConstraint("track_id", "kind", "began_at", name=op.f("uq_track_alert_track_id_kind_began_at")),
    )
    op.create_table(
        "visit_presence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("stage", _enum("presence_stage", "start", "completion"), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("computed_at", api.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_visit_presence_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_presence")),
        sa.UniqueConstraint("visit_id", "stage", name=op.f("uq_visit_presence_visit_id_stage")),
    )
    with op.batch_alter_table("visit_presence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_presence_visit_id"), ["visit_id"], unique=False)

    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("track_retention_days", sa.Integer(), server_default="30", nullable=False))
        batch_op.add_column(sa.Column("out_of_contact_min", sa.Integer(), server_default="15", nullable=False))
        batch_op.add_column(sa.Column("off_route_m", sa.Integer(), server_default="2000", nullable=False))
        batch_op.add_column(sa.Column("off_route_min", sa.Integer(), server_default="20", nullable=False))
        batch_op.add_column(sa.Column("presence_threshold", sa.Integer(), server_default="60", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_branch_track_retention_range"), "track_retention_days BETWEEN 1 AND 365"
        )
        batch_op.create_check_constraint(
            op.f("ck_branch_presence_threshold_range"), "presence_threshold BETWEEN 0 AND 100"
        )

    op.execute(
        "INSERT INTO track (branch_id, team_id, agent_id, work_date, duty_from)"
        " SELECT team.branch_id, departure_check.team_id, departure_check.agent_id, departure_check.work_date,"
        " departure_check.created_at FROM departure_check JOIN team ON team.id = departure_check.team_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_branch_presence_threshold_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_branch_track_retention_range"), type_="check")
        batch_op.drop_column("presence_threshold")
        batch_op.drop_column("off_route_min")
        batch_op.drop_column("off_route_m")
        batch_op.drop_column("out_of_contact_min")
        batch_op.drop_column("track_retention_days")

    with op.batch_alter_table("visit_presence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_presence_visit_id"))
    op.drop_table("visit_presence")
    op.drop_table("track_alert")

    new = "SELECT id FROM finding WHERE kind IN ('presence_doubtful', 'team_out_of_contact', 'team_off_route')"
    op.execute(f"DELETE FROM webhook_delivery WHERE finding_id IN ({new})")
    op.execute(f"DELETE FROM finding WHERE id IN ({new})")
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_finding_kind(*KINDS, *NEW_KINDS),
            type_=_finding_kind(*KINDS),
            existing_nullable=False,
        )
        batch_op.drop_constraint(op.f("ck_finding_about_case_or_team"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_finding_team_id_team"), type_="foreignkey")
        batch_op.alter_column("case_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("team_id")

    with op.batch_alter_table("position_fix", schema=None) as batch_op:
        batch_op.drop_index("ix_position_fix_track_at")
    op.drop_table("position_fix")
    with op.batch_alter_table("track", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_track_work_date"))
        batch_op.drop_index(batch_op.f("ix_track_branch_id"))
        batch_op.drop_index(batch_op.f("ix_track_agent_id"))
    op.drop_table("track")
