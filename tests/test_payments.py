"""Payments in (`POST /payments`, `fieldvisit import payments`) and the promises made at the door followed against
them: made by a confirmed outcome, changed by an amendment, kept, partly kept or broken as payments arrive and dates
pass, a broken one a finding (feed and webhook) that becomes a follow-up visit request in one action."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture
from typer.testing import CliRunner

from api.cli import cli
from api.models.cases import DebtCase
from api.models.findings import Finding, FindingKind
from api.models.payments import Payment, Promise
from api.models.users import Role, User
from api.models.visit_requests import VisitPurpose, VisitRequest
from api.models.webhooks import WebhookDelivery
from api.payments.service import settle_due
from api.rules.promises import PromiseState
from tests.factories import auth_headers, count_rows, make_branch, make_case, make_user, problem_type
from tests.test_visits import Day


def _payment(case_id: UUID, reference: str, amount: str, paid_at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "case_id": str(case_id),
        "amount": amount,
        "currency": "CNY",
        "paid_at": paid_at.isoformat(),
        "channel": "bank_transfer",
        "reference": reference,
    } | fields


def _pay(client: TestClient, user: User, *payments: dict[str, Any]) -> Any:
    return client.post("/payments", json={"payments": list(payments)}, headers=auth_headers(user))


def _promised(day: Day) -> Promise:
    """The day's first visit done, with a promise of 2,000.00 by 2026-12-15, confirmed by both agents."""
    day.started()
    assert day.outcome(day.a).status_code == 201
    confirmed = day.client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.b))
    assert confirmed.status_code == 200, confirmed.text
    return day.session.scalars(select(Promise).where(Promise.visit_id == day.visit_id())).one()


def _local(day: Day, year: int, month: int, date: int, hour: int = 12) -> datetime:
    return datetime(year, month, date, hour, tzinfo=ZoneInfo(day.branch.timezone))


def test_a_confirmed_outcome_makes_a_promise_and_its_amendment_changes_it(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    promise = _promised(day)

    assert (promise.state, promise.amount, promise.due_on.isoformat()) == (
        PromiseState.PENDING,
        Decimal("2000.00"),
        "2026-12-15",
    )
    amended = day.outcome(day.b, "outcome/amendments", promise={"date": "2026-12-20", "amount": "1500.00"})
    client.post(f"/visits/{day.visit_id()}/outcome/confirm", headers=auth_headers(day.a))
    session.expire_all()

    assert amended.status_code == 201
    [again] = session.scalars(select(Promise)).all()
    assert (again.id, again.amount, again.due_on.isoformat()) == (promise.id, Decimal("1500.00"), "2026-12-20")


def test_payments_are_recorded_once_per_reference_and_settle_the_promise(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    promise = _promised(day)
    case_id = promise.case_id
    batch = [
        _payment(case_id, "TX-1", "1200.00", _local(day, 2026, 12, 12)),
        _payment(case_id, "TX-2", "800", _local(day, 2026, 12, 15, 23)),  # the last hour of its date
    ]

    first = _pay(client, day.supervisor, *batch)
    resent = _pay(client, day.supervisor, *batch)
    other = _pay(client, day.supervisor, _payment(case_id, "TX-1", "999.00", _local(day, 2026, 12, 12)))
    session.expire_all()

    assert first.status_code == 200, first.text
    assert first.json() == {"recorded": 2, "duplicates": 0, "promises_changed": 1}
    assert resent.json() == {"recorded": 0, "duplicates": 2, "promises_changed": 0}
    assert other.status_code == 409 and problem_type(other) == "payment-reference-taken"
    assert other.json()["errors"] == [
        {"pointer": "#/payments/0/reference", "detail": "recorded already for another payment"}
    ]
    assert count_rows(session, Payment) == 2
    kept = session.get_one(Promise, promise.id)
    assert (kept.state, kept.paid) == (PromiseState.KEPT, Decimal("2000.00")) and kept.settled_at is not None


def test_a_batch_with_another_branchs_case_or_a_wrong_currency_records_nothing(
    client: TestClient, session: Session
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    ours, theirs = make_case(session, branch), make_case(session)
    now = datetime.now(UTC)

    foreign = _pay(client, supervisor, _payment(ours.id, "A", "10", now), _payment(theirs.id, "B", "10", now))
    currency = _pay(client, supervisor, _payment(ours.id, "C", "10", now, currency="USD"))
    bad = _pay(client, supervisor, _payment(ours.id, "D", "ten", now))
    agent = _pay(client, make_user(session, Role.AGENT, branch), _payment(ours.id, "E", "10", now))
    collector = _pay(client, make_user(session, Role.PHONE_COLLECTOR, branch), _payment(ours.id, "F", "10", now))

    assert foreign.status_code == 404 and problem_type(foreign) == "case-not-found"
    assert currency.status_code == 422 and currency.json()["errors"][0]["pointer"] == "#/payments/0/currency"
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "#/payments/0/amount"
    assert agent.status_code == collector.status_code == 403
    assert count_rows(session, Payment) == 0


def test_a_promise_past_its_date_and_grace_days_part_paid_is_a_finding_and_becomes_a_follow_up(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    webhook = {"url": "http://127.0.0.1:9/hooks", "secret": "a-secret-of-the-branch-crm"}
    assert client.post("/webhooks", json=webhook, headers=auth_headers(day.supervisor)).status_code == 201
    promise = _promised(day)
    collector = make_user(session, Role.PHONE_COLLECTOR, day.branch)
    session.get_one(DebtCase, promise.case_id).phone_collector_id = collector.id
    session.commit()
    assert _pay(client, day.supervisor, _payment(promise.case_id, "TX-9", "500.00", _local(day, 2026, 12, 10)))
    still_due = client.post(f"/promises/{promise.id}/follow-up", headers=auth_headers(collector))
    session.expire_all()  # what the API wrote, read afresh

    assert settle_due(session, _local(day, 2026, 12, 18, 23)) == 0  # the 15th + 3 grace days: not over yet
    changed = settle_due(session, _local(day, 2026, 12, 19, 0))
    session.commit()
    session.expire_all()
    broken = session.get_one(Promise, promise.id)
    finding = session.scalars(select(Finding).where(Finding.kind == FindingKind.PROMISE_BROKEN)).one()
    listed = client.get("/promises", params={"state": "partly_kept"}, headers=auth_headers(collector)).json()
    followed = client.post(f"/promises/{promise.id}/follow-up", headers=auth_headers(collector))
    again = client.post(f"/promises/{promise.id}/follow-up", headers=auth_headers(collector))
    session.expire_all()

    assert still_due.status_code == 409 and problem_type(still_due) == "promise-not-broken"
    assert changed == 1 and (broken.state, broken.paid) == (PromiseState.PARTLY_KEPT, Decimal("500.00"))
    assert finding.payload == {
        "case_reference": session.get_one(DebtCase, promise.case_id).reference,
        "visit_id": str(promise.visit_id),
        "promise_id": str(promise.id),
        "state": "partly_kept",
        "due_on": "2026-12-15",
        "amount": "2000.00",
        "paid": "500.00",
    }
    assert finding.id in session.scalars(select(WebhookDelivery.finding_id)).all()  # the branch's webhook too
    assert [row["id"] for row in listed["items"]] == [str(promise.id)]
    assert followed.status_code == 201, followed.text
    request = session.get_one(VisitRequest, UUID(followed.json()["id"]))
    assert request.purpose is VisitPurpose.NEGOTIATE and request.priority == 4
    assert "1500.00 unpaid" in request.notes
    assert session.get_one(Promise, promise.id).follow_up_request_id == request.id
    assert again.status_code == 409 and problem_type(again) == "follow-up-exists"
    assert settle_due(session, _local(day, 2026, 12, 30)) == 0  # settled once: no second finding


def test_promises_are_seen_by_the_branch_and_the_cases_collector_only(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    promise = _promised(day)
    other_collector = make_user(session, Role.PHONE_COLLECTOR, day.branch)
    outsider = make_user(session, Role.SUPERVISOR)

    mine = client.get("/promises", headers=auth_headers(day.supervisor)).json()["items"]
    not_theirs = client.get("/promises", headers=auth_headers(other_collector)).json()["items"]
    elsewhere = client.post(f"/promises/{promise.id}/follow-up", headers=auth_headers(outsider))
    due = client.get("/promises", params={"due_from": "2026-12-16"}, headers=auth_headers(day.supervisor)).json()
    backwards = client.get(
        "/promises", params={"due_from": "2026-12-16", "due_until": "2026-12-01"}, headers=auth_headers(day.supervisor)
    )

    assert [row["id"] for row in mine] == [str(promise.id)] and mine[0]["amount"] == "2000.00"
    case = session.get_one(DebtCase, promise.case_id)
    assert (mine[0]["case_reference"], mine[0]["debtor_name"]) == (case.reference, case.debtor_name)
    assert not_theirs == [] and due["items"] == []
    assert elsewhere.status_code == 404 and problem_type(elsewhere) == "promise-not-found"
    assert backwards.status_code == 422


def _csv(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / f"payments-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("\n".join(["case_reference,amount,currency,paid_at,channel,reference", *lines]) + "\n")
    return path


def test_the_payments_file_is_imported_all_or_none_naming_each_bad_row_and_column(
    runner: CliRunner, session: Session, tmp_path: Path
) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch)
    good = _csv(
        tmp_path,
        f"{case.reference},1200.00,CNY,2026-12-08 10:30,alipay,P-1",
        f"{case.reference},300,CNY,2026-12-08T11:00:00+08:00,wechat_pay,P-2",
    )

    bad = runner.invoke(
        cli,
        [
            "import",
            "payments",
            str(
                _csv(
                    tmp_path,
                    f"{case.reference},1200.00,CNY,2026-12-08 10:30,alipay,P-1",
                    "NO-SUCH-CASE,5,CNY,2026-12-08 10:30,alipay,P-3",
                    f"{case.reference},-5,CNY,yesterday,cheque,P-4",
                )
            ),
            "--as",
            supervisor.username,
        ],
    )
    assert bad.exit_code == 1
    assert "row 2, case_reference: no case with this reference in the branch" in bad.output
    assert "row 3, paid_at: give a date and time" in bad.output
    assert "row 3, amount: Input should be greater than 0" in bad.output
    assert "row 3, channel: Input should be" in bad.output
    assert count_rows(session, Payment) == 0

    imported = runner.invoke(cli, ["import", "payments", str(good), "--as", supervisor.username])
    twice = runner.invoke(cli, ["import", "payments", str(good), "--as", supervisor.username])
    clash = runner.invoke(
        cli,
        [
            "import",
            "payments",
            str(_csv(tmp_path, f"{case.reference},99,CNY,2026-12-08 10:30,alipay,P-2")),
            "--as",
            supervisor.username,
        ],
    )

    assert imported.exit_code == 0, imported.output
    assert "'recorded': 2" in imported.output and "'duplicates': 2" in twice.output
    assert clash.exit_code == 1 and "row 1, reference: recorded already for another payment" in clash.output
    paid = {row.reference: row for row in session.scalars(select(Payment))}
    assert paid["P-1"].paid_at.astimezone(UTC) == datetime(2026, 12, 8, 2, 30, tzinfo=UTC)  # Shanghai time
    assert paid["P-2"].amount == Decimal("300.00") and count_rows(session, Payment) == 2


def test_a_payment_before_the_promise_does_not_keep_it(
    client: TestClient, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    case_id = day.request.case_id
    before = datetime.now(UTC) - timedelta(hours=1)
    assert _pay(client, day.supervisor, _payment(case_id, "EARLY", "2000.00", before)).status_code == 200
    promise = _promised(day)

    assert promise.state is PromiseState.PENDING and promise.paid == Decimal("0.00")
