"""Indexes the results report reads by: visit requests by their first possible date, payments by branch and time.

Revision ID: 9c4d1e7f2a60
Revises: 6b2f9e41c7d3
Create Date: 2026-12-13 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9c4d1e7f2a60"
down_revision: str | None = "6b2f9e41c7d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_visit_request_earliest_date", "visit_request", ["earliest_date"])
    op.create_index("ix_payment_branch_paid_at", "payment", ["branch_id", "paid_at"])


def downgrade() -> None:
    op.drop_index("ix_payment_branch_paid_at", table_name="payment")
    op.drop_index("ix_visit_request_earliest_date", table_name="visit_request")
