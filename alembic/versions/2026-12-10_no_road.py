"""An address the road engine cannot reach (no road near it, or cut off from the others' roads): its request is left
out of a run as `no_road`, and the run puts the address before the supervisor as a pre-check report of problem
`no_road`. A downgrade counts the requests as `outside_every_shift`, how they were left out before, and the reports
as `untrusted_match`, a point not to plan on (their notes say why).

Revision ID: 5e0b7c2d9a14
Revises: dc8e2d69f93f
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e0b7c2d9a14"
down_revision: str | None = "dc8e2d69f93f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
    "address_invalid",
    "address_reported",
    "address_not_located",
    "address_point_untrusted",
    "no_teams",
    "outside_every_shift",
    "no_team_with_skill",
    "pin_impossible",
    "lower_priority",
    "removed",
    "outside_legal_hours",
    "not_a_visiting_day",
    "not_eligible",
)


PROBLEMS = ("no_point", "vague_text", "incomplete_text", "untrusted_match", "far_from_district", "shared_point")


def upgrade() -> None:
    _unplanned_reasons(*REASONS, "no_road")
    _address_problems(*PROBLEMS, "no_road")


def downgrade() -> None:
    op.execute("UPDATE unplanned_request SET reason = 'outside_every_shift' WHERE reason = 'no_road'")
    _unplanned_reasons(*REASONS)
    op.execute("UPDATE address_report SET problem = 'untrusted_match' WHERE problem = 'no_road'")
    _address_problems(*PROBLEMS)


def _unplanned_reasons(*reasons: str) -> None:
    with op.batch_alter_table("unplanned_request", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_unplanned_request_unplanned_reason"), type_="check")
        listed = ", ".join(f"'{reason}'" for reason in reasons)
        batch_op.create_check_constraint(op.f("ck_unplanned_request_unplanned_reason"), f"reason IN ({listed})")


def _address_problems(*problems: str) -> None:
    with op.batch_alter_table("address_report", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_address_report_address_problem"), type_="check")
        listed = ", ".join(f"'{problem}'" for problem in problems)
        batch_op.create_check_constraint(op.f("ck_address_report_address_problem"), f"problem IN ({listed})")
