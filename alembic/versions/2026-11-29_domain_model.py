"""Domain model: branches, users, teams, cases with contacts and addresses, visit requests, refresh tokens.

Revision ID: ae216320732f
Revises: 
Create Date: 2026-11-29 10:34:19.532491
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = 'ae216320732f'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table('branch',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('office_address', sa.String(length=300), nullable=False),
    sa.Column('office_point', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('visiting_from', sa.Time(), nullable=False),
    sa.Column('visiting_until', sa.Time(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('visiting_from < visiting_until', name=op.f('ck_branch_visiting_hours_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch')),
    sa.UniqueConstraint('name', name=op.f('uq_branch_name'))
    )
    op.create_table('app_user',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('agent', 'supervisor', 'phone_collector', 'admin', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role = 'admin' OR branch_id IS NOT NULL", name=op.f('ck_app_user_branch_unless_admin')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_app_user_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('id', 'branch_id', 'role', name=op.f('uq_app_user_id_branch_id_role')),
    sa.UniqueConstraint('id', 'branch_id', name=op.f('uq_app_user_id_branch_id')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_branch_id'), ['branch_id'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_team_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('branch_id', 'work_date', 'name', name=op.f('uq_team_branch_id_work_date_name')),
    sa.UniqueConstraint('id', 'branch_id', 'work_date', name=op.f('uq_team_id_branch_id_work_date'))
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_branch_id'), ['branch_id'], unique=False)

    op.create_table('debt_case',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('debtor_name', sa.String(length=120), nullable=False),
    sa.Column('debtor_id_number', sa.String(length=18), nullable=False),
    sa.Column('amount_owed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('overdue_bucket', sa.Enum('M1', 'M2', 'M3', 'M4', 'M5', 'M6+', name='overdue_bucket', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('complaint_history', sa.Boolean(), nullable=False),
    sa.Column('phone_collector_id', sa.Uuid(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_owed >= 0', name=op.f('ck_debt_case_amount_owed_not_negative')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_debt_case_branch_id_branch')),
    sa.ForeignKeyConstraint(['phone_collector_id', 'branch_id'], ['app_user.id', 'app_user.branch_id'], name=op.f('fk_debt_case_phone_collector_id_branch_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debt_case')),
    sa.UniqueConstraint('branch_id', 'reference', name=op.f('uq_debt_case_branch_id_reference'))
    )
    with op.batch_alter_table('debt_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debt_case_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debt_case_phone_collector_id'), ['phone_collector_id'], unique=False)

    op.create_table('refresh_token',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_refresh_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_token')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_refresh_token_token_sha256'))
    )
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_token_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_token_user_id'), ['user_id'], unique=False)

    op.create_table('team_member',
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('seat', sa.SmallInteger(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('agent_role', sa.Enum('agent', 'supervisor', 'phone_collector', 'admin', name='agent_role', native_enum=False, create_constraint=True), nullable=False),
    sa.CheckConstraint("agent_role = 'agent'", name=op.f('ck_team_member_member_is_agent')),
    sa.CheckConstraint('seat IN (1, 2)', name=op.f('ck_team_member_two_seats')),
    sa.ForeignKeyConstraint(['agent_id', 'branch_id', 'agent_role'], ['app_user.id', 'app_user.branch_id', 'app_user.role'], name=op.f('fk_team_member_agent_id_branch_id_agent_role_app_user')),
    sa.ForeignKeyConstraint(['team_id', 'branch_id', 'work_date'], ['team.id', 'team.branch_id', 'team.work_date'], name=op.f('fk_team_member_team_id_branch_id_work_date_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'seat', name=op.f('pk_team_member')),
    sa.UniqueConstraint('agent_id', 'work_date', name=op.f('uq_team_member_agent_id_work_date')),
    sa.UniqueConstraint('team_id', 'agent_id', name=op.f('uq_team_member_team_id_agent_id'))
    )
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_member_agent_id'), ['agent_id'], unique=False)

    op.create_geospatial_table('address',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('home', 'work', 'hometown', 'other', name='address_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('raw_text', sa.String(length=500), nullable=False),
    sa.Column('point', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('source', sa.Enum('case_file', 'phone_collector', 'field_visit', name='address_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('validity', sa.Enum('unverified', 'verified', 'reported_invalid', 'confirmed_invalid', name='address_validity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('invalid_reason', sa.Enum('demolished', 'vague', 'incomplete', 'nonexistent', 'other', name='invalid_reason', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('invalid_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(validity IN ('reported_invalid', 'confirmed_invalid')) = (invalid_reason IS NOT NULL)", name=op.f('ck_address_invalid_reason_iff_invalid')),
    sa.ForeignKeyConstraint(['case_id'], ['debt_case.id'], name=op.f('fk_address_case_id_debt_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address')),
    sa.UniqueConstraint('id', 'case_id', name=op.f('uq_address_id_case_id'))
    )
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_address_point', ['point'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_address_case_id'), ['case_id'], unique=False)
    if postgres:  # distance queries in metres go through geography(point); cast() would not use this index
        op.execute("CREATE INDEX ix_address_point_geog ON address USING gist (geography(point))")

    op.create_table('debtor_contact',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('mobile', 'home', 'work', 'family', 'other', name='contact_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('unverified', 'verified', 'unreachable', 'wrong_number', name='contact_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('source', sa.Enum('case_file', 'phone_collector', 'field_visit', name='contact_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['debt_case.id'], name=op.f('fk_debtor_contact_case_id_debt_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debtor_contact')),
    sa.UniqueConstraint('case_id', 'phone', name=op.f('uq_debtor_contact_case_id_phone'))
    )
    with op.batch_alter_table('debtor_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debtor_contact_case_id'), ['case_id'], unique=False)

    op.create_table('visit_request',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('address_id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.Enum('find_new_information', 'confirm_address', 'negotiate', 'deliver_letter', name='visit_purpose', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=False),
    sa.Column('earliest_date', sa.Date(), nullable=False),
    sa.Column('latest_date', sa.Date(), nullable=False),
    sa.Column('window_start', sa.Time(), nullable=True),
    sa.Column('window_end', sa.Time(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'planned', 'completed', 'cancelled', name='visit_request_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(window_start IS NULL AND window_end IS NULL) OR (window_start < window_end)', name=op.f('ck_visit_request_window_order')),
    sa.CheckConstraint('earliest_date <= latest_date', name=op.f('ck_visit_request_date_order')),
    sa.CheckConstraint('priority BETWEEN 1 AND 5', name=op.f('ck_visit_request_priority_range')),
    sa.ForeignKeyConstraint(['address_id', 'case_id'], ['address.id', 'address.case_id'], name=op.f('fk_visit_request_address_id_case_id_address')),
    sa.ForeignKeyConstraint(['case_id'], ['debt_case.id'], name=op.f('fk_visit_request_case_id_debt_case')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'], name=op.f('fk_visit_request_requested_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_request'))
    )
    with op.batch_alter_table('visit_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_request_address_id'), ['address_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_request_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_request_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index('ix_visit_request_status_dates', ['status', 'earliest_date', 'latest_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visit_request', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_request_status_dates')
        batch_op.drop_index(batch_op.f('ix_visit_request_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_visit_request_case_id'))
        batch_op.drop_index(batch_op.f('ix_visit_request_address_id'))

    op.drop_table('visit_request')
    with op.batch_alter_table('debtor_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtor_contact_case_id'))

    op.drop_table('debtor_contact')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_address_point_geog")
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_case_id'))
        batch_op.drop_geospatial_index('idx_address_point', postgresql_using='gist', column_name='point')

    op.drop_geospatial_table('address')
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_member_agent_id'))

    op.drop_table('team_member')
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_refresh_token_family_id'))

    op.drop_table('refresh_token')
    with op.batch_alter_table('debt_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debt_case_phone_collector_id'))
        batch_op.drop_index(batch_op.f('ix_debt_case_branch_id'))

    op.drop_table('debt_case')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_branch_id'))

    op.drop_table('team')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_branch_id'))

    op.drop_table('app_user')
    op.drop_geospatial_table('branch')
