"""Evidence of visits (recordings, photos, documents) and each branch's evidence policy.

Revision ID: 42fc150b231b
Revises: e8dd657d7017
Create Date: 2026-11-29 17:17:56.700727
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '42fc150b231b'
down_revision: str | None = 'e8dd657d7017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evidence_item',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('branch_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('recording', 'photo', 'document', name='evidence_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('purpose', sa.Enum('whole_visit', 'door', 'mailbox', 'building', 'surroundings', 'signed_letter', 'other', name='evidence_purpose', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('declared_by_id', sa.Uuid(), nullable=False),
    sa.Column('storage_backend', sa.String(length=10), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('multipart_upload_id', sa.String(length=1024), nullable=True),
    sa.Column('status', sa.Enum('declared', 'accepted', 'rejected', name='evidence_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rejected_reason', sa.String(length=40), nullable=False),
    sa.Column('rejected_detail', sa.Text(), nullable=False),
    sa.Column('detected_type', sa.String(length=100), nullable=False),
    sa.Column('duration_s', sa.Double(), nullable=True),
    sa.Column('codec', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('distance_m', sa.Double(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status <> 'rejected' OR rejected_reason <> ''", name=op.f('ck_evidence_item_rejected_has_reason')),
    sa.CheckConstraint('size > 0', name=op.f('ck_evidence_item_size_positive')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_evidence_item_branch_id_branch')),
    sa.ForeignKeyConstraint(['declared_by_id'], ['app_user.id'], name=op.f('fk_evidence_item_declared_by_id_app_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_evidence_item_team_id_team')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_evidence_item_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_item')),
    sa.UniqueConstraint('client_id', name=op.f('uq_evidence_item_client_id')),
    sa.UniqueConstraint('visit_id', 'sha256', name=op.f('uq_evidence_item_visit_id_sha256'))
    )
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_item_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_visit_id'), ['visit_id'], unique=False)

    # plain ALTERs: a batch rebuild of a spatial table trips SpatiaLite's RenameTable
    op.add_column('branch', sa.Column('evidence_recording_coverage', sa.Double(), nullable=False, server_default='0.9'))
    op.add_column(
        'branch', sa.Column('evidence_photo_purposes', sa.JSON(), nullable=False, server_default='["door", "mailbox"]')
    )



def downgrade() -> None:
    op.drop_column('branch', 'evidence_photo_purposes')
    op.drop_column('branch', 'evidence_recording_coverage')

    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_item_visit_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_item_team_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_item_branch_id'))

    op.drop_table('evidence_item')
