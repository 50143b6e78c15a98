"""Hardening: idempotency claims with an owner and a lease; login attempts for throttling; refresh tokens that
remember their rotation (for the retry grace window).

Revision ID: 7c1f4e2a9b30
Revises: b09fd3bce782
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = '7c1f4e2a9b30'
down_revision: str | None = 'b09fd3bce782'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # claims left by attempts before this migration get no lease: the next retry takes them over
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('owner', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('lease_until', api.db.UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        'login_attempt',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('username', sa.String(length=150), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('succeeded', sa.Boolean(), nullable=False),
        sa.Column('at', api.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt')),
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempt_username_at'), ['username', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempt_address_at'), ['address', 'at'], unique=False)
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rotated_at', api.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.drop_column('rotated_at')
    op.drop_table('login_attempt')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('owner')
        batch_op.drop_column('claim')
