"""The audit trail: state changes and reads of a debtor's case are chained by SHA-256; `fieldvisit audit verify`
passes on an honest chain and names the first row after tampering."""

from itertools import pairwise

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture
from typer.testing import CliRunner

from api.audit.chain import verify
from api.cli import cli
from api.models.audit import AuditEvent
from api.models.users import Role
from tests.factories import auth_headers, make_branch, make_case, make_user
from tests.test_visits import Day


def test_changes_and_reads_are_chained_with_their_actor(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)

    created = client.post(
        f"/cases/{case.id}/contacts", json={"phone": "13800009999", "kind": "home"}, headers=auth_headers(supervisor)
    )
    client.get(f"/cases/{case.id}", headers=auth_headers(supervisor))

    assert created.status_code == 201
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    contact = next(e for e in events if e.entity == "debtor_contact")
    read = events[-1]
    assert (contact.action, contact.actor_id, contact.changes["phone"]) == ("insert", supervisor.id, "13800009999")
    assert (read.action, read.entity, read.entity_id, read.actor_id) == (
        "read",
        "debt_case",
        str(case.id),
        supervisor.id,
    )
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))


def test_verify_passes_on_a_demo_day_and_fails_after_tampering(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, runner: CliRunner
) -> None:
    day = Day(client, session, time_machine)
    day.started()
    assert day.outcome(day.a).status_code == 201
    assert client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b)).status_code == 200

    intact = runner.invoke(cli, ["audit", "verify"])

    assert intact.exit_code == 0, intact.output
    assert "audit trail intact" in intact.output
    with app.state.engine.connect() as connection:
        assert verify(connection).broken_seq is None
    target = session.scalars(select(AuditEvent).where(AuditEvent.entity == "outcome")).first()
    assert target is not None
    session.execute(update(AuditEvent).where(AuditEvent.seq == target.seq).values(changes={"forged": True}))
    session.commit()

    broken = runner.invoke(cli, ["audit", "verify"])

    assert broken.exit_code == 1
    assert f"event #{target.seq}" in broken.output and "content does not match" in broken.output


def test_a_removed_row_is_caught(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    make_case(session, branch)
    make_case(session, branch)
    first = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).first()
    assert first is not None
    session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": first.seq})
    session.commit()

    with session.connection() as connection:
        verdict = verify(connection)

    assert verdict.broken_seq == first.seq + 1 and "does not follow" in verdict.reason
