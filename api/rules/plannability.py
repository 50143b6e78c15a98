"""Whether a visit request and its address may be planned: the one rule the planner, the day's edits and urgent
insertions, visit request creation and the evening pre-check all ask."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from api.rules.grades import AddressGrade, AddressValidity, PointSource, Precision, point_trusted


class Unplannable(StrEnum):
    """Why a request cannot be planned, the request's own reasons first, then its address's."""

    NOT_PENDING = "not_pending"  # the request was completed or cancelled
    NOT_DUE = "not_due"  # the work date is outside the request's dates
    ADDRESS_INVALID = "address_invalid"  # the supervisor confirmed the address invalid
    ADDRESS_REPORTED = "address_reported"  # reported invalid, awaiting the supervisor
    ADDRESS_NOT_LOCATED = "address_not_located"  # no map point
    ADDRESS_POINT_UNTRUSTED = "address_point_untrusted"  # a geocoder's point coarser than the address's text


# what a point that arrives later (geocoding, the pre-check, a supervisor) cannot cure
ADDRESS_REFUSED = frozenset({Unplannable.ADDRESS_INVALID, Unplannable.ADDRESS_REPORTED})


@dataclass(frozen=True, slots=True)
class Plannability:
    reasons: tuple[Unplannable, ...]  # every reason that holds, in `Unplannable` order; empty: plannable

    @property
    def plannable(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> Unplannable | None:
        """The reason a person is told first."""
        return self.reasons[0] if self.reasons else None


def plannable(
    *,
    validity: AddressValidity,
    located: bool,
    point_source: PointSource | None,
    grade: AddressGrade,
    precision: Precision | None,
    pending: bool = True,
    due: tuple[date, date] | None = None,
    work_date: date | None = None,
) -> Plannability:
    """Whether the request may be planned on `work_date`: still pending (open or planned), due that day (`due`: its
    earliest and latest dates; None: not asked), its address neither confirmed nor reported invalid, with a map
    point that planning trusts (any point a file or a person gave, a geocoder's only when as precise as the text)."""
    reasons = []
    if not pending:
        reasons.append(Unplannable.NOT_PENDING)
    if due is not None and work_date is not None and not due[0] <= work_date <= due[1]:
        reasons.append(Unplannable.NOT_DUE)
    if validity is AddressValidity.CONFIRMED_INVALID:
        reasons.append(Unplannable.ADDRESS_INVALID)
    elif validity is AddressValidity.REPORTED_INVALID:
        reasons.append(Unplannable.ADDRESS_REPORTED)
    if not located:
        reasons.append(Unplannable.ADDRESS_NOT_LOCATED)
    elif not point_trusted(point_source, grade, precision):
        reasons.append(Unplannable.ADDRESS_POINT_UNTRUSTED)
    return Plannability(tuple(reasons))
