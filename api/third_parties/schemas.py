from uuid import UUID

from pydantic import BaseModel, Field

from api.models.third_parties import ThirdPartyInquiry
from api.rules.third_parties import ThirdPartyKind
from api.schemas import Instant


class ThirdPartyAsked(BaseModel):
    """A neighbour or the property management asked where the debtor is at an earlier visit of the case: ask them
    again only with a reason (`reason_asked_again` of the inquiry)."""

    kind: ThirdPartyKind
    who: str = Field(description="As the agents wrote it, e.g. 'neighbour, flat 302'.")
    address_id: UUID = Field(description="The address of the case they were asked at.")
    asked_at: Instant = Field(description="When the outcome telling it was submitted.")
    visit_id: UUID = Field(description="The visit that asked them.")
    reason_asked_again: str = Field(description="Why that visit asked them again; empty the first time.")

    @classmethod
    def from_row(cls, row: ThirdPartyInquiry) -> "ThirdPartyAsked":
        return cls.model_validate(row, from_attributes=True)
