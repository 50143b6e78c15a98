"""Planning routes only to points it trusts: a geocoder's match coarser than the address's text is left out, named
as such, until the supervisor places it (the pre-check puts it before them first)."""

from datetime import date
from uuid import uuid4

from api.branches.rules import rules_of
from api.models.branches import Branch
from api.models.cases import Address, AddressValidity
from api.models.sheets import UnplannedReason
from api.models.teams import Team
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.rules.grades import PointSource, Precision
from api.rules.packs import Jurisdiction
from api.sheets.planner import _sort_out
from tests.factories import PEOPLES_SQUARE


def _request(source: PointSource, precision: Precision | None) -> VisitRequest:
    address = Address(raw_text="上海市黄浦区福州路300号2室", validity=AddressValidity.UNVERIFIED)
    address.place(PEOPLES_SQUARE.to_wkt(), source, precision=precision)
    return VisitRequest(address=address, purpose=VisitPurpose.CONFIRM_ADDRESS, priority=3)


def test_a_road_match_for_a_door_address_is_left_out_and_finer_or_human_points_are_planned() -> None:
    branch = Branch(timezone="Asia/Shanghai", jurisdiction=Jurisdiction.CN, max_on_site_min=60)  # never stored:
    branch.track_retention_days, branch.out_of_contact_min, branch.presence_threshold = 30, 15, 60  # no defaults
    branch.off_route_m, branch.off_route_min = 2000, 20
    branch.evidence_recording_coverage, branch.evidence_photo_purposes = 0.0, []
    road, door, building = (
        _request(PointSource.GEOCODER, p) for p in (Precision.ROAD, Precision.DOOR, Precision.BUILDING)
    )
    imported, placed = _request(PointSource.IMPORT, None), _request(PointSource.SUPERVISOR, None)

    requests = [road, door, building, imported, placed]
    for request in requests:
        request.id = uuid4()
    plannable, left_out = _sort_out(rules_of(branch), date(2026, 12, 3), [Team()], requests)

    assert list(plannable) == [request.id for request in (door, building, imported, placed)]
    assert [(request, reason) for request, reason, _ in left_out] == [(road, UnplannedReason.ADDRESS_POINT_UNTRUSTED)]
    assert "road" in left_out[0][2] and "complete" in left_out[0][2]
