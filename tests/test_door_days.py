"""The door by the law where the debtor is (issue 31): a bank holiday of the address's own nation shuts it (an
Edinburgh debtor on a Scottish one, while an English debtor is visited that day), and an Indonesian visit outside
the hours is allowed only with the debtor's consent recorded, while India allows none."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from time_machine import TimeMachineFixture

from api.geo import GeoPoint
from api.models.cases import Address
from api.models.visits import Visit
from api.rules.packs import Jurisdiction
from tests.factories import auth_headers, count_rows, problem_type
from tests.test_visits import Day, _refused

LONDON, SHANGHAI = ZoneInfo("Europe/London"), ZoneInfo("Asia/Shanghai")
CARLISLE = GeoPoint(lat=54.8940, lon=-2.9350)
EDINBURGH = GeoPoint(lat=55.9521, lon=-3.1965)
SCOTTISH_HOLIDAY = datetime(2027, 1, 4).date()  # 2 January fell on a Saturday: Scotland's holiday moves to Monday
REASON = "the debtor asked for a visit after his night shift"


def _borders_day(client: TestClient, session: Session, time_machine: TimeMachineFixture) -> Day:
    """A Carlisle branch's sheet for 2027-01-04: an Edinburgh debtor first, a Carlisle one second."""
    time_machine.move_to(datetime(2027, 1, 3, 10, 0, tzinfo=LONDON), tick=True)
    return Day(
        client,
        session,
        time_machine,
        jurisdiction=Jurisdiction.UK,
        places=[(EDINBURGH, "12 Princes Street"), (CARLISLE, "10 English Street, Carlisle CA3 8JU")],
        timezone="Europe/London",
        office_address="Civic Centre, Rickergate, Carlisle CA3 8QG",
        office_point=CARLISLE.to_wkt(),
    )


def test_the_door_of_an_edinburgh_debtor_is_shut_on_a_scottish_bank_holiday_and_an_english_one_open(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = _borders_day(client, session, time_machine)
    assert day.work_date == SCOTTISH_HOLIDAY
    # the postcode, completed after the sheet was published, puts the address in Scotland: the door reads it now
    address = session.get_one(Address, day.request.address_id)
    address.raw_text = "12 Princes Street, Edinburgh EH2 2AN"
    session.commit()
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201

    refused = _refused(session, lambda: day.check_in(day.a), 409, "not-a-visiting-day")

    assert refused["rule"] == "visiting_day" and refused["rule_label"] == "UK: bank holiday"
    assert "UK: bank holiday in Scotland 2027-01-04 (New Year Holiday (observed))" in refused["detail"]
    assert refused["override_allowed"] is True
    day.request, day.point = day.requests[1], CARLISLE  # the English debtor's door, the same day
    assert day.check_in(day.a).status_code == 201


def _overriding(client: TestClient, day: Day, **body: str) -> dict[str, object]:
    url = f"/visit-sheets/{day.sheet_id}/stops/{day.request.id}/hours-override"
    answer = client.post(url, json={"reason": REASON} | body, headers=auth_headers(day.supervisor))
    slug = problem_type(answer) if answer.status_code >= 400 else None
    return answer.json() | {"status": answer.status_code, "type": slug}


def test_indonesia_allows_a_visit_outside_the_hours_only_with_the_debtors_consent_recorded(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(datetime(2027, 1, 5, 10, 0, tzinfo=SHANGHAI), tick=True)  # the sheet is for a Wednesday
    day = Day(client, session, time_machine, jurisdiction=Jurisdiction.ID)
    for agent in (day.a, day.b):
        assert day.depart(agent).status_code == 201
    day.at(time(20, 5))

    without = _overriding(client, day)
    assert without["status"] == 409 and without["type"] == "override-needs-consent", without
    assert without["pack"] == "ID" and "debtor's consent" in str(without["detail"])
    assert count_rows(session, Visit) == 0
    _refused(session, lambda: day.check_in(day.a), 409, "outside-visiting-hours")

    consent = "the debtor agreed by phone on 5 Jan to a visit at 20:00, call recorded"
    allowed = _overriding(client, day, debtor_consent=consent)

    assert allowed["status"] == 200, allowed
    assert allowed["hours_override_reason"] == REASON and allowed["hours_override_consent"] == consent
    assert day.check_in(day.a).status_code == 201


def test_india_refuses_an_override_even_with_the_debtors_consent(
    client: TestClient, app: FastAPI, session: Session, time_machine: TimeMachineFixture
) -> None:
    day = Day(client, session, time_machine, jurisdiction=Jurisdiction.IN)
    day.at(time(19, 5))

    refused = _overriding(client, day, debtor_consent="the debtor agreed by phone to a visit at 19:00")

    assert refused["status"] == 409 and refused["type"] == "override-not-allowed" and refused["pack"] == "IN"
    assert count_rows(session, Visit) == 0
