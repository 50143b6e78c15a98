"""Planning routes only to points it trusts: a geocoder's match coarser than the address's text is left out, named
as such, until the supervisor places it (the pre-check puts it before them first)."""

from datetime import time

from api.addresses.grades import PointSource, Precision
from api.branches.models import Branch
from api.cases.models import Address, AddressValidity
from api.sheets.models import UnplannedReason
from api.sheets.planner import _sort_out
from api.teams.models import Team
from api.visit_requests.models import VisitPurpose, VisitRequest
from tests.factories import PEOPLES_SQUARE


def _request(source: PointSource, precision: Precision | None) -> VisitRequest:
    address = Address(raw_text="上海市黄浦区福州路300号2室", validity=AddressValidity.UNVERIFIED)
    address.place(PEOPLES_SQUARE.to_wkt(), source, precision=precision)
    return VisitRequest(address=address, purpose=VisitPurpose.CONFIRM_ADDRESS, priority=3)


def test_a_road_match_for_a_door_address_is_left_out_and_finer_or_human_points_are_planned() -> None:
    branch = Branch(visiting_from=time(8), visiting_until=time(21))
    road, door, building = (
        _request(PointSource.GEOCODER, p) for p in (Precision.ROAD, Precision.DOOR, Precision.BUILDING)
    )
    imported, placed = _request(PointSource.IMPORT, None), _request(PointSource.SUPERVISOR, None)

    plannable, left_out = _sort_out(branch, [Team()], [road, door, building, imported, placed])

    assert plannable == [door, building, imported, placed]
    assert [(request, reason) for request, reason, _ in left_out] == [(road, UnplannedReason.ADDRESS_POINT_UNTRUSTED)]
    assert "road" in left_out[0][2] and "complete" in left_out[0][2]
