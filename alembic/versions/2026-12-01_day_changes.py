"""The day as it changes: where each stop stands (checking in, failed, cancelled with the reason), amendments waiting
for confirmation, supervisors' door overrides, the teams a left-out request is about, the branch's sheet language.

Existing rows get the state their visits and requests already imply.

Revision ID: b09fd3bce782
Revises: 5b0c3e7d9a41
Create Date: 2026-12-01 21:07:47.404879
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = 'b09fd3bce782'
down_revision: str | None = '5b0c3e7d9a41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STOP_STATES = ('planned', 'in_progress', 'done')
NEW_STOP_STATES = ('planned', 'checking_in', 'in_progress', 'done', 'failed', 'cancelled')
VISIT_STATUSES = ('checking_in', 'in_progress', 'reported', 'completed')


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=max(map(len, values)))


# the visit of a stop, and the latest outcome of that visit
_VISIT = "SELECT 1 FROM visit v WHERE v.sheet_id = sheet_stop.sheet_id AND v.visit_request_id = sheet_stop.visit_request_id"
_LAST_OUTCOME = "o.visit_id = v.id AND o.sequence = (SELECT max(o2.sequence) FROM outcome o2 WHERE o2.visit_id = v.id)"


def upgrade() -> None:
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('language', _enum('language', 'zh', 'en'), nullable=False, server_default='zh')
        )
    with op.batch_alter_table('sheet_stop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cancelled_at', api.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('visit_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('awaiting_confirmation', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key(batch_op.f('fk_sheet_stop_visit_id_visit'), 'visit', ['visit_id'], ['id'])
        batch_op.alter_column(
            'state',
            existing_type=_enum('stop_state', *STOP_STATES),
            type_=_enum('stop_state', *NEW_STOP_STATES),
            existing_nullable=False,
            existing_server_default='planned',
        )
    with op.batch_alter_table('unplanned_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_ids', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hours_override_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('hours_override_by_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('hours_override_at', api.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            'status',
            existing_type=_enum('visit_status', *VISIT_STATUSES),
            type_=_enum('visit_status', *VISIT_STATUSES, 'amendment_reported'),
            existing_nullable=False,
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_visit_hours_override_by_id_app_user'), 'app_user', ['hours_override_by_id'], ['id']
        )
    op.execute(f"UPDATE sheet_stop SET state = 'checking_in' WHERE state = 'planned' AND EXISTS ({_VISIT})")
    op.execute(
        f"UPDATE sheet_stop SET state = 'failed' WHERE state = 'done' AND EXISTS ({_VISIT} AND EXISTS "
        f"(SELECT 1 FROM outcome o WHERE {_LAST_OUTCOME} AND o.contact_result = 'nobody'))"
    )
    op.execute(
        "UPDATE sheet_stop SET state = 'cancelled', cancel_reason = 'the visit request was cancelled' "
        "WHERE state IN ('planned', 'checking_in') AND visit_request_id IN "
        "(SELECT id FROM visit_request WHERE status = 'cancelled')"
    )
    op.execute(
        "UPDATE visit SET status = 'amendment_reported' WHERE status = 'completed' AND EXISTS "
        "(SELECT 1 FROM outcome o WHERE o.visit_id = visit.id AND o.confirmed_at IS NULL)"
    )
    op.execute(
        "UPDATE sheet_stop SET visit_id = (SELECT v.id FROM visit v WHERE v.sheet_id = sheet_stop.sheet_id AND "
        "v.visit_request_id = sheet_stop.visit_request_id)"
    )
    op.execute(
        "UPDATE sheet_stop SET awaiting_confirmation = true WHERE visit_id IN "
        "(SELECT id FROM visit WHERE status IN ('reported', 'amendment_reported'))"
    )


def downgrade() -> None:
    op.execute("UPDATE visit SET status = 'completed' WHERE status = 'amendment_reported'")
    op.execute("UPDATE sheet_stop SET state = 'planned' WHERE state IN ('checking_in', 'cancelled')")
    op.execute("UPDATE sheet_stop SET state = 'done' WHERE state = 'failed'")
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visit_hours_override_by_id_app_user'), type_='foreignkey')
        batch_op.alter_column(
            'status',
            existing_type=_enum('visit_status', *VISIT_STATUSES, 'amendment_reported'),
            type_=_enum('visit_status', *VISIT_STATUSES),
            existing_nullable=False,
        )
        batch_op.drop_column('hours_override_at')
        batch_op.drop_column('hours_override_by_id')
        batch_op.drop_column('hours_override_reason')
    with op.batch_alter_table('unplanned_request', schema=None) as batch_op:
        batch_op.drop_column('team_ids')
    with op.batch_alter_table('sheet_stop', schema=None) as batch_op:
        batch_op.alter_column(
            'state',
            existing_type=_enum('stop_state', *NEW_STOP_STATES),
            type_=_enum('stop_state', *STOP_STATES),
            existing_nullable=False,
            existing_server_default='planned',
        )
        batch_op.drop_constraint(batch_op.f('fk_sheet_stop_visit_id_visit'), type_='foreignkey')
        batch_op.drop_column('awaiting_confirmation')
        batch_op.drop_column('visit_id')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('cancel_reason')
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_branch_language'), type_='check')
        batch_op.drop_column('language')
