"""Outcomes submitted by one agent and confirmed by the other, amendments instead of edits."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.db import utcnow
from api.models.branches import Branch
from api.models.cases import Address, DebtCase
from api.models.users import User
from api.models.visit_requests import VisitRequest, VisitRequestStatus
from api.models.visits import Outcome, PresenceStage, Visit, VisitStatus
from api.problems import ClientIdReused, Conflict, ValidationFailed, problem_members
from api.rules.door import care_note_missing
from api.rules.field import FieldRules
from api.rules.third_parties import Asked, Inquiry, ThirdParty, ThirdPartyKind, asked_again_without_reason
from api.third_parties import service as third_parties_service
from api.third_parties.schemas import ThirdPartyAsked
from api.visits import aftermath, cash, evidence_policy, presence
from api.visits.schemas import OutcomeCreate
from api.visits.service import ensure_stop_open, get_visit, outcomes_of


class VisitNotInProgress(Conflict):
    title = "The visit is not in progress"
    slug = "visit-not-in-progress"
    members = problem_members(visit_id=(UUID, "The visit."))


class NothingToConfirm(Conflict):
    title = "No outcome waits for confirmation"
    slug = "nothing-to-confirm"
    members = problem_members(visit_id=(UUID, "The visit."))


class SameAgentConfirms(Conflict):
    title = "The other agent must confirm the outcome"
    slug = "same-agent-confirms"
    members = problem_members(submitted_by_id=(UUID, "Who submitted the outcome (you)."))


class CareNoteRequired(ValidationFailed):
    title = "A visit flagged for care needs a note"
    slug = "care-note-required"


class ThirdPartyAskedAgain(ValidationFailed):
    title = "This third party was asked about the case at an earlier visit"
    slug = "third-party-asked-again"
    members = problem_members(
        rule_label=(str, "The pack's rule on third parties, e.g. `CN: debtor and guarantors only`."),
        rule_source=(str, "Where the rule comes from."),
        asked_before=(list[ThirdPartyAsked], "When and by which visit they were asked before."),
    )


def submit_outcome(session: Session, user: User, visit_id: UUID, data: OutcomeCreate) -> Visit:
    """One agent's account of the visit, for the other to confirm."""
    visit = get_visit(session, user, visit_id)
    if _retried(session, user, visit, data.client_id):
        return visit
    ensure_stop_open(session, visit)
    if visit.status is not VisitStatus.IN_PROGRESS:
        raise VisitNotInProgress(f"Visit {visit.id} is {visit.status.value}.", visit_id=visit.id)
    _ensure_care_note(session, visit, data)
    cash.ensure_valuables_approved(session, visit, data)
    inquiries = _ensure_third_parties_heard(session, visit, data)
    outcome = _outcome(visit, user, data, amends=None)
    session.add(outcome)
    visit.status = VisitStatus.REPORTED
    session.flush()
    third_parties_service.record_inquiries(
        session, visit.case_id, visit.id, outcome.id, outcome.submitted_at, inquiries
    )
    aftermath.measure_time_on_site(session, visit, outcome)
    session.flush()
    aftermath.sync_stop(session, visit)
    return visit


def amend_outcome(session: Session, user: User, visit_id: UUID, data: OutcomeCreate) -> Visit:
    """A correction of the confirmed outcome, linked to it; the other agent confirms it too. Both are kept."""
    visit = get_visit(session, user, visit_id)
    if _retried(session, user, visit, data.client_id):
        return visit
    outcomes = outcomes_of(session, visit)
    if visit.status is not VisitStatus.COMPLETED or outcomes[-1].confirmed_at is None:
        raise NothingToConfirm(
            f"Visit {visit.id} has no confirmed outcome to amend (it is {visit.status.value}).", visit_id=visit.id
        )
    _ensure_care_note(session, visit, data)
    cash.ensure_valuables_approved(session, visit, data)
    inquiries = _ensure_third_parties_heard(session, visit, data)
    outcome = _outcome(visit, user, data, amends=outcomes[-1])
    session.add(outcome)
    visit.status = VisitStatus.AMENDMENT_REPORTED
    session.flush()
    third_parties_service.record_inquiries(
        session, visit.case_id, visit.id, outcome.id, outcome.submitted_at, inquiries
    )
    session.flush()
    aftermath.sync_stop(session, visit)
    return visit


def confirm_outcome(session: Session, user: User, visit_id: UUID, rules: FieldRules) -> Visit:
    """The other agent agrees with the outcome (or amendment) waiting: once the evidence meets the branch's policy,
    the visit is complete, the request done, and contacts found at the door join the case."""
    visit = get_visit(session, user, visit_id)
    outcomes = outcomes_of(session, visit)
    waiting = outcomes[-1] if outcomes and outcomes[-1].confirmed_at is None else None
    if waiting is None:
        raise NothingToConfirm(f"Visit {visit.id} has no outcome waiting for confirmation.", visit_id=visit.id)
    if waiting.submitted_by_id == user.id:
        raise SameAgentConfirms("You submitted this outcome; your partner confirms it.", submitted_by_id=user.id)
    if visit.status is VisitStatus.REPORTED:
        evidence_policy.ensure_met(session, visit, until=waiting.submitted_at)
    waiting.confirmed_by_id, waiting.confirmed_at = user.id, utcnow()
    completing = visit.status is VisitStatus.REPORTED
    if completing:
        visit.completed_at = waiting.confirmed_at
        session.get_one(VisitRequest, visit.visit_request_id).status = VisitRequestStatus.COMPLETED
    visit.status = VisitStatus.COMPLETED
    aftermath.learn_from(session, visit, waiting)
    session.flush()
    aftermath.sync_stop(session, visit, confirmed=waiting)
    if completing:
        presence.assess_visit(session, visit, PresenceStage.COMPLETION, rules)
    return visit


def _ensure_care_note(session: Session, visit: Visit, data: OutcomeCreate) -> None:
    case = session.get_one(DebtCase, visit.case_id)
    address = session.get_one(Address, visit.address_id)
    if care_note_missing(case.complaint_history, address.elderly_resident, data.notes):
        raise CareNoteRequired(
            "This visit is flagged for care (complaint history or elderly residents): describe how it went.",
            errors=[{"pointer": "#/notes", "detail": "required for a visit flagged for care"}],
        )


def _retried(session: Session, user: User, visit: Visit, client_id: UUID) -> bool:
    earlier = session.scalar(select(Outcome).where(Outcome.client_id == client_id))
    if earlier is None:
        return False
    if earlier.visit_id != visit.id or earlier.submitted_by_id != user.id:
        raise ClientIdReused("This client_id was used for another outcome.", client_id=client_id)
    return True


def _outcome(visit: Visit, user: User, data: OutcomeCreate, amends: Outcome | None) -> Outcome:
    return Outcome(
        visit_id=visit.id,
        amends_id=amends.id if amends else None,
        sequence=amends.sequence + 1 if amends else 1,
        details=data.model_dump(mode="json", exclude={"client_id"}),
        submitted_by_id=user.id,
        client_id=data.client_id,
    )


def _inquiries(visit: Visit, data: OutcomeCreate) -> list[Inquiry]:
    """The third parties the outcome says were asked, each with its JSON pointer."""
    asked = [(f"#/neighbours/{index}", ThirdPartyKind.NEIGHBOUR, one) for index, one in enumerate(data.neighbours)]
    if data.property_management is not None:
        asked.append(("#/property_management", ThirdPartyKind.PROPERTY_MANAGEMENT, data.property_management))
    return [
        Inquiry(where, ThirdParty(kind, visit.address_id, inquiry.who), inquiry.reason_asked_again.strip())
        for where, kind, inquiry in asked
    ]


def _ensure_third_parties_heard(session: Session, visit: Visit, data: OutcomeCreate) -> list[Inquiry]:
    """The outcome's inquiries, once none asks a third party an earlier visit of the case asked without saying
    why: a neighbour or the property management is not asked about the debtor over and over."""
    inquiries = _inquiries(visit, data)
    if not inquiries:
        return inquiries
    rows = third_parties_service.asked_elsewhere(session, visit.case_id, visit.id)
    repeated = asked_again_without_reason(inquiries, [Asked(row.party, row.asked_at, row.visit_id) for row in rows])
    if repeated:
        rule = branches_service.rules_of(session.get_one(Branch, visit.branch_id)).pack.third_parties
        again = {one.inquiry.party.key for one in repeated}
        raise ThirdPartyAskedAgain(
            f"{len(repeated)} third part{'y was' if len(repeated) == 1 else 'ies were'} asked about this case at an"
            f" earlier visit; ask again only with reason_asked_again ({rule.label}).",
            rule_label=rule.label,
            rule_source=rule.source,
            asked_before=[ThirdPartyAsked.from_row(row) for row in rows if row.party.key in again],
            errors=[
                {
                    "pointer": one.inquiry.where,
                    "detail": f"{one.inquiry.party.who!r} was asked at visit {one.before[-1].visit_id} on"
                    f" {one.before[-1].asked_at:%Y-%m-%d}: give reason_asked_again",
                }
                for one in repeated
            ],
        )
    return inquiries
