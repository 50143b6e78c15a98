"""Recording payments, following promises: each payment batch and each day's look settle the promises of the cases
they touch (`api.rules.promises`); a promise found broken, or kept only in part, is a finding for the case's
collector, and may become a follow-up visit request."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.cases import service as cases_service
from api.db import utcnow
from api.findings import service as findings_service
from api.models.branches import Branch
from api.models.cases import DebtCase
from api.models.findings import FindingKind
from api.models.payments import Payment, Promise
from api.models.users import User
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.models.visits import Outcome, Visit
from api.pagination import paginate
from api.payments.schemas import PaymentIn, PaymentsRecorded
from api.problems import Conflict, NotFound, ValidationFailed, problem_members
from api.rules.promises import Paid, PromiseState, Terms, standings
from api.visit_requests import service as visit_requests_service
from api.visit_requests.schemas import VisitRequestCreate

IN_CHUNK = 5_000  # rows a statement names or writes at once
FOLLOW_UP_DAYS = 7  # a follow-up visit may happen from tomorrow for a week
FOLLOW_UP_PRIORITY = 4


class PaymentReferenceTaken(Conflict):
    title = "A payment reference is already recorded for another payment"
    slug = "payment-reference-taken"


class PromiseNotFound(NotFound):
    title = "Promise not found"
    slug = "promise-not-found"
    members = problem_members(promise_id=(UUID, "The promise asked for."))


class PromiseNotBroken(Conflict):
    title = "Only a broken or partly kept promise is followed up"
    slug = "promise-not-broken"
    members = problem_members(state=(PromiseState, "The promise's state now."))


class FollowUpExists(Conflict):
    title = "The promise was followed up already"
    slug = "follow-up-exists"
    members = problem_members(visit_request_id=(UUID, "The follow-up visit request made of it."))


def record_payments(session: Session, user: User, payments: Sequence[PaymentIn]) -> PaymentsRecorded:
    """Record a batch of payments on cases the user sees, all or none: a case it does not see is 404, a currency
    not the case's or a reference recorded for another payment refuses the batch, naming each. The caller
    commits."""
    cases = _visible_cases(session, user, {row.case_id for row in payments})
    errors: list[dict[str, Any]] = []
    fresh: dict[tuple[UUID, str], PaymentIn] = {}
    duplicates = 0
    known = _recorded(session, [(cases[row.case_id].branch_id, row.reference) for row in payments])
    for index, row in enumerate(payments):
        case = cases[row.case_id]
        if row.currency != case.currency:
            errors.append({"pointer": f"#/payments/{index}/currency", "detail": f"the case is in {case.currency}"})
            continue
        key = (case.branch_id, row.reference)
        earlier = known.get(key) or fresh.get(key)
        if earlier is None:
            fresh[key] = row
        elif _same(earlier, row):
            duplicates += 1
        else:
            errors.append(
                {"pointer": f"#/payments/{index}/reference", "detail": "recorded already for another payment"}
            )
    if errors:
        taken = [error for error in errors if error["pointer"].endswith("/reference")]
        if taken:
            raise PaymentReferenceTaken(f"{len(taken)} reference(s) already name another payment.", errors=errors)
        raise ValidationFailed(f"{len(errors)} payment(s) are not in their case's currency.", errors=errors)
    rows = [
        {
            "branch_id": branch_id,
            "case_id": row.case_id,
            "amount": row.amount,
            "currency": row.currency,
            "paid_at": row.paid_at,
            "channel": row.channel,
            "reference": row.reference,
            "recorded_by_id": user.id,
        }
        for (branch_id, _), row in fresh.items()
    ]
    for start in range(0, len(rows), IN_CHUNK):
        session.execute(insert(Payment), rows[start : start + IN_CHUNK])
    paid = sorted({row.case_id for row in fresh.values()})
    changed = len(settle_cases(session, [cases[case_id] for case_id in paid]))
    return PaymentsRecorded(recorded=len(fresh), duplicates=duplicates, promises_changed=changed)


def _visible_cases(session: Session, user: User, ids: set[UUID]) -> dict[UUID, DebtCase]:
    """The cases named, each one the user sees (CaseNotFound for the first one not)."""
    wanted = sorted(ids)
    found: dict[UUID, DebtCase] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        found |= {
            case.id: case for case in session.scalars(cases_service.visible_cases(user).where(DebtCase.id.in_(chunk)))
        }
    missing = next((case_id for case_id in wanted if case_id not in found), None)
    if missing is not None:
        raise cases_service.CaseNotFound(f"No case {missing}.", case_id=missing)
    return found


def _recorded(session: Session, keys: Iterable[tuple[UUID, str]]) -> dict[tuple[UUID, str], PaymentIn]:
    """The payments already recorded under these (branch, reference) keys, as they were sent."""
    by_branch: dict[UUID, set[str]] = defaultdict(set)
    for branch_id, reference in keys:
        by_branch[branch_id].add(reference)
    found: dict[tuple[UUID, str], PaymentIn] = {}
    for branch_id, references in by_branch.items():
        named = sorted(references)
        rows = [
            row
            for start in range(0, len(named), IN_CHUNK)
            for row in session.scalars(
                select(Payment).where(
                    Payment.branch_id == branch_id, Payment.reference.in_(named[start : start + IN_CHUNK])
                )
            )
        ]
        for row in rows:
            found[(branch_id, row.reference)] = PaymentIn.model_construct(
                case_id=row.case_id,
                amount=row.amount,
                currency=row.currency,
                paid_at=row.paid_at,
                channel=row.channel,
                reference=row.reference,
            )
    return found


def _same(one: PaymentIn, other: PaymentIn) -> bool:
    return (one.case_id, one.amount, one.currency, one.paid_at, one.channel) == (
        other.case_id,
        other.amount,
        other.currency,
        other.paid_at,
        other.channel,
    )


def settle_case(session: Session, case: DebtCase, now: datetime | None = None) -> list[Promise]:
    """Bring the case's promises up to date with its payments and the clock; the promises that changed."""
    return settle_cases(session, [case], now)


def settle_cases(session: Session, cases: Sequence[DebtCase], now: datetime | None = None) -> list[Promise]:
    """Bring the cases' promises up to date with their payments and the clock, reading them a chunk of cases at a
    time; the promises that changed. A promise newly found broken or partly kept is published as a finding."""
    now = now or utcnow()
    changed: list[Promise] = []
    branches: dict[UUID, Branch] = {}
    for start in range(0, len(cases), IN_CHUNK):
        chunk = {case.id: case for case in cases[start : start + IN_CHUNK]}
        promises: dict[UUID, list[Promise]] = defaultdict(list)
        for promise in session.scalars(select(Promise).where(Promise.case_id.in_(chunk))):
            promises[promise.case_id].append(promise)
        paid: dict[UUID, list[Paid]] = defaultdict(list)
        for case_id, currency, paid_at, amount in session.execute(
            select(Payment.case_id, Payment.currency, Payment.paid_at, Payment.amount).where(
                Payment.case_id.in_(promises)
            )
        ):
            if currency == chunk[case_id].currency:
                paid[case_id].append(Paid(paid_at, amount))
        for case_id, case in chunk.items():
            held = promises.get(case_id)
            if not held:
                continue
            branch = branches.get(case.branch_id) or branches.setdefault(
                case.branch_id, session.get_one(Branch, case.branch_id)
            )
            changed += _settle(session, case, branch, held, paid[case_id], now)
    session.flush()
    return changed


def _settle(
    session: Session, case: DebtCase, branch: Branch, promises: list[Promise], paid: list[Paid], now: datetime
) -> list[Promise]:
    terms = [Terms(promise.id, promise.made_at, promise.due_on, promise.amount) for promise in promises]
    found = standings(terms, paid, branch.promise_grace_days, branch.timezone, now)
    changed = []
    for promise in promises:
        standing = found[promise.id]
        if (promise.state, promise.paid) == (standing.state, standing.paid):
            continue
        was = promise.state
        promise.state, promise.paid = standing.state, standing.paid
        promise.settled_at = None if standing.state is PromiseState.PENDING else now
        changed.append(promise)
        if standing.state in (PromiseState.BROKEN, PromiseState.PARTLY_KEPT) and was is PromiseState.PENDING:
            findings_service.stage(  # settle_cases flushes them all at once
                session,
                case,
                FindingKind.PROMISE_BROKEN,
                visit_id=promise.visit_id,
                promise_id=promise.id,
                state=standing.state.value,
                due_on=promise.due_on,
                amount=promise.amount,
                paid=standing.paid,
            )
    return changed


def settle_due(session: Session, now: datetime | None = None) -> int:
    """The day's look: settle the cases whose pending promises may have passed their deadline (their date plus
    the most grace days a branch may give is behind); how many promises changed."""
    now = now or utcnow()
    horizon = now.date() + timedelta(days=1)  # a promise due today in a zone ahead of UTC may be past already
    due = session.scalars(
        select(DebtCase)
        .where(
            DebtCase.id.in_(
                select(Promise.case_id).where(Promise.state == PromiseState.PENDING, Promise.due_on <= horizon)
            )
        )
        .order_by(DebtCase.id)
    )
    return len(settle_cases(session, list(due), now))


def promise_from_outcome(session: Session, visit: Visit, outcome: Outcome, made_at: datetime) -> None:
    """The promise of a confirmed outcome (or its amendment), made at `made_at` (the team's arrival): made,
    changed, or gone when the amendment has none (unless it was followed up already); then settled against the
    case's payments."""
    case = session.get_one(DebtCase, visit.case_id)
    report = outcome.report
    promise = session.scalar(select(Promise).where(Promise.visit_id == visit.id))
    if report.promise is None:
        if promise is not None and promise.follow_up_request_id is None:
            session.delete(promise)
            session.flush()
        return
    if promise is None:
        promise = Promise(
            branch_id=case.branch_id,
            case_id=case.id,
            visit_id=visit.id,
            made_at=made_at,
            currency=case.currency,
            state=PromiseState.PENDING,
        )
        session.add(promise)
    promise.due_on, promise.amount = report.promise.date, report.promise.amount
    session.flush()
    settle_case(session, case)


def visible_promises(user: User) -> Select[Promise]:
    case = cases_service.visible_cases(user).subquery()
    return select(Promise).join(case, case.c.id == Promise.case_id)


def get_promise(session: Session, user: User, promise_id: UUID) -> Promise:
    promise = session.scalar(visible_promises(user).where(Promise.id == promise_id))
    if promise is None:
        raise PromiseNotFound(f"No promise {promise_id}.", promise_id=promise_id)
    return promise


def cases_of(session: Session, promises: Sequence[Promise]) -> dict[UUID, DebtCase]:
    """The cases of `promises`, in one query."""
    wanted = {promise.case_id for promise in promises}
    return {case.id: case for case in session.scalars(select(DebtCase).where(DebtCase.id.in_(wanted)))}


def list_promises(
    session: Session,
    user: User,
    *,
    state: PromiseState | None,
    due_from: date | None,
    due_until: date | None,
    case_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Promise], str | None]:
    if due_from is not None and due_until is not None and due_from > due_until:
        raise ValidationFailed(
            "due_from is after due_until.", errors=[{"parameter": "due_from", "detail": "after due_until"}]
        )
    query = visible_promises(user)
    if state is not None:
        query = query.where(Promise.state == state)
    if due_from is not None:
        query = query.where(Promise.due_on >= due_from)
    if due_until is not None:
        query = query.where(Promise.due_on <= due_until)
    if case_id is not None:
        query = query.where(Promise.case_id == case_id)
    return paginate(session, query, Promise, cursor, limit)


def follow_up(session: Session, user: User, promise_id: UUID) -> VisitRequest:
    """A negotiation visit to the address where a broken (or partly kept) promise was made, from tomorrow for a
    week, at high priority; the promise keeps it."""
    promise = get_promise(session, user, promise_id)
    if promise.follow_up_request_id is not None:
        raise FollowUpExists("This promise was followed up already.", visit_request_id=promise.follow_up_request_id)
    if promise.state not in (PromiseState.BROKEN, PromiseState.PARTLY_KEPT):
        raise PromiseNotBroken(f"The promise is {promise.state.value}, not broken.", state=promise.state)
    visit = session.get_one(Visit, promise.visit_id)
    branch = session.get_one(Branch, promise.branch_id)
    tomorrow = branches_service.local_today(branch) + timedelta(days=1)
    shortfall = promise.amount - promise.paid
    request = visit_requests_service.create_visit_request(
        session,
        user,
        VisitRequestCreate(
            case_id=promise.case_id,
            address_id=visit.address_id,
            purpose=VisitPurpose.NEGOTIATE,
            priority=FOLLOW_UP_PRIORITY,
            earliest_date=tomorrow,
            latest_date=tomorrow + timedelta(days=FOLLOW_UP_DAYS - 1),
            notes=f"Promise of {promise.amount:.2f} {promise.currency} due {promise.due_on} {promise.state.value}:"
            f" {shortfall:.2f} unpaid.",
        ),
    )
    promise.follow_up_request_id = request.id
    session.flush()
    return request
