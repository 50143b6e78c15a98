from uuid import UUID

from fastapi import APIRouter, Request

from api.addresses import precheck, service
from api.addresses.schemas import AddressPointPut, PrecheckCreate, PrecheckRead
from api.branches.service import BranchNotFound, BranchRequired
from api.cases.schemas import AddressRead
from api.cases.service import AddressNotFound
from api.db import SessionDep
from api.deps import Manager
from api.problems import RoleNotAllowed, problem_responses
from api.roads.travel import travel_provider

router = APIRouter(tags=["addresses"])


@router.put("/addresses/{address_id}/point", responses=problem_responses(RoleNotAllowed, AddressNotFound))
def put_address_point(address_id: UUID, body: AddressPointPut, session: SessionDep, user: Manager) -> AddressRead:
    """Place the address where it really is: planning trusts your point, and no geocoder moves it again."""
    return AddressRead.from_row(service.set_point(session, user, address_id, body.point))


@router.post("/address-prechecks", responses=problem_responses(RoleNotAllowed, BranchRequired, BranchNotFound))
def create_address_precheck(body: PrecheckCreate, request: Request, session: SessionDep, user: Manager) -> PrecheckRead:
    """Check every address due on a day now (planning runs do it first too): each problem becomes a report, an
    address the branch's roads do not reach among them."""
    travel = travel_provider(request.app.state.settings.planning)
    summary = precheck.precheck_for(session, user, body.branch_id, body.work_date, travel)
    return PrecheckRead(
        branch_id=summary.branch_id,
        work_date=summary.work_date,
        addresses_checked=summary.addresses,
        already_waiting=summary.waiting,
        reports_raised=dict(summary.reported),
        report_ids=summary.report_ids,
    )
