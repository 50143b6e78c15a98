"""A case's restrictions on being visited: set by the case's workers, lifted by a manager with a reason. Which of
them keep a request from the field, and when, is `api.rules.eligibility`'s to say."""

from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.branches.service import local_today
from api.cases.schemas import RestrictionCreate, RestrictionLift
from api.cases.service import get_case
from api.db import utcnow
from api.models.branches import Branch
from api.models.cases import Address, CaseRestriction
from api.models.users import User
from api.pagination import paginate
from api.problems import Conflict, NotFound, ValidationFailed, problem_members
from api.rules.packs import CaseFlag


class RestrictionNotFound(NotFound):
    title = "Restriction not found"
    slug = "restriction-not-found"
    members = problem_members(restriction_id=(UUID, "The restriction asked for."))


class RestrictionInvalid(ValidationFailed):
    title = "The restriction does not hold together"
    slug = "restriction-invalid"


class RestrictionAlreadyLifted(Conflict):
    title = "The restriction is already lifted"
    slug = "restriction-already-lifted"
    members = problem_members(restriction_id=(UUID, "The restriction."))


def _problems(session: Session, case_id: UUID, data: RestrictionCreate) -> list[dict[str, str]]:
    """What is wrong with the restriction, as pointers into the body."""
    errors = []
    if data.starts_on is not None and data.ends_on is not None and data.ends_on < data.starts_on:
        errors.append({"pointer": "#/ends_on", "detail": "before starts_on"})
    if (data.time_from is None) != (data.time_until is None):
        missing = "time_until" if data.time_until is None else "time_from"
        errors.append({"pointer": f"#/{missing}", "detail": "give both time_from and time_until, or neither"})
    elif data.time_from is not None and data.time_until is not None and data.time_from >= data.time_until:
        errors.append({"pointer": "#/time_until", "detail": "not after time_from"})
    if data.flag is CaseFlag.INCONVENIENT:
        if data.time_from is None and data.time_until is None and data.address_id is None:
            errors.append({"pointer": "#/flag", "detail": "inconvenient needs times, an address or both"})
    else:
        for name in ("time_from", "time_until", "address_id"):
            if getattr(data, name) is not None:
                errors.append({"pointer": f"#/{name}", "detail": "only for inconvenient times and places"})
    if data.address_id is not None:
        found = session.scalar(select(Address.id).where(Address.id == data.address_id, Address.case_id == case_id))
        if found is None:
            errors.append({"pointer": "#/address_id", "detail": "not an address of this case"})
    return errors


def set_restriction(session: Session, user: User, case_id: UUID, data: RestrictionCreate) -> CaseRestriction:
    case = get_case(session, user, case_id)
    errors = _problems(session, case.id, data)
    if errors:
        raise RestrictionInvalid("; ".join(f"{e['pointer'][2:]}: {e['detail']}" for e in errors), errors=errors)
    starts_on = data.starts_on or local_today(session.get_one(Branch, case.branch_id))
    if data.ends_on is not None and data.ends_on < starts_on:
        errors = [{"pointer": "#/ends_on", "detail": f"before starts_on (today, {starts_on.isoformat()})"}]
        raise RestrictionInvalid(f"ends_on is before {starts_on.isoformat()}.", errors=errors)
    restriction = CaseRestriction(
        case_id=case.id,
        flag=data.flag,
        note=data.note,
        starts_on=starts_on,
        ends_on=data.ends_on,
        time_from=data.time_from,
        time_until=data.time_until,
        address_id=data.address_id,
        set_by_id=user.id,
    )
    session.add(restriction)
    session.flush()
    return restriction


def _case_restrictions(case_id: UUID) -> Select[CaseRestriction]:
    return select(CaseRestriction).where(CaseRestriction.case_id == case_id)


def list_restrictions(
    session: Session, user: User, case_id: UUID, lifted: bool | None, cursor: str | None, limit: int
) -> tuple[list[CaseRestriction], str | None]:
    case = get_case(session, user, case_id)
    query = _case_restrictions(case.id)
    if lifted is not None:
        query = query.where(CaseRestriction.lifted_at.is_not(None) if lifted else CaseRestriction.lifted_at.is_(None))
    return paginate(session, query, CaseRestriction, cursor, limit)


def lift_restriction(
    session: Session, user: User, case_id: UUID, restriction_id: UUID, data: RestrictionLift
) -> CaseRestriction:
    case = get_case(session, user, case_id)
    restriction = session.scalar(_case_restrictions(case.id).where(CaseRestriction.id == restriction_id))
    if restriction is None:
        raise RestrictionNotFound(
            f"Case {case.reference} has no restriction {restriction_id}.", restriction_id=restriction_id
        )
    if restriction.lifted_at is not None:
        raise RestrictionAlreadyLifted(
            f"Restriction {restriction_id} was lifted at {restriction.lifted_at.isoformat()}.",
            restriction_id=restriction_id,
        )
    restriction.lifted_by_id, restriction.lifted_at, restriction.lift_reason = user.id, utcnow(), data.reason
    session.flush()
    return restriction
