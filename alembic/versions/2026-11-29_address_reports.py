"""Reports of invalid addresses by agents and the supervisors' decisions.

Revision ID: b2693215d0e1
Revises: 89413ecc94c4
Create Date: 2026-11-29 14:52:05.665698
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b2693215d0e1'
down_revision: str | None = '89413ecc94c4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('address_report',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('address_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.Enum('demolished', 'vague', 'incomplete', 'nonexistent', 'other', name='report_reason', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('previous_validity', sa.Enum('unverified', 'verified', 'reported_invalid', 'confirmed_invalid', name='previous_validity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'rejected', name='report_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reported_by_id', sa.Uuid(), nullable=False),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status = 'pending' OR decided_by_id IS NOT NULL", name=op.f('ck_address_report_decided_by_someone')),
    sa.ForeignKeyConstraint(['address_id'], ['address.id'], name=op.f('fk_address_report_address_id_address')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_address_report_branch_id_branch')),
    sa.ForeignKeyConstraint(['case_id'], ['debt_case.id'], name=op.f('fk_address_report_case_id_debt_case')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], name=op.f('fk_address_report_decided_by_id_app_user')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['app_user.id'], name=op.f('fk_address_report_reported_by_id_app_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_address_report_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_report')),
    sa.UniqueConstraint('client_id', name=op.f('uq_address_report_client_id'))
    )
    with op.batch_alter_table('address_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_report_address_id'), ['address_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_address_report_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index('uq_address_report_pending', ['address_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))



def downgrade() -> None:
    with op.batch_alter_table('address_report', schema=None) as batch_op:
        batch_op.drop_index('uq_address_report_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_address_report_branch_id'))
        batch_op.drop_index(batch_op.f('ix_address_report_address_id'))

    op.drop_table('address_report')
