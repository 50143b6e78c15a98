"""Planning: team days (shift, break, visit limit, experience, start and end), care flag of addresses, planning
runs, visit sheets and their stops, unplanned requests.

Revision ID: d9479baf71ab
Revises: ae216320732f
Create Date: 2026-11-29 14:14:11.417696
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = 'd9479baf71ab'
down_revision: str | None = 'ae216320732f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('planning_run',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', 'cancelled', name='run_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.SmallInteger(), nullable=False),
    sa.Column('time_limit_s', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_planning_run_progress_range')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_planning_run_branch_id_branch')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['app_user.id'], name=op.f('fk_planning_run_requested_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_run'))
    )
    with op.batch_alter_table('planning_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planning_run_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index('uq_planning_run_active', ['branch_id', 'work_date'], unique=True, sqlite_where=sa.text("status IN ('queued', 'running')"), postgresql_where=sa.text("status IN ('queued', 'running')"))

    op.create_geospatial_table('visit_sheet',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('team_name', sa.String(length=60), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', name='sheet_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('distance_m', sa.Integer(), nullable=False),
    sa.Column('travel_s', sa.Integer(), nullable=False),
    sa.Column('leaves_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returns_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('route', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_visit_sheet_branch_id_branch')),
    sa.ForeignKeyConstraint(['run_id'], ['planning_run.id'], name=op.f('fk_visit_sheet_run_id_planning_run')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_visit_sheet_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_sheet')),
    sa.UniqueConstraint('run_id', 'team_id', name=op.f('uq_visit_sheet_run_id_team_id')),
    sa.UniqueConstraint('team_id', 'version', name=op.f('uq_visit_sheet_team_id_version'))
    )
    with op.batch_alter_table('visit_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_sheet_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_sheet_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_sheet_team_id'), ['team_id'], unique=False)

    op.create_table('sheet_stop',
    sa.Column('sheet_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('visit_request_id', sa.Uuid(), nullable=False),
    sa.Column('arrives_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('departs_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('travel_m', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.CheckConstraint('position >= 1', name=op.f('ck_sheet_stop_position_from_one')),
    sa.ForeignKeyConstraint(['sheet_id'], ['visit_sheet.id'], name=op.f('fk_sheet_stop_sheet_id_visit_sheet'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_request.id'], name=op.f('fk_sheet_stop_visit_request_id_visit_request')),
    sa.PrimaryKeyConstraint('sheet_id', 'position', name=op.f('pk_sheet_stop')),
    sa.UniqueConstraint('sheet_id', 'visit_request_id', name=op.f('uq_sheet_stop_sheet_id_visit_request_id'))
    )
    with op.batch_alter_table('sheet_stop', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sheet_stop_visit_request_id'), ['visit_request_id'], unique=False)

    op.create_table('unplanned_request',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('visit_request_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.Enum('address_invalid', 'address_reported', 'address_not_located', 'no_teams', 'outside_every_shift', 'no_team_with_skill', 'pin_impossible', 'lower_priority', 'removed', name='unplanned_reason', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['planning_run.id'], name=op.f('fk_unplanned_request_run_id_planning_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_request.id'], name=op.f('fk_unplanned_request_visit_request_id_visit_request')),
    sa.PrimaryKeyConstraint('run_id', 'visit_request_id', name=op.f('pk_unplanned_request'))
    )
    # a plain ALTER on both backends: a batch rebuild of a spatial table trips SpatiaLite's RenameTable
    op.add_column('address', sa.Column('elderly_resident', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shift_start', sa.Time(), nullable=False, server_default='09:00:00'))
        batch_op.add_column(sa.Column('shift_end', sa.Time(), nullable=False, server_default='18:00:00'))
        batch_op.add_column(sa.Column('break_from', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('break_until', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('break_minutes', sa.SmallInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('max_visits', sa.SmallInteger(), nullable=False, server_default='16'))
        batch_op.add_column(sa.Column('experienced', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('start_lat', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('start_lon', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('end_lat', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('end_lon', sa.Double(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_team_shift_order'), 'shift_start < shift_end')
        batch_op.create_check_constraint(
            op.f('ck_team_break_window'),
            'break_minutes = 0 OR (break_from IS NOT NULL AND break_until IS NOT NULL AND break_from < break_until)',
        )
        batch_op.create_check_constraint(op.f('ck_team_break_length'), 'break_minutes BETWEEN 0 AND 240')
        batch_op.create_check_constraint(op.f('ck_team_max_visits_range'), 'max_visits BETWEEN 1 AND 60')
        batch_op.create_check_constraint(op.f('ck_team_start_point_whole'), '(start_lat IS NULL) = (start_lon IS NULL)')
        batch_op.create_check_constraint(op.f('ck_team_end_point_whole'), '(end_lat IS NULL) = (end_lon IS NULL)')



def downgrade() -> None:
    with op.batch_alter_table('team', schema=None) as batch_op:
        for name in ('shift_order', 'break_window', 'break_length', 'max_visits_range', 'start_point_whole', 'end_point_whole'):
            batch_op.drop_constraint(op.f(f'ck_team_{name}'), type_='check')
        batch_op.drop_column('end_lon')
        batch_op.drop_column('end_lat')
        batch_op.drop_column('start_lon')
        batch_op.drop_column('start_lat')
        batch_op.drop_column('experienced')
        batch_op.drop_column('max_visits')
        batch_op.drop_column('break_minutes')
        batch_op.drop_column('break_until')
        batch_op.drop_column('break_from')
        batch_op.drop_column('shift_end')
        batch_op.drop_column('shift_start')

    op.drop_column('address', 'elderly_resident')

    op.drop_table('unplanned_request')
    with op.batch_alter_table('sheet_stop', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sheet_stop_visit_request_id'))

    op.drop_table('sheet_stop')
    with op.batch_alter_table('visit_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_sheet_team_id'))
        batch_op.drop_index(batch_op.f('ix_visit_sheet_run_id'))
        batch_op.drop_index(batch_op.f('ix_visit_sheet_branch_id'))

    op.drop_geospatial_table('visit_sheet')
    with op.batch_alter_table('planning_run', schema=None) as batch_op:
        batch_op.drop_index('uq_planning_run_active', sqlite_where=sa.text("status IN ('queued', 'running')"), postgresql_where=sa.text("status IN ('queued', 'running')"))
        batch_op.drop_index(batch_op.f('ix_planning_run_branch_id'))

    op.drop_table('planning_run')
