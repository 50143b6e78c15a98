"""Field rules: each branch's jurisdiction (its rule pack), its own hours only where stricter than the pack's
(NULL: the pack's), its longest time on site; the reasons a request is left out by the legal hours or day; an
index of the audit chain by record, which a case's dossier cites.

Existing branches are CN, the only jurisdiction so far; hours equal to CN's become NULL (the pack's).

Revision ID: a17c0e1f2b3c
Revises: f64967c069c2
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence
from datetime import time

import sqlalchemy as sa
from alembic import op

revision: str = "a17c0e1f2b3c"
down_revision: str | None = "f64967c069c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JURISDICTIONS = ("CN", "US", "UK", "IN", "ID", "PH")
REASONS = (
    "address_invalid",
    "address_reported",
    "address_not_located",
    "address_point_untrusted",
    "no_teams",
    "outside_every_shift",
    "no_team_with_skill",
    "pin_impossible",
    "lower_priority",
    "removed",
)
NEW_REASONS = ("outside_legal_hours", "not_a_visiting_day", "not_eligible")
CN_HOURS = (time(8, 0), time(21, 0))
BRANCH = sa.table("branch", sa.column("visiting_from", sa.Time()), sa.column("visiting_until", sa.Time()))


def upgrade() -> None:
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "jurisdiction",
                sa.Enum(*JURISDICTIONS, name="jurisdiction", native_enum=False, create_constraint=True, length=2),
                nullable=False,
                server_default="CN",
            )
        )
        batch_op.add_column(sa.Column("max_on_site_min", sa.Integer(), nullable=False, server_default="60"))
        batch_op.alter_column("visiting_from", existing_type=sa.Time(), nullable=True)
        batch_op.alter_column("visiting_until", existing_type=sa.Time(), nullable=True)
        batch_op.create_check_constraint(op.f("ck_branch_max_on_site_range"), "max_on_site_min BETWEEN 5 AND 600")
    op.execute(BRANCH.update().where(BRANCH.c.visiting_from == CN_HOURS[0]).values(visiting_from=None))
    op.execute(BRANCH.update().where(BRANCH.c.visiting_until == CN_HOURS[1]).values(visiting_until=None))
    _unplanned_reasons(*REASONS, *NEW_REASONS)
    op.create_index("ix_audit_event_entity", "audit_event", ["entity", "entity_id"])


def _unplanned_reasons(*reasons: str) -> None:
    with op.batch_alter_table("unplanned_request", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_unplanned_request_unplanned_reason"), type_="check")
        listed = ", ".join(f"'{reason}'" for reason in reasons)
        batch_op.create_check_constraint(op.f("ck_unplanned_request_unplanned_reason"), f"reason IN ({listed})")
        batch_op.alter_column(
            "reason", existing_type=sa.String(length=23), type_=sa.String(length=max(map(len, reasons)))
        )


def downgrade() -> None:
    op.drop_index("ix_audit_event_entity", table_name="audit_event")
    listed = ", ".join(f"'{reason}'" for reason in NEW_REASONS)
    op.execute(f"UPDATE unplanned_request SET reason = 'outside_every_shift' WHERE reason IN ({listed})")
    _unplanned_reasons(*REASONS)
    op.execute(BRANCH.update().where(BRANCH.c.visiting_from.is_(None)).values(visiting_from=CN_HOURS[0]))
    op.execute(BRANCH.update().where(BRANCH.c.visiting_until.is_(None)).values(visiting_until=CN_HOURS[1]))
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_branch_max_on_site_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_branch_jurisdiction"), type_="check")
        batch_op.alter_column("visiting_until", existing_type=sa.Time(), nullable=False)
        batch_op.alter_column("visiting_from", existing_type=sa.Time(), nullable=False)
        batch_op.drop_column("max_on_site_min")
        batch_op.drop_column("jurisdiction")
