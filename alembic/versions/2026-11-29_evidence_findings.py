"""Findings of a new kind: a photo of a visit flagged for the supervisor's review.

Revision ID: 5b0c3e7d9a41
Revises: 42fc150b231b
Create Date: 2026-11-29 17:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b0c3e7d9a41'
down_revision: str | None = '42fc150b231b'
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
)


def _kind(*kinds: str) -> sa.Enum:
    return sa.Enum(*kinds, name='finding_kind', native_enum=False, create_constraint=True, length=25)


def upgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.alter_column(
            'kind', existing_type=_kind(*KINDS), type_=_kind(*KINDS, 'evidence_flagged'), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.alter_column(
            'kind', existing_type=_kind(*KINDS, 'evidence_flagged'), type_=_kind(*KINDS), existing_nullable=False
        )
