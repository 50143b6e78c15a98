"""The audit trail: every change the ORM flushes, every conditional update made through `update_where` and every
read of a debtor's case or evidence appends a row to a SHA-256 chain, in the same transaction as what it records.
`verify` recomputes the chain from the first row."""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, event, insert, inspect, select, update
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from api.db import as_table, utcnow
from api.models.audit import AuditEvent, AuditHead

GENESIS = "0" * 64
ACTOR = "audit_actor_id"  # Session.info key: who acts in this session
_NOT_AUDITED = frozenset({"audit_event", "audit_head", "idempotency_record", "refresh_token", "position_fix"})


@dataclass(frozen=True, slots=True)
class Entry:
    action: str
    entity: str
    entity_id: str
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Verdict:
    events: int
    broken_seq: int | None  # the first row whose hash or link does not hold
    reason: str


def act_as(session: Session, user_id: UUID) -> None:
    """Record `user_id` as the actor of what the session changes and reads."""
    session.info[ACTOR] = user_id


def record_read(session: Session, entity: str, *entity_ids: UUID, what: str = "") -> None:
    """Append reads of a debtor's data (cases, evidence) to the chain."""
    details = {"what": what} if what else {}
    entries = [Entry("read", entity, str(entity_id), details) for entity_id in entity_ids]
    if entries:
        _append(session.connection(), entries, session)


def record_bulk(session: Session, action: str, entity: str, entity_id: str, summary: dict[str, Any]) -> None:
    """Append one row for many rows written or deleted outside the ORM whose content the chain must not copy:
    positions are purged when their retention ends, and the chain is never purged, so it keeps their count and
    digest instead."""
    _append(session.connection(), [Entry(action, entity, entity_id, summary)], session)


def update_where(session: Session, model: type[Any], where: Iterable[Any], values: dict[str, Any]) -> int:
    """A conditional UPDATE (the way to let one of two racing requests win), chained like the ORM's changes: one
    `update` row per row it changed, with the values set. The number of rows changed."""
    table = inspect(model).local_table
    statement = update(model).where(*where).values(**values).returning(*table.primary_key.columns)
    changed = session.execute(statement).all()
    recorded = {key: plain(value) for key, value in values.items()}
    entries = [Entry("update", table.name, ",".join(str(value) for value in row), recorded) for row in changed]
    if entries:
        _append(session.connection(), entries, session)
    return len(changed)


def audited_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine` whose every flush is written to the audit trail: how the app, its commands and the
    planning worker open theirs."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    event.listen(sessions, "after_flush", _after_flush)
    return sessions


def verify(connection: Connection) -> Verdict:
    """Recompute every hash in order; the first row that does not hold, or None."""
    previous, count = GENESIS, 0
    for row in connection.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)).mappings():
        count += 1
        if row["prev_hash"] != previous:
            return Verdict(count, row["seq"], "it does not follow the row before it (rows removed or inserted)")
        if _hash(previous, row) != row["hash"]:
            return Verdict(count, row["seq"], "its content does not match its hash (the row was changed)")
        previous = row["hash"]
    head = connection.execute(select(AuditHead.hash)).scalar_one_or_none()
    if head is not None and head != previous:
        return Verdict(count, None, "the last rows were removed: the chain's head does not match its end")
    return Verdict(count, None, "")


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    entries = list(_changes(session))
    if entries:
        _append(session.connection(), entries, session)


def _changes(session: Session) -> Iterator[Entry]:
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            state = inspect(obj)
            table = state.mapper.local_table.name
            if table in _NOT_AUDITED:
                continue
            identity = ",".join(str(value) for value in state.mapper.primary_key_from_instance(obj))
            values = {}
            for attr in state.mapper.column_attrs:
                history = state.attrs[attr.key].history
                if action == "insert":
                    values[attr.key] = plain(getattr(obj, attr.key))
                elif action == "update" and history.has_changes():
                    before = history.deleted[0] if history.deleted else None
                    values[attr.key] = [plain(before), plain(history.added[0] if history.added else None)]
            if action == "update" and not values:
                continue
            yield Entry(action, table, identity, values)


def _append(connection: Connection, entries: Iterable[Entry], session: Session) -> None:
    head = as_table(AuditHead.__table__)
    connection.execute(update(head).where(head.c.id == 1).values(seq=head.c.seq))  # takes the chain's lock
    seq, previous = connection.execute(select(head.c.seq, head.c.hash).where(head.c.id == 1)).one()
    actor = session.info.get(ACTOR)
    rows = []
    for entry in entries:
        seq += 1
        row = {
            "seq": seq,
            "at": utcnow(),
            "actor_id": actor,
            "action": entry.action,
            "entity": entry.entity,
            "entity_id": entry.entity_id,
            "changes": entry.changes,
            "prev_hash": previous,
        }
        row["hash"] = previous = _hash(previous, row)
        rows.append(row)
    connection.execute(insert(as_table(AuditEvent.__table__)), rows)
    connection.execute(update(head).where(head.c.id == 1).values(seq=seq, hash=previous))


def _hash(previous: str, row: Any) -> str:
    at: datetime = row["at"]
    content = {
        "seq": row["seq"],
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "changes": row["changes"],
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous}|{canonical}".encode()).hexdigest()


def plain(value: Any) -> Any:
    """A value as JSON keeps it: numbers, text, booleans and null as they are, anything else as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return str(value)
