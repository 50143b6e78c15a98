"""The case dossier: a day run through the API (request, plan, publish, check-ins, overrides, cash, evidence,
outcome and amendment, an address report and its decision) comes back as one record per row in time order, each
citing audit-chain rows that hold; the read is audited; managers of the branch only; as JSON, PDF and from the CLI."""

import hashlib
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture
from typer.testing import CliRunner

from api.audit.chain import record_bulk
from api.cli import cli
from api.models.audit import AuditEvent
from api.models.cases import AddressKind, DebtCase
from api.models.users import Role, User
from api.models.visits import Outcome
from api.reports.dossier import _header
from api.reports.schemas import DossierKind, DossierRead
from api.sheets.printing import FONT, register_font
from tests.evidence.samples import jpeg_bytes
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
    problem_type,
    publish_sheet,
)
from tests.sheets.test_printing import pdf_title
from tests.test_visits import CHECKLIST, Day

DEBTOR = "王秀英"


def _at_door(point: Any) -> dict[str, Any]:
    return {
        "lat": point.lat,
        "lon": point.lon,
        "accuracy_m": 12,
        "device_time": datetime.now(UTC).isoformat(),
        "client_id": str(uuid4()),
    }


def _outcome(**fields: Any) -> dict[str, Any]:
    return {
        "contact_result": "met_debtor",
        "mailbox": {"checked": True, "mail_for_debtor": False},
        "promise": {"date": "2026-12-20", "amount": "3000.00"},
        "address_assessment": "lives_here",
        "notes": "债务人在家，态度平和。",
        "client_id": str(uuid4()),
    } | fields


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


class CaseDay:
    """One case of a branch with a home and a work address, both requested by its phone collector, planned and
    published through the API, then visited on the work date from 10:00 (branch time)."""

    def __init__(self, client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture) -> None:
        branch = make_branch(session)
        self.client = client
        self.supervisor = make_user(session, Role.SUPERVISOR, branch)
        self.collector = make_user(session, Role.PHONE_COLLECTOR, branch)
        team = make_team(session, branch)
        self.team_id = team.id
        self.a, self.b = (session.get_one(User, member.agent_id) for member in team.members)
        self.case = make_case(session, branch, self.collector, debtor_name=DEBTOR)
        self.home = make_address(session, self.case, point=NEAR_OFFICE[0])
        self.work = make_address(
            session, self.case, point=NEAR_OFFICE[1], kind=AddressKind.WORK, raw_text="上海市黄浦区西藏中路200号"
        )
        zone, day = ZoneInfo(branch.timezone), team.work_date
        time_machine.move_to(datetime.combine(day - timedelta(days=1), time(18, 0), tzinfo=zone), tick=True)
        self.requests = [
            _ok(self.post(self.collector, "/visit-requests", self._request(address.id, day)), 201)["id"]
            for address in (self.home, self.work)
        ]
        run = self.post(self.supervisor, "/planning-runs", {"work_date": day.isoformat()})
        assert run.status_code == 202, run.text
        app.state.planning_queue.last.result(timeout=60)
        _ok(self.post(self.supervisor, f"{run.headers['Location']}/publish"))
        time_machine.move_to(datetime.combine(day, time(10, 0), tzinfo=zone), tick=True)
        sheet = _ok(client.get("/me/sheet", params={"work_date": day.isoformat()}, headers=auth_headers(self.a)))
        assert sorted(stop["visit_request_id"] for stop in sheet["stops"]) == sorted(self.requests)
        self.sheet_id = sheet["id"]

    def _request(self, address_id: UUID, day: date) -> dict[str, Any]:
        return {
            "case_id": str(self.case.id),
            "address_id": str(address_id),
            "purpose": "negotiate",
            "earliest_date": str(day),
        }

    def post(self, user: User, url: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(url, json=body, headers=auth_headers(user))

    def stop(self, request_id: str) -> str:
        return f"/visit-sheets/{self.sheet_id}/stops/{request_id}"

    def upload(self, agent: User, visit_id: str, data: bytes) -> dict[str, Any]:
        """A photo of the door: declared, sent to the local store, completed."""
        declared = _ok(
            self.post(
                agent,
                f"/visits/{visit_id}/evidence",
                {
                    "kind": "photo",
                    "purpose": "door",
                    "content_type": "image/jpeg",
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "captured_at": datetime.now(UTC).isoformat(),
                    "client_id": str(uuid4()),
                },
            ),
            201,
        )
        headers = auth_headers(agent) | {"Upload-Offset": "0"}
        assert self.client.put(declared["upload"]["url"], content=data, headers=headers).status_code == 200
        return _ok(self.post(agent, f"/evidence/{declared['id']}/complete"))

    def run(self) -> bytes:
        """Both stops of the day: the home visited by the book, the office on the supervisor's overrides and then
        reported as not the debtor's; the photo's bytes."""
        for agent in (self.a, self.b):
            _ok(
                self.post(
                    agent, f"/teams/{self.team_id}/departure-checks", {"items": CHECKLIST, "client_id": str(uuid4())}
                ),
                201,
            )
        home_request, work_request = self.requests
        # a restriction the supervisor releases the home visit from, then lifts
        said = {"flag": "vulnerable", "note": "the collector heard the debtor is in hospital"}
        restriction = _ok(self.post(self.supervisor, f"/cases/{self.case.id}/restrictions", said), 201)["id"]
        release = {"flag": "vulnerable", "reason": "the debtor asked for the visit himself, out of hospital"}
        _ok(self.post(self.supervisor, f"/visit-requests/{home_request}/eligibility-releases", release), 201)
        lift = {"reason": "the hospital discharged him; he asked to be visited"}
        _ok(self.post(self.supervisor, f"/cases/{self.case.id}/restrictions/{restriction}/lift", lift))
        visit_id = _ok(self.post(self.a, f"{self.stop(home_request)}/check-ins", _at_door(NEAR_OFFICE[0])), 201)["id"]
        _ok(self.post(self.b, f"{self.stop(home_request)}/check-ins", _at_door(NEAR_OFFICE[0])), 201)
        _ok(self.post(self.a, f"/visits/{visit_id}/start", {}))
        cash = {"max_amount": "500.00", "reason": "debtor offers the first instalment in cash"}
        _ok(self.post(self.supervisor, f"/visits/{visit_id}/cash-approvals", cash), 201)
        photo = jpeg_bytes(height=480, lat=NEAR_OFFICE[0].lat, lon=NEAR_OFFICE[0].lon, taken_at=datetime.now(UTC))
        assert self.upload(self.b, visit_id, photo)["status"] == "accepted"
        paid = {"cash_payment": {"amount": "300.00", "receipt_number": "R-0001"}}
        _ok(self.post(self.a, f"/visits/{visit_id}/outcome", _outcome(**paid)), 201)
        _ok(self.post(self.b, f"/visits/{visit_id}/outcome/confirm"))
        amended = _outcome(promise={"date": "2026-12-22", "amount": "2500.00"})
        _ok(self.post(self.b, f"/visits/{visit_id}/outcome/amendments", amended), 201)
        _ok(self.post(self.a, f"/visits/{visit_id}/outcome/confirm"))

        allowed = {"reason": "the debtor's employer only receives visitors before the lunch break"}
        work_visit = _ok(self.post(self.supervisor, f"{self.stop(work_request)}/hours-override", allowed))["id"]
        started = {"override_reason": "both phones lost their GPS fix inside the office tower"}
        _ok(self.post(self.supervisor, f"/visits/{work_visit}/start", started))
        report = {
            "reason": "nonexistent",
            "note": "前台说没有这个公司",
            "visit_id": work_visit,
            "client_id": str(uuid4()),
        }
        report_id = _ok(self.post(self.a, f"/addresses/{self.work.id}/invalid-reports", report), 201)["id"]
        rejection = {"note": "the company moved to the 12th floor of the same tower"}
        _ok(self.post(self.supervisor, f"/invalid-address-reports/{report_id}/reject", rejection))
        return photo


def test_the_dossier_holds_the_whole_day_in_time_order_citing_the_audit_chain(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture, runner: CliRunner
) -> None:
    day = CaseDay(client, app, session, time_machine)
    photo = day.run()

    dossier = _ok(client.get(f"/cases/{day.case.id}/dossier", headers=auth_headers(day.supervisor)))

    shown = {name: dossier["case"][name] for name in ("reference", "debtor_name", "debtor_id_number_masked")}
    assert shown == {
        "reference": day.case.reference,
        "debtor_name": DEBTOR,
        "debtor_id_number_masked": "110***********002X",
    }
    assert dossier["case"]["branch_id"] == str(day.case.branch_id)
    records = dossier["records"]
    kinds = [record["kind"] for record in records]
    assert set(kinds) == {kind.value for kind in DossierKind}
    counts = {kind: kinds.count(kind) for kind in ("visit_request", "sheet_stop", "check_in", "visit", "outcome")}
    assert counts == {"visit_request": 2, "sheet_stop": 2, "check_in": 2, "visit": 2, "outcome": 1}
    moments = [record["at"] for record in records]
    assert all(moment.endswith("Z") for moment in moments)
    assert moments == sorted(moments, key=lambda moment: datetime.fromisoformat(moment))
    assert kinds.index("visit_request") < kinds.index("sheet_version") < kinds.index("check_in")
    assert kinds.index("outcome") < kinds.index("amendment") < kinds.index("address_report")
    assert kinds.index("address_report") < kinds.index("address_decision")
    (evidence,) = (record for record in records if record["kind"] == "evidence")
    assert evidence["data"]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert evidence["data"]["sha256"][:12] in evidence["summary"]
    assert (evidence["data"]["size"], evidence["data"]["content_type"]) == (len(photo), "image/jpeg")
    assert evidence["data"]["storage_key"].endswith(f"{evidence['data']['sha256']}.jpg")
    assert evidence["data"]["storage_backend"] == "local"
    (amendment,) = (record for record in records if record["kind"] == "amendment")
    assert amendment["data"]["details"]["promise"] == {"date": "2026-12-22", "amount": "2500.00"}
    (decision,) = (record for record in records if record["kind"] == "address_decision")
    assert decision["data"]["status"] == "rejected" and "12th floor" in decision["summary"]

    session.expire_all()
    chain = {row.seq: row for row in session.scalars(select(AuditEvent))}
    for record in [*records, dossier["case"] | {"entity": "debt_case", "entity_id": dossier["case"]["id"]}]:
        assert record["audit"], record
        for position in record["audit"]:
            row = chain[position["seq"]]
            assert (row.hash, row.entity, row.entity_id) == (position["hash"], record["entity"], record["entity_id"])
            assert row.action == position["action"] in ("insert", "update")
    (override,) = (record for record in records if record["kind"] == "start_override")
    assert all("override_reason" in chain[position["seq"]].changes for position in override["audit"])

    (restriction,) = (record for record in records if record["kind"] == "restriction")
    (lifted,) = (record for record in records if record["kind"] == "restriction_lifted")
    (release,) = (record for record in records if record["kind"] == "eligibility_release")
    assert "set vulnerable" in restriction["summary"] and "discharged" in lifted["summary"]
    assert release["data"]["flag"] == "vulnerable" and "out of hospital" in release["summary"]
    assert kinds.index("restriction") < kinds.index("eligibility_release") < kinds.index("restriction_lifted")

    head = max(chain)
    assert dossier["warnings"] == []
    assert dossier["audit_chain"] == {
        "head_seq": head,
        "head_hash": chain[head].hash,
        "verified": True,
        "broken_seq": None,
    }
    reads = [row for row in chain.values() if row.action == "read" and row.changes == {"what": "dossier"}]
    assert {(row.entity, row.entity_id, row.actor_id) for row in reads} == {
        ("debt_case", str(day.case.id), day.supervisor.id),
        ("evidence_item", evidence["entity_id"], day.supervisor.id),
    }
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0


def test_the_dossier_is_for_the_managers_of_the_cases_branch(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    collector = make_user(session, Role.PHONE_COLLECTOR, branch)
    case = make_case(session, branch, collector)
    make_visit_request(session, make_address(session, case), requested_by=collector)
    callers = {
        "supervisor": make_user(session, Role.SUPERVISOR, branch),
        "admin": make_user(session, Role.ADMIN),
        "collector": collector,
        "agent": make_user(session, Role.AGENT, branch),
        "elsewhere": make_user(session, Role.SUPERVISOR),
    }

    for suffix in ("dossier", "dossier.pdf"):
        answers = {
            name: client.get(f"/cases/{case.id}/{suffix}", headers=auth_headers(user)) for name, user in callers.items()
        }
        unknown = client.get(f"/cases/{uuid4()}/{suffix}", headers=auth_headers(callers["supervisor"]))
        bad = client.get(f"/cases/not-a-case/{suffix}", headers=auth_headers(callers["supervisor"]))
        anonymous = client.get(f"/cases/{case.id}/{suffix}")

        assert {name: answer.status_code for name, answer in answers.items()} == {
            "supervisor": 200,
            "admin": 200,
            "collector": 403,
            "agent": 403,
            "elsewhere": 404,
        }
        assert problem_type(answers["collector"]) == problem_type(answers["agent"]) == "role-not-allowed"
        assert problem_type(answers["elsewhere"]) == problem_type(unknown) == "case-not-found"
        assert bad.status_code == 422 and problem_type(bad) == "validation-failed"
        assert anonymous.status_code == 401 and problem_type(anonymous) == "not-authenticated"
    dossier = client.get(f"/cases/{case.id}/dossier", headers=auth_headers(callers["admin"])).json()
    assert [record["kind"] for record in dossier["records"]] == ["visit_request"]


def test_the_printed_dossier_embeds_the_font_and_names_the_debtor(client: TestClient, session: Session) -> None:
    branch = make_branch(session)
    supervisor = make_user(session, Role.SUPERVISOR, branch)
    case = make_case(session, branch, debtor_name=DEBTOR, reference="沪-2026-001")
    team = make_team(session, branch)
    requests = [make_visit_request(session, make_address(session, case, point=point)) for point in NEAR_OFFICE[:2]]
    publish_sheet(session, supervisor, team, requests)

    response = client.get(f"/cases/{case.id}/dossier.pdf", headers=auth_headers(supervisor))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert pdf_title(pdf) == f"案件档案 Case dossier 沪-2026-001 {DEBTOR}"
    embedded = re.findall(rb"/BaseFont /[A-Z]{6}\+([\w-]+)", pdf)  # subsets: a tag, +, the font's name
    assert {name.rsplit(b"-", 1)[0] for name in embedded} == {FONT.encode()} and b"/FontFile2" in pdf
    session.expire_all()
    read = session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).one()
    assert (read.entity, read.entity_id, read.changes) == ("debt_case", str(case.id), {"what": "dossier"})


def test_the_dossier_takes_as_many_queries_for_many_records_as_for_few(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    def queries(stops: int) -> int:
        branch = make_branch(session)
        supervisor = make_user(session, Role.SUPERVISOR, branch)
        case = make_case(session, branch)
        addresses = [make_address(session, case, point=point) for point in NEAR_OFFICE[:stops]]
        publish_sheet(
            session, supervisor, make_team(session, branch), [make_visit_request(session, a) for a in addresses]
        )
        statements: list[str] = []

        def listener(*args: Any) -> None:
            statements.append(args[2])

        event.listen(app.state.engine, "before_cursor_execute", listener)
        try:
            response = client.get(f"/cases/{case.id}/dossier", headers=auth_headers(supervisor))
        finally:
            event.remove(app.state.engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        assert len(response.json()["records"]) == 1 + 2 * stops  # the sheet version, each request and stop
        return len(statements)

    assert queries(1) == queries(4)


def test_the_command_writes_the_dossier_as_json_and_pdf(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    case = make_case(session, debtor_name=DEBTOR)
    make_visit_request(session, make_address(session, case))
    twin = make_case(session, reference="SHARED-1")
    make_case(session, reference="SHARED-1")

    written = runner.invoke(cli, ["case", "dossier", case.reference, "--out", str(tmp_path / "out")])
    unknown = runner.invoke(cli, ["case", "dossier", "NO-SUCH-CASE", "--out", str(tmp_path)])
    shared = runner.invoke(cli, ["case", "dossier", "SHARED-1", "--out", str(tmp_path)])
    named = runner.invoke(cli, ["case", "dossier", "SHARED-1", "--out", str(tmp_path), "--branch", str(twin.branch_id)])

    assert written.exit_code == 0, written.output
    json_file, pdf_file = (
        tmp_path / "out" / f"{case.reference}-dossier.json",
        tmp_path / "out" / f"{case.reference}-dossier.pdf",
    )
    assert str(json_file) in written.output and str(pdf_file) in written.output
    assert "audit trail intact" in written.output
    dossier = json.loads(json_file.read_text(encoding="utf-8"))
    assert dossier["case"]["debtor_name"] == DEBTOR and dossier["audit_chain"]["head_seq"] > 0
    assert [record["kind"] for record in dossier["records"]] == ["visit_request"]
    assert pdf_file.read_bytes().startswith(b"%PDF")
    assert unknown.exit_code == 1 and "No case 'NO-SUCH-CASE'" in unknown.output
    assert shared.exit_code == 1 and "--branch" in shared.output
    assert named.exit_code == 0, named.output
    session.expire_all()
    reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()
    assert [(row.entity_id, row.actor_id) for row in reads] == [(str(case.id), None), (str(twin.id), None)]
    assert session.get_one(DebtCase, twin.id).reference == "SHARED-1"


def test_a_row_changed_behind_the_chain_and_a_broken_chain_are_warnings_the_command_fails_on(
    client: TestClient, session: Session, time_machine: TimeMachineFixture, runner: CliRunner, tmp_path: Path
) -> None:
    """Issue 31: on a copy of the database an outcome was changed from met_debtor to nobody without touching the
    chain, and the dossier printed "Outcome: nobody" citing rows that recorded met_debtor. The outcome is its
    `details` (the report as validated), so that is what is changed."""
    day = Day(client, session, time_machine)
    visit_id = day.started()
    assert day.outcome(day.a, contact_result="met_debtor").status_code == 201
    outcome = session.scalars(select(Outcome).where(Outcome.visit_id == visit_id)).one()
    reported = dict(outcome.details)
    tampered = reported | {"contact_result": "nobody"}
    session.execute(update(Outcome).where(Outcome.id == outcome.id).values(details=tampered))
    session.commit()

    changed = _ok(client.get(f"/cases/{day.request.case_id}/dossier", headers=auth_headers(day.supervisor)))

    (warning,) = changed["warnings"]
    assert (warning["kind"], warning["entity"], warning["entity_id"], warning["column"]) == (
        "row_disagrees",
        "outcome",
        str(outcome.id),
        "details",
    )
    assert (warning["row_value"], warning["chain_value"]) == (tampered, reported)
    assert "details.contact_result = 'nobody'; the audit chain recorded 'met_debtor'" in warning["message"]
    assert changed["audit_chain"]["verified"] is True  # the chain itself holds: the row is what lies
    register_font()
    header = [flowable.text for flowable in _header(DossierRead.model_validate(changed))]
    assert (
        header[1] == f"【警告 Warning】{warning['message']}" and "met_debtor" in header[1]
    )  # on the first page, under the title

    session.execute(update(Outcome).where(Outcome.id == outcome.id).values(details=reported))
    first = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).first()
    assert first is not None
    session.execute(update(AuditEvent).where(AuditEvent.seq == first.seq).values(changes={"forged": True}))
    session.commit()
    broken = _ok(client.get(f"/cases/{day.request.case_id}/dossier", headers=auth_headers(day.supervisor)))
    case = session.get_one(DebtCase, day.request.case_id)
    written = runner.invoke(cli, ["case", "dossier", case.reference, "--out", str(tmp_path)])

    assert broken["audit_chain"] == broken["audit_chain"] | {"verified": False, "broken_seq": first.seq}
    assert [warning["kind"] for warning in broken["warnings"]] == ["chain_broken"]
    assert written.exit_code == 1, written.output
    kept = json.loads((tmp_path / f"{case.reference}-dossier.json").read_text(encoding="utf-8"))
    assert [warning["kind"] for warning in kept["warnings"]] == ["chain_broken"]  # the files say so too
    assert "does not hold" in written.output


def test_what_the_chain_recorded_of_columns_since_dropped_is_not_compared(
    client: TestClient, session: Session, time_machine: TimeMachineFixture, runner: CliRunner
) -> None:
    """Until migration dc8e2d69f93f an outcome's row also summarised its report in columns (contact_result,
    promise_*, cash_collected, suspected_fake_address) and the chain recorded them; the table has them no more.
    The chain still holds, and the dossier compares the columns the row has, not the ones the chain remembers."""
    day = Day(client, session, time_machine)
    visit_id = day.started()
    assert day.outcome(day.a, contact_result="met_debtor", promise=None).status_code == 201
    outcome = session.scalars(select(Outcome).where(Outcome.visit_id == visit_id)).one()
    inserted = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "outcome", AuditEvent.action == "insert")
    ).one()
    summary = {
        "contact_result": "met_debtor",
        "promise_date": None,
        "promise_amount": None,
        "cash_collected": None,
        "suspected_fake_address": False,
    }
    record_bulk(session, "insert", "outcome", str(outcome.id), inserted.changes | summary)  # as written before
    session.commit()

    dossier = _ok(client.get(f"/cases/{day.request.case_id}/dossier", headers=auth_headers(day.supervisor)))
    verified = runner.invoke(cli, ["audit", "verify"])

    assert dossier["warnings"] == [] and dossier["audit_chain"]["verified"] is True
    assert verified.exit_code == 0 and "audit trail intact" in verified.output
