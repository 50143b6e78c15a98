"""Addresses from text to a trusted point: each address's grade and parsed parts, where its point came from and how
precise it is; the geocoders' answers; address reports raised by the pre-check or an outcome, with candidates.

Existing addresses are graded by `api.rules.grading` as it is when this runs; their points came with the
case file (`import`). Existing reports are agents'.

Revision ID: f64967c069c2
Revises: 7c1f4e2a9b30
Create Date: 2026-12-02 03:54:34.267793
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = 'f64967c069c2'
down_revision: str | None = '7c1f4e2a9b30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRADES = ('complete', 'building', 'road', 'district', 'vague', 'unparseable', 'unknown_format')
PRECISIONS = ('door', 'building', 'road', 'neighbourhood', 'district', 'city', 'unknown')
REASONS = (
    'address_invalid', 'address_reported', 'address_not_located', 'no_teams', 'outside_every_shift',
    'no_team_with_skill', 'pin_impossible', 'lower_priority', 'removed',
)
PROBLEMS = ('no_point', 'vague_text', 'incomplete_text', 'untrusted_match', 'far_from_district', 'shared_point')


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=max(map(len, values)))


def upgrade() -> None:
    op.create_table(
        'geocode_answer',
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('query_key', sa.String(length=64), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('candidates', sa.JSON(), nullable=False),
        sa.Column('answered_at', api.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('provider', 'query_key', name=op.f('pk_geocode_answer')),
    )
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grade', _enum('address_grade', *GRADES), nullable=True))
        batch_op.add_column(sa.Column('parts', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(
            sa.Column('point_source', _enum('point_source', 'import', 'geocoder', 'supervisor', 'door'), nullable=True)
        )
        batch_op.add_column(sa.Column('point_precision', _enum('point_precision', *PRECISIONS), nullable=True))
        batch_op.add_column(sa.Column('point_provider', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('point_accuracy_m', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('point_set_at', api.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('point_set_by_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_address_point_set_by_id_app_user'), 'app_user', ['point_set_by_id'], ['id']
        )
    _grade_existing()
    op.execute("UPDATE address SET point_source = 'import', point_set_at = updated_at WHERE point IS NOT NULL")
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.alter_column('grade', existing_type=_enum('address_grade', *GRADES), nullable=False)
        batch_op.create_check_constraint(op.f('ck_address_point_has_source'), '(point IS NULL) = (point_source IS NULL)')

    with op.batch_alter_table('address_report', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'raised_by', _enum('report_origin', 'agent', 'precheck', 'outcome'), nullable=False,
                server_default='agent',
            )
        )
        batch_op.add_column(sa.Column('problem', _enum('address_problem', *PROBLEMS), nullable=True))
        batch_op.add_column(sa.Column('grade', _enum('report_grade', *GRADES), nullable=True))
        batch_op.add_column(sa.Column('candidates', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.alter_column('reported_by_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.create_check_constraint(
            op.f('ck_address_report_agent_report_has_agent'), "raised_by != 'agent' OR reported_by_id IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f('ck_address_report_precheck_report_has_problem'), "(raised_by = 'precheck') = (problem IS NOT NULL)"
        )
    _unplanned_reasons(*REASONS, 'address_point_untrusted')


def _unplanned_reasons(*reasons: str) -> None:
    with op.batch_alter_table('unplanned_request', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_unplanned_request_unplanned_reason'), type_='check')
        listed = ", ".join(f"'{reason}'" for reason in reasons)
        batch_op.create_check_constraint(op.f('ck_unplanned_request_unplanned_reason'), f"reason IN ({listed})")
        batch_op.alter_column(
            'reason', existing_type=sa.String(length=19), type_=sa.String(length=max(map(len, reasons)))
        )


def _grade_existing() -> None:
    from api.rules.grading import describe

    connection = op.get_bind()
    address = sa.table('address', sa.column('id', sa.Uuid()), sa.column('raw_text'), sa.column('grade'),
                       sa.column('parts', sa.JSON()))
    for row in connection.execute(sa.select(address.c.id, address.c.raw_text)).all():
        grade, parts = describe(row.raw_text)
        connection.execute(
            address.update().where(address.c.id == row.id).values(grade=grade.value, parts=parts.as_dict())
        )


def downgrade() -> None:
    op.execute("UPDATE unplanned_request SET reason = 'address_not_located' WHERE reason = 'address_point_untrusted'")
    _unplanned_reasons(*REASONS)
    op.execute("DELETE FROM address_report WHERE raised_by != 'agent'")
    with op.batch_alter_table('address_report', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_address_report_precheck_report_has_problem'), type_='check')
        batch_op.drop_constraint(op.f('ck_address_report_agent_report_has_agent'), type_='check')
        batch_op.drop_constraint(op.f('ck_address_report_report_origin'), type_='check')
        batch_op.drop_constraint(op.f('ck_address_report_address_problem'), type_='check')
        batch_op.drop_constraint(op.f('ck_address_report_report_grade'), type_='check')
        batch_op.drop_column('grade')
        batch_op.alter_column('reported_by_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('candidates')
        batch_op.drop_column('problem')
        batch_op.drop_column('raised_by')

    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_address_point_has_source'), type_='check')
        for enum in ('address_grade', 'point_source', 'point_precision'):
            batch_op.drop_constraint(op.f(f'ck_address_{enum}'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_address_point_set_by_id_app_user'), type_='foreignkey')
        batch_op.drop_column('point_set_by_id')
        batch_op.drop_column('point_set_at')
        batch_op.drop_column('point_accuracy_m')
        batch_op.drop_column('point_provider')
        batch_op.drop_column('point_precision')
        batch_op.drop_column('point_source')
        batch_op.drop_column('parts')
        batch_op.drop_column('grade')

    op.drop_table('geocode_answer')
