from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime
from api.enums import enum_column_type
from api.rules.third_parties import ThirdParty, ThirdPartyKind


class ThirdPartyInquiry(Base):
    """A neighbour or the property management asked where the debtor is, at a visit of the case, as the visit's
    latest outcome tells it: what the sheets show the next team, and what tells a repeated question."""

    __tablename__ = "third_party_inquiry"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("debt_case.id"), index=True)
    visit_id: Mapped[UUID] = mapped_column(ForeignKey("visit.id"), index=True)
    outcome_id: Mapped[UUID] = mapped_column(ForeignKey("outcome.id"))
    address_id: Mapped[UUID] = mapped_column(ForeignKey("address.id"))
    kind: Mapped[ThirdPartyKind] = mapped_column(enum_column_type(ThirdPartyKind, "third_party_kind"))
    who: Mapped[str] = mapped_column(Text())  # as the agents wrote it
    reason_asked_again: Mapped[str] = mapped_column(Text(), default="")
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime())  # when the outcome telling it was submitted

    @property
    def party(self) -> ThirdParty:
        return ThirdParty(self.kind, self.address_id, self.who)
