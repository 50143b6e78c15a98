"""Cash approvals: a supervisor allows a cash payment at a visit beforehand; outcomes record the cash taken.

Revision ID: a4eddaf3b78f
Revises: 0ed6b3c46de1
Create Date: 2026-11-29 15:11:00.937139
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'a4eddaf3b78f'
down_revision: str | None = '0ed6b3c46de1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cash_approval',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('max_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approved_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_amount > 0', name=op.f('ck_cash_approval_amount_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['app_user.id'], name=op.f('fk_cash_approval_approved_by_id_app_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_cash_approval_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_approval'))
    )
    with op.batch_alter_table('cash_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cash_approval_visit_id'), ['visit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cash_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cash_approval_visit_id'))

    op.drop_table('cash_approval')
