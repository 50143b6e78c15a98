"""Planning review: supervisors' pending edits of a draft plan, runs that re-solve another, the state of a stop.

Revision ID: ad8ba02bb6f3
Revises: d9479baf71ab
Create Date: 2026-11-29 14:29:17.753436
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'ad8ba02bb6f3'
down_revision: str | None = 'd9479baf71ab'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('plan_edit',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('visit_request_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.Enum('pin', 'remove', name='edit_action', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('position', sa.SmallInteger(), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('edited_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action = 'pin' OR (team_id IS NULL AND position IS NULL AND start_time IS NULL)", name=op.f('ck_plan_edit_remove_bare')),
    sa.CheckConstraint("action = 'remove' OR team_id IS NOT NULL", name=op.f('ck_plan_edit_pin_has_team')),
    sa.CheckConstraint('position IS NULL OR position >= 1', name=op.f('ck_plan_edit_position_from_one')),
    sa.ForeignKeyConstraint(['edited_by_id'], ['app_user.id'], name=op.f('fk_plan_edit_edited_by_id_app_user')),
    sa.ForeignKeyConstraint(['run_id'], ['planning_run.id'], name=op.f('fk_plan_edit_run_id_planning_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_plan_edit_team_id_team')),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_request.id'], name=op.f('fk_plan_edit_visit_request_id_visit_request')),
    sa.PrimaryKeyConstraint('run_id', 'visit_request_id', name=op.f('pk_plan_edit')),
    sa.UniqueConstraint('run_id', 'team_id', 'position', name=op.f('uq_plan_edit_run_id_team_id_position'))
    )
    with op.batch_alter_table('planning_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('based_on_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_planning_run_based_on_id_planning_run'), 'planning_run', ['based_on_id'], ['id'])
    # the enum's CHECK separately: in one batch step it would name the column before the column exists
    with op.batch_alter_table('sheet_stop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=11), nullable=False, server_default='planned'))
    with op.batch_alter_table('sheet_stop', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_sheet_stop_stop_state'), "state IN ('planned', 'in_progress', 'done')")


def downgrade() -> None:
    with op.batch_alter_table('sheet_stop', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sheet_stop_stop_state'), type_='check')
        batch_op.drop_column('state')

    with op.batch_alter_table('planning_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_planning_run_based_on_id_planning_run'), type_='foreignkey')
        batch_op.drop_column('based_on_id')

    op.drop_table('plan_edit')
