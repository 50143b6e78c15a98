"""The company's rules at the door (issue 17 §3): a third party is not asked again about the case without a
reason, and the next sheet names who was asked; no cash and no other valuables without an approval naming them;
a visit longer on site than the branch allows is flagged for review."""

from datetime import time
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.models.cases import Address
from api.models.findings import Finding, FindingKind
from api.models.users import User
from api.models.visits import Outcome
from api.sheets.exports import printed_sheet
from api.sheets.schemas import VisitSheetRead
from tests.factories import (
    NEAR_OFFICE,
    auth_headers,
    count_rows,
    make_team,
    make_visit_request,
    problem_type,
    publish_sheet,
)
from tests.test_visits import Day


def test_a_third_party_is_asked_again_only_with_a_reason_and_the_next_sheet_says_who_was_asked(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    first_visit = day.started()
    assert day.outcome(day.a).status_code == 201  # asks "neighbour, 302"
    again = make_visit_request(session, session.get_one(Address, day.request.address_id), earliest_date=day.work_date)
    team = make_team(session, day.branch, work_date=day.work_date)
    team.experienced = True
    session.commit()
    sheet = publish_sheet(session, day.supervisor, team, [again])
    day.team, day.sheet_id, day.request = team, str(sheet.id), again
    day.a, day.b = (session.get_one(User, member.agent_id) for member in team.members)

    shown = client.get(f"/visit-sheets/{sheet.id}", headers=auth_headers(day.a))
    printed = client.get(f"/visit-sheets/{sheet.id}.pdf", headers=auth_headers(day.a))
    day.started()
    asking = {"who": "Neighbour 302", "debtor_lives_here": "no"}
    refused = day.outcome(day.a, neighbours=[{"who": "neighbour, 401", "debtor_lives_here": "no"}, asking])
    accepted = day.outcome(day.a, neighbours=[asking | {"reason_asked_again": "he said the debtor comes back today"}])

    asked = shown.json()["stops"][0]["third_parties_asked"]
    assert [(row["kind"], row["who"], row["visit_id"]) for row in asked] == [
        ("neighbour", "neighbour, 302", str(first_visit))
    ]
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    paper = printed_sheet(VisitSheetRead.model_validate(shown.json()), day.branch, (0.0, 0.0))
    assert paper.stops[0].asked_before == (f"邻居 neighbour neighbour, 302 ({day.work_date.isoformat()})",)
    assert refused.status_code == 422 and problem_type(refused) == "third-party-asked-again"
    body = refused.json()
    assert body["rule_label"] == "CN: debtor and guarantors only"
    assert [error["pointer"] for error in body["errors"]] == ["#/neighbours/1"]
    assert [row["visit_id"] for row in body["asked_before"]] == [str(first_visit)]
    assert accepted.status_code == 201
    assert count_rows(session, Outcome) == 2


def test_an_item_is_received_only_with_an_approval_of_the_visit_naming_it(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)
    visit_id = day.started()
    url, supervisor = f"/visits/{visit_id}/cash-approvals", auth_headers(day.supervisor)
    cheque = {"description": "ICBC cheque no. 004512", "approval_id": str(uuid4())}

    unapproved = day.outcome(day.a, items_received=[cheque])
    malformed = client.post(url, json={"kind": "item", "max_amount": "10.00", "reason": "cheque"}, headers=supervisor)
    approval = client.post(
        url, json={"kind": "item", "item_description": "Cheque no. 004512, ICBC", "reason": "pays by cheque"},
        headers=supervisor,
    )  # fmt: skip
    approved = cheque | {"approval_id": approval.json()["id"]}
    other_item = day.outcome(day.a, items_received=[approved | {"description": "bank card"}])
    accepted = day.outcome(day.a, items_received=[approved])

    assert unapproved.status_code == 409 and problem_type(unapproved) == "item-not-approved"
    assert unapproved.json()["why"] == "not_approved"
    assert [error["pointer"] for error in unapproved.json()["errors"]] == ["#/items_received/0"]
    assert malformed.status_code == 422
    assert approval.status_code == 201
    assert (approval.json()["kind"], approval.json()["max_amount"]) == ("item", None)
    assert other_item.status_code == 409 and other_item.json()["why"] == "other_item"
    assert accepted.status_code == 201
    assert session.scalars(select(Outcome)).one().details["items_received"] == [approved]


def test_a_visit_longer_on_site_than_the_branch_allows_is_flagged_for_review(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine)  # the branch allows 60 min on site
    short = day.started()
    day.at(time(10, 20))
    assert day.outcome(day.a).status_code == 201
    day.request, day.point = day.requests[1], NEAR_OFFICE[1]
    day.started()
    day.at(time(11, 40))

    long = day.outcome(day.a)

    assert long.status_code == 201
    assert long.json()["review_flags"] == ["overstayed"] and long.json()["on_site_s"] > 79 * 60
    quick = client.get(f"/visits/{short}", headers=auth_headers(day.supervisor)).json()
    assert quick["review_flags"] == [] and 19 * 60 < quick["on_site_s"] < 25 * 60
    finding = session.scalars(select(Finding).where(Finding.kind == FindingKind.VISIT_OVERSTAYED)).one()
    assert finding.payload["visit_id"] == long.json()["id"] and finding.payload["max_on_site_s"] == 3600
