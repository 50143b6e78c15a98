"""Field rules: company_rules. Third parties asked at each visit (from the visits' latest outcomes), approvals of
valuables other than cash (an approval is `cash` up to an amount or one named `item`), each visit's time on site and
review flags, and findings of visits that stayed longer on site than their branch allows.

Existing approvals are cash; existing visits have no time on site measured and no flags.

Revision ID: c17c0e1f2b3e
Revises: b17c0e1f2b3d
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = 'c17c0e1f2b3e'
down_revision: str | None = 'b17c0e1f2b3d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    'repayment_promised',
    'contact_found',
    'address_reported',
    'address_confirmed_invalid',
    'address_report_rejected',
    'fake_address_suspected',
    'visit_failed',
    'evidence_flagged',
)
CASH_OR_ITEM = (
    "(kind = 'cash' AND max_amount > 0 AND item_description = '')"
    " OR (kind = 'item' AND max_amount IS NULL AND item_description <> '')"
)


def _enum(name: str, *values: str, length: int | None = None) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=length or max(map(len, values))
    )


def _finding_kind(*kinds: str) -> sa.Enum:
    return _enum('finding_kind', *kinds, length=25)


def upgrade() -> None:
    op.create_table(
        'third_party_inquiry',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('visit_id', sa.Uuid(), nullable=False),
        sa.Column('outcome_id', sa.Uuid(), nullable=False),
        sa.Column('address_id', sa.Uuid(), nullable=False),
        sa.Column('kind', _enum('third_party_kind', 'neighbour', 'property_management'), nullable=False),
        sa.Column('who', sa.Text(), nullable=False),
        sa.Column('reason_asked_again', sa.Text(), nullable=False),
        sa.Column('asked_at', api.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['address_id'], ['address.id'], name=op.f('fk_third_party_inquiry_address_id_address')
        ),
        sa.ForeignKeyConstraint(['case_id'], ['debt_case.id'], name=op.f('fk_third_party_inquiry_case_id_debt_case')),
        sa.ForeignKeyConstraint(
            ['outcome_id'], ['outcome.id'], name=op.f('fk_third_party_inquiry_outcome_id_outcome')
        ),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_third_party_inquiry_visit_id_visit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_third_party_inquiry')),
    )
    with op.batch_alter_table('third_party_inquiry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_third_party_inquiry_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_third_party_inquiry_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('cash_approval', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', _enum('approval_kind', 'cash', 'item'), nullable=False, server_default='cash')
        )
        batch_op.add_column(sa.Column('item_description', sa.Text(), nullable=False, server_default=''))
        batch_op.alter_column('max_amount', existing_type=sa.Numeric(precision=14, scale=2), nullable=True)
        batch_op.drop_constraint(op.f('ck_cash_approval_amount_positive'), type_='check')
        batch_op.create_check_constraint(op.f('ck_cash_approval_cash_or_item'), CASH_OR_ITEM)

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_site_s', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review_flags', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.alter_column(
            'kind',
            existing_type=_finding_kind(*KINDS),
            type_=_finding_kind(*KINDS, 'visit_overstayed'),
            existing_nullable=False,
        )


def downgrade() -> None:
    overstayed = "SELECT id FROM finding WHERE kind = 'visit_overstayed'"
    op.execute(f"DELETE FROM webhook_delivery WHERE finding_id IN ({overstayed})")
    op.execute("DELETE FROM finding WHERE kind = 'visit_overstayed'")
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.alter_column(
            'kind',
            existing_type=_finding_kind(*KINDS, 'visit_overstayed'),
            type_=_finding_kind(*KINDS),
            existing_nullable=False,
        )

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('review_flags')
        batch_op.drop_column('on_site_s')

    op.execute("DELETE FROM cash_approval WHERE kind = 'item'")
    with op.batch_alter_table('cash_approval', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cash_approval_cash_or_item'), type_='check')
        batch_op.drop_constraint(op.f('ck_cash_approval_approval_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_cash_approval_amount_positive'), 'max_amount > 0')
        batch_op.alter_column('max_amount', existing_type=sa.Numeric(precision=14, scale=2), nullable=False)
        batch_op.drop_column('item_description')
        batch_op.drop_column('kind')

    with op.batch_alter_table('third_party_inquiry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_third_party_inquiry_visit_id'))
        batch_op.drop_index(batch_op.f('ix_third_party_inquiry_case_id'))

    op.drop_table('third_party_inquiry')
