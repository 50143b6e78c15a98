"""The results report on a small hand-checked day: two teams on 2026-12-01, five stops, three visits done, two
promises, a payment, cash, a cancelled stop, a left-out request. The expected numbers are written out below."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models.cases import OverdueBucket
from api.models.payments import Payment, PaymentChannel, Promise
from api.models.sheets import PlanningRun, RunStatus, SheetStatus, StopState, UnplannedReason, UnplannedRequest
from api.models.teams import Team
from api.models.users import Role, User
from api.models.visit_requests import VisitRequest
from api.models.visits import Outcome, PresenceStage, Visit, VisitPresence, VisitStatus
from api.rules.promises import PromiseState
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    draft_sheet,
    make_address,
    make_branch,
    make_case,
    make_team,
    make_user,
    make_visit_request,
)

DAY = date(2026, 12, 1)
NINE = datetime(2026, 12, 1, 1, tzinfo=UTC)  # 09:00 in Shanghai


def _outcome(result: str, **fields: Any) -> dict[str, Any]:
    return {
        "contact_result": result,
        "met_relation": "wife" if result == "met_family" else "",
        "mailbox": {"checked": True, "mail_for_debtor": False},
        "address_assessment": "lives_here",
    } | fields


class Fixture:
    """Team 外访一组: stops 1 (met the debtor, promised 1,000 and paid it, 200 cash), 2 (nobody), 3 (cancelled).
    Team 外访二组: stops 1 (met the wife, promised 500, broken), 2 (planned, not visited). A sixth request was left
    out as lower priority."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.branch = make_branch(session)
        self.supervisor = make_user(session, Role.SUPERVISOR, self.branch)
        self.collector = make_user(session, Role.PHONE_COLLECTOR, self.branch, full_name="钱催收")
        self.one = make_team(session, self.branch, work_date=DAY)
        self.two = make_team(session, self.branch, work_date=DAY)
        self.one.name, self.two.name = "外访一组", "外访二组"
        session.commit()
        requests = [self._request(k, OverdueBucket.M1 if k < 3 else OverdueBucket.M4) for k in range(6)]
        first = self._published(self.one, requests[:3], travel_m=[1500, 2500, 900])
        second = self._published(self.two, requests[3:5], travel_m=[3000, 800])
        first.stops[2].state = StopState.CANCELLED
        self.first_sheet = first
        run = first.run_id
        session.add(
            UnplannedRequest(run_id=run, visit_request_id=requests[5].id, reason=UnplannedReason.LOWER_PRIORITY)
        )
        session.get_one(PlanningRun, run).published_at = NINE
        # visits: planned at 10:00, 11:00, 12:00 (draft_sheet's times are replaced to hand-checked ones)
        first.stops[0].starts_at, first.stops[1].starts_at, second.stops[0].starts_at = (
            NINE + timedelta(hours=1),
            NINE + timedelta(hours=2),
            NINE + timedelta(hours=1),
        )
        one = self._visit(
            first,
            0,
            started=NINE + timedelta(hours=1, minutes=10),
            on_site_min=30,
            details=_outcome(
                "met_debtor",
                promise={"date": "2026-12-10", "amount": "1000.00"},
                cash_payment={"amount": "200.00", "receipt_number": "R1"},
            ),
        )
        self._visit(first, 1, started=NINE + timedelta(hours=2, minutes=45), on_site_min=10, details=_outcome("nobody"))
        three = self._visit(
            second,
            0,
            started=NINE + timedelta(hours=1),
            on_site_min=25,
            details=_outcome("met_family", promise={"date": "2026-12-05", "amount": "500.00"}),
        )
        self._promise(one, Decimal("1000.00"), PromiseState.KEPT, paid=Decimal("1000.00"))
        self._promise(three, Decimal("500.00"), PromiseState.BROKEN, paid=Decimal("0.00"))
        session.add(
            Payment(
                branch_id=self.branch.id,
                case_id=one.case_id,
                amount=Decimal("1000.00"),
                currency="CNY",
                paid_at=NINE + timedelta(days=2),
                channel=PaymentChannel.ALIPAY,
                reference="P1",
                recorded_by_id=self.supervisor.id,
            )
        )
        session.add_all(
            [
                VisitPresence(visit_id=one.id, stage=PresenceStage.COMPLETION, score=90, signals=[]),
                VisitPresence(visit_id=three.id, stage=PresenceStage.COMPLETION, score=40, signals=[]),
            ]
        )
        session.commit()

    def _request(self, k: int, bucket: OverdueBucket) -> VisitRequest:
        case = make_case(self.session, self.branch, collector=self.collector if k == 0 else None, overdue_bucket=bucket)
        address = make_address(self.session, case, point=NEAR_OFFICE[k % len(NEAR_OFFICE)])
        return make_visit_request(self.session, address, earliest_date=DAY, latest_date=DAY)

    def _published(self, team: Team, requests: list[VisitRequest], travel_m: list[int]) -> Any:
        sheet = draft_sheet(self.session, self.supervisor, team, requests)
        sheet.status, sheet.version, sheet.published_at = SheetStatus.PUBLISHED, 1, NINE
        for stop, metres in zip(sheet.stops, travel_m, strict=True):
            stop.travel_m = metres
        self.session.get_one(PlanningRun, sheet.run_id).status = RunStatus.SUCCEEDED
        return sheet

    def _visit(
        self, sheet: Any, position: int, *, started: datetime, on_site_min: int, details: dict[str, Any]
    ) -> Visit:
        stop = sheet.stops[position]
        request = self.session.get_one(VisitRequest, stop.visit_request_id)
        agents = [member.agent_id for member in self.session.get_one(Team, sheet.team_id).members]
        visit = Visit(
            sheet_id=sheet.id,
            visit_request_id=request.id,
            team_id=sheet.team_id,
            branch_id=self.branch.id,
            case_id=request.case_id,
            address_id=request.address_id,
            status=VisitStatus.COMPLETED,
            started_at=started,
            completed_at=started + timedelta(minutes=on_site_min),
            on_site_s=on_site_min * 60,
        )
        self.session.add(visit)
        self.session.flush()
        self.session.add(
            Outcome(
                visit_id=visit.id,
                details=details,
                submitted_by_id=agents[0],
                confirmed_by_id=agents[1],
                confirmed_at=visit.completed_at,
                client_id=uuid4(),
            )
        )
        stop.visit_id, stop.state = visit.id, StopState.DONE
        return visit

    def _promise(self, visit: Visit, amount: Decimal, state: PromiseState, paid: Decimal) -> None:
        self.session.add(
            Promise(
                branch_id=self.branch.id,
                case_id=visit.case_id,
                visit_id=visit.id,
                made_at=visit.started_at,
                due_on=DAY + timedelta(days=5),
                amount=amount,
                currency="CNY",
                paid=paid,
                state=state,
                settled_at=utcnow(),
            )
        )


def _results(client: TestClient, user: User, **params: Any) -> Any:
    query = {"since": DAY.isoformat(), "until": DAY.isoformat()} | params
    return client.get("/reports/results", params=query, headers=auth_headers(user))


@pytest.fixture
def day(session: Session) -> Fixture:
    return Fixture(session)


def test_each_figure_of_each_team_is_the_hand_counted_one(client: TestClient, day: Fixture) -> None:
    answer = _results(client, day.supervisor)

    assert answer.status_code == 200, answer.text
    rows = {row["key"]: row["figures"] for row in answer.json()}
    assert set(rows) == {"外访一组", "外访二组", "unassigned"}
    assert rows["外访一组"] | {"left_out_by_reason": None} == {
        "requests_due": 0,
        "planned": 3,
        "left_out": 0,
        "left_out_by_reason": None,
        "visits_done": 2,
        "visits_failed": 1,
        "cancelled": 1,
        "right_party_contact_rate": 0.5,
        "family_contact_rate": 0.0,
        "promises_made": 1,
        "promised_amount": "1000.00",
        "promises_kept": 1,
        "kept_amount": "1000.00",
        "promises_partly_kept": 0,
        "partly_kept_paid": "0.00",
        "promises_broken": 0,
        "broken_amount": "0.00",
        "kept_rate": 1.0,
        "paid_after_visits": "1000.00",
        "cash_collected": "200.00",
        "average_on_site_min": 20.0,
        "km_per_visit": 2.0,
        "on_time_share": 0.5,
        "evidence_complete_share": 1.0,
        "doubtful_presence_share": 0.0,
        "addresses_invalid": 0,
    }
    two = rows["外访二组"]
    assert (two["planned"], two["visits_done"], two["visits_failed"], two["cancelled"]) == (2, 1, 0, 0)
    assert (two["right_party_contact_rate"], two["family_contact_rate"]) == (0.0, 1.0)
    assert (two["promises_broken"], two["broken_amount"], two["kept_rate"]) == (1, "500.00", 0.0)
    assert (two["average_on_site_min"], two["km_per_visit"], two["on_time_share"]) == (25.0, 3.0, 1.0)
    assert (two["doubtful_presence_share"], two["paid_after_visits"]) == (1.0, "0.00")
    nobody = rows["unassigned"]
    assert (nobody["requests_due"], nobody["left_out"], nobody["left_out_by_reason"]) == (
        6,
        1,
        {"lower_priority": 1},
    )
    assert nobody["visits_done"] == 0 and nobody["right_party_contact_rate"] is None


def test_by_agent_each_agent_counts_the_teams_visits_and_by_bucket_the_cases(client: TestClient, day: Fixture) -> None:
    by_agent = {
        row["label"]: row["figures"]["visits_done"] for row in _results(client, day.supervisor, by="agent").json()
    }
    by_bucket = {row["key"]: row["figures"] for row in _results(client, day.supervisor, by="bucket").json()}

    names = {member.agent_id for member in day.one.members} | {member.agent_id for member in day.two.members}
    assert len(by_agent) == 5 and sum(by_agent.values()) == 6 and by_agent["unassigned"] == 0  # 3 visits x 2 agents
    assert len(names) == 4
    assert (by_bucket["M1"]["visits_done"], by_bucket["M4"]["visits_done"]) == (2, 1)
    assert (by_bucket["M1"]["requests_due"], by_bucket["M4"]["requests_due"]) == (3, 3)


def test_a_month_gathers_the_days_and_a_collector_sees_their_own_cases_only(client: TestClient, day: Fixture) -> None:
    month = _results(client, day.supervisor, period="month", since="2026-11-20", until="2026-12-20").json()
    mine = _results(client, day.collector, by="collector").json()

    assert {row["period_start"] for row in month} == {"2026-12-01"}
    assert [(row["label"], row["figures"]["visits_done"], row["figures"]["cash_collected"]) for row in mine] == [
        ("钱催收", 1, "200.00")
    ]


def test_results_are_scoped_and_checked(client: TestClient, day: Fixture, session: Session) -> None:
    agent = make_user(session, Role.AGENT, day.branch)
    outsider = make_user(session, Role.SUPERVISOR)
    admin = make_user(session, Role.ADMIN)

    assert _results(client, agent).status_code == 403
    assert _results(client, outsider).json() == []  # their own branch has none of it
    assert _results(client, admin).status_code == 422  # an admin names the branch
    assert len(_results(client, admin, branch_id=str(day.branch.id)).json()) == 3
    assert _results(client, day.supervisor, since="2026-12-02", until="2026-12-01").status_code == 422
    assert _results(client, day.supervisor, by="planet").status_code == 422


def test_the_report_exports_as_csv_and_xlsx_with_the_same_figures(client: TestClient, day: Fixture) -> None:
    query = {"since": DAY.isoformat(), "until": DAY.isoformat()}
    as_csv = client.get("/reports/results.csv", params=query, headers=auth_headers(day.supervisor))
    as_xlsx = client.get("/reports/results.xlsx", params=query, headers=auth_headers(day.supervisor))

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    team = next(row for row in table if row["key"] == "外访一组")
    assert (team["visits_done"], team["cash_collected"], team["on_time_share"]) == ("2", "200.00", "0.5")
    assert next(row for row in table if row["key"] == "unassigned")["left_out_by_reason"] == "lower_priority: 1"
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    line = dict(zip(header, next(row for row in rows if row[1] == "外访一组"), strict=True))
    assert (line["visits_done"], line["cash_collected"], line["kept_rate"]) == (2, 200.0, 1.0)
    assert 'filename="results-team-2026-12-01-2026-12-01.xlsx"' in as_xlsx.headers["content-disposition"]


def test_by_branch_one_row_holds_the_whole_day(client: TestClient, day: Fixture) -> None:
    rows = _results(client, day.supervisor, by="branch").json()

    assert [(row["key"], row["label"]) for row in rows] == [(str(day.branch.id), day.branch.name)]
    whole = rows[0]["figures"]
    assert (whole["planned"], whole["visits_done"], whole["visits_failed"], whole["cancelled"]) == (5, 3, 1, 1)
    assert (whole["requests_due"], whole["left_out"], whole["promises_made"], whole["kept_rate"]) == (6, 1, 2, 0.5)
    assert (whole["promised_amount"], whole["cash_collected"], whole["on_time_share"]) == ("1500.00", "200.00", 0.6667)


def test_the_overview_is_the_day_and_the_month_for_the_branch_the_teams_and_the_agents(
    client: TestClient, day: Fixture
) -> None:
    answer = client.get("/reports/overview", params={"day": "2026-12-03"}, headers=auth_headers(day.supervisor))

    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert (view["day"], view["month_start"], view["payment_days"]) == ("2026-12-03", "2026-12-01", 7)
    assert view["day_figures"]["visits_done"] == 0 and view["day_figures"]["right_party_contact_rate"] is None
    assert (view["month_figures"]["visits_done"], view["month_figures"]["planned"]) == (3, 5)
    assert [(row["period_start"], row["figures"]["visits_done"]) for row in view["trend"]] == [("2026-12-01", 3)]
    assert {row["key"]: row["figures"]["visits_done"] for row in view["teams"]} == {
        "外访一组": 2,
        "外访二组": 1,
        "unassigned": 0,
    }
    assert {row["period_start"] for row in view["team_trend"]} == {"2026-12-01"}
    assert sum(row["figures"]["visits_done"] for row in view["agents"]) == 6
    assert len(view["agent_trend"]) == len(view["agents"])  # one day of work
    on_the_day = client.get("/reports/overview", params={"day": "2026-12-01"}, headers=auth_headers(day.supervisor))
    assert on_the_day.json()["day_figures"] == view["month_figures"]


def _behind(client: TestClient, user: User, figure: str, key: str = "外访一组", **params: Any) -> Any:
    query = {"since": DAY.isoformat(), "until": DAY.isoformat(), "key": key, "figure": figure} | params
    return client.get("/reports/results/visits", params=query, headers=auth_headers(user))


def test_the_visits_behind_a_figure_are_as_many_as_it_counts(client: TestClient, day: Fixture) -> None:
    done = _behind(client, day.supervisor, "visits_done")

    assert done.status_code == 200, done.text
    assert [(row["team_name"], row["contact_result"]) for row in done.json()] == [
        ("外访一组", "met_debtor"),
        ("外访一组", "nobody"),
    ]
    assert done.json()[0]["case_reference"] and done.json()[0]["address_text"]
    assert [row["contact_result"] for row in _behind(client, day.supervisor, "visits_failed").json()] == ["nobody"]
    for figure, team, expected in [
        ("promises_kept", "外访一组", 1),
        ("cash_collected", "外访一组", 1),
        ("paid_after_visits", "外访一组", 1),
        ("on_time", "外访一组", 1),
        ("promises_broken", "外访二组", 1),
        ("family_contacts", "外访二组", 1),
        ("doubtful_presence", "外访二组", 1),
        ("evidence_flagged", "外访二组", 0),
    ]:
        assert len(_behind(client, day.supervisor, figure, team).json()) == expected, figure
    whole = _behind(client, day.supervisor, "visits_done", str(day.branch.id), by="branch").json()
    assert len(whole) == 3
    assert len(_behind(client, day.collector, "visits_done", str(day.collector.id), by="collector").json()) == 1
    assert _behind(client, day.supervisor, "visits_planned").status_code == 422
    assert _behind(client, make_user(day.session, Role.AGENT, day.branch), "visits_done").status_code == 403


def test_a_new_draft_of_a_teams_day_does_not_hide_its_published_stops(
    client: TestClient, day: Fixture, session: Session
) -> None:
    requests = [session.get_one(VisitRequest, stop.visit_request_id) for stop in day.first_sheet.stops]
    draft = draft_sheet(session, day.supervisor, day.one, requests[:1])
    draft.version = 2
    session.commit()

    one = next(row for row in _results(client, day.supervisor).json() if row["key"] == "外访一组")["figures"]
    assert (one["planned"], one["cancelled"], one["km_per_visit"]) == (3, 1, 2.0)


@pytest.mark.parametrize("by", ["team", "agent", "collector", "bucket", "branch"])
def test_every_number_and_the_visits_listed_behind_it_agree(client: TestClient, day: Fixture, by: str) -> None:
    def numbers(figures: dict[str, Any]) -> dict[str, int]:
        done = figures["visits_done"]
        return {
            "visits_done": done,
            "visits_failed": figures["visits_failed"],
            "right_party_contacts": round((figures["right_party_contact_rate"] or 0) * done),
            "family_contacts": round((figures["family_contact_rate"] or 0) * done),
            "promises_made": figures["promises_made"],
            "promises_kept": figures["promises_kept"],
            "promises_partly_kept": figures["promises_partly_kept"],
            "promises_broken": figures["promises_broken"],
            "on_time": round((figures["on_time_share"] or 0) * done),
            "evidence_flagged": done - round((figures["evidence_complete_share"] or 0) * done),
        }

    for row in _results(client, day.supervisor, by=by).json():
        for figure, expected in numbers(row["figures"]).items():
            listed = _behind(client, day.supervisor, figure, row["key"], by=by)
            assert len(listed.json()) == expected, (row["key"], figure)


def test_a_payment_after_two_visits_of_its_case_counts_for_the_later(
    client: TestClient, day: Fixture, session: Session
) -> None:
    first = day.first_sheet.stops[0]
    request = session.get_one(VisitRequest, first.visit_request_id)
    again = make_visit_request(
        session, request.address, earliest_date=DAY + timedelta(days=1), latest_date=DAY + timedelta(days=1)
    )
    next_day = make_team(session, day.branch, work_date=DAY + timedelta(days=1))
    next_day.name = "外访三组"
    sheet = day._published(next_day, [again], travel_m=[1000])
    day._visit(sheet, 0, started=NINE + timedelta(days=1), on_site_min=15, details=_outcome("nobody"))
    session.commit()  # the payment, on 3 December, follows both visits of the case within 7 days

    rows = _results(client, day.supervisor, since="2026-12-01", until="2026-12-02").json()
    paid = {row["key"]: row["figures"]["paid_after_visits"] for row in rows if row["key"] != "unassigned"}
    assert paid == {"外访一组": "0.00", "外访二组": "0.00", "外访三组": "1000.00"}
    listed = _behind(client, day.supervisor, "paid_after_visits", "外访三组", until="2026-12-02")
    assert [row["work_date"] for row in listed.json()] == ["2026-12-02"]
