from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, false, select
from sqlalchemy.orm import Session

from api.audit.chain import update_where
from api.branches import service as branches_service
from api.cases.schemas import (
    INVALID_VALIDITIES,
    AddressCreate,
    AddressUpdate,
    CaseCreate,
    CaseUpdate,
    ContactCreate,
    ContactUpdate,
)
from api.db import utcnow
from api.models.cases import (
    Address,
    AddressValidity,
    ContactSource,
    DebtCase,
    DebtorContact,
    InvalidReason,
    OverdueBucket,
)
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.pagination import filter_equal, paginate
from api.problems import Conflict, NotFound, RoleNotAllowed, ValidationFailed, problem_members
from api.rules.grades import PointSource
from api.scope import in_scope


class CaseNotFound(NotFound):
    title = "Case not found"
    slug = "case-not-found"
    members = problem_members(case_id=(UUID, "The case asked for."))


class ContactNotFound(NotFound):
    title = "Contact not found"
    slug = "contact-not-found"
    members = problem_members(contact_id=(UUID, "The contact asked for."))


class AddressNotFound(NotFound):
    title = "Address not found"
    slug = "address-not-found"
    members = problem_members(address_id=(UUID, "The address asked for."))


class CaseReferenceTaken(Conflict):
    title = "The branch has a case with this reference"
    slug = "case-reference-taken"
    members = problem_members(
        case_id=(UUID, "The case that has the reference."),
        reference=(str, "The reference."),
    )


class ContactPhoneTaken(Conflict):
    title = "The case has a contact with this phone number"
    slug = "contact-phone-taken"
    members = problem_members(
        contact_id=(UUID, "The case's contact that has the number."),
        phone=(str, "The number."),
    )


class PhoneCollectorNotEligible(ValidationFailed):
    title = "Not an active phone collector of the case's branch"
    slug = "phone-collector-not-eligible"
    members = problem_members(phone_collector_id=(UUID, "The user named."))


class InvalidReasonMismatch(ValidationFailed):
    title = "invalid_reason goes with reported_invalid and confirmed_invalid, and only with them"
    slug = "invalid-reason-mismatch"
    members = problem_members(validity=(AddressValidity, "The validity given."))


_MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


def _sees_case(user: User) -> ColumnElement[bool]:
    """Managers see their branch's cases (admins: all); a phone collector only the cases assigned to them."""
    if user.role is Role.PHONE_COLLECTOR:
        return and_(in_scope(user, DebtCase.branch_id), DebtCase.phone_collector_id == user.id)
    if user.role is Role.AGENT:
        return false()  # agents work from visit sheets, not from case files
    return in_scope(user, DebtCase.branch_id)


def visible_cases(user: User) -> Select[DebtCase]:
    return select(DebtCase).where(_sees_case(user))


def visible_contacts(user: User) -> Select[DebtorContact]:
    return select(DebtorContact).join(DebtorContact.case).where(_sees_case(user))


def visible_addresses(user: User) -> Select[Address]:
    return select(Address).join(Address.case).where(_sees_case(user))


def _source(user: User) -> ContactSource:
    return ContactSource.PHONE_COLLECTOR if user.role is Role.PHONE_COLLECTOR else ContactSource.CASE_FILE


# cases


def get_case(session: Session, user: User, case_id: UUID) -> DebtCase:
    case = session.scalar(visible_cases(user).where(DebtCase.id == case_id))
    if case is None:
        raise CaseNotFound(f"No case {case_id}.", case_id=case_id)
    return case


def list_cases(
    session: Session,
    user: User,
    *,
    branch_id: UUID | None,
    overdue_bucket: OverdueBucket | None,
    phone_collector_id: UUID | None,
    complaint_history: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DebtCase], str | None]:
    query = filter_equal(
        visible_cases(user),
        (DebtCase.branch_id, branch_id),
        (DebtCase.overdue_bucket, overdue_bucket),
        (DebtCase.phone_collector_id, phone_collector_id),
        (DebtCase.complaint_history, complaint_history),
    )
    return paginate(session, query, DebtCase, cursor, limit)


def is_eligible_collector(user: User | None, branch_id: UUID) -> bool:
    return user is not None and user.role is Role.PHONE_COLLECTOR and user.active and user.branch_id == branch_id


def _ensure_eligible_collector(session: Session, branch_id: UUID, user_id: UUID) -> None:
    if not is_eligible_collector(session.get(User, user_id), branch_id):
        raise PhoneCollectorNotEligible(
            f"User {user_id} is not an active phone collector of the case's branch.",
            phone_collector_id=user_id,
            errors=[{"pointer": "#/phone_collector_id", "detail": "not an active phone collector of this branch"}],
        )


def _ensure_reference_free(session: Session, branch_id: UUID, reference: str) -> None:
    clash = session.scalar(select(DebtCase.id).where(DebtCase.branch_id == branch_id, DebtCase.reference == reference))
    if clash is not None:
        raise CaseReferenceTaken(f"The branch already has case {reference!r}.", case_id=clash, reference=reference)


def create_case(session: Session, user: User, data: CaseCreate) -> DebtCase:
    branch = branches_service.branch_for_new_row(session, user, data.branch_id)
    _ensure_reference_free(session, branch.id, data.reference)
    if data.phone_collector_id is not None:
        _ensure_eligible_collector(session, branch.id, data.phone_collector_id)
    case = DebtCase(branch_id=branch.id, **data.model_dump(exclude={"branch_id"}))
    session.add(case)
    session.flush()
    session.refresh(case)
    return case


def update_case(session: Session, user: User, case_id: UUID, data: CaseUpdate) -> DebtCase:
    case = get_case(session, user, case_id)
    changes: dict[str, Any] = {name: value for name, value in data.changes().items() if getattr(case, name) != value}
    if user.role not in _MANAGERS and (managed := sorted(changes.keys() - {"notes"})):
        raise RoleNotAllowed(
            f"A {user.role.value} may change only the notes of a case, not {', '.join(managed)}.", role=user.role
        )
    if "reference" in changes:
        _ensure_reference_free(session, case.branch_id, changes["reference"])
    if changes.get("phone_collector_id") is not None:
        _ensure_eligible_collector(session, case.branch_id, changes["phone_collector_id"])
    for name, value in changes.items():
        setattr(case, name, value)
    session.flush()
    session.refresh(case)
    return case


# contacts


def get_contact(session: Session, user: User, contact_id: UUID) -> DebtorContact:
    contact = session.scalar(visible_contacts(user).where(DebtorContact.id == contact_id))
    if contact is None:
        raise ContactNotFound(f"No contact {contact_id}.", contact_id=contact_id)
    return contact


def list_contacts(
    session: Session, user: User, case_id: UUID, cursor: str | None, limit: int
) -> tuple[list[DebtorContact], str | None]:
    case = get_case(session, user, case_id)
    return paginate(
        session, select(DebtorContact).where(DebtorContact.case_id == case.id), DebtorContact, cursor, limit
    )


def _ensure_phone_free(session: Session, case_id: UUID, phone: str) -> None:
    clash = session.scalar(
        select(DebtorContact.id).where(DebtorContact.case_id == case_id, DebtorContact.phone == phone)
    )
    if clash is not None:
        raise ContactPhoneTaken(f"The case already has contact {phone}.", contact_id=clash, phone=phone)


def create_contact(session: Session, user: User, case_id: UUID, data: ContactCreate) -> DebtorContact:
    case = get_case(session, user, case_id)
    _ensure_phone_free(session, case.id, data.phone)
    contact = DebtorContact(case_id=case.id, source=_source(user), **data.model_dump())
    session.add(contact)
    session.flush()
    session.refresh(contact)
    return contact


def update_contact(session: Session, user: User, contact_id: UUID, data: ContactUpdate) -> DebtorContact:
    contact = get_contact(session, user, contact_id)
    changes = data.changes()
    if "phone" in changes and changes["phone"] != contact.phone:
        _ensure_phone_free(session, contact.case_id, changes["phone"])
    for name, value in changes.items():
        setattr(contact, name, value)
    session.flush()
    session.refresh(contact)
    return contact


# addresses


def get_address(session: Session, user: User, address_id: UUID) -> Address:
    address = session.scalar(visible_addresses(user).where(Address.id == address_id))
    if address is None:
        raise AddressNotFound(f"No address {address_id}.", address_id=address_id)
    return address


def list_addresses(
    session: Session, user: User, case_id: UUID, validity: AddressValidity | None, cursor: str | None, limit: int
) -> tuple[list[Address], str | None]:
    case = get_case(session, user, case_id)
    query = select(Address).where(Address.case_id == case.id)
    if validity is not None:
        query = query.where(Address.validity == validity)
    return paginate(session, query, Address, cursor, limit)


def _ensure_may_change_validity(user: User, old: AddressValidity | None, new: AddressValidity) -> None:
    """Confirming an address invalid takes it out of planning: only a manager does that or undoes it."""
    confirmation_changes = old != new and AddressValidity.CONFIRMED_INVALID in (old, new)
    if confirmation_changes and user.role not in _MANAGERS:
        raise RoleNotAllowed(
            "Only supervisors and admins confirm an address invalid or revoke the confirmation; "
            "report it as reported_invalid instead.",
            role=user.role,
        )


def _check_invalid_reason(validity: AddressValidity, reason: InvalidReason | None) -> None:
    if (validity in INVALID_VALIDITIES) == (reason is not None):
        return
    detail = (
        f"required when validity is {validity.value}"
        if reason is None
        else f"must be null when validity is {validity.value}"
    )
    raise InvalidReasonMismatch(
        f"invalid_reason is {detail}.", validity=validity, errors=[{"pointer": "#/invalid_reason", "detail": detail}]
    )


def create_address(session: Session, user: User, case_id: UUID, data: AddressCreate) -> Address:
    case = get_case(session, user, case_id)
    _ensure_may_change_validity(user, None, data.validity)
    _check_invalid_reason(data.validity, data.invalid_reason)
    address = Address(case_id=case.id, source=_source(user), **data.model_dump(exclude={"point"}))
    address.place(data.point.to_wkt() if data.point else None, PointSource.IMPORT, by_id=user.id)
    session.add(address)
    session.flush()
    session.refresh(address)
    return address


def update_address(session: Session, user: User, address_id: UUID, data: AddressUpdate) -> Address:
    address = get_address(session, user, address_id)
    changes: dict[str, Any] = data.changes()
    validity = changes.get("validity", address.validity)
    _ensure_may_change_validity(user, address.validity, validity)
    _check_invalid_reason(validity, changes.get("invalid_reason", address.invalid_reason))
    if validity is AddressValidity.CONFIRMED_INVALID and address.validity is not validity:
        _cancel_open_visit_requests(session, address)
    if "point" in changes:
        point = changes.pop("point")
        source = PointSource.SUPERVISOR if user.role in (Role.SUPERVISOR, Role.ADMIN) else PointSource.IMPORT
        address.place(point.to_wkt() if point else None, source, by_id=user.id)
    elif changes.get("raw_text", address.raw_text) != address.raw_text and address.point_source is PointSource.GEOCODER:
        address.place(None, PointSource.GEOCODER)  # the geocoder's point was the old text's: geocoded again
    for name, value in changes.items():
        setattr(address, name, value)
    session.flush()
    session.refresh(address)
    return address


def _cancel_open_visit_requests(session: Session, address: Address) -> None:
    update_where(
        session,
        VisitRequest,
        [VisitRequest.address_id == address.id, VisitRequest.status == VisitRequestStatus.OPEN],
        {"status": VisitRequestStatus.CANCELLED, "updated_at": utcnow()},
    )
