"""Third parties at the door: a neighbour or the property management is asked only where the debtor is, and the
same one is not asked again about the same case unless the agents say why."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from api.rules.wording import words_key


class ThirdPartyKind(StrEnum):
    """Who else than the debtor was asked where the debtor is: a neighbour or the property management."""

    NEIGHBOUR = "neighbour"
    PROPERTY_MANAGEMENT = "property_management"


@dataclass(frozen=True, slots=True)
class ThirdParty:
    """Someone other than the debtor asked at an address of the case, named as the agents wrote it."""

    kind: ThirdPartyKind
    address_id: UUID
    who: str  # e.g. "neighbour, flat 302"

    @property
    def key(self) -> tuple[ThirdPartyKind, UUID, str]:
        """Who counts as the same third party: the same kind at the same address, named with the same words (in
        any order, case or spacing)."""
        return self.kind, self.address_id, words_key(self.who)


@dataclass(frozen=True, slots=True)
class Inquiry:
    """A third party asked at this visit; `where` locates it in the caller's input (a JSON pointer, say)."""

    where: str
    party: ThirdParty
    reason_asked_again: str = ""


@dataclass(frozen=True, slots=True)
class Asked:
    """A third party asked at an earlier visit of the case."""

    party: ThirdParty
    asked_at: datetime
    visit_id: UUID


@dataclass(frozen=True, slots=True)
class AskedAgain:
    """An inquiry that asks a third party again without saying why, and when they were asked before."""

    inquiry: Inquiry
    before: tuple[Asked, ...]


def asked_again_without_reason(inquiries: Sequence[Inquiry], earlier: Iterable[Asked]) -> list[AskedAgain]:
    """The inquiries, in order, that ask a third party already asked at an earlier visit of the case and give no
    reason (blank counts as none)."""
    before: dict[tuple[ThirdPartyKind, UUID, str], list[Asked]] = {}
    for asked in sorted(earlier, key=lambda asked: asked.asked_at):
        before.setdefault(asked.party.key, []).append(asked)
    return [
        AskedAgain(inquiry, tuple(before[inquiry.party.key]))
        for inquiry in inquiries
        if inquiry.party.key in before and not inquiry.reason_asked_again.strip()
    ]
