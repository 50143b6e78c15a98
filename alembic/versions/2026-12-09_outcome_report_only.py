"""The outcome stored once: an outcome's `details` (the OutcomeReport as validated) is its only copy, and the summary
columns written from the same body (contact result, promise date and amount, cash collected, fake address suspected)
go. A downgrade brings them back, filled from `details` as the application used to write them.

Revision ID: dc8e2d69f93f
Revises: b4d2e6f81a09
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "dc8e2d69f93f"
down_revision: str | None = "b4d2e6f81a09"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMMARY = ("contact_result", "promise_date", "promise_amount", "cash_collected", "suspected_fake_address")


def upgrade() -> None:
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        for column in SUMMARY:
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_result", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("promise_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("promise_amount", sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column("cash_collected", sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column("suspected_fake_address", sa.Boolean(), nullable=True))
    _summarise_existing()
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.alter_column("contact_result", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("suspected_fake_address", existing_type=sa.Boolean(), nullable=False)


def _summarise_existing() -> None:
    """Each outcome's summary columns from its `details`, as `_outcome` in api/visits/outcomes.py wrote them: the
    JSON is read in Python, so both backends fill them the same way."""
    outcome = sa.table(
        "outcome",
        sa.column("id", sa.Uuid()),
        sa.column("details", sa.JSON()),
        sa.column("contact_result", sa.String()),
        sa.column("promise_date", sa.Date()),
        sa.column("promise_amount", sa.Numeric(14, 2)),
        sa.column("cash_collected", sa.Numeric(14, 2)),
        sa.column("suspected_fake_address", sa.Boolean()),
    )
    connection = op.get_bind()
    rows = [
        {"key": row.id, **{f"new_{column}": value for column, value in _summary(row.details).items()}}
        for row in connection.execute(sa.select(outcome.c.id, outcome.c.details)).all()
    ]
    if rows:
        connection.execute(
            outcome.update()
            .where(outcome.c.id == sa.bindparam("key"))
            .values({column: sa.bindparam(f"new_{column}") for column in SUMMARY}),  # a column's own name is taken
            rows,
        )


def _summary(details: dict[str, Any]) -> dict[str, Any]:
    promise, cash = details.get("promise"), details.get("cash_payment")
    return {
        "contact_result": details["contact_result"],
        "promise_date": date.fromisoformat(promise["date"]) if promise else None,
        "promise_amount": Decimal(promise["amount"]) if promise else None,
        "cash_collected": Decimal(cash["amount"]) if cash else None,
        "suspected_fake_address": bool(details.get("signs_fake_address", False)),
    }
