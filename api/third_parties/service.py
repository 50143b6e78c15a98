"""Who was asked about a case's debtor: kept from the visits' outcomes, shown on the sheets, checked at the door."""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.models.third_parties import ThirdPartyInquiry
from api.rules.third_parties import Inquiry


def asked_by_case(session: Session, case_ids: Collection[UUID]) -> dict[UUID, list[ThirdPartyInquiry]]:
    """The third parties asked about each case, oldest first, in one query whatever the number of cases."""
    found: dict[UUID, list[ThirdPartyInquiry]] = {case_id: [] for case_id in case_ids}
    query = (
        select(ThirdPartyInquiry)
        .where(ThirdPartyInquiry.case_id.in_(list(found)))
        .order_by(ThirdPartyInquiry.asked_at, ThirdPartyInquiry.id)
    )
    for row in session.scalars(query):
        found[row.case_id].append(row)
    return found


def asked_elsewhere(session: Session, case_id: UUID, visit_id: UUID) -> list[ThirdPartyInquiry]:
    """The third parties asked about the case at its other visits, oldest first."""
    return [row for row in asked_by_case(session, [case_id])[case_id] if row.visit_id != visit_id]


def record_inquiries(
    session: Session,
    case_id: UUID,
    visit_id: UUID,
    outcome_id: UUID,
    asked_at: datetime,
    inquiries: Sequence[Inquiry],
) -> None:
    """The visit's inquiries as its latest outcome tells them: an amendment's replace the ones it corrects."""
    session.execute(delete(ThirdPartyInquiry).where(ThirdPartyInquiry.visit_id == visit_id))
    session.add_all(
        ThirdPartyInquiry(
            case_id=case_id,
            visit_id=visit_id,
            outcome_id=outcome_id,
            address_id=inquiry.party.address_id,
            kind=inquiry.party.kind,
            who=inquiry.party.who,
            reason_asked_again=inquiry.reason_asked_again,
            asked_at=asked_at,
        )
        for inquiry in inquiries
    )
