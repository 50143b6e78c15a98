"""Why geocoding failed, and reports that resolve themselves: each address's last geocoding attempt (its outcome in
a code, the providers' words, when); a `resolved` report (the system closed its own report whose cause went away,
with no supervisor's decision); findings of a report resolved and of a provider refusing a branch's key or quota,
the latter about the branch itself (neither a case nor a team).

Revision ID: a7c31e0d5f28
Revises: f3a1c0d2e4b9
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import api.db

from alembic import op

revision: str = "a7c31e0d5f28"
down_revision: str | None = "f3a1c0d2e4b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = (
    "placed",
    "coarse_match",
    "no_match",
    "outage",
    "rate_limited",
    "key_refused",
    "quota_exhausted",
    "provider_error",
)
STATUSES = ("pending", "confirmed", "rejected")
FINDING_KINDS = (
    "repayment_promised",
    "contact_found",
    "address_reported",
    "address_confirmed_invalid",
    "address_report_rejected",
    "fake_address_suspected",
    "visit_failed",
    "evidence_flagged",
    "visit_overstayed",
    "presence_doubtful",
    "team_out_of_contact",
    "team_off_route",
    "sheet_changed",
    "team_running_late",
)
NEW_FINDING_KINDS = ("address_report_resolved", "geocoder_refused")


def _enum(name: str, *values: str, length: int | None = None) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=length or max(map(len, values))
    )


def upgrade() -> None:
    with op.batch_alter_table("address") as batch:
        batch.add_column(sa.Column("geocode_outcome", _enum("geocode_outcome", *OUTCOMES), nullable=True))
        batch.add_column(sa.Column("geocode_detail", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("geocoded_at", api.db.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("address_report") as batch:
        batch.alter_column(
            "status",
            existing_type=_enum("report_status", *STATUSES),
            type_=_enum("report_status", *STATUSES, "resolved"),
            existing_nullable=False,
        )
        batch.drop_constraint(op.f("ck_address_report_decided_by_someone"), type_="check")
        batch.create_check_constraint(
            op.f("ck_address_report_decided_by_someone_or_resolved"),
            "status IN ('pending', 'resolved') OR decided_by_id IS NOT NULL",
        )
    with op.batch_alter_table("finding") as batch:
        batch.alter_column(
            "kind",
            existing_type=_enum("finding_kind", *FINDING_KINDS, length=25),
            type_=_enum("finding_kind", *FINDING_KINDS, *NEW_FINDING_KINDS, length=25),
            existing_nullable=False,
        )
        batch.drop_constraint(op.f("ck_finding_about_case_or_team"), type_="check")
        batch.create_check_constraint(
            op.f("ck_finding_about_case_team_or_branch"),
            "case_id IS NOT NULL OR team_id IS NOT NULL OR kind = 'geocoder_refused'",
        )


def downgrade() -> None:
    new = "SELECT id FROM finding WHERE kind IN ('address_report_resolved', 'geocoder_refused')"
    op.execute(f"DELETE FROM webhook_delivery WHERE finding_id IN ({new})")
    op.execute(f"DELETE FROM finding WHERE id IN ({new})")
    with op.batch_alter_table("finding") as batch:
        batch.drop_constraint(op.f("ck_finding_about_case_team_or_branch"), type_="check")
        batch.create_check_constraint(op.f("ck_finding_about_case_or_team"), "case_id IS NOT NULL OR team_id IS NOT NULL")
        batch.alter_column(
            "kind",
            existing_type=_enum("finding_kind", *FINDING_KINDS, *NEW_FINDING_KINDS, length=25),
            type_=_enum("finding_kind", *FINDING_KINDS, length=25),
            existing_nullable=False,
        )
    # the old schema has no report closed without a supervisor: the resolved ones go
    op.execute("DELETE FROM address_report WHERE status = 'resolved'")
    with op.batch_alter_table("address_report") as batch:
        batch.drop_constraint(op.f("ck_address_report_decided_by_someone_or_resolved"), type_="check")
        batch.create_check_constraint(
            op.f("ck_address_report_decided_by_someone"), "status = 'pending' OR decided_by_id IS NOT NULL"
        )
        batch.alter_column(
            "status",
            existing_type=_enum("report_status", *STATUSES, "resolved"),
            type_=_enum("report_status", *STATUSES),
            existing_nullable=False,
        )
    with op.batch_alter_table("address") as batch:
        batch.drop_constraint(op.f("ck_address_geocode_outcome"), type_="check")
        batch.drop_column("geocoded_at")
        batch.drop_column("geocode_detail")
        batch.drop_column("geocode_outcome")
