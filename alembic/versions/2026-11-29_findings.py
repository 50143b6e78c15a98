"""The findings feed: what visits learn, in order, for supervisors and phone collectors.

Revision ID: e99d2e7139d4
Revises: e060494cf696
Create Date: 2026-11-29 15:17:53.192016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e99d2e7139d4'
down_revision: str | None = 'e060494cf696'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('finding',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('repayment_promised', 'contact_found', 'address_reported', 'address_confirmed_invalid', 'address_report_rejected', 'fake_address_suspected', 'visit_failed', name='finding_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_finding_branch_id_branch')),
    sa.ForeignKeyConstraint(['case_id'], ['debt_case.id'], name=op.f('fk_finding_case_id_debt_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding'))
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_case_id'))
        batch_op.drop_index(batch_op.f('ix_finding_branch_id'))

    op.drop_table('finding')
