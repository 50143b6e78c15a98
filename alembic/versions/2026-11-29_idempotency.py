"""Idempotency records: the first response to a POST with an Idempotency-Key, for its retries.

Revision ID: 0ed6b3c46de1
Revises: b2693215d0e1
Create Date: 2026-11-29 14:55:26.043872
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0ed6b3c46de1'
down_revision: str | None = 'b2693215d0e1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_record'))
    )


def downgrade() -> None:
    op.drop_table('idempotency_record')
