"""Claiming a key, keeping its claim alive, taking over an abandoned one, and settling it with the answer.

Each function is one short transaction of its own, run in a worker thread by the middleware. A claim names the
attempt (`claim`, random) and its process (`owner`); only that attempt may renew or settle it, so an attempt that
was taken over, and comes back late, changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.db import rows_matched, utcnow
from api.models.idempotency import IdempotencyRecord
from api.processes import gone, owner

LEASE = timedelta(seconds=30)  # a claim not renewed for this long belongs to an attempt that is not running
RENEW_EVERY_S = LEASE.total_seconds() / 3
REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True, slots=True)
class Claimed:
    """This attempt holds the key (`taken_over`: from an attempt that was not running any more)."""

    claim: str
    taken_over: bool = False


Sessions = sessionmaker[Session]


def claim_key(sessions: Sessions, user_id: UUID, key: str, digest: str) -> Claimed | IdempotencyRecord:
    """Hold the key for this attempt; or the earlier record, when another attempt holds it or has answered."""
    claim = uuid4().hex
    with sessions() as session:
        session.add(
            IdempotencyRecord(
                user_id=user_id, key=key, request_hash=digest, claim=claim, owner=owner(), lease_until=_lease()
            )
        )
        try:
            session.commit()
            return Claimed(claim)
        except IntegrityError:
            session.rollback()
        earlier = session.get(IdempotencyRecord, (user_id, key))
        if earlier is None:  # the first attempt failed and let go of the key meanwhile: claim it again
            return claim_key(sessions, user_id, key, digest)
        if earlier.status_code is None and earlier.request_hash == digest and abandoned(earlier, utcnow()):
            taken = rows_matched(
                session,
                update(IdempotencyRecord)
                .where(*_held_by(user_id, key, earlier.claim), IdempotencyRecord.status_code.is_(None))
                .values(claim=claim, owner=owner(), lease_until=_lease(), created_at=utcnow()),
            )
            session.commit()
            if taken == 1:  # of two retries taking over at once, one does
                return Claimed(claim, taken_over=True)
            session.refresh(earlier)
        session.expunge(earlier)
        return earlier


def abandoned(record: IdempotencyRecord, now: datetime) -> bool:
    """Its attempt is not running any more: the lease ran out, or its process on this host is gone."""
    return record.lease_until is None or record.lease_until <= now or gone(record.owner)


def renew(sessions: Sessions, user_id: UUID, key: str, claim: str) -> None:
    """Move the lease on while the attempt works."""
    with sessions() as session:
        session.execute(update(IdempotencyRecord).where(*_held_by(user_id, key, claim)).values(lease_until=_lease()))
        session.commit()


def settle(sessions: Sessions, user_id: UUID, key: str, claim: str, captured: dict[str, Any]) -> None:
    """Keep the answer of an attempt that wrote nothing, to replay it; after a server error (or none at all) free
    the key for a retry."""
    with sessions() as session:
        _keep(session, user_id, key, claim, captured)
        session.commit()


def settle_with_writes(session: Session, user_id: UUID, key: str, claim: str, captured: dict[str, Any]) -> None:
    """Commit the attempt's writes (`session`, still open) and its answer together: a process or a database that
    dies at any moment leaves both or neither. After a server error, or no answer, the writes are rolled back and
    the key freed. Closes the session."""
    try:
        status = captured.get("status")
        if status is None or status >= 500:
            session.rollback()
        if not _keep(session, user_id, key, claim, captured) and status is not None and status < 500:
            session.rollback()  # another attempt took the key over meanwhile: it does the work, not this one
            raise ClaimLost(f"idempotency key {key!r} was taken over while its first attempt ran")
        session.commit()
    finally:
        session.close()


class ClaimLost(Exception):
    """The attempt's claim on its key was taken over by a retry: its writes were not kept."""


def _keep(session: Session, user_id: UUID, key: str, claim: str, captured: dict[str, Any]) -> bool:
    """Keep the answer (or free the key after a server error); whether this attempt still held the key."""
    status = captured.get("status")
    if status is None or status >= 500:
        return rows_matched(session, delete(IdempotencyRecord).where(*_held_by(user_id, key, claim))) == 1
    headers = {name.decode().lower(): value.decode() for name, value in captured["headers"]}
    kept = rows_matched(
        session,
        update(IdempotencyRecord)
        .where(*_held_by(user_id, key, claim))
        .values(
            status_code=status,
            body=captured["body"],
            headers={name: value for name, value in headers.items() if name in REPLAYED_HEADERS},
            lease_until=None,
        ),
    )
    return kept == 1


def _held_by(user_id: UUID, key: str, claim: str) -> tuple[Any, ...]:
    return (IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key, IdempotencyRecord.claim == claim)


def _lease() -> datetime:
    return utcnow() + LEASE
