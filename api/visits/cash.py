"""Cash and other valuables at the door: a supervisor's approval beforehand, and the outcome checked against it."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models.users import User
from api.models.visits import CashApproval, Visit, VisitStatus
from api.problems import Conflict, problem_members
from api.rules import valuables
from api.visits.schemas import CashApprovalCreate, OutcomeCreate
from api.visits.service import get_visit


class CashNotApproved(Conflict):
    title = "No cash without a supervisor's approval for this visit"
    slug = "cash-not-approved"
    members = problem_members(approved_up_to=(str, "The amount approved for this visit, if any (a decimal string)."))


class ItemNotApproved(Conflict):
    title = "No valuables without a supervisor's approval naming them"
    slug = "item-not-approved"
    members = problem_members(
        description=(str, "The first item refused, as the outcome describes it."),
        approval_id=(UUID, "The approval it names."),
        why=(
            valuables.ItemRefusal,
            "`not_approved`: this visit has no such approval; `cash_approval`: it approves cash, not an item;"
            " `other_item`: it names another item; `approval_used`: another item of the outcome uses it.",
        ),
    )


class VisitCompleted(Conflict):
    title = "The visit is complete"
    slug = "visit-completed"
    members = problem_members(visit_id=(UUID, "The visit."))


def approve_cash(session: Session, user: User, visit_id: UUID, data: CashApprovalCreate) -> CashApproval:
    """A supervisor allows a cash payment at the visit, up to an amount, or the receipt of one named item, before
    its outcome is recorded."""
    visit = get_visit(session, user, visit_id)
    if visit.status in (VisitStatus.COMPLETED, VisitStatus.AMENDMENT_REPORTED):
        raise VisitCompleted(f"Visit {visit.id} is complete; approve before the outcome.", visit_id=visit.id)
    approval = CashApproval(
        visit_id=visit.id,
        kind=data.kind,
        max_amount=data.max_amount,
        item_description=data.item_description.strip(),
        reason=data.reason,
        approved_by_id=user.id,
    )
    session.add(approval)
    session.flush()
    return approval


def cash_approvals(session: Session, user: User, visit_id: UUID) -> list[CashApproval]:
    """The cash approvals given for a visit the user may see, oldest first."""
    visit = get_visit(session, user, visit_id)
    return list(
        session.scalars(select(CashApproval).where(CashApproval.visit_id == visit.id).order_by(CashApproval.created_at))
    )


def ensure_valuables_approved(session: Session, visit: Visit, data: OutcomeCreate) -> None:
    """No cash and no other valuables without a supervisor's approval of the visit, given beforehand."""
    if data.cash_payment is None and not data.items_received:
        return
    approvals = [
        valuables.Approval(row.id, row.kind, row.max_amount, row.item_description)
        for row in session.scalars(select(CashApproval).where(CashApproval.visit_id == visit.id))
    ]
    if data.cash_payment is not None and not valuables.cash_approved(data.cash_payment.amount, approvals):
        allowed = valuables.cash_allowed(approvals)
        raise CashNotApproved(
            f"Cash of {data.cash_payment.amount} needs a supervisor's approval for this visit"
            + (f"; the approval covers {allowed}." if allowed is not None else ", given before the outcome."),
            approved_up_to=str(allowed) if allowed is not None else None,
        )
    items = [valuables.ItemReceived(item.description, item.approval_id) for item in data.items_received]
    refused = valuables.item_refusals(items, approvals)
    if refused:
        first, why = items[refused[0][0]], refused[0][1]
        raise ItemNotApproved(
            f"'{first.description}' needs a supervisor's approval of this visit naming it, given before the outcome"
            f" ({why.value}).",
            description=first.description,
            approval_id=first.approval_id,
            why=why,
            errors=[
                {"pointer": f"#/items_received/{index}", "detail": f"{items[index].description}: {why.value}"}
                for index, why in refused
            ],
        )
