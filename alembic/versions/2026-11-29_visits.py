"""Visits at the door: departure checks, visits, check-ins, outcomes; each branch's departure checklist.

Revision ID: 89413ecc94c4
Revises: ad8ba02bb6f3
Create Date: 2026-11-29 14:48:10.817754
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '89413ecc94c4'
down_revision: str | None = 'ad8ba02bb6f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('departure_check',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['app_user.id'], name=op.f('fk_departure_check_agent_id_app_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_departure_check_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departure_check')),
    sa.UniqueConstraint('client_id', name=op.f('uq_departure_check_client_id')),
    sa.UniqueConstraint('team_id', 'agent_id', name=op.f('uq_departure_check_team_id_agent_id'))
    )
    with op.batch_alter_table('departure_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departure_check_team_id'), ['team_id'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sheet_id', sa.Uuid(), nullable=False),
    sa.Column('visit_request_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('address_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('checking_in', 'in_progress', 'reported', 'completed', name='visit_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('override_by_id', sa.Uuid(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['address.id'], name=op.f('fk_visit_address_id_address')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_visit_branch_id_branch')),
    sa.ForeignKeyConstraint(['case_id'], ['debt_case.id'], name=op.f('fk_visit_case_id_debt_case')),
    sa.ForeignKeyConstraint(['override_by_id'], ['app_user.id'], name=op.f('fk_visit_override_by_id_app_user')),
    sa.ForeignKeyConstraint(['sheet_id'], ['visit_sheet.id'], name=op.f('fk_visit_sheet_id_visit_sheet')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_visit_team_id_team')),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_request.id'], name=op.f('fk_visit_visit_request_id_visit_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('sheet_id', 'visit_request_id', name=op.f('uq_visit_sheet_id_visit_request_id'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_sheet_id'), ['sheet_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_visit_request_id'), ['visit_request_id'], unique=False)

    op.create_table('check_in',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('accuracy_m', sa.Double(), nullable=False),
    sa.Column('distance_m', sa.Double(), nullable=False),
    sa.Column('device_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('accuracy_m >= 0', name=op.f('ck_check_in_accuracy_positive')),
    sa.ForeignKeyConstraint(['agent_id'], ['app_user.id'], name=op.f('fk_check_in_agent_id_app_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_check_in_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in')),
    sa.UniqueConstraint('client_id', name=op.f('uq_check_in_client_id'))
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_visit_id'), ['visit_id'], unique=False)

    op.create_table('outcome',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('amends_id', sa.Uuid(), nullable=True),
    sa.Column('contact_result', sa.String(length=20), nullable=False),
    sa.Column('promise_date', sa.Date(), nullable=True),
    sa.Column('promise_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('cash_collected', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('suspected_fake_address', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('submitted_by_id', sa.Uuid(), nullable=False),
    sa.Column('confirmed_by_id', sa.Uuid(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.CheckConstraint('confirmed_by_id IS NULL OR confirmed_by_id <> submitted_by_id', name=op.f('ck_outcome_two_agents')),
    sa.ForeignKeyConstraint(['amends_id'], ['outcome.id'], name=op.f('fk_outcome_amends_id_outcome')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['app_user.id'], name=op.f('fk_outcome_confirmed_by_id_app_user')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['app_user.id'], name=op.f('fk_outcome_submitted_by_id_app_user')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_outcome_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome')),
    sa.UniqueConstraint('amends_id', name=op.f('uq_outcome_amends_id')),
    sa.UniqueConstraint('client_id', name=op.f('uq_outcome_client_id'))
    )
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_visit_id'), ['visit_id'], unique=False)

    # plain ALTERs: a batch rebuild of a spatial table trips SpatiaLite's RenameTable
    checklist = '["recorder_charged", "camera_charged", "letters_carried", "forms_carried"]'
    op.add_column('branch', sa.Column('departure_checklist', sa.JSON(), nullable=False, server_default=checklist))



def downgrade() -> None:
    op.drop_column('branch', 'departure_checklist')

    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_visit_id'))

    op.drop_table('outcome')
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_visit_id'))

    op.drop_table('check_in')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_visit_request_id'))
        batch_op.drop_index(batch_op.f('ix_visit_team_id'))
        batch_op.drop_index(batch_op.f('ix_visit_sheet_id'))
        batch_op.drop_index(batch_op.f('ix_visit_case_id'))
        batch_op.drop_index(batch_op.f('ix_visit_branch_id'))

    op.drop_table('visit')
    with op.batch_alter_table('departure_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departure_check_team_id'))

    op.drop_table('departure_check')
