"""Outgoing webhooks: every finding is POSTed to the branch's subscriptions, signed with HMAC-SHA256, retried with
exponential backoff until a 2xx answer: delivered at least once, each with the finding's id for de-duplication.
Only to where `sending` allows: HTTPS and public addresses unless configured otherwise, no redirects.

Headers as Standard Webhooks names and signs them: `Webhook-Id` (the finding's id, the same on every retry),
`Webhook-Timestamp` (Unix seconds) and `Webhook-Signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
the key being the subscription secret's (`api.webhooks.secret`).
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from api.db import utcnow
from api.findings.schemas import event_of
from api.models.findings import Finding
from api.models.webhooks import WebhookDelivery, WebhookSubscription
from api.webhooks import sending
from api.webhooks.secret import signing_key
from api.webhooks.sending import Reach

TIMEOUT_S = 10
FIRST_RETRY = timedelta(seconds=2)
LAST_RETRY = timedelta(hours=1)  # the backoff stops growing here; attempts go on until delivered
BATCH = 50
LEASE = timedelta(seconds=BATCH * TIMEOUT_S + 60)  # longer than sending a whole batch to receivers that time out
_NEW_FINDINGS = "fieldvisit.new_findings"  # Session.info key: findings flushed, their deliveries not yet added


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The `Webhook-Signature` of Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of the id, time and body."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode()


def queue_new_findings(sessions: sessionmaker[Session]) -> None:
    """Give every finding a session of `sessions` adds a delivery to each active subscription of its branch, in the
    finding's transaction: wired where sessions are made (`api.sessions`), as the audit chain is, so that findings
    know nothing of webhooks."""
    event.listen(sessions, "after_flush", _note_new_findings)
    event.listen(sessions, "after_flush_postexec", _queue_noted_findings)


def _note_new_findings(session: Session, _flush: UOWTransaction) -> None:
    found = [obj for obj in session.new if isinstance(obj, Finding)]
    if found:
        session.info.setdefault(_NEW_FINDINGS, []).extend(found)


def _queue_noted_findings(session: Session, _flush: UOWTransaction) -> None:
    """The flush is over and the findings have their ids; their deliveries go with the next flush (or the commit)."""
    found: list[Finding] = session.info.pop(_NEW_FINDINGS, [])
    if not found:
        return
    subscriptions = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.branch_id).where(
            WebhookSubscription.branch_id.in_({finding.branch_id for finding in found}),
            WebhookSubscription.active.is_(True),
        )
    ).all()
    session.add_all(
        WebhookDelivery(subscription_id=sub_id, finding_id=finding.id)
        for finding in found
        for sub_id, branch_id in subscriptions
        if branch_id == finding.branch_id
    )


@dataclass(frozen=True)
class _Attempt:
    """A claimed delivery, with what sending it needs: no session stays open while it is sent."""

    delivery_id: UUID
    url: str
    secret: str
    finding_id: int
    body: bytes


def deliver_due(sessions: sessionmaker[Session], reach: Reach, now: datetime | None = None) -> int:
    """Attempt every delivery that is due (to where `reach` allows); returns how many were delivered. Three short
    steps, so that a slow receiver holds no transaction or connection: claim the due deliveries, send them, record
    the answers."""
    now = now or utcnow()
    attempts = _claim_due(sessions, now)
    answers: list[tuple[_Attempt, str | None]] = []
    try:
        for attempt in attempts:
            answers.append((attempt, _post(attempt, now, reach)))
    finally:  # what was sent is recorded even if a later send failed unexpectedly
        if answers:
            _record(sessions, answers, now)
    return sum(error is None for _, error in answers)


def _claim_due(sessions: sessionmaker[Session], now: datetime) -> list[_Attempt]:
    """Up to BATCH due deliveries, leased (due again only after LEASE), so that another dispatcher running at the
    same time sends none of them; a dispatcher that dies with a lease leaves its deliveries to the next one then."""
    with sessions() as session:
        due = session.execute(
            select(WebhookDelivery.id, WebhookSubscription.url, WebhookSubscription.secret, Finding)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .join(Finding, Finding.id == WebhookDelivery.finding_id)
            .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at <= now)
            .where(WebhookSubscription.active.is_(True))
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(BATCH)
        ).all()
        if not due:
            return []
        claimed = set(
            session.scalars(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id.in_([row.id for row in due]),
                    WebhookDelivery.delivered_at.is_(None),
                    WebhookDelivery.next_attempt_at <= now,  # not claimed by another dispatcher meanwhile
                )
                .values(next_attempt_at=now + LEASE)
                .returning(WebhookDelivery.id)
            )
        )
        attempts = [
            _Attempt(delivery_id, url, secret, finding.id, _body(finding))
            for delivery_id, url, secret, finding in due
            if delivery_id in claimed
        ]
        session.commit()
    return attempts


def _record(sessions: sessionmaker[Session], answers: list[tuple[_Attempt, str | None]], now: datetime) -> None:
    """Each answer on its delivery: delivered, or the error and when to try again (backing off)."""
    with sessions() as session:
        for attempt, error in answers:
            delivery = session.get_one(WebhookDelivery, attempt.delivery_id)
            delivery.attempts += 1
            if error is None:
                delivery.delivered_at, delivery.last_error = utcnow(), ""
            else:
                delivery.last_error = error
                delivery.next_attempt_at = now + min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LAST_RETRY)
        session.commit()


def _body(finding: Finding) -> bytes:
    return event_of(finding).model_dump_json().encode()


def _post(attempt: _Attempt, now: datetime, reach: Reach) -> str | None:
    """Send the finding; None when the receiver took it (2xx), else what went wrong."""
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "Webhook-Id": str(attempt.finding_id),
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(attempt.secret, str(attempt.finding_id), timestamp, attempt.body),
    }
    return sending.post(attempt.url, attempt.body, headers, reach, TIMEOUT_S)
