from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.audit.chain import record_read
from api.branches.service import BranchNotFound, BranchRequired
from api.cases import restrictions, service
from api.cases.schemas import (
    AddressCreate,
    AddressRead,
    AddressUpdate,
    CaseCreate,
    CaseRead,
    CaseUpdate,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    RestrictionCreate,
    RestrictionLift,
    RestrictionRead,
)
from api.db import SessionDep
from api.deps import CaseWorker, Manager
from api.models.cases import AddressValidity, OverdueBucket
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses

router = APIRouter(tags=["cases"])


@router.post(
    "/cases",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed, BranchNotFound, BranchRequired, service.CaseReferenceTaken, service.PhoneCollectorNotEligible
    ),
)
def create_case(body: CaseCreate, session: SessionDep, user: Manager) -> CaseRead:
    """Open a debt case (supervisors: in their branch; admins: in the branch they name)."""
    return CaseRead.from_row(service.create_case(session, user, body))


@router.get("/cases", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def list_cases(
    session: SessionDep,
    user: CaseWorker,
    branch_id: Annotated[UUID | None, Query(description="Only this branch (admins).")] = None,
    overdue_bucket: Annotated[OverdueBucket | None, Query(description="Only cases this far overdue.")] = None,
    phone_collector_id: Annotated[UUID | None, Query(description="Only cases of this phone collector.")] = None,
    complaint_history: Annotated[
        bool | None, Query(description="Only cases with (true) or without (false) complaints.")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[CaseRead]:
    """Cases you may see: your branch's (admins: every branch; phone collectors: those assigned to you)."""
    rows, next_cursor = service.list_cases(
        session,
        user,
        branch_id=branch_id,
        overdue_bucket=overdue_bucket,
        phone_collector_id=phone_collector_id,
        complaint_history=complaint_history,
        cursor=cursor,
        limit=limit,
    )
    return Page[CaseRead](items=[CaseRead.from_row(c) for c in rows], next_cursor=next_cursor)


@router.get("/cases/{case_id}", responses=problem_responses(RoleNotAllowed, service.CaseNotFound))
def get_case(case_id: UUID, session: SessionDep, user: CaseWorker) -> CaseRead:
    """One case."""
    case = service.get_case(session, user, case_id)
    record_read(session, "debt_case", case.id)
    return CaseRead.from_row(case)


@router.patch(
    "/cases/{case_id}",
    responses=problem_responses(
        RoleNotAllowed, service.CaseNotFound, service.CaseReferenceTaken, service.PhoneCollectorNotEligible
    ),
)
def update_case(case_id: UUID, body: CaseUpdate, session: SessionDep, user: CaseWorker) -> CaseRead:
    """Change a case (managers), or the notes of one of your cases (phone collectors)."""
    return CaseRead.from_row(service.update_case(session, user, case_id, body))


@router.post(
    "/cases/{case_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, service.ContactPhoneTaken),
)
def create_contact(case_id: UUID, body: ContactCreate, session: SessionDep, user: CaseWorker) -> ContactRead:
    """Add a phone number to a case."""
    return ContactRead.model_validate(service.create_contact(session, user, case_id, body))


@router.get(
    "/cases/{case_id}/contacts", responses=problem_responses(RoleNotAllowed, service.CaseNotFound, ValidationFailed)
)
def list_contacts(
    case_id: UUID, session: SessionDep, user: CaseWorker, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[ContactRead]:
    """The phone numbers of a case."""
    rows, next_cursor = service.list_contacts(session, user, case_id, cursor, limit)
    return Page[ContactRead](items=[ContactRead.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/contacts/{contact_id}", responses=problem_responses(RoleNotAllowed, service.ContactNotFound))
def get_contact(contact_id: UUID, session: SessionDep, user: CaseWorker) -> ContactRead:
    """One phone number of a case."""
    return ContactRead.model_validate(service.get_contact(session, user, contact_id))


@router.patch(
    "/contacts/{contact_id}",
    responses=problem_responses(RoleNotAllowed, service.ContactNotFound, service.ContactPhoneTaken),
)
def update_contact(contact_id: UUID, body: ContactUpdate, session: SessionDep, user: CaseWorker) -> ContactRead:
    """Change a phone number or what is known about it."""
    return ContactRead.model_validate(service.update_contact(session, user, contact_id, body))


@router.post(
    "/cases/{case_id}/addresses",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, service.InvalidReasonMismatch),
)
def create_address(case_id: UUID, body: AddressCreate, session: SessionDep, user: CaseWorker) -> AddressRead:
    """Add an address to a case."""
    return AddressRead.from_row(service.create_address(session, user, case_id, body))


@router.get(
    "/cases/{case_id}/addresses", responses=problem_responses(RoleNotAllowed, service.CaseNotFound, ValidationFailed)
)
def list_addresses(
    case_id: UUID,
    session: SessionDep,
    user: CaseWorker,
    validity: Annotated[AddressValidity | None, Query(description="Only addresses with this validity.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[AddressRead]:
    """The addresses of a case."""
    rows, next_cursor = service.list_addresses(session, user, case_id, validity, cursor, limit)
    return Page[AddressRead](items=[AddressRead.from_row(a) for a in rows], next_cursor=next_cursor)


@router.get("/addresses/{address_id}", responses=problem_responses(RoleNotAllowed, service.AddressNotFound))
def get_address(address_id: UUID, session: SessionDep, user: CaseWorker) -> AddressRead:
    """One address of a case."""
    return AddressRead.from_row(service.get_address(session, user, address_id))


@router.patch(
    "/addresses/{address_id}",
    responses=problem_responses(RoleNotAllowed, service.AddressNotFound, service.InvalidReasonMismatch),
)
def update_address(address_id: UUID, body: AddressUpdate, session: SessionDep, user: CaseWorker) -> AddressRead:
    """Correct an address, place it on the map, or report it invalid (confirming or revoking invalidity: managers)."""
    return AddressRead.from_row(service.update_address(session, user, address_id, body))


@router.post(
    "/cases/{case_id}/restrictions",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, restrictions.RestrictionInvalid),
)
def set_restriction(case_id: UUID, body: RestrictionCreate, session: SessionDep, user: CaseWorker) -> RestrictionRead:
    """Restrict visits of a case: planning leaves its requests out where the branch's rule pack says so."""
    return RestrictionRead.model_validate(restrictions.set_restriction(session, user, case_id, body))


@router.get(
    "/cases/{case_id}/restrictions",
    responses=problem_responses(RoleNotAllowed, service.CaseNotFound, ValidationFailed),
)
def list_restrictions(
    case_id: UUID,
    session: SessionDep,
    user: CaseWorker,
    lifted: Annotated[bool | None, Query(description="Only lifted (true) or holding (false) ones.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[RestrictionRead]:
    """The restrictions of a case, lifted ones included, in the order they were set."""
    rows, next_cursor = restrictions.list_restrictions(session, user, case_id, lifted, cursor, limit)
    return Page[RestrictionRead](items=[RestrictionRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/cases/{case_id}/restrictions/{restriction_id}/lift",
    responses=problem_responses(
        RoleNotAllowed, service.CaseNotFound, restrictions.RestrictionNotFound, restrictions.RestrictionAlreadyLifted
    ),
)
def lift_restriction(
    case_id: UUID, restriction_id: UUID, body: RestrictionLift, session: SessionDep, user: Manager
) -> RestrictionRead:
    """Lift a restriction, saying why: the case's requests may be planned again."""
    return RestrictionRead.model_validate(restrictions.lift_restriction(session, user, case_id, restriction_id, body))
